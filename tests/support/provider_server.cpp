// The provider stand-in server of provider_server.hpp, on Boost.Beast.
//
// One io_context runs on its own thread; each accepted connection is a Session that reads a
// request, records it, asks the test's handler what to answer and answers it, in the style of
// Beast's async server example. Delays are asio timers, not sleeps, so that one slow answer never
// holds the others: tests keep hundreds of slow requests open at once. What the sessions share with
// the test thread (handler, recorded requests, counters) lives in Shared, behind one mutex; the
// sessions hold Shared by shared_ptr and never the io_context's owner, so tearing the server down
// (stop the loop, join, destroy) has no reference cycle.
#include "support/provider_server.hpp"

#include <atomic>
#include <locale>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "daemon/net/form_encoding.hpp"

namespace rappel::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// What the sessions (server thread) and the test thread share.
struct Shared {
  std::mutex mutex;
  ProviderServer::Handler handler;
  std::vector<RecordedRequest> requests;
  std::atomic<size_t> connections{0};
};

RecordedRequest record(const http::request<http::string_body>& req) {
  RecordedRequest r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  size_t question = r.target.find('?');
  r.path = r.target.substr(0, question);
  if (question != std::string::npos) r.query = decode_form(r.target.substr(question + 1));
  for (const auto& field : req) {
    auto name = field.name_string();
    auto value = field.value();
    r.headers[boost::algorithm::to_lower_copy(std::string(name), std::locale::classic())] =
        std::string(value.data(), value.size());
  }
  r.body = req.body();
  return r;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket)), timer_(stream_.get_executor()), shared_(std::move(shared)) {}

  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(64 * 1024 * 1024);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (!ec) self->on_request();
                     });
  }

  void on_request() {
    request_ = parser_->release();
    RecordedRequest recorded = record(request_);
    ProviderServer::Handler handler;
    {
      std::lock_guard lock(shared_->mutex);
      shared_->requests.push_back(recorded);
      handler = shared_->handler;
    }
    scripted_ = handler ? handler(recorded) : ScriptedResponse{};
    if (scripted_.delay.count() <= 0) return answer();
    timer_.expires_after(scripted_.delay);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->answer();
    });
  }

  void answer() {
    if (scripted_.drop_connection) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream_.socket().close(ignored);
      return;
    }
    response_ = {};
    response_.version(11);
    response_.result(static_cast<unsigned>(scripted_.status));
    response_.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : scripted_.headers) response_.set(name, value);
    response_.body() = scripted_.body;
    response_.keep_alive(request_.keep_alive());
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return;
                        if (self->scripted_.close_after_answer) {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
                          self->stream_.socket().close(ignored);
                          return;
                        }
                        if (!self->response_.keep_alive()) {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                          return;
                        }
                        self->read();
                      });
  }

  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  std::shared_ptr<Shared> shared_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  ScriptedResponse scripted_;
};

}  // namespace

std::map<std::string, std::string> RecordedRequest::form() const {
  return decode_form(body);
}

struct ProviderServer::State {
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  asio::io_context io;
  tcp::acceptor acceptor{io};
  unsigned short port = 0;
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;  // the acceptor was closed: the server is stopping
      ++shared->connections;
      std::make_shared<Session>(std::move(socket), shared)->start();
      accept();
    });
  }
};

ProviderServer::ProviderServer(Handler handler, unsigned short port)
    : state_(std::make_shared<State>()) {
  state_->shared->handler = std::move(handler);
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  state_->acceptor.open(endpoint.protocol());
  state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  state_->acceptor.bind(endpoint);
  state_->acceptor.listen(asio::socket_base::max_listen_connections);
  state_->port = state_->acceptor.local_endpoint().port();
  state_->accept();
  state_->thread = std::thread([s = state_.get()] { s->io.run(); });
}

ProviderServer::~ProviderServer() {
  // Stopping the loop abandons the sessions; destroying the io_context then destroys their
  // pending handlers, which closes their sockets.
  state_->io.stop();
  state_->thread.join();
}

unsigned short ProviderServer::port() const {
  return state_->port;
}

std::string ProviderServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(state_->port) + std::string(path);
}

std::vector<RecordedRequest> ProviderServer::requests() const {
  std::lock_guard lock(state_->shared->mutex);
  return state_->shared->requests;
}

size_t ProviderServer::request_count() const {
  std::lock_guard lock(state_->shared->mutex);
  return state_->shared->requests.size();
}

size_t ProviderServer::connections_accepted() const {
  return state_->shared->connections;
}

void ProviderServer::set_handler(Handler handler) {
  std::lock_guard lock(state_->shared->mutex);
  state_->shared->handler = std::move(handler);
}

}  // namespace rappel::test
