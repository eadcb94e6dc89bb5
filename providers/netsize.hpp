// Link Mobility / Netsize REST API (type `netsize`): the pure parts of the adapter, for tests.
// See netsize.cpp for the API, the settings and where each classification comes from.
#pragma once

#include "providers/http_sms.hpp"

namespace rappel::netsize {

// Netsize's delivery-report format for this REST API is unconfirmed (the account manager sets
// the report URL up): it is described in the account's YAML, never guessed. See netsize.cpp.
struct ReceiptFormat {
  bool form = false;         // body: json (default) or form (application/x-www-form-urlencoded)
  std::string id_field;      // the provider message id (the first of messageIds at send time)
  std::string status_field;  // the status value, compared with the two lists below
  std::string reason_field;  // optional: the provider's words for a failure
  std::vector<std::string> delivered;
  std::vector<std::string> undelivered;  // any other value is intermediate: it changes nothing
};

struct Settings {
  static constexpr std::string_view label = "Netsize";
  HttpSettings http;
  std::string login;
  std::string password;
  std::string sender;  // originatingAddress when the message carries none
  SenderRules sender_rules;
  long max_concatenated_messages = 10;
  std::string campaign_name;                    // optional
  std::optional<ReceiptFormat> receipt_format;  // delivery reports accepted only when set
};

SenderRules sender_rules();
Settings read_settings(ConfigMap& account);
HttpRequest build_request(const Settings& settings, const Outbound& message);
// `destination` is the message's E.164 number: code 103 means "invalid account" for France and its
// overseas départements, but "not served" for other countries.
SendResult classify(const HttpResponse& response, std::string_view destination = "+33");
// The generic provider's view of classify (make_http_sms_provider).
inline SendResult classify(const Settings&, const HttpResponse& r, const Outbound& m) {
  return classify(r, m.sms().to);
}
ReceiptParse parse_receipts(const ReceiptFormat& format, std::string_view body);
inline bool receives_receipts(const Settings& s) {
  return s.receipt_format.has_value();
}
inline ReceiptParse parse_receipts(const Settings& s, std::string_view body) {
  return parse_receipts(*s.receipt_format, body);
}

}  // namespace rappel::netsize

namespace rappel {
// The registry's factory (registry.cpp): reads the account's settings, then builds the provider.
std::unique_ptr<Provider> make_netsize_provider(ConfigMap& account, ProviderContext& ctx);
}  // namespace rappel
