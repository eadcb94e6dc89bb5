// Link Mobility / Netsize (type `netsize`): RDV-Solidarités' national SMS provider until 2025.
//
//   POST https://europe.ipx.com/restapi/v1/sms/send, HTTP Basic auth, form-encoded, and the
//   Content-Type must say charset=UTF-8 or accents arrive broken. Fields: destinationAddress (E.164
//   digits, no '+'), messageText, originatingAddress, originatorTON=1 (alphanumeric sender),
//   maxConcatenatedMessages, optional campaignName. The JSON answer has responseCode (0 = success),
//   responseMessage, traceId and messageIds: one id per SMS part, so their count is the parts
//   billed.
//
// Settings: login, password (secret), sender (required: the default originatingAddress),
// max_concatenated_messages (default 10, what RDV-Solidarités sends), campaign_name (optional),
// sender_punctuation (extra characters allowed in sender names, e.g. "." for "RDV S.P."; whether
// Netsize accepts punctuation is unconfirmed, so it is off unless the account says so), plus url,
// connect_timeout, timeout. Numeric senders are refused: originatorTON=1 declares alphanumeric.
//
// Unconfirmed, and chosen here: the provider message id is the first of messageIds (delivery
// reports for this API are set up by the account manager and their format is unknown; traceId
// when messageIds is empty). A 2xx answer without responseCode is no success: transient with
// outcome_unknown, as an unreadable body is (the message may or may not have been taken).
//
// Delivery reports: their format is unconfirmed too, so the account describes it in YAML
// (`receipt_format`: body json|form, id_field, status_field, reason_field, delivered and
// undelivered status lists; docs/receipts.md). Without it the account takes no reports. Only a
// report naming the first part's id matches a message: a report for another part finds no index
// entry and is kept (without effect) until its short TTL ends.
#include "providers/netsize.hpp"

#include <algorithm>
#include <map>

#include "providers/receipt_parsing.hpp"

namespace rappel::netsize {
namespace {

constexpr std::string_view kLabel = Settings::label;
constexpr std::string_view kDefaultUrl = "https://europe.ipx.com/restapi/v1/sms/send";

// responseCode -> outcome. Sources: the Netsize REST API code list in the reference document;
// "RDV-S" = RDV-Solidarités' SmsSender (NETSIZE_PERMANENT_ERRORS, it retries every other code);
// "other" = another public project that does not retry 100 and 16.
const std::map<long long, Outcome> kCodes = {
    {0, Outcome::accepted},       // Success
    {50, Outcome::accepted},      // Partial success: the message was taken (some parts may lag)
    {1, Outcome::unavailable},    // Invalid login
    {2, Outcome::unavailable},    // Consumer blocked
    {3, Outcome::unavailable},    // Operation not provisioned
    {18, Outcome::unavailable},   // Too low balance: nothing goes out until credit is bought
    {103, Outcome::unavailable},  // Invalid account name (but see classify(): other countries)
    {13, Outcome::transient},     // Max throttling rate exceeded
    {99, Outcome::transient},     // Internal server error
    // 17 "prohibited time period": the same message can go out once the window opens. Our choice.
    {17, Outcome::transient},
    // 6-12: unsupported originating address / GSM extended / Unicode / status report: the message.
    {6, Outcome::permanent},
    {7, Outcome::permanent},
    {8, Outcome::permanent},
    {9, Outcome::permanent},
    {10, Outcome::permanent},
    {11, Outcome::permanent},
    {12, Outcome::permanent},
    {15, Outcome::permanent},   // Concatenation limit exceeded (RDV-S)
    {16, Outcome::permanent},   // Unable to route (other)
    {100, Outcome::permanent},  // Invalid destination address (other)
    {110, Outcome::permanent},  // Invalid user data
    {111, Outcome::permanent},  // Invalid message length
    {113, Outcome::permanent},  // Invalid data coding scheme
    {117, Outcome::permanent},  // Invalid campaign name (RDV-S)
    // The sender name and max concatenation are account settings: every message would fail the
    // same way, so the account is unusable until fixed (and failover can take over). Our choice.
    {106, Outcome::unavailable},  // Invalid originating address
    {107, Outcome::unavailable},
    {121, Outcome::unavailable},
    {120, Outcome::unavailable},  // Invalid max concatenated messages
};

// Netsize serves metropolitan France and the overseas départements only (reference document):
// Réunion and Mayotte +262, Guadeloupe +590, Guyane +594, Martinique +596. Not +269: the Comoros.
bool served_by_netsize(std::string_view e164) {
  for (std::string_view prefix : {"+33", "+262", "+590", "+594", "+596"})
    if (e164.starts_with(prefix)) return true;
  return false;
}

std::string first_message_id(const nlohmann::json& body) {
  auto it = body.find("messageIds");
  if (it != body.end() && it->is_array() && !it->empty()) {
    const auto& id = it->front();
    if (id.is_string()) return id.get<std::string>();
    if (id.is_number_integer()) return std::to_string(id.get<long long>());
  }
  return json_text(body, "traceId");
}

int part_count(const nlohmann::json& body) {
  auto it = body.find("messageIds");
  return it != body.end() && it->is_array() ? static_cast<int>(it->size()) : 0;
}

}  // namespace

SenderRules sender_rules() {
  SenderRules rules;
  rules.numeric_allowed = false;
  return rules;
}

Settings read_settings(ConfigMap& account) {
  Settings s;
  s.http = read_http_settings(account, kDefaultUrl);
  s.login = account.string("login");
  s.password = account.secret("password");
  s.sender_rules = sender_rules();
  read_sender_punctuation(account, s.sender_rules);
  s.sender = read_sender(account, s.sender_rules, /*required=*/true);
  s.max_concatenated_messages =
      account.integer_or("max_concatenated_messages", s.max_concatenated_messages, 1, 255);
  s.campaign_name = account.string_or("campaign_name", "");
  if (s.campaign_name.size() > 49) account.fail("campaign_name", "at most 49 characters");
  if (auto f = account.optional_map("receipt_format")) {
    ReceiptFormat format;
    std::string body = f->string_or("body", "json");
    if (body != "json" && body != "form") f->fail("body", "expected json or form");
    format.form = body == "form";
    format.id_field = f->string("id_field");
    format.status_field = f->string("status_field");
    format.reason_field = f->string_or("reason_field", "");
    format.delivered = f->string_list_or("delivered", {});
    format.undelivered = f->string_list_or("undelivered", {});
    if (format.delivered.empty()) f->fail_here("missing required key 'delivered'");
    f->reject_unknown_keys();
    s.receipt_format = std::move(format);
  }
  return s;
}

HttpRequest build_request(const Settings& settings, const Outbound& message) {
  const SmsContent& sms = message.sms();
  std::vector<std::pair<std::string, std::string>> fields = {
      {"destinationAddress", e164_digits(sms.to)},
      {"messageText", sms.text},
      {"originatingAddress", sms.sender.empty() ? settings.sender : sms.sender},
      {"originatorTON", "1"},
      {"maxConcatenatedMessages", std::to_string(settings.max_concatenated_messages)},
  };
  if (!settings.campaign_name.empty()) fields.emplace_back("campaignName", settings.campaign_name);
  HttpRequest r = base_request(settings.http, "POST");
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"},
               {"Accept", "application/json"}};
  r.body = form_encode(fields);
  r.basic_auth_user = settings.login;
  r.basic_auth_password = settings.password;
  return r;
}

SendResult classify(const HttpResponse& response, std::string_view destination) {
  nlohmann::json body;
  if (auto settled = read_json_answer(kLabel, response, body)) return *settled;
  auto code = json_integer(body, "responseCode");
  if (!code)
    return missing_verdict(kLabel, response, "responseCode", json_text(body, "responseMessage"));

  std::string words =
      "responseCode " + std::to_string(*code) + " " + json_text(body, "responseMessage");
  auto known = kCodes.find(*code);
  if (known == kCodes.end())  // unknown code: as RDV-S does, retry; the core bounds the attempts
    return http_failure(Outcome::transient, kLabel, response, words);
  if (known->second == Outcome::accepted)
    return SendResult::accepted(first_message_id(body), part_count(body));
  if (*code == 103 && !served_by_netsize(destination))
    return http_failure(Outcome::permanent, kLabel, response,
                        words + " (Netsize serves only France and its overseas départements)");
  return http_failure(known->second, kLabel, response, words);
}

namespace {

bool listed(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

}  // namespace

ReceiptParse parse_receipts(const ReceiptFormat& format, std::string_view body) {
  auto read_one = [&format](const nlohmann::json& report, Receipt& r) -> std::string {
    r.provider_message_id = json_text(report, format.id_field);
    if (r.provider_message_id.empty()) return "a report without " + format.id_field;
    std::string status = json_text(report, format.status_field);
    if (status.empty()) return "a report without " + format.status_field;
    r.provider_status = receipt_reason(status);
    if (listed(format.delivered, status)) {
      r.state = ReceiptState::delivered;
    } else if (listed(format.undelivered, status)) {
      r.state = ReceiptState::undelivered;
      std::string why = format.reason_field.empty() ? "" : json_text(report, format.reason_field);
      r.reason = "Netsize: " + r.provider_status + (why.empty() ? "" : ": " + receipt_reason(why));
    }
    return {};
  };
  if (!format.form) return parse_json_reports(body, read_one);
  nlohmann::json fields = decode_form(body);
  if (fields.empty()) return {{}, "empty body"};
  ReceiptParse out;
  Receipt r;
  if (auto error = read_one(fields, r); !error.empty()) return {{}, error};
  out.receipts.push_back(std::move(r));
  return out;
}

}  // namespace rappel::netsize

namespace rappel {

std::unique_ptr<Provider> make_netsize_provider(ConfigMap& account, ProviderContext& ctx) {
  return make_http_sms_provider(account, ctx, netsize::read_settings(account));
}

}  // namespace rappel
