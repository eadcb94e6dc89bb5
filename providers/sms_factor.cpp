// SMS Factor (type `sms_factor`): RDV-Solidarités' national SMS provider since 2025.
//
//   GET https://api.smsfactor.com/send?text=...&to=33612345678&sender=...&pushtype=alert
//       &gsmsmsid=<our id>, with "Authorization: Bearer <token>" and "Accept: application/json".
//   GET /send/simulate takes the same parameters, sends nothing and answers with the cost.
//   The JSON answer has status (1 = OK, negative = error), ticket (campaign id) and counters:
//   sent, invalid, blacklisted, npai, not_allowed, flood, country_limit, duplicated, and the
//   account's remaining `credits`.
//   GET /credits answers {status, message, credits, postpaid, postpaid_limit, unlimited}: the
//   daemon's credit watch calls it on its schedule (daemon/pipeline/credit_watch.hpp).
//
// Settings: token (secret), sender (optional: the account's default otherwise), simulate (bool,
// what `rappel send-test --simulate` uses), sender_punctuation, url, credits_url (default: the
// `credits` next to `url`'s `send`), connect_timeout, timeout.
//
// Choices where the documentation leaves room:
// - Accepted only with status 1 AND sent 1 AND invalid 0 (reference). In simulate mode `sent` may
//   be absent (no SMS goes out): status 1 with nothing invalid is then accepted. A 2xx answer
//   without status (an {"error": ...} alone, {} from a proxy) is no success: transient with
//   outcome_unknown, as an unreadable body is.
// - -8 "campaign under moderation": SMS Factor may still send it later, so a retry (or failover)
//   could deliver it twice. It is reported ACCEPTED (with the ticket): a delivery report, if
//   moderation refuses it, says "rejected" later. A duplicate is worse than a late answer here.
// - gsmsmsid: our Outbound::id, sanitised to [A-Za-z0-9_:.-] and cut to 50 characters (the
//   accepted alphabet and length are unconfirmed). Delivery reports carry it as message_id; the
//   provider message id we return is the ticket, which they carry as campaign_id.
// - Parts billed are not in the answer (cost is in credits), so parts stays 0.
// - Delivery reports: 3 is delivered; 1 (sent to the operator) is intermediate; every other
//   documented code (0 not sent, 2 not delivered, 4 not allowed, 5 invalid destination, 6 invalid
//   sender, 7 route not available, 9 rejected, 11 network error, 12 expired) is undelivered; an
//   undocumented code is intermediate (it changes nothing). They are matched by campaign_id (our
//   provider message id, the ticket) and, without it, by message_id (our gsmsmsid).
#include "providers/sms_factor.hpp"

#include "daemon/content/redact.hpp"
#include "providers/credits.hpp"
#include "providers/receipt_parsing.hpp"

namespace rappel::sms_factor {
namespace {

constexpr std::string_view kLabel = Settings::label;
constexpr std::string_view kDefaultUrl = "https://api.smsfactor.com/send";

std::string error_words(const nlohmann::json& body) {
  for (std::string_view key : {"details", "error", "message"}) {
    std::string text = json_text(body, key);
    if (!text.empty()) return text;
  }
  return {};
}

long long counter(const nlohmann::json& body, std::string_view key) {
  return json_integer(body, key).value_or(0);
}

// status 1 but not sent: which counter says why. Reference: the response counters.
SendResult not_sent(const HttpResponse& response, const nlohmann::json& body) {
  struct Reason {
    std::string_view counter;
    Outcome outcome;
    std::string_view words;
  };
  static constexpr Reason kReasons[] = {
      {"invalid", Outcome::permanent, "invalid number"},
      {"blacklisted", Outcome::permanent, "number blacklisted (STOP)"},
      {"npai", Outcome::permanent, "number known as not in use (NPAI)"},
      {"not_allowed", Outcome::permanent, "destination not allowed"},
      {"country_limit", Outcome::permanent, "country not allowed for this account"},
      {"duplicated", Outcome::permanent, "duplicated number"},
      {"flood", Outcome::transient, "too many SMS to this number lately (flood)"},
  };
  for (const auto& reason : kReasons)
    if (counter(body, reason.counter) > 0)
      return http_failure(reason.outcome, kLabel, response, reason.words);
  return http_failure(Outcome::transient, kLabel, response, "status 1 but nothing sent");
}

}  // namespace

Settings read_settings(ConfigMap& account) {
  Settings s;
  s.http = read_http_settings(account, kDefaultUrl);
  s.token = account.secret("token");
  read_sender_punctuation(account, s.sender_rules);
  s.sender = read_sender(account, s.sender_rules, /*required=*/false);
  s.simulate = account.boolean_or("simulate", false);
  std::string beside = s.http.url;
  if (beside.ends_with("/send")) beside.resize(beside.size() - 5);
  s.credits_url = account.string_or("credits_url", beside + "/credits");
  return s;
}

HttpRequest credits_request(const Settings& settings) {
  HttpRequest r = base_request(settings.http, "GET");
  r.url = settings.credits_url;
  r.headers = {{"Authorization", "Bearer " + settings.token}, {"Accept", "application/json"}};
  return r;
}

std::optional<double> read_credits(const HttpResponse& response, std::string& error) {
  if (response.status == 0) {
    error = transport_failure("SMS Factor credits", response).error;
    return std::nullopt;
  }
  auto body = parse_json(response.body);
  bool ok = body && response.status / 100 == 2 && json_integer(*body, "status") == 1;
  // An unlimited account has no credit to run out of: its `credits` means nothing.
  if (ok && json_integer(*body, "unlimited") == 1) {
    error = "SMS Factor credits: an unlimited account has no credit to watch (remove low_credit)";
    return std::nullopt;
  }
  if (auto credits = ok ? json_credit(*body, "credits") : std::nullopt) return credits;
  error = "SMS Factor credits: HTTP " + std::to_string(response.status) +
          (body ? ": " + provider_text(error_words(*body)) : ": unreadable answer");
  return std::nullopt;
}

std::string gsmsmsid(std::string_view message_id) {
  std::string out;
  for (char c : message_id.substr(0, 50)) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == ':' || c == '.' || c == '-';
    out += ok ? c : '_';
  }
  return out;
}

HttpRequest build_request(const Settings& settings, const Outbound& message) {
  const SmsContent& sms = message.sms();
  std::vector<std::pair<std::string, std::string>> query = {
      {"text", sms.text},
      {"to", e164_digits(sms.to)},
      {"pushtype", "alert"},  // transactional route
      {"gsmsmsid", gsmsmsid(message.id)},
  };
  std::string sender = sms.sender.empty() ? settings.sender : sms.sender;
  if (!sender.empty()) query.emplace_back("sender", sender);
  HttpRequest r = base_request(settings.http, "GET");
  if (settings.simulate) r.url += "/simulate";
  append_query(r, query);
  r.headers = {{"Authorization", "Bearer " + settings.token}, {"Accept", "application/json"}};
  return r;
}

SendResult classify(const HttpResponse& response, bool simulate) {
  nlohmann::json body;
  if (auto settled = read_json_answer(kLabel, response, body)) return *settled;
  auto status = json_integer(body, "status");
  if (!status) return missing_verdict(kLabel, response, "status", error_words(body));

  std::string words = "status " + std::to_string(*status) + " " + error_words(body);
  switch (*status) {
    case 1: {
      auto sent = json_integer(body, "sent");
      bool went_out = sent ? *sent == 1 : simulate;
      SendResult r = went_out && counter(body, "invalid") == 0
                         ? SendResult::accepted(json_text(body, "ticket"))
                         : not_sent(response, body);
      r.credits = json_credit(body, "credits");
      return r;
    }
    case -1:  // authentication error
    case -3:  // insufficient credits
      return http_failure(Outcome::unavailable, kLabel, response, words);
    case -2:  // XML error
    case -6:  // JSON error
    case -7:  // data error
      return http_failure(Outcome::permanent, kLabel, response, words);
    case -8:  // campaign under moderation: may still go out, never retry (see the top comment)
      return SendResult::accepted(json_text(body, "ticket"));
    case -99:  // unknown error
      return http_failure(Outcome::transient, kLabel, response, words);
    default: {
      Outcome o = outcome_of_status(response.status);
      return http_failure(o == Outcome::accepted ? Outcome::transient : o, kLabel, response, words);
    }
  }
}

namespace {

// Delivery report status -> state and words. Reference: the delivery report status list.
std::pair<ReceiptState, std::string_view> report_status(long long status) {
  switch (status) {
    case 3:
      return {ReceiptState::delivered, "delivered"};
    case 1:
      return {ReceiptState::intermediate, "sent to the operator"};
    case 0:
      return {ReceiptState::undelivered, "not sent"};
    case 2:
      return {ReceiptState::undelivered, "not delivered"};
    case 4:
      return {ReceiptState::undelivered, "not allowed"};
    case 5:
      return {ReceiptState::undelivered, "invalid destination"};
    case 6:
      return {ReceiptState::undelivered, "invalid sender"};
    case 7:
      return {ReceiptState::undelivered, "route not available"};
    case 9:
      return {ReceiptState::undelivered, "rejected"};
    case 11:
      return {ReceiptState::undelivered, "network error"};
    case 12:
      return {ReceiptState::undelivered, "expired"};
    default:
      return {ReceiptState::intermediate, "unknown status"};
  }
}

std::string read_report(const nlohmann::json& report, Receipt& r) {
  auto status = json_integer(report, "status");
  if (!status) return "a report without a numeric status";
  // SMS Factor's codes are small numbers; a long one is not a status (and a run of digits kept in
  // Redis could be a phone number: found by fuzz/receipts_fuzz).
  if (*status < 0 || *status > 999) return "a report with an out-of-range status";
  r.provider_message_id = json_text(report, "campaign_id");
  r.message_id = json_text(report, "message_id");
  if (r.provider_message_id.empty() && r.message_id.empty())
    return "a report without campaign_id nor message_id";
  auto [state, words] = report_status(*status);
  r.state = state;
  r.provider_status = std::to_string(*status);
  if (state == ReceiptState::undelivered)
    r.reason = "SMS Factor: status " + r.provider_status + " " + std::string(words);
  return {};
}

}  // namespace

ReceiptParse parse_receipts(std::string_view body) {
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (body[first] == '{' || body[first] == '['))
    return parse_json_reports(body, read_report);
  nlohmann::json fields = decode_form(body);  // the same fields, form-encoded
  if (fields.empty()) return {{}, "empty body"};
  ReceiptParse out;
  Receipt r;
  if (auto error = read_report(fields, r); !error.empty()) return {{}, error};
  out.receipts.push_back(std::move(r));
  return out;
}

}  // namespace rappel::sms_factor

namespace rappel {

std::unique_ptr<Provider> make_sms_factor_provider(ConfigMap& account, ProviderContext& ctx) {
  sms_factor::Settings settings = sms_factor::read_settings(account);
  settings.simulate = settings.simulate || ctx.simulate;
  CreditCall credits{[settings] { return sms_factor::credits_request(settings); },
                     sms_factor::read_credits};
  return with_credit_call(make_http_sms_provider(account, ctx, std::move(settings)), ctx,
                          std::move(credits));
}

}  // namespace rappel
