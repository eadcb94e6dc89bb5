// Brevo transactional SMS (type `brevo_sms`): RDV-Solidarités' SMS provider before Netsize.
//
//   POST https://api.brevo.com/v3/transactionalSMS/sms with headers "api-key" and
//   "content-type: application/json"; body: sender, recipient (digits with the country code),
//   content, type "transactional", unicodeEnabled, optional tag and webUrl (called for each event
//   of this message: where our receipt URL goes). Answer: messageId (integer), smsCount (parts)
//   and remainingCredits (the account's credit, which the credit watch follows) among others.
//   Errors: {"code": "...", "message": "..."} with 400 (bad request, invalid number), 401
//   (authentication), 402 (not enough credit), 403 (permission denied).
//
// Settings: api_key (secret), sender (required; at most 11 alphanumeric or 15 numeric characters),
// tag, receipt_url, sender_punctuation, url, connect_timeout, timeout.
//
// Brevo deprecated this path in May 2025 for /v3/transactionalSMS/send, which answers only
// messageId: set `url` to it and the adapter still works (parts then stay 0). unicodeEnabled is
// true exactly when the core chose UCS-2 for the message.
//
// Event webhooks: msg_status delivered -> delivered; hard_bounce -> undelivered; sent and
// soft_bounce (Brevo still tries) -> intermediate; undocumented words (e.g. "blocked",
// "rejected", seen in Brevo's SMS event list but not in our reference) -> undelivered when they
// name a refusal, intermediate otherwise. `id` is the webhook's own id and is ignored.
#include "providers/brevo_sms.hpp"

#include "providers/credits.hpp"
#include "providers/receipt_parsing.hpp"

namespace rappel::brevo_sms {
namespace {

constexpr std::string_view kLabel = Settings::label;
constexpr std::string_view kDefaultUrl = "https://api.brevo.com/v3/transactionalSMS/sms";

std::string error_words(const nlohmann::json& body) {
  std::string code = json_text(body, "code"), message = json_text(body, "message");
  if (code.empty() || message.empty()) return code + message;
  return code + ": " + message;
}

}  // namespace

Settings read_settings(ConfigMap& account) {
  Settings s;
  s.http = read_http_settings(account, kDefaultUrl);
  s.api_key = account.secret("api_key");
  read_sender_punctuation(account, s.sender_rules);
  s.sender = read_sender(account, s.sender_rules, /*required=*/true);
  s.tag = account.string_or("tag", "");
  s.receipt_url = account.string_or("receipt_url", "");
  if (!s.receipt_url.empty() && !s.receipt_url.starts_with("https://") &&
      !s.receipt_url.starts_with("http://"))
    account.fail("receipt_url", "expected an http:// or https:// URL");
  return s;
}

HttpRequest build_request(const Settings& settings, const Outbound& message) {
  const SmsContent& sms = message.sms();
  nlohmann::ordered_json body = {
      {"sender", sms.sender.empty() ? settings.sender : sms.sender},
      {"recipient", e164_digits(sms.to)},
      {"content", sms.text},
      {"type", "transactional"},
      {"unicodeEnabled", sms.encoding == "ucs2"},
  };
  if (!settings.tag.empty()) body["tag"] = settings.tag;
  if (!settings.receipt_url.empty()) body["webUrl"] = settings.receipt_url;
  HttpRequest r = base_request(settings.http, "POST");
  r.headers = {{"api-key", settings.api_key},
               {"Content-Type", "application/json"},
               {"Accept", "application/json"}};
  r.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return r;
}

SendResult classify(const HttpResponse& response) {
  nlohmann::json body;
  if (auto settled = read_json_answer(kLabel, response, body)) return *settled;
  if (response.status >= 200 && response.status < 300) {
    std::string id = json_text(body, "messageId");
    if (id.empty()) return unreadable_body(kLabel, response);
    SendResult r =
        SendResult::accepted(id, static_cast<int>(json_integer(body, "smsCount").value_or(0)));
    r.credits = json_credit(body, "remainingCredits");
    return r;
  }
  // 400 permanent, 401/402/403 unavailable, 429 and 5xx transient: the default table matches
  // Brevo's documented statuses.
  return classify_by_status(kLabel, response, error_words(body));
}

namespace {

ReceiptState state_of(std::string_view status) {
  if (status == "delivered") return ReceiptState::delivered;
  if (status == "hard_bounce" || status == "blocked" || status == "rejected" ||
      status == "invalid_number")
    return ReceiptState::undelivered;
  return ReceiptState::intermediate;  // sent, accepted, soft_bounce, replied, unknown words
}

std::string read_report(const nlohmann::json& report, Receipt& r) {
  r.provider_message_id = json_text(report, "messageId");
  if (r.provider_message_id.empty()) return "a report without messageId";
  std::string status = json_text(report, "msg_status");
  if (status.empty()) status = json_text(report, "event");  // the newer webhook format's name
  if (status.empty()) return "a report without msg_status";
  r.state = state_of(status);
  r.provider_status = receipt_reason(status);
  if (r.state == ReceiptState::undelivered) {
    std::string why = json_text(report, "reason");
    r.reason = "Brevo SMS: " + r.provider_status + (why.empty() ? "" : ": " + receipt_reason(why));
  }
  return {};
}

}  // namespace

ReceiptParse parse_receipts(std::string_view body) {
  return parse_json_reports(body, read_report);
}

}  // namespace rappel::brevo_sms

namespace rappel {

std::unique_ptr<Provider> make_brevo_sms_provider(ConfigMap& account, ProviderContext& ctx) {
  return make_http_sms_provider(account, ctx, brevo_sms::read_settings(account));
}

}  // namespace rappel
