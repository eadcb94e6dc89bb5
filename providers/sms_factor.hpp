// SMS Factor (type `sms_factor`): the pure parts of the adapter, for tests.
// See sms_factor.cpp for the API, the settings and where each classification comes from.
#pragma once

#include "providers/http_sms.hpp"

namespace rappel::sms_factor {

struct Settings {
  static constexpr std::string_view label = "SMS Factor";
  HttpSettings http;
  std::string token;
  std::string sender;  // empty: the account's default sender
  SenderRules sender_rules;
  bool simulate = false;    // GET <url>/simulate: costs computed, nothing sent
  std::string credits_url;  // GET /credits: the account's credit (default: next to `url`)
};

Settings read_settings(ConfigMap& account);
// Our message id as SMS Factor's gsmsmsid: [A-Za-z0-9_:.-] kept, others '_', at most 50 chars.
std::string gsmsmsid(std::string_view message_id);
HttpRequest build_request(const Settings& settings, const Outbound& message);
SendResult classify(const HttpResponse& response, bool simulate = false);
// The generic provider's view of classify (make_http_sms_provider).
inline SendResult classify(const Settings& s, const HttpResponse& r, const Outbound&) {
  return classify(r, s.simulate);
}
// GET /credits and its answer {status, message, credits, ...}: the credit, or nullopt and why.
HttpRequest credits_request(const Settings& settings);
std::optional<double> read_credits(const HttpResponse& response, std::string& error);
// Delivery reports (JSON, or the same fields form-encoded): campaign_id is our provider message
// id (the ticket), message_id our gsmsmsid.
ReceiptParse parse_receipts(std::string_view body);
inline ReceiptParse parse_receipts(const Settings&, std::string_view body) {
  return parse_receipts(body);
}

}  // namespace rappel::sms_factor

namespace rappel {
// The registry's factory (registry.cpp): reads the account's settings, then builds the provider.
std::unique_ptr<Provider> make_sms_factor_provider(ConfigMap& account, ProviderContext& ctx);
}  // namespace rappel
