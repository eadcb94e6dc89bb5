// What every HTTP SMS adapter shares, so that each adapter is only three things: reading its
// settings, building one HttpRequest from one Outbound, and classifying one HttpResponse.
//
// The pattern follows fluent-bit's output plugins and Envoy's filters: the adapter's functions are
// pure (no I/O, no clock, no logging), which makes the provider's tables of codes unit-testable,
// and one generic Provider (HttpSmsProvider) does the glue: the HTTP call on the shared CurlMulti,
// exactly one callback per send, cancellation, and masked debug logging.
//
// Error texts are built here too: they carry the provider's own message (it is what an operator
// needs) but pass it through provider_text(), which masks anything that looks like a phone number
// and bounds the length, because providers do echo numbers back ("Invalid number 0612345678").
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "daemon/config_node.hpp"
#include "daemon/http_client.hpp"
#include "providers/provider.hpp"

namespace rappel {

// `url`, `connect_timeout`, `timeout`: the settings every HTTP adapter accepts.
struct HttpSettings {
  std::string url;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{15000};
};
HttpSettings read_http_settings(ConfigMap& settings, std::string_view default_url);

// A request to settings.url with the account's timeouts.
HttpRequest base_request(const HttpSettings& settings, std::string method);
// Appends "?a=b&c=d" (or "&..." when the URL already has a query) to a GET request's URL.
void append_query(HttpRequest& request,
                  const std::vector<std::pair<std::string, std::string>>& fields);

// Sender names. Alphanumeric: 1..max_alphanumeric characters of [A-Za-z0-9 ] (plus `punctuation`)
// with at least one letter; numeric: up to max_numeric digits, when numeric_allowed.
struct SenderRules {
  size_t max_alphanumeric = 11;
  size_t max_numeric = 15;
  bool numeric_allowed = true;
  std::string punctuation;  // extra characters an account allows, e.g. "." for "RDV S.P."
};
std::optional<std::string> check_sender_name(std::string_view sender, const SenderRules& rules);
// Reads `sender_punctuation` (see SenderRules::punctuation) into `rules`.
void read_sender_punctuation(ConfigMap& settings, SenderRules& rules);
// Reads `sender` and validates it now, so a bad name fails at load with its file:line:col.
std::string read_sender(ConfigMap& settings, const SenderRules& rules, bool required);

// The default meaning of an HTTP status: 2xx accepted; 408, 429, 5xx transient; 401, 402 (out of
// credit), 403 and 3xx (a wrong `url`) unavailable; other 4xx permanent.
Outcome outcome_of_status(int status);
// 500, 502 and 504 answer a request the provider (or its gateway) received and may have acted on:
// a transient failure with one of them is outcome_unknown. 503 and 429 are refusals.
bool leaves_outcome_unknown(int status);

// "Retry-After: 120" or "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT" (RFC 9110), relative to now.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

// The provider's own words, safe for logs and the database: runs of 6 or more digits (with the
// separators people write in numbers) become "<number>", control characters become spaces, bytes
// that are not UTF-8 become U+FFFD (the result is always valid UTF-8), and the text is cut at 200
// bytes on a character boundary. Also used for SMTP replies (daemon/smtp_client.cpp).
std::string provider_text(std::string_view text);

// A failure: "<label>: HTTP <status>: <provider's words>" with Retry-After applied, and
// outcome_unknown when transient with a status of leaves_outcome_unknown().
SendResult http_failure(Outcome outcome, std::string_view label, const HttpResponse& response,
                        std::string_view provider_words);
// No HTTP response at all: transient, with outcome_unknown when the request may have gone out.
SendResult transport_failure(std::string_view label, const HttpResponse& response);
// The default classification, for responses the adapter's own table does not recognise.
SendResult classify_by_status(std::string_view label, const HttpResponse& response,
                              std::string_view provider_words = {});
// A body the adapter cannot read. With a 2xx the provider may well have taken the message:
// transient but outcome_unknown, so the core knows a retry may duplicate it.
SendResult unreadable_body(std::string_view label, const HttpResponse& response);
// A readable answer without the field that says whether the provider took the message (`field`,
// e.g. SMS Factor's "status"): after a 2xx it is as unreadable as garbage ({"error": ...} or {}
// from a proxy: the message may or may not have been taken), so transient with outcome_unknown,
// never accepted; with another status, classified by status with the provider's words.
SendResult missing_verdict(std::string_view label, const HttpResponse& response,
                           std::string_view field, std::string_view provider_words);

// JSON that never throws: nullopt for malformed bodies.
std::optional<nlohmann::json> parse_json(std::string_view body);
// A member as text whether the provider sent a string or a number; "" otherwise.
std::string json_text(const nlohmann::json& object, std::string_view key);
// A member as an integer whether sent as a number or a numeric string.
std::optional<long long> json_integer(const nlohmann::json& object, std::string_view key);

// "+33612345678" -> "33612345678".
std::string e164_digits(std::string_view e164);
// "+33612345678" -> "0612345678" (daemon/phone.hpp); throws std::invalid_argument when the number
// has no national form, which the generic provider reports as a permanent failure.
std::string national_digits(std::string_view e164);

// What the generic provider needs from one adapter. `classify` also sees the message, for the rare
// provider whose code means different things depending on the destination.
struct HttpAdapter {
  std::string label;  // "Netsize", used in error texts and logs
  std::function<HttpRequest(const Outbound&)> build;
  std::function<SendResult(const HttpResponse&, const Outbound&)> classify;
  std::function<std::optional<std::string>(std::string_view)> check_sender;
  // Delivery reports; empty when the provider (or this account) has none.
  std::function<ReceiptParse(const HttpServerRequest&)> receipts;
};

class HttpSmsProvider final : public Provider {
 public:
  HttpSmsProvider(ProviderContext& ctx, std::string account, HttpAdapter adapter);
  Channel channel() const override { return Channel::sms; }
  void send(const Outbound& message, SendCallback done) override;
  std::optional<std::string> check_sender(std::string_view sender) const override;
  void cancel_all() override;
  bool supports_receipts() const override { return static_cast<bool>(adapter_->receipts); }
  ReceiptParse parse_receipts(const HttpServerRequest& request) const override;

 private:
  struct Pending;
  void finish_later(SendCallback done, SendResult result);

  boost::asio::io_context& io_;
  CurlMulti* curl_;
  std::string account_;
  std::shared_ptr<const HttpAdapter> adapter_;
  std::shared_ptr<Pending> pending_;
};

// The account name of a provider's ConfigMap ("providers.netsize-dinum" -> "netsize-dinum").
std::string account_name(const ConfigMap& settings);

}  // namespace rappel
