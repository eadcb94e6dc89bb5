// Contact Experience (type `contact_experience`): served the Pas-de-Calais (62) until 2022.
//
//   GET https://contact-experience.com/ccv/webServicesCCV/SMS/sendSms.php?number=...&msg=...
//       &devCode=<account key>&emetteur=<email>, where `emetteur`, despite its name, is the email
//   address that receives the replies. Success: HTTP 201 and a JSON body with the parts in `size`,
//   e.g. {"size":3,"total":null,"list":[{"id":"680560"}],"httpStatusCode":201}. Errors:
//   {"status":"KO","message":"BAD DEV CODE "} or {"status":"KO","message":"Invalid number "}.
//
// Settings: dev_code (secret), reply_email (required: sent as `emetteur`), number_format, url,
// connect_timeout, timeout. There is no sender name in this API: any sender name the core checks
// passes the generic rules but is not sent.
//
// Choices: RDV-Solidarités read success from the body's httpStatusCode, so either it or the HTTP
// status being 201 counts; the provider message id is list[0].id. number_format is `national`
// (0612345678, what RDV-Solidarités' test script used, default) or `e164`. "BAD DEV CODE" makes the
// account unavailable, "Invalid number" is permanent; other KO messages are unknown and retried
// (transient), as RDV-Solidarités did. No delivery reports are known.
#include "providers/contact_experience.hpp"

namespace rappel::contact_experience {
namespace {

constexpr std::string_view kLabel = Settings::label;
constexpr std::string_view kDefaultUrl =
    "https://contact-experience.com/ccv/webServicesCCV/SMS/sendSms.php";

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

std::string first_list_id(const nlohmann::json& body) {
  auto list = body.find("list");
  if (list == body.end() || !list->is_array() || list->empty()) return {};
  return json_text(list->front(), "id");
}

SendResult ko(const HttpResponse& response, const std::string& message) {
  if (starts_with_ignoring_case(message, "BAD DEV CODE"))
    return http_failure(Outcome::unavailable, kLabel, response, message);
  if (starts_with_ignoring_case(message, "Invalid number"))
    return http_failure(Outcome::permanent, kLabel, response, message);
  Outcome by_status = outcome_of_status(response.status);
  return http_failure(by_status == Outcome::accepted ? Outcome::transient : by_status, kLabel,
                      response, message);
}

}  // namespace

Settings read_settings(ConfigMap& account) {
  Settings s;
  s.http = read_http_settings(account, kDefaultUrl);
  s.dev_code = account.secret("dev_code");
  s.reply_email = account.string("reply_email");
  if (s.reply_email.find('@') == std::string::npos)
    account.fail("reply_email", "expected an email address");
  std::string format = account.string_or("number_format", "national");
  if (format == "national")
    s.number_format = NumberFormat::national;
  else if (format == "e164")
    s.number_format = NumberFormat::e164;
  else
    account.fail("number_format", "expected national or e164");
  return s;
}

HttpRequest build_request(const Settings& settings, const Outbound& message) {
  const SmsContent& sms = message.sms();
  std::string number =
      settings.number_format == NumberFormat::national ? national_digits(sms.to) : sms.to;
  HttpRequest r = base_request(settings.http, "GET");
  append_query(r, {{"number", number},
                   {"msg", sms.text},
                   {"devCode", settings.dev_code},
                   {"emetteur", settings.reply_email}});
  r.headers = {{"Accept", "application/json"}};
  return r;
}

SendResult classify(const HttpResponse& response) {
  nlohmann::json body;
  if (auto settled = read_json_answer(kLabel, response, body)) return *settled;
  if (json_text(body, "status") == "KO") return ko(response, json_text(body, "message"));
  if (response.status == 201 || json_integer(body, "httpStatusCode") == 201)
    return SendResult::accepted(first_list_id(body),
                                static_cast<int>(json_integer(body, "size").value_or(0)));
  if (response.status >= 200 && response.status < 300) return unreadable_body(kLabel, response);
  return classify_by_status(kLabel, response, json_text(body, "message"));
}

}  // namespace rappel::contact_experience

namespace rappel {

std::unique_ptr<Provider> make_contact_experience_provider(ConfigMap& account,
                                                           ProviderContext& ctx) {
  return make_http_sms_provider(account, ctx, contact_experience::read_settings(account));
}

}  // namespace rappel
