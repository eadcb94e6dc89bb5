// See http_get.hpp.
#include "support/http_get.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace rappel::test {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

std::string HttpAnswer::header(const std::string& name) const {
  std::string lower_headers, lower_name;
  for (char c : raw_headers) lower_headers += static_cast<char>(std::tolower(c));
  for (char c : name) lower_name += static_cast<char>(std::tolower(c));
  size_t at = lower_headers.find(lower_name + ": ");
  if (at == std::string::npos) return "";
  size_t start = at + lower_name.size() + 2;
  return raw_headers.substr(start, raw_headers.find("\r\n", start) - start);
}

HttpAnswer http_get(unsigned short port, const std::string& target) {
  HttpAnswer answer;
  try {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, "127.0.0.1");
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    answer.status = response.result_int();
    answer.content_type = std::string(response[http::field::content_type]);
    answer.body = response.body();
    for (const auto& field : response)
      answer.raw_headers +=
          std::string(field.name_string()) + ": " + std::string(field.value()) + "\r\n";
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  } catch (const std::exception&) {
    answer.status = 0;
  }
  return answer;
}

}  // namespace rappel::test
