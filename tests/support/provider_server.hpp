// A real HTTP/1.1 server (Boost.Beast) standing in for an SMS provider in tests: it listens on
// 127.0.0.1 with a port chosen by the OS, records every request, and answers what the test scripts
// (a status and body, a delay, or a dropped connection). Keep-alive is honoured, and accepted
// connections are counted so that connection reuse can be asserted.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rappel::test {

struct RecordedRequest {
  std::string method;
  std::string target;                          // path and query, as received
  std::string path;                            // target without the query
  std::map<std::string, std::string> query;    // decoded query parameters
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::map<std::string, std::string> form() const;  // decoded x-www-form-urlencoded body
};

struct ScriptedResponse {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type defaults to JSON
  std::chrono::milliseconds delay{0};
  bool drop_connection = false;  // close the socket without answering
  // Answer with keep-alive, then close the connection: a provider whose idle timeout ends the
  // connection while the client holds it in its cache.
  bool close_after_answer = false;
};

class ProviderServer {
 public:
  using Handler = std::function<ScriptedResponse(const RecordedRequest&)>;
  // Serves on its own thread until destroyed; on `port` when given (a server that comes back
  // where a test had nothing listening), else on a port chosen by the OS.
  explicit ProviderServer(Handler handler, unsigned short port = 0);
  ~ProviderServer();
  ProviderServer(const ProviderServer&) = delete;
  ProviderServer& operator=(const ProviderServer&) = delete;

  unsigned short port() const;
  std::string url(std::string_view path = "") const;  // "http://127.0.0.1:<port><path>"
  std::vector<RecordedRequest> requests() const;      // snapshot, thread-safe
  size_t request_count() const;
  size_t connections_accepted() const;
  void set_handler(Handler handler);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace rappel::test
