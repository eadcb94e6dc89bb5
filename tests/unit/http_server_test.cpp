// Tests of the daemon's HTTP server (daemon/net/http_server.hpp) with real clients over TCP: a
// Beast client for ordinary requests, raw sockets where the test must misbehave on purpose (a
// huge declared body, a request that never finishes). The server runs on its own loop thread,
// like the daemon's, on a port chosen by the OS.
#include <poll.h>
#include <sys/socket.h>

#include <future>
#include <optional>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>

#include "daemon/net/http_server.hpp"
#include "support/fd_exhaustion.hpp"

using namespace rappel;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// An HttpServer on a loop thread; routes are added before start().
struct RunningServer {
  asio::io_context io;
  HttpServer server;
  std::thread thread;

  explicit RunningServer(HttpServerOptions options = with_port_zero())
      : server(io, std::move(options)) {}
  static HttpServerOptions with_port_zero() {
    HttpServerOptions o;
    o.port = 0;
    return o;
  }
  void start() {
    server.start();
    thread = std::thread([this] {
      auto guard = asio::make_work_guard(io);
      io.run();
    });
  }
  ~RunningServer() {
    if (!thread.joinable()) return;
    std::promise<void> stopped;
    asio::post(io, [&] {
      server.stop();
      stopped.set_value();
    });
    stopped.get_future().wait();
    io.stop();
    thread.join();
  }
};

tcp::socket connect(asio::io_context& io, uint16_t port) {
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  return socket;
}

http::response<http::string_body> exchange(tcp::socket& socket,
                                           http::request<http::string_body> request) {
  request.version(11);
  request.set(http::field::host, "127.0.0.1");
  request.prepare_payload();
  http::write(socket, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  return response;
}

http::request<http::string_body> make(http::verb verb, std::string target, std::string body = "") {
  http::request<http::string_body> r{verb, target, 11};
  r.body() = std::move(body);
  return r;
}

// Reads until the server closes the connection; returns what it sent. Gives up after `limit`
// without data, so a server that never answers fails the test instead of hanging it. Plain
// poll/recv: Asio's blocking reads would wait forever.
std::string read_to_close(tcp::socket& socket, std::chrono::milliseconds limit = 10s) {
  std::string received;
  char chunk[4096];
  for (;;) {
    pollfd p{socket.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) return received + "<no answer>";
    ssize_t n = ::recv(socket.native_handle(), chunk, sizeof chunk, 0);
    if (n <= 0) return received;
    received.append(chunk, static_cast<size_t>(n));
  }
}

template <typename Pred>
bool eventually(Pred holds) {
  for (int i = 0; i < 1000 && !holds(); ++i) std::this_thread::sleep_for(10ms);
  return holds();
}

// A route that answers 200 "ok": tests of framing and connections need a path, not a handler.
void answer_ok(HttpServer& server, std::string method, std::string path) {
  server.route(std::move(method), std::move(path),
               [](const HttpServerRequest&, HttpRespond respond) {
                 respond(HttpServerResponse::text(200, "ok"));
               });
}

const std::string kHealthz = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

}  // namespace

TEST_CASE("HttpServer routes exact paths and the longest prefix; 404 and 405 otherwise",
          "[http_server]") {
  RunningServer s;
  s.server.route("POST", "/v1/receipts/", [](const HttpServerRequest& r, HttpRespond respond) {
    respond(HttpServerResponse::text(200, "receipts " + r.path));
  });
  s.server.route("POST", "/v1/receipts/special/",
                 [](const HttpServerRequest&, HttpRespond respond) {
                   respond(HttpServerResponse::text(200, "special"));
                 });
  s.server.route("GET", "/healthz", [](const HttpServerRequest&, HttpRespond respond) {
    respond(HttpServerResponse::json(200, R"({"status":"ok"})"));
  });
  s.start();
  asio::io_context client;
  auto socket = connect(client, s.server.port());

  auto r = exchange(socket, make(http::verb::post, "/v1/receipts/sms-factor-77?token=x", "{}"));
  CHECK(r.result_int() == 200);
  CHECK(r.body() == "receipts /v1/receipts/sms-factor-77");
  // Same connection (keep-alive), longest prefix wins.
  r = exchange(socket, make(http::verb::post, "/v1/receipts/special/netsize"));
  CHECK(r.body() == "special");
  r = exchange(socket, make(http::verb::get, "/healthz"));
  CHECK(r.result_int() == 200);
  CHECK(r[http::field::content_type] == "application/json");
  CHECK(r.body() == R"({"status":"ok"})");
  r = exchange(socket, make(http::verb::get, "/healthz/more"));
  CHECK(r.result_int() == 404);
  r = exchange(socket, make(http::verb::get, "/v1/receipt"));
  CHECK(r.result_int() == 404);
  r = exchange(socket, make(http::verb::delete_, "/healthz"));
  CHECK(r.result_int() == 405);
  CHECK(r[http::field::allow] == "GET");
}

TEST_CASE("HttpServer decodes query parameters and exposes headers in any case", "[http_server]") {
  RunningServer s;
  std::promise<HttpServerRequest> seen;
  s.server.route("POST", "/v1/receipts/", [&](const HttpServerRequest& r, HttpRespond respond) {
    seen.set_value(r);
    respond(HttpServerResponse::text(204, ""));
  });
  s.start();
  asio::io_context client;
  auto socket = connect(client, s.server.port());
  auto request = make(http::verb::post, "/v1/receipts/brevo?token=a%2Bb%3Dc&dept=Seine+et+Marne&x",
                      R"({"messageId":1511882900176220})");
  request.set(http::field::authorization, "Bearer jeton-77");
  CHECK(exchange(socket, request).result_int() == 204);
  HttpServerRequest r = seen.get_future().get();
  CHECK(r.method == "POST");
  CHECK(r.query_param("token") == "a+b=c");
  CHECK(r.query_param("dept") == "Seine et Marne");
  CHECK(r.query_param("x").empty());
  CHECK(r.query_param("absent").empty());
  CHECK(r.header("AUTHORIZATION") == "Bearer jeton-77");
  CHECK(r.headers.at("authorization") == "Bearer jeton-77");
  CHECK(r.body == R"({"messageId":1511882900176220})");
}

TEST_CASE("HttpServer lets a handler answer later, from the loop", "[http_server]") {
  RunningServer s;
  asio::steady_timer timer(s.io);
  s.server.route("POST", "/slow", [&](const HttpServerRequest&, HttpRespond respond) {
    timer.expires_after(50ms);
    timer.async_wait([respond](beast::error_code) {
      respond(HttpServerResponse::text(200, "plus tard"));
      respond(HttpServerResponse::text(500, "a second answer is ignored"));
    });
  });
  s.start();
  asio::io_context client;
  auto socket = connect(client, s.server.port());
  auto r = exchange(socket, make(http::verb::post, "/slow", "x"));
  CHECK(r.result_int() == 200);
  CHECK(r.body() == "plus tard");
  // The connection is still usable after the delayed answer.
  CHECK(exchange(socket, make(http::verb::post, "/slow", "y")).body() == "plus tard");
}

TEST_CASE("HttpServer refuses a declared body above the limit with 413 without reading it",
          "[http_server]") {
  auto options = RunningServer::with_port_zero();
  options.max_body = 1024;
  RunningServer s(options);
  bool called = false;
  s.server.route("POST", "/v1/receipts/", [&](const HttpServerRequest&, HttpRespond respond) {
    called = true;
    respond(HttpServerResponse::text(200, "ok"));
  });
  s.start();
  asio::io_context client;
  auto socket = connect(client, s.server.port());
  // 10 MB announced, 10 bytes sent: the answer comes without the rest ever being sent.
  asio::write(socket, asio::buffer(std::string("POST /v1/receipts/sms HTTP/1.1\r\nHost: x\r\n"
                                               "Content-Length: 10485760\r\n\r\n0123456789")));
  std::string answer = read_to_close(socket);
  CHECK(answer.starts_with("HTTP/1.1 413"));
  CHECK(answer.find("Connection: close") != std::string::npos);
  CHECK_FALSE(called);
}

TEST_CASE("HttpServer refuses a chunked body that grows past the limit with 413", "[http_server]") {
  auto options = RunningServer::with_port_zero();
  options.max_body = 1024;
  RunningServer s(options);
  answer_ok(s.server, "POST", "/v1/receipts/");
  s.start();
  asio::io_context client;
  auto socket = connect(client, s.server.port());
  std::string chunk(800, 'a');
  std::string request =
      "POST /v1/receipts/sms HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) request += "320\r\n" + chunk + "\r\n";
  request += "0\r\n\r\n";
  asio::write(socket, asio::buffer(request));
  CHECK(read_to_close(socket).starts_with("HTTP/1.1 413"));

  // A body within the limit still goes through on a fresh connection.
  auto fresh = connect(client, s.server.port());
  CHECK(exchange(fresh, make(http::verb::post, "/v1/receipts/sms", std::string(1024, 'b')))
            .result_int() == 200);
}

TEST_CASE("HttpServer closes a connection whose request never completes", "[http_server]") {
  HttpServerOptions options;
  options.port = 0;
  options.read_timeout = 1s;
  RunningServer s(options);
  answer_ok(s.server, "GET", "/healthz");
  s.start();
  asio::io_context client;
  auto socket = connect(client, s.server.port());
  asio::write(socket, asio::buffer(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n")));
  // No answer, and the server hangs up rather than waiting forever for the end of the headers.
  CHECK(read_to_close(socket).empty());
}

TEST_CASE("HttpServer::start names the address it cannot bind", "[http_server]") {
  RunningServer first;
  first.start();
  asio::io_context io;
  HttpServerOptions options;
  options.port = first.server.port();
  HttpServer second(io, options);
  try {
    second.start();
    FAIL("a second server bound the same port");
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("127.0.0.1:" + std::to_string(options.port)));
  }
}

// Request smuggling (RFC 9112 §6.1): a Transfer-Encoding whose final coding is not chunked, or one
// next to a Content-Length, must not be framed by the length, or what follows it is served as a
// second request.
TEST_CASE("HttpServer answers 400 and closes on ambiguous Transfer-Encoding framing",
          "[http_server][framing]") {
  RunningServer s;
  int smuggled = 0;
  answer_ok(s.server, "POST", "/v1/receipts/");
  s.server.route("GET", "/smuggled", [&](const HttpServerRequest&, HttpRespond respond) {
    ++smuggled;
    respond(HttpServerResponse::text(200, "smuggled"));
  });
  s.start();
  asio::io_context client;
  std::string second = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  for (std::string coding : {"xchunked", "identity", "gzip", "chunked, identity", "chunked"}) {
    INFO(coding);
    auto socket = connect(client, s.server.port());
    asio::write(socket, asio::buffer("POST /v1/receipts/sms HTTP/1.1\r\nHost: x\r\n"
                                     "Transfer-Encoding: " +
                                     coding + "\r\nContent-Length: 2\r\n\r\n{}" + second));
    std::string answer = read_to_close(socket);
    CHECK(answer.starts_with("HTTP/1.1 400"));
    CHECK(answer.find("smuggled") == std::string::npos);
  }
  // Without a Content-Length, a final coding other than chunked leaves no length at all.
  auto socket = connect(client, s.server.port());
  asio::write(socket, asio::buffer("POST /v1/receipts/sms HTTP/1.1\r\nHost: x\r\n"
                                   "Transfer-Encoding: gzip\r\n\r\n{}" +
                                   second));
  CHECK(read_to_close(socket).starts_with("HTTP/1.1 400"));
  CHECK(smuggled == 0);
  // Chunked alone is still served.
  auto fresh = connect(client, s.server.port());
  asio::write(fresh, asio::buffer(std::string("POST /v1/receipts/sms HTTP/1.1\r\nHost: x\r\n"
                                              "Transfer-Encoding: chunked\r\n\r\n"
                                              "2\r\n{}\r\n0\r\n\r\n")));
  beast::flat_buffer buffer;
  http::response<http::string_body> r;
  http::read(fresh, buffer, r);
  CHECK(r.result_int() == 200);
}

// The client that keeps sending a refused body must still read the 413: closing with its bytes
// unread would make the kernel answer them with a reset that destroys the answer.
TEST_CASE("HttpServer lingers after a 413 so a client still sending reads it",
          "[http_server][linger]") {
  auto options = RunningServer::with_port_zero();
  options.max_body = 1024;
  RunningServer s(options);
  answer_ok(s.server, "POST", "/v1/receipts/");
  s.start();
  asio::io_context client;
  for (int round = 0; round < 5; ++round) {
    auto socket = connect(client, s.server.port());
    std::string body(4 << 20, 'x');
    std::string request = "POST /v1/receipts/sms HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body;
    beast::error_code write_error;
    asio::write(socket, asio::buffer(request), write_error);
    CHECK_FALSE(write_error);
    CHECK(read_to_close(socket).starts_with("HTTP/1.1 413"));
  }
}

// Out of descriptors, accept() fails with EMFILE. The loop used to end there, and the
// endpoint (health checks, receipts) stayed dead after the descriptors came back.
TEST_CASE("HttpServer keeps accepting after running out of file descriptors",
          "[http_server][fds]") {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers' runtimes need descriptors of their own (UBSan's vptr check opens a pipe to
  // probe memory), so with none left they report false errors: this case runs in normal builds.
  WARN("skipped under sanitizers: their runtimes need file descriptors");
  return;
#endif
  RunningServer s;
  answer_ok(s.server, "GET", "/healthz");
  s.start();
  asio::io_context client;
  tcp::socket waiting(client);  // opened before: the client needs no descriptor once exhausted
  waiting.open(tcp::v4());
  {
    test::DescriptorExhaustion exhaustion;
    // The kernel completes the handshake; the server's accept() is what fails.
    waiting.connect({asio::ip::make_address("127.0.0.1"), s.server.port()});
    asio::write(waiting, asio::buffer(kHealthz));
    REQUIRE(eventually([&] { return s.server.accept_errors() > 0; }));
    // Several failed accepts, the server still alive: it backs off and tries again.
    REQUIRE(eventually([&] { return s.server.accept_errors() > 1; }));
  }
  // Descriptors are back: the connection that waited in the backlog is served, and new ones too.
  CHECK(read_to_close(waiting).starts_with("HTTP/1.1 200"));
  auto fresh = connect(client, s.server.port());
  asio::write(fresh, asio::buffer(kHealthz));
  CHECK(read_to_close(fresh).starts_with("HTTP/1.1 200"));
}

TEST_CASE("HttpServer closes connections beyond http.max_connections and serves again below",
          "[http_server][fds]") {
  auto options = RunningServer::with_port_zero();
  options.max_connections = 2;
  RunningServer s(options);
  answer_ok(s.server, "GET", "/healthz");
  s.start();
  asio::io_context client;
  std::vector<tcp::socket> idle;
  for (int i = 0; i < 2; ++i) idle.push_back(connect(client, s.server.port()));
  REQUIRE(eventually([&] { return s.server.open_connections() == 2; }));
  // Over the cap: closed at once, whatever it sends, and no session is kept for it.
  auto over = connect(client, s.server.port());
  beast::error_code ignored;
  asio::write(over, asio::buffer(kHealthz), ignored);
  CHECK(read_to_close(over).empty());
  CHECK(s.server.open_connections() == 2);
  // The idle ones still work: the cap closes newcomers, not the connections it admitted.
  asio::write(idle[0], asio::buffer(kHealthz));
  CHECK(read_to_close(idle[0]).starts_with("HTTP/1.1 200"));
  REQUIRE(eventually([&] { return s.server.open_connections() == 1; }));
  auto below = connect(client, s.server.port());
  asio::write(below, asio::buffer(kHealthz));
  CHECK(read_to_close(below).starts_with("HTTP/1.1 200"));
}
