// The daemon's HTTP endpoint: delivery receipts from providers, health, metrics and statistics.
//
// One small Boost.Beast server on the daemon's event loop (asynchronous sessions in the style of
// Beast's examples), because every handler it serves needs the loop's state (Redis, counters)
// and none of them is heavy. Handlers answer asynchronously: a receipt needs a Redis round trip
// before the provider may be told "200". Request bodies are capped before they are read in full,
// and connections idle or slow past a deadline are closed: it may face the Internet (receipts).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace rappel {

// Named apart from http_client.hpp's HttpRequest/HttpResponse (the outgoing side): two classes of
// one name in one namespace would be an ODR violation that links silently.
struct HttpServerRequest {
  std::string method;  // "GET", "POST"...
  std::string path;    // the target without its query string, e.g. "/v1/receipts/sms_factor"
  std::string query;   // the raw query string without '?', may be empty
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  // The value of a query parameter (percent-decoded), or "" when absent.
  std::string query_param(const std::string& name) const;
  // The value of a header (name in any case), or "" when absent.
  std::string header(const std::string& name) const;
};

struct HttpServerResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpServerResponse text(int status, std::string body);
  static HttpServerResponse json(int status, std::string body);
};

using HttpRespond = std::function<void(HttpServerResponse)>;
// Must call `respond` exactly once, now or later, on the event loop thread.
using HttpHandler = std::function<void(const HttpServerRequest&, HttpRespond respond)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;                   // 0: chosen by the OS (tests)
  size_t max_body = 64 * 1024;            // larger bodies get 413 without being read
  std::chrono::seconds read_timeout{10};  // a request's header and body, and an idle keep-alive
  // Connections open at once; beyond it a new one is closed at once. It keeps a flood of idle
  // clients from taking the file descriptors that provider and Redis connections need.
  size_t max_connections = 256;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpServerOptions options);
  ~HttpServer();

  // Routes: an exact path ("/healthz"), or a prefix ending in '/' ("/v1/receipts/") that matches
  // everything below it. Longest match wins; an unknown path gets 404, a known path with another
  // method 405.
  void route(std::string method, std::string path, HttpHandler handler);

  // Binds and starts accepting; throws std::runtime_error with the address on failure.
  void start();
  uint16_t port() const;            // the bound port (after start)
  size_t open_connections() const;  // both readable from any thread
  size_t accept_errors() const;     // accepts that failed (and were retried) since start
  void stop();                      // stops accepting and closes open connections

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace rappel
