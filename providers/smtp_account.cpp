// See smtp_account.hpp.
#include "providers/smtp_account.hpp"

#include <optional>
#include <string>

#include <curl/curl.h>

#include "daemon/content/redact.hpp"

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

SmtpSettings read_smtp_settings(ConfigMap& account) {
  SmtpSettings s;
  s.url = account.string("url");
  auto url = parse_url(s.url);
  if (!url || (url->scheme != "smtp" && url->scheme != "smtps") || url->host.empty())
    account.fail("url", "expected smtp://host:port or smtps://host:port");
  if (!url->user.empty())
    account.fail("url", "put the credentials in username and password, not in the URL");
  s.username = account.string_or("username", "");
  if (auto password = account.optional_secret("password")) s.password = *password;
  if (!s.username.empty() && s.password.empty()) account.fail("password", "required with username");
  s.ca_file = account.string_or("ca_file", "");
  std::string tls = account.string_or("tls", "required");
  if (tls == "none") {
    if (url->scheme == "smtps") account.fail("tls", "smtps:// is always TLS; use smtp://");
    if (!is_localhost(url->host))
      account.fail("tls", "`none` is only allowed for a relay on localhost");
    s.tls = SmtpTls::none;
  } else if (tls != "required") {
    account.fail("tls", "expected `required` or `none`");
  }
  s.connect_timeout = account.duration_or("connect_timeout", s.connect_timeout);
  s.timeout = account.duration_or("timeout", s.timeout);
  s.max_connections = int(account.integer_or("max_connections", s.max_connections, 1, 100));
  return s;
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
