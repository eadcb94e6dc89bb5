// HTTP requests for provider adapters, on the shared libcurl multi handle driven by the event loop.
// Never blocks: the callback runs later on the event loop thread. TLS verification is always on.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rappel {

class CurlMulti;

struct HttpRequest {
  std::string method = "POST";  // GET, POST...
  std::string url;              // with the query string already encoded for GET
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. {"Content-Type", "..."}
  std::string body;
  std::string basic_auth_user;  // HTTP Basic when non-empty
  std::string basic_auth_password;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{15000};
  size_t max_response_bytes = 256 * 1024;  // larger bodies fail the request (transport_error)
  std::string ca_file;  // extra CA bundle to trust (tests); verification itself is never disabled
};

struct HttpResponse {
  int status = 0;  // 0: no HTTP response (connection error, timeout, body too large...)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string transport_error;  // libcurl's description when status == 0
  bool timed_out = false;
  // True when the request may have reached the provider (timeout or connection lost after
  // sending): a retry may then duplicate the message, and the core records the outcome as unknown.
  bool maybe_delivered = false;
  // Set when it failed for lack of a resource here (descriptors, memory): not the provider's fault.
  bool local_shortage = false;
  std::chrono::microseconds elapsed{0};

  std::optional<std::string> header(std::string_view lowercase_name) const;
};

using HttpCallback = std::function<void(HttpResponse)>;

void http_request(CurlMulti& curl, HttpRequest request, HttpCallback done);

// application/x-www-form-urlencoded / query-string encoding of UTF-8 text.
std::string url_encode(std::string_view text);
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace rappel
