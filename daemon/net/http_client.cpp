// HTTP requests for provider adapters (see http_client.hpp), one libcurl easy handle per request
// on the shared CurlMulti. The easy handle is fresh each time; keep-alive comes from the multi
// handle's connection cache, which outlives the handles.
//
// When may a failed request have reached the provider (HttpResponse::maybe_delivered)? When
// libcurl had written the whole request to the connection before the failure: request headers
// written (CURLINFO_REQUEST_SIZE > 0) and every byte of the body uploaded (CURLINFO_SIZE_UPLOAD_T).
// A failure before that (DNS, connect, TLS handshake, a write error mid-request) cannot have been
// acted upon, since the provider never saw a complete request; one after it (timeout waiting for
// the answer, connection closed, body too large, cancelled) may have been. Partial header writes
// count as sent: erring towards "maybe delivered" risks a reported duplicate, not a silent one.
#include "daemon/net/http_client.hpp"

#include <algorithm>
#include <cstring>
#include <locale>
#include <memory>

#include <curl/curl.h>
#include <boost/algorithm/string/case_conv.hpp>

#include "daemon/net/curl_multi.hpp"

namespace rappel {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

constexpr long kReceiveBufferBytes = 4096;  // a provider's answer is a few hundred bytes

// One request in flight: owns the easy handle and everything libcurl points into.
struct Transfer {
  HttpRequest request;
  HttpCallback done;
  CURL* easy = curl_easy_init();
  curl_slist* headers = nullptr;
  HttpResponse response;
  bool body_too_large = false;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  char error[CURL_ERROR_SIZE] = {};

  ~Transfer() {
    curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
  }
};

size_t on_body(char* data, size_t size, size_t count, void* p) {
  auto* t = static_cast<Transfer*>(p);
  size_t n = size * count;
  if (t->response.body.size() + n > t->request.max_response_bytes) {
    t->body_too_large = true;
    return 0;  // anything but n aborts the transfer with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, n);
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* p) {
  auto* t = static_cast<Transfer*>(p);
  size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    t->response.headers.clear();  // a new response (after 100 Continue): forget the previous one
    return n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos)
    t->response.headers.emplace_back(
        boost::algorithm::to_lower_copy(std::string(trim(line.substr(0, colon))),
                                        std::locale::classic()),
        std::string(trim(line.substr(colon + 1))));
  return n;
}

void set_method_and_body(Transfer& t) {
  CURL* e = t.easy;
  const std::string& method = t.request.method;
  if (method == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else {
    // POSTFIELDS points into t.request.body, which lives as long as the transfer.
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(t.request.body.size()));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t.request.body.data());
    if (method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
}

void configure(Transfer& t) {
  CURL* e = t.easy;
  const HttpRequest& r = t.request;
  curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, long(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!r.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, r.ca_file.c_str());
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, long(r.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, long(r.total_timeout.count()));
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(r.max_response_bytes));
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
  // libcurl mallocs this receive buffer per transfer (16 KiB by default): with hundreds in
  // flight that was the daemon's largest allocation, for answers of a few hundred bytes.
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, kReceiveBufferBytes);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
  if (!r.basic_auth_user.empty()) {
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, long(CURLAUTH_BASIC));
    curl_easy_setopt(e, CURLOPT_USERNAME, r.basic_auth_user.c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, r.basic_auth_password.c_str());
  }
  for (const auto& [name, value] : r.headers)
    t.headers = curl_slist_append(t.headers, (name + ": " + value).c_str());
  // No "Expect: 100-continue" round trip (libcurl adds it to large POSTs).
  t.headers = curl_slist_append(t.headers, "Expect:");
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
  set_method_and_body(t);
}

bool whole_request_sent(Transfer& t) {
  long request_size = 0;
  curl_off_t uploaded = 0;
  curl_easy_getinfo(t.easy, CURLINFO_REQUEST_SIZE, &request_size);
  curl_easy_getinfo(t.easy, CURLINFO_SIZE_UPLOAD_T, &uploaded);
  return request_size > 0 && uploaded >= curl_off_t(t.request.body.size());
}

void finish(Transfer& t, CURLcode result, int local_errno) {
  HttpResponse& response = t.response;
  response.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - t.started);
  if (result == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    response.status = int(status);
    return;
  }
  response.status = 0;
  response.timed_out = result == CURLE_OPERATION_TIMEDOUT;
  response.local_shortage = local_errno != 0 || result == CURLE_OUT_OF_MEMORY;
  if (local_errno != 0)
    response.transport_error = local_shortage_text(local_errno);
  else if (t.body_too_large || result == CURLE_FILESIZE_EXCEEDED)
    response.transport_error =
        "response body larger than " + std::to_string(t.request.max_response_bytes) + " bytes";
  else
    response.transport_error = t.error[0] ? t.error : curl_easy_strerror(result);
  response.maybe_delivered = whole_request_sent(t);
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view lowercase_name) const {
  for (const auto& [name, value] : headers)
    if (name == lowercase_name) return value;
  return std::nullopt;
}

void http_request(CurlMulti& curl, HttpRequest request, HttpCallback done) {
  auto transfer = std::make_shared<Transfer>();
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  configure(*transfer);
  CURL* easy = transfer->easy;
  curl.start(easy, [transfer](CURLcode result, int local_errno) {
    finish(*transfer, result, local_errno);
    transfer->done(std::move(transfer->response));
  });
}

std::string url_encode(std::string_view text) {
  // Since libcurl 7.82 curl_easy_escape needs no handle. It keeps only A-Z a-z 0-9 - . _ ~.
  char* escaped = curl_easy_escape(nullptr, text.data(), int(text.size()));
  if (!escaped) throw std::bad_alloc();
  std::string out(escaped);
  curl_free(escaped);
  return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += url_encode(name);
    out += '=';
    out += url_encode(value);
  }
  return out;
}

}  // namespace rappel
