// Brevo transactional SMS (type `brevo_sms`): the pure parts of the adapter, for tests.
// See brevo_sms.cpp for the API, the settings and where each classification comes from.
#pragma once

#include "providers/http_sms.hpp"

namespace rappel::brevo_sms {

struct Settings {
  static constexpr std::string_view label = "Brevo SMS";
  HttpSettings http;
  std::string api_key;
  std::string sender;
  SenderRules sender_rules;
  std::string tag;          // optional
  std::string receipt_url;  // optional: sent as webUrl, called by Brevo for each event
};

Settings read_settings(ConfigMap& account);
HttpRequest build_request(const Settings& settings, const Outbound& message);
SendResult classify(const HttpResponse& response);
// The generic provider's view of classify (make_http_sms_provider).
inline SendResult classify(const Settings&, const HttpResponse& r, const Outbound&) {
  return classify(r);
}
// Event webhooks (webUrl): messageId matches the send's answer, msg_status says what happened.
ReceiptParse parse_receipts(std::string_view body);
inline ReceiptParse parse_receipts(const Settings&, std::string_view body) {
  return parse_receipts(body);
}

}  // namespace rappel::brevo_sms

namespace rappel {
// The registry's factory (registry.cpp): reads the account's settings, then builds the provider.
std::unique_ptr<Provider> make_brevo_sms_provider(ConfigMap& account, ProviderContext& ctx);
}  // namespace rappel
