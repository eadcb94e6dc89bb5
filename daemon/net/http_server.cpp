// See http_server.hpp. Built like Beast's async server example: an acceptor that hands each
// connection to a Session owned by its own pending operations (shared_from_this), one request at a
// time per connection (HTTP/1.1 without pipelining, which no provider's webhook client uses).
//
// The body limit is applied in two steps: a declared Content-Length above the limit is refused
// with 413 as soon as the header is read (the body is never read), and a chunked body that grows
// past it fails the parser with body_limit, also answered with 413. Both close the connection,
// since the unread rest of the request would otherwise be taken for the next one. The stream's
// deadline covers the whole read of a request: a slow client gets closed, not waited for.
//
// The accept loop never ends but with stop(): an accept error (EMFILE when descriptors run out,
// ENOBUFS, ECONNABORTED...) is logged once per episode and retried after a growing pause, since
// a loop that stopped would leave /healthz and receipts dead long after the cause went away.
// Connections beyond max_connections are accepted and closed at once, so that the backlog does
// not fill and the descriptors stay for provider and Redis connections.
#include "daemon/net/http_server.hpp"

#include "daemon/net/form_encoding.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <locale>
#include <optional>
#include <set>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <boost/algorithm/string/case_conv.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace rappel {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string HttpServerRequest::query_param(const std::string& name) const {
  auto fields = decode_form(query);
  auto it = fields.find(name);
  return it == fields.end() ? std::string() : it->second;
}

std::string HttpServerRequest::header(const std::string& name) const {
  auto it =
      headers.find(boost::algorithm::to_lower_copy(std::string(name), std::locale::classic()));
  return it == headers.end() ? std::string() : it->second;
}

HttpServerResponse HttpServerResponse::text(int status, std::string body) {
  HttpServerResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpServerResponse HttpServerResponse::json(int status, std::string body) {
  HttpServerResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

class HttpSession;

// What the server and its sessions share (HttpServer::Impl itself is private to the class).
struct ServerState {
  asio::io_context& io;
  HttpServerOptions options;
  tcp::acceptor acceptor{io};
  asio::steady_timer accept_pause{io};
  std::chrono::milliseconds next_pause{0};  // zero while accepting works
  // Atomic because they are read from other threads (metrics, tests); written on the loop only.
  std::atomic<size_t> open_connections{0};  // sessions alive (counted by HttpSession itself)
  std::atomic<size_t> accept_errors{0};     // failed accepts (out of descriptors...), in all
  size_t refused_connections = 0;           // closed for being over the cap, in all
  uint16_t port = 0;
  bool running = false;
  // path -> method -> handler
  std::map<std::string, std::map<std::string, HttpHandler>> routes;
  std::set<std::weak_ptr<HttpSession>, std::owner_less<std::weak_ptr<HttpSession>>> sessions;

  ServerState(asio::io_context& io_, HttpServerOptions o) : io(io_), options(std::move(o)) {}
  void accept(std::shared_ptr<ServerState> self);
  void on_accept_error(std::shared_ptr<ServerState> self, beast::error_code ec);
  void refuse_over_cap(tcp::socket socket);
  void dispatch(const HttpServerRequest& request, HttpRespond respond) const;
};

// One connection: read a request, hand it to its route, write the answer, maybe read the next.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, std::shared_ptr<ServerState> server)
      : stream_(std::move(socket)), server_(std::move(server)) {
    ++server_->open_connections;
  }
  ~HttpSession() { --server_->open_connections; }

  void start() { read_header(); }
  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

 private:
  void read_header() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(server_->options.max_body);
    stream_.expires_after(server_->options.read_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    // Beast already checks a declared Content-Length against body_limit with the header.
    if (ec == http::error::body_limit) return refuse(413, "request body too large\n");
    // A header Beast cannot parse (chunked next to a Content-Length among them) is answered,
    // so the client learns why, and the connection closes: its framing cannot be trusted.
    if (ec.category() == http::make_error_code(http::error::bad_version).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message)
      return refuse(400, "malformed request header\n");
    if (ec) return finish(ec);
    if (ambiguous_framing(parser_->get()))
      return refuse(400, "ambiguous request framing (Transfer-Encoding)\n");
    auto length = parser_->content_length();
    if (length && *length > server_->options.max_body)
      return refuse(413, "request body too large\n");
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_request(ec); });
  }

  // RFC 9112 §6.1: a request whose final transfer coding is not chunked has no knowable length,
  // and one with both Transfer-Encoding and Content-Length is a smuggling attempt. Beast frames
  // "Transfer-Encoding: xchunked" by its Content-Length, so the bytes after it would be taken
  // for a second request: refuse both cases and close.
  static bool ambiguous_framing(const http::request_parser<http::string_body>::value_type& m) {
    auto codings = m.equal_range(http::field::transfer_encoding);
    if (codings.first == codings.second) return false;
    if (m.find(http::field::content_length) != m.end()) return true;
    std::string last;
    for (auto it = codings.first; it != codings.second; ++it)
      for (const auto& token : http::token_list(it->value())) last = std::string(token);
    return !beast::iequals(last, "chunked");
  }

  void on_request(beast::error_code ec) {
    if (ec == http::error::body_limit) return refuse(413, "request body too large\n");
    if (ec) return finish(ec);
    stream_.expires_never();  // the handler may take a Redis round trip; no read is pending
    auto& message = parser_->get();
    keep_alive_ = message.keep_alive();
    HttpServerRequest request;
    request.method = std::string(message.method_string());
    std::string_view target(message.target().data(), message.target().size());
    size_t question = target.find('?');
    request.path = std::string(target.substr(0, question));
    if (question != std::string_view::npos)
      request.query = std::string(target.substr(question + 1));
    for (const auto& field : message)
      request.headers[boost::algorithm::to_lower_copy(
          std::string(field.name_string()), std::locale::classic())] = std::string(field.value());
    request.body = std::move(message.body());
    auto answered = std::make_shared<bool>(false);
    server_->dispatch(request, [self = shared_from_this(), answered](HttpServerResponse r) {
      if (*answered) return;  // a handler that answers twice: the first answer stands
      *answered = true;
      self->write(std::move(r));
    });
  }

  // An answer before the request was read in full: the connection cannot carry another request,
  // and it closes by lingering, so the client reads the answer while it is still sending.
  void refuse(int status, std::string why) {
    keep_alive_ = false;
    linger_ = true;
    write(HttpServerResponse::text(status, std::move(why)));
  }

  void write(HttpServerResponse r) {
    response_ = {};
    response_.version(11);
    response_.result(static_cast<unsigned>(r.status));
    response_.set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) response_.set(name, value);
    response_.body() = std::move(r.body);
    response_.keep_alive(keep_alive_);
    response_.prepare_payload();
    stream_.expires_after(server_->options.read_timeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->finish(ec);
                        if (self->linger_) return self->linger();
                        if (!self->keep_alive_) return self->finish({});
                        self->read_header();
                      });
  }

  // A lingering close: after our answer, read and drop what the client still sends (the rest of
  // a refused body) until it closes or a short deadline, because closing a socket with unread
  // data makes the kernel send RST, which can destroy the answer before the client reads it.
  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(2));  // for the whole drain, not per read
    drain();
  }
  void drain() {
    stream_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->finish({});
                              self->drain();
                            });
  }

  void finish(beast::error_code ec) {
    if (ec && ec != http::error::end_of_stream && ec != beast::error::timeout &&
        ec != asio::error::operation_aborted && ec != asio::error::connection_reset)
      spdlog::debug("http: connection closed: {}", ec.message());
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  std::shared_ptr<ServerState> server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  bool keep_alive_ = false;
  bool linger_ = false;  // close by linger() after the answer (see refuse)
  std::array<char, 16 * 1024> drain_;
};

void ServerState::accept(std::shared_ptr<ServerState> self) {
  acceptor.async_accept([self](beast::error_code ec, tcp::socket socket) {
    if (!self->running || ec == asio::error::operation_aborted) return;  // stop()
    if (ec) return self->on_accept_error(self, ec);
    if (self->next_pause.count() > 0) {
      spdlog::info("http: accepting connections again");
      self->next_pause = std::chrono::milliseconds(0);
    }
    if (self->open_connections >= self->options.max_connections) {
      self->refuse_over_cap(std::move(socket));
    } else {
      auto session = std::make_shared<HttpSession>(std::move(socket), self);
      // Forget sessions that ended, so the set stays as small as the open connections.
      for (auto it = self->sessions.begin(); it != self->sessions.end();)
        it = it->expired() ? self->sessions.erase(it) : std::next(it);
      self->sessions.insert(session);
      session->start();
    }
    self->accept(self);
  });
}

// Out of descriptors (or another resource): the pending connection stays in the kernel's
// backlog; pause, since retrying at once would spin, then accept again.
void ServerState::on_accept_error(std::shared_ptr<ServerState> self, beast::error_code ec) {
  ++accept_errors;
  if (next_pause.count() == 0)
    spdlog::error("http: cannot accept connections ({}); retrying until it can", ec.message());
  next_pause =
      std::clamp(next_pause * 2, std::chrono::milliseconds(50), std::chrono::milliseconds(1000));
  accept_pause.expires_after(next_pause);
  accept_pause.async_wait([self](beast::error_code wait_error) {
    if (!wait_error && self->running) self->accept(self);
  });
}

void ServerState::refuse_over_cap(tcp::socket socket) {
  if (refused_connections++ % 1000 == 0)
    spdlog::warn(
        "http: {} connections open, the limit (http.max_connections); closing new ones "
        "({} so far)",
        open_connections.load(), refused_connections);
  beast::error_code ignored;
  socket.close(ignored);
}

void ServerState::dispatch(const HttpServerRequest& request, HttpRespond respond) const {
  auto found = routes.find(request.path);
  if (found == routes.end()) {
    size_t best = 0;
    for (auto it = routes.begin(); it != routes.end(); ++it)
      if (it->first.ends_with('/') && request.path.starts_with(it->first) &&
          it->first.size() > best) {
        best = it->first.size();
        found = it;
      }
  }
  if (found == routes.end()) return respond(HttpServerResponse::text(404, "not found\n"));
  auto handler = found->second.find(request.method);
  if (handler == found->second.end()) {
    std::string allow;
    for (const auto& [method, h] : found->second) allow += (allow.empty() ? "" : ", ") + method;
    auto r = HttpServerResponse::text(405, "method not allowed\n");
    r.headers.emplace_back("Allow", allow);
    return respond(std::move(r));
  }
  try {
    handler->second(request, respond);
  } catch (const std::exception& e) {
    spdlog::error("http: handler for {} failed: {}", found->first, e.what());
    respond(HttpServerResponse::text(500, "internal error\n"));
  }
}

struct HttpServer::Impl : ServerState {
  using ServerState::ServerState;
};

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::route(std::string method, std::string path, HttpHandler handler) {
  impl_->routes[std::move(path)][std::move(method)] = std::move(handler);
}

void HttpServer::start() {
  std::string address = impl_->options.host + ":" + std::to_string(impl_->options.port);
  try {
    tcp::endpoint endpoint(asio::ip::make_address(impl_->options.host), impl_->options.port);
    impl_->acceptor.open(endpoint.protocol());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(endpoint);
    impl_->acceptor.listen(asio::socket_base::max_listen_connections);
    impl_->port = impl_->acceptor.local_endpoint().port();
  } catch (const boost::system::system_error& e) {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    throw std::runtime_error("cannot listen on " + address + ": " + e.code().message());
  }
  impl_->running = true;
  impl_->accept(impl_);
}

uint16_t HttpServer::port() const {
  return impl_->port;
}

size_t HttpServer::open_connections() const {
  return impl_->open_connections;
}

size_t HttpServer::accept_errors() const {
  return impl_->accept_errors;
}

void HttpServer::stop() {
  if (!impl_->running) return;
  impl_->running = false;
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
  impl_->accept_pause.cancel();
  for (const auto& weak : impl_->sessions)
    if (auto session = weak.lock()) session->close();
  impl_->sessions.clear();
}

}  // namespace rappel
