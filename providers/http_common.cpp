// See http_common.hpp. Settings, sender names, status classification and provider texts; the
// generic Provider glue is at the end of the file.
#include "providers/http_common.hpp"

#include <sstream>
#include <stdexcept>

#include <date/date.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "daemon/phone.hpp"
#include "daemon/utf8.hpp"

namespace rappel {

HttpSettings read_http_settings(ConfigMap& settings, std::string_view default_url) {
  HttpSettings s;
  s.url = settings.string_or("url", std::string(default_url));
  if (!s.url.starts_with("https://") && !s.url.starts_with("http://"))
    settings.fail("url", "expected an http:// or https:// URL");
  s.connect_timeout = settings.duration_or("connect_timeout", s.connect_timeout);
  s.timeout = settings.duration_or("timeout", s.timeout);
  if (s.connect_timeout.count() <= 0) settings.fail("connect_timeout", "must be positive");
  if (s.timeout < s.connect_timeout) settings.fail("timeout", "must be at least connect_timeout");
  return s;
}

HttpRequest base_request(const HttpSettings& settings, std::string method) {
  HttpRequest r;
  r.method = std::move(method);
  r.url = settings.url;
  r.connect_timeout = settings.connect_timeout;
  r.total_timeout = settings.timeout;
  return r;
}

void append_query(HttpRequest& request,
                  const std::vector<std::pair<std::string, std::string>>& fields) {
  request.url += request.url.find('?') == std::string::npos ? '?' : '&';
  request.url += form_encode(fields);
}

// ---- sender names ----

namespace {
bool is_ascii_letter(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}
}  // namespace

std::optional<std::string> check_sender_name(std::string_view sender, const SenderRules& rules) {
  if (sender.empty()) return "the sender name is empty";
  bool all_digits = true, has_letter = false;
  for (char c : sender) {
    all_digits = all_digits && is_ascii_digit(c);
    has_letter = has_letter || is_ascii_letter(c);
  }
  if (all_digits) {
    if (!rules.numeric_allowed) return "numeric sender names are not supported by this provider";
    if (sender.size() > rules.max_numeric)
      return "a numeric sender name has at most " + std::to_string(rules.max_numeric) + " digits";
    return std::nullopt;
  }
  if (sender.size() > rules.max_alphanumeric)
    return "an alphanumeric sender name has at most " + std::to_string(rules.max_alphanumeric) +
           " characters";
  for (char c : sender) {
    bool ok = is_ascii_letter(c) || is_ascii_digit(c) || c == ' ' ||
              rules.punctuation.find(c) != std::string::npos;
    if (!ok)
      return "a sender name may only contain unaccented letters, digits and spaces" +
             (rules.punctuation.empty() ? std::string() : " and " + rules.punctuation);
  }
  if (!has_letter) return "an alphanumeric sender name needs at least one letter";
  return std::nullopt;
}

void read_sender_punctuation(ConfigMap& settings, SenderRules& rules) {
  rules.punctuation = settings.string_or("sender_punctuation", "");
  for (char c : rules.punctuation)
    if (is_ascii_letter(c) || is_ascii_digit(c) || static_cast<unsigned char>(c) < 0x21 ||
        static_cast<unsigned char>(c) > 0x7e)
      settings.fail("sender_punctuation", "expected ASCII punctuation characters, like \".-\"");
}

std::string read_sender(ConfigMap& settings, const SenderRules& rules, bool required) {
  std::string sender = required ? settings.string("sender") : settings.string_or("sender", "");
  if (!sender.empty())
    if (auto why = check_sender_name(sender, rules)) settings.fail("sender", *why);
  return sender;
}

// ---- classification ----

Outcome outcome_of_status(int status) {
  if (status >= 200 && status < 300) return Outcome::accepted;
  if (status == 408 || status == 429 || status >= 500) return Outcome::transient;
  if (status == 401 || status == 402 || status == 403) return Outcome::unavailable;
  if (status >= 300 && status < 400) return Outcome::unavailable;
  if (status >= 400 && status < 500) return Outcome::permanent;
  return Outcome::transient;  // 0 and 1xx: no usable answer
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), is_ascii_digit)) {
    if (value.size() > 9) return std::nullopt;  // nonsense, and would overflow
    return std::chrono::seconds(std::stol(std::string(value)));
  }
  std::istringstream in{std::string(value)};
  date::sys_seconds when;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // g++ 12 false positive inside date.h
  in >> date::parse("%a, %d %b %Y %H:%M:%S GMT", when);
#pragma GCC diagnostic pop
  if (in.fail()) return std::nullopt;
  auto delta = std::chrono::duration_cast<std::chrono::seconds>(when - now);
  return delta.count() > 0 ? delta : std::chrono::seconds(0);
}

std::string provider_text(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size() && out.size() < 200) {
    // A run of digits, possibly written with + . - space separators, long enough to be a number.
    // Control characters separate too: they come out as spaces ("06\t12\t34..." must not become
    // "06 12 34..." in clear; found by fuzz/receipts_fuzz), and so do the no-break spaces of French
    // typography (U+00A0, U+202F) and the thin space (U+2009).
    auto separator_length = [&](size_t k) -> size_t {
      auto c = static_cast<unsigned char>(text[k]);
      if (c == ' ' || c == '.' || c == '-' || c < 0x20 || c == 0x7f) return 1;
      std::string_view rest = text.substr(k);
      if (rest.starts_with("\xC2\xA0")) return 2;
      if (rest.starts_with("\xE2\x80\xAF") || rest.starts_with("\xE2\x80\x89")) return 3;
      return 0;
    };
    size_t j = i, digits = 0;
    for (;;) {
      if (j >= text.size()) break;
      if (is_ascii_digit(text[j])) {
        ++digits;
        ++j;
      } else if (j == i && text[j] == '+') {
        ++j;
      } else if (size_t n = j > i ? separator_length(j) : 0) {
        j += n;
      } else {
        break;
      }
    }
    if (digits >= 6) {
      while (j > i && !is_ascii_digit(text[j - 1])) --j;  // keep a trailing separator
      out += "<number>";
      i = j;
      continue;
    }
    // One character at a time, never cut: bytes that are not UTF-8 (a Latin-1 "\xe9" from an
    // old mail server) become U+FFFD, so the text is always valid UTF-8 (Redis, JSON, logs).
    size_t n = utf8_length(text, i);
    std::string_view piece = n == 0 ? "\xEF\xBF\xBD" : text.substr(i, n);
    if (out.size() + piece.size() > 200) break;
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) piece = " ";
    out += piece;
    i += n == 0 ? 1 : n;
  }
  if (i < text.size()) out += "...";
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool leaves_outcome_unknown(int status) {
  // 500: the provider failed while handling the request, perhaps after queueing the SMS. 502 and
  // 504: its edge took the request and lost the backend's answer (504 is a gateway timeout, as
  // ambiguous as our own timeout). 503, 429, 501 and 505 say the request was refused.
  return status == 500 || status == 502 || status == 504;
}

SendResult http_failure(Outcome outcome, std::string_view label, const HttpResponse& response,
                        std::string_view provider_words) {
  std::string error = std::string(label) + ": HTTP " + std::to_string(response.status);
  std::string words = provider_text(provider_words);
  if (!words.empty()) error += ": " + words;
  SendResult r = SendResult::failure(outcome, std::move(error));
  // A retry after these may duplicate the SMS: the core pins the message to this account.
  r.outcome_unknown = outcome == Outcome::transient && leaves_outcome_unknown(response.status);
  if (auto h = response.header("retry-after"))
    r.retry_after = parse_retry_after(*h, std::chrono::system_clock::now());
  return r;
}

SendResult transport_failure(std::string_view label, const HttpResponse& response) {
  std::string error = std::string(label) + (response.timed_out        ? ": timed out"
                                            : response.local_shortage ? ": not sent"
                                                                      : ": no response");
  if (!response.transport_error.empty()) error += " (" + response.transport_error + ")";
  SendResult r = SendResult::failure(Outcome::transient, std::move(error));
  r.outcome_unknown = response.maybe_delivered;
  r.local_failure = response.local_shortage;
  return r;
}

SendResult classify_by_status(std::string_view label, const HttpResponse& response,
                              std::string_view provider_words) {
  if (response.status == 0) return transport_failure(label, response);
  Outcome o = outcome_of_status(response.status);
  if (o == Outcome::accepted) return SendResult::accepted({});
  return http_failure(o, label, response, provider_words);
}

SendResult unreadable_body(std::string_view label, const HttpResponse& response) {
  if (response.status == 0) return transport_failure(label, response);
  Outcome o = outcome_of_status(response.status);
  if (o != Outcome::accepted) return http_failure(o, label, response, "unreadable response body");
  SendResult r = http_failure(Outcome::transient, label, response,
                              "unreadable response body: the message may have been sent");
  r.outcome_unknown = true;
  return r;
}

SendResult missing_verdict(std::string_view label, const HttpResponse& response,
                           std::string_view field, std::string_view provider_words) {
  if (response.status == 0 || outcome_of_status(response.status) != Outcome::accepted)
    return classify_by_status(label, response, provider_words);
  std::string words = "no " + std::string(field) + " in the answer: the message may have been sent";
  if (!provider_words.empty()) words += ": " + std::string(provider_words);
  SendResult r = http_failure(Outcome::transient, label, response, words);
  r.outcome_unknown = true;
  return r;
}

std::optional<nlohmann::json> parse_json(std::string_view body) {
  auto j = nlohmann::json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::string json_text(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return {};
  auto it = object.find(std::string(key));
  if (it == object.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<long long>());
  return {};
}

std::optional<long long> json_integer(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(std::string(key));
  if (it == object.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<long long>();
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    std::string_view digits = s;
    if (digits.starts_with('-')) digits.remove_prefix(1);
    if (digits.empty() || digits.size() > 18 ||
        !std::all_of(digits.begin(), digits.end(), is_ascii_digit))
      return std::nullopt;
    return std::stoll(s);
  }
  return std::nullopt;
}

std::string e164_digits(std::string_view e164) {
  std::string out;
  for (char c : e164)
    if (is_ascii_digit(c)) out += c;
  return out;
}

std::string national_digits(std::string_view e164) {
  std::string national = national_number(e164);
  if (national.empty()) throw std::invalid_argument("the number has no national format");
  return national;
}

std::string account_name(const ConfigMap& settings) {
  const std::string& where = settings.where();
  return where.substr(where.rfind('.') + 1);
}

// ---- the generic provider ----

// In-flight sends by sequence number. Shared with the HTTP callbacks, so a callback arriving after
// cancel_all() (or after the provider is gone) finds nothing and does nothing.
struct HttpSmsProvider::Pending {
  std::map<unsigned long, SendCallback> callbacks;
  unsigned long next = 0;
  bool inside_send = false;
};

HttpSmsProvider::HttpSmsProvider(ProviderContext& ctx, std::string account, HttpAdapter adapter)
    : io_(ctx.io),
      curl_(ctx.curl),
      account_(std::move(account)),
      adapter_(std::make_shared<const HttpAdapter>(std::move(adapter))),
      pending_(std::make_shared<Pending>()) {}

void HttpSmsProvider::finish_later(SendCallback done, SendResult result) {
  boost::asio::post(io_, [done = std::move(done), result = std::move(result)]() mutable {
    done(std::move(result));
  });
}

void HttpSmsProvider::send(const Outbound& message, SendCallback done) {
  if (message.channel() != Channel::sms)
    return finish_later(std::move(done),
                        SendResult::failure(Outcome::permanent, adapter_->label + ": not an SMS"));
  if (!curl_)
    return finish_later(std::move(done),
                        SendResult::failure(Outcome::transient,
                                            adapter_->label + ": no HTTP client (check-config)"));
  HttpRequest request;
  try {
    request = adapter_->build(message);
  } catch (const std::exception& e) {
    return finish_later(std::move(done),
                        SendResult::failure(Outcome::permanent, adapter_->label + ": " + e.what()));
  }
  unsigned long seq = ++pending_->next;
  pending_->callbacks.emplace(seq, std::move(done));
  spdlog::debug("{}: sending {}", account_, message.id);  // no number, no text: personal data

  auto on_response = [pending = pending_, adapter = adapter_, seq, message, account = account_,
                      io = &io_](HttpResponse response) {
    auto it = pending->callbacks.find(seq);
    if (it == pending->callbacks.end()) return;  // cancelled meanwhile
    SendCallback cb = std::move(it->second);
    pending->callbacks.erase(it);
    SendResult result = adapter->classify(response, message);
    // Outcome only: the provider's words are logged by the core, after the secret mask.
    spdlog::debug("{}: {} -> outcome {}", account, message.id, to_string(result.outcome));
    if (pending->inside_send)  // the contract: never call back from inside send()
      boost::asio::post(*io, [cb = std::move(cb), result = std::move(result)]() mutable {
        cb(std::move(result));
      });
    else
      cb(std::move(result));
  };
  pending_->inside_send = true;
  http_request(*curl_, std::move(request), std::move(on_response));
  pending_->inside_send = false;
}

std::optional<std::string> HttpSmsProvider::check_sender(std::string_view sender) const {
  return adapter_->check_sender ? adapter_->check_sender(sender) : std::nullopt;
}

void HttpSmsProvider::cancel_all() {
  auto callbacks = std::move(pending_->callbacks);
  pending_->callbacks.clear();
  for (auto& [seq, done] : callbacks) {
    SendResult r = SendResult::failure(Outcome::transient, adapter_->label + ": cancelled");
    r.outcome_unknown = true;  // the request may already have reached the provider
    finish_later(std::move(done), std::move(r));
  }
}

ReceiptParse HttpSmsProvider::parse_receipts(const HttpServerRequest& request) const {
  if (!adapter_->receipts) return Provider::parse_receipts(request);
  return adapter_->receipts(request);
}

}  // namespace rappel
