// See smtp_client.hpp. One fresh easy handle per message; the connection (and its AUTH) survives
// in the multi handle's cache. The server's reply text comes from libcurl's debug callback
// (CURLINFO_HEADER_IN lines), the only place libcurl exposes it; the outgoing side, which carries
// the AUTH credentials and the message, is never looked at.
#include "daemon/smtp_client.hpp"

#include <memory>
#include <sstream>
#include <vector>

#include "daemon/curl_multi.hpp"
#include "providers/http_common.hpp"

namespace rappel {

namespace {

struct UrlParts {
  std::string scheme, host, user;
};

std::optional<UrlParts> parse_url(const std::string& url) {
  CURLU* u = curl_url();
  std::optional<UrlParts> out;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
    out.emplace();
    auto get = [&](CURLUPart part, std::string& into) {
      char* value = nullptr;
      if (curl_url_get(u, part, &value, 0) == CURLUE_OK) into = value;
      curl_free(value);
    };
    get(CURLUPART_SCHEME, out->scheme);
    get(CURLUPART_HOST, out->host);
    get(CURLUPART_USER, out->user);
  }
  curl_url_cleanup(u);
  return out;
}

bool is_localhost(const std::string& host) {
  return host == "localhost" || host == "127.0.0.1" || host == "[::1]";
}

// Server replies may quote addresses ("550 <camille@example.fr>: unknown"): they never leave here.
std::string without_addresses(std::string_view line) {
  std::istringstream words{std::string(line)};
  std::string word, out;
  while (words >> word) {
    if (!out.empty()) out += ' ';
    out += word.find('@') == std::string::npos ? word : "[address]";
  }
  return out;
}

struct Transfer {
  SmtpMessage message;
  SmtpCallback done;
  CURL* easy = curl_easy_init();
  curl_slist* recipients = nullptr;
  size_t uploaded = 0;               // bytes of message.data handed to libcurl
  std::vector<std::string> replies;  // the last few reply lines (libcurl ends with QUIT's 221)
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  char error[CURL_ERROR_SIZE] = {};

  ~Transfer() {
    curl_easy_cleanup(easy);
    curl_slist_free_all(recipients);
  }
};

size_t read_message(char* buffer, size_t size, size_t count, void* p) {
  auto* t = static_cast<Transfer*>(p);
  size_t n = std::min(size * count, t->message.data.size() - t->uploaded);
  t->message.data.copy(buffer, n, t->uploaded);
  t->uploaded += n;
  return n;
}

int on_debug(CURL*, curl_infotype type, char* data, size_t size, void* p) {
  if (type != CURLINFO_HEADER_IN) return 0;  // never the outgoing side: AUTH is there
  std::string_view line(data, size);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  auto& replies = static_cast<Transfer*>(p)->replies;
  if (line.size() < 3) return 0;
  if (replies.size() == 8) replies.erase(replies.begin());
  replies.push_back(without_addresses(line));
  return 0;
}

// The last reply line carrying `code`: the one the result is about.
std::string reply_line(const std::vector<std::string>& replies, int code) {
  std::string prefix = std::to_string(code);
  for (auto it = replies.rbegin(); it != replies.rend(); ++it)
    if (it->starts_with(prefix)) return *it;
  return {};
}

void configure(Transfer& t, const SmtpSettings& s) {
  CURL* e = t.easy;
  curl_easy_setopt(e, CURLOPT_URL, s.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_USE_SSL,
                   long(s.tls == SmtpTls::required ? CURLUSESSL_ALL : CURLUSESSL_NONE));
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!s.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, s.ca_file.c_str());
  if (!s.username.empty()) {
    curl_easy_setopt(e, CURLOPT_USERNAME, s.username.c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, s.password.c_str());
  }
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, long(s.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, long(s.timeout.count()));
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
  // libcurl's per-transfer buffers: 16 KiB to receive, 64 KiB to upload and twice that to escape
  // leading dots by default. Replies are one line; 16 KiB is libcurl's smallest upload buffer.
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 4096L);
  curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
  std::string from = "<" + t.message.mail_from + ">";
  curl_easy_setopt(e, CURLOPT_MAIL_FROM, from.c_str());  // libcurl copies string options
  for (const auto& r : t.message.recipients)
    t.recipients = curl_slist_append(t.recipients, ("<" + r + ">").c_str());
  curl_easy_setopt(e, CURLOPT_MAIL_RCPT, t.recipients);
  curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, curl_off_t(t.message.data.size()));
  curl_easy_setopt(e, CURLOPT_READFUNCTION, read_message);
  curl_easy_setopt(e, CURLOPT_READDATA, &t);
  curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);  // needed for the debug callback, which replaces
  curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);  // libcurl's stderr output
  curl_easy_setopt(e, CURLOPT_DEBUGDATA, &t);
}

SmtpResult result_of(Transfer& t, CURLcode code, int local_errno) {
  SmtpResult r;
  r.curl_code = code;
  long reply = 0;
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &reply);
  r.code = int(reply);
  r.text = reply_line(t.replies, r.code);
  r.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - t.started);
  if (code == CURLE_OK) return r;
  r.local_shortage = local_errno != 0 || code == CURLE_OUT_OF_MEMORY;
  r.transport_error = local_errno != 0 ? local_shortage_text(local_errno)
                      : t.error[0]     ? t.error
                                       : curl_easy_strerror(code);
  r.timed_out = code == CURLE_OPERATION_TIMEDOUT;
  // Everything went out and no refusal came back (the last reply is still DATA's 354).
  r.maybe_delivered = t.uploaded == t.message.data.size() && r.code < 400;
  return r;
}

bool is_auth_refusal(int code) {
  return code == 530 || code == 534 || code == 535 || code == 538;
}

// A TLS setup the server refuses or that fails verification, or a login refused.
bool is_account_problem(CURLcode code) {
  return code == CURLE_USE_SSL_FAILED || code == CURLE_PEER_FAILED_VERIFICATION ||
         code == CURLE_SSL_CACERT_BADFILE || code == CURLE_LOGIN_DENIED;
}

// "SMTP 550 5.1.1 <the server's words>". The words go through provider_text like an HTTP
// provider's: a relay may answer in Latin-1 (invalid UTF-8 in Redis and the logs) or echo a
// number. The code is kept apart: "550 5.1.1" would otherwise read as a 6-digit number.
std::string refusal_text(const SmtpResult& r) {
  std::string code = std::to_string(r.code);
  std::string_view words = r.text;
  if (!words.starts_with(code)) return "SMTP " + code;
  words.remove_prefix(code.size());
  if (!words.empty() && (words.front() == ' ' || words.front() == '-')) words.remove_prefix(1);
  std::string safe = provider_text(words);
  return safe.empty() ? "SMTP " + code : "SMTP " + code + " " + safe;
}

}  // namespace

SmtpSettings read_smtp_settings(ConfigMap& settings) {
  SmtpSettings s;
  s.url = settings.string("url");
  auto url = parse_url(s.url);
  if (!url || (url->scheme != "smtp" && url->scheme != "smtps") || url->host.empty())
    settings.fail("url", "expected smtp://host:port or smtps://host:port");
  if (!url->user.empty())
    settings.fail("url", "put the credentials in username and password, not in the URL");
  s.username = settings.string_or("username", "");
  if (auto password = settings.optional_secret("password")) s.password = *password;
  if (!s.username.empty() && s.password.empty())
    settings.fail("password", "required with username");
  s.ca_file = settings.string_or("ca_file", "");
  std::string tls = settings.string_or("tls", "required");
  if (tls == "none") {
    if (url->scheme == "smtps") settings.fail("tls", "smtps:// is always TLS; use smtp://");
    if (!is_localhost(url->host))
      settings.fail("tls", "`none` is only allowed for a relay on localhost");
    s.tls = SmtpTls::none;
  } else if (tls != "required") {
    settings.fail("tls", "expected `required` or `none`");
  }
  s.connect_timeout = settings.duration_or("connect_timeout", s.connect_timeout);
  s.timeout = settings.duration_or("timeout", s.timeout);
  s.max_connections = int(settings.integer_or("max_connections", s.max_connections, 1, 100));
  return s;
}

std::string envelope_address(std::string_view from) {
  size_t open = from.rfind('<');
  size_t close = from.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && open < close)
    from = from.substr(open + 1, close - open - 1);
  while (!from.empty() && from.front() == ' ') from.remove_prefix(1);
  while (!from.empty() && from.back() == ' ') from.remove_suffix(1);
  return std::string(from);
}

void smtp_send(CurlMulti& curl, const SmtpSettings& settings, SmtpMessage message,
               SmtpCallback done) {
  auto transfer = std::make_shared<Transfer>();
  transfer->message = std::move(message);
  transfer->done = std::move(done);
  configure(*transfer, settings);
  curl.start(transfer->easy, [transfer](CURLcode code, int local_errno) {
    transfer->done(result_of(*transfer, code, local_errno));
  });
}

SendResult to_send_result(const SmtpResult& r) {
  if (r.accepted()) return SendResult::accepted("");
  // A refusal is told in the server's words; anything else (no reply, or a timeout after DATA's
  // 354) in libcurl's.
  std::string error = r.code < 400 ? r.transport_error : refusal_text(r);
  Outcome outcome = Outcome::transient;
  if (is_auth_refusal(r.code) || is_account_problem(r.curl_code))
    outcome = Outcome::unavailable;
  else if (r.code >= 500 && r.code < 600)
    outcome = Outcome::permanent;
  SendResult result = SendResult::failure(outcome, error);
  result.outcome_unknown = outcome == Outcome::transient && r.maybe_delivered;
  result.local_failure = r.local_shortage;
  return result;
}

}  // namespace rappel
