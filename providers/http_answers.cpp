// See http_answers.hpp.
#include "providers/http_answers.hpp"

#include <algorithm>
#include <sstream>

#include <date/date.h>

#include "daemon/content/redact.hpp"

namespace rappel {

namespace {
bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}
}  // namespace

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

std::optional<SendResult> read_json_answer(std::string_view label, const HttpResponse& response,
                                           nlohmann::json& body) {
  if (response.status == 0) return transport_failure(label, response);
  auto parsed = parse_json(response.body);
  if (!parsed || !parsed->is_object()) return unreadable_body(label, response);
  body = std::move(*parsed);
  return std::nullopt;
}

}  // namespace rappel
