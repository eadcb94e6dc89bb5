// Clever Technologies (type `clever_technologies`): Seine-et-Marne's (77) own SMS account.
//
//   POST https://webservicesmultimedias.clever-is.fr/api/pushs, HTTP Basic auth,
//   "Content-Type: application/json; charset=UTF-8", body exactly
//   {"datas":{"text":"...","number_list":["0612345678"],"encodage":3}}
//   Success: HTTP 201 with push.nb_sms (parts billed). Failure: 401 unauthorised, 402 payment
//   required (out of credit: it happens every few months and blocks everything until credit is
//   bought), 430 account expired, each with an `errors` object whose values are the messages.
//
// Settings: login, password (secret), encodage (default 3: what works in production; its meaning
// is unconfirmed), url, connect_timeout, timeout. There is no sender field in this API: the sender
// is set on the Clever account, so the account takes no `sender` key and any sender name the core
// checks passes the generic rules but is not sent.
//
// Unconfirmed, and chosen here: the number is in national format (0612345678, as the reference's
// example; overseas numbers become 0692...). push.id, when present, is the provider message id.
// Clever reports no routing errors for wrong numbers and no delivery reports are known.
#include "providers/clever_technologies.hpp"

namespace rappel::clever_technologies {
namespace {

constexpr std::string_view kLabel = Settings::label;
constexpr std::string_view kDefaultUrl = "https://webservicesmultimedias.clever-is.fr/api/pushs";

// The `errors` object's values, joined: strings, or lists of strings.
std::string error_words(const nlohmann::json& body) {
  auto it = body.find("errors");
  if (it == body.end()) return json_text(body, "message");
  std::string out;
  auto add = [&out](const nlohmann::json& v) {
    if (!v.is_string()) return;
    if (!out.empty()) out += "; ";
    out += v.get<std::string>();
  };
  if (it->is_object() || it->is_array())
    for (const auto& v : *it) {
      if (v.is_array())
        for (const auto& item : v) add(item);
      else
        add(v);
    }
  else
    add(*it);
  return out;
}

}  // namespace

Settings read_settings(ConfigMap& account) {
  Settings s;
  s.http = read_http_settings(account, kDefaultUrl);
  s.login = account.string("login");
  s.password = account.secret("password");
  s.encodage = account.integer_or("encodage", s.encodage, 0, 99);
  return s;
}

HttpRequest build_request(const Settings& settings, const Outbound& message) {
  const SmsContent& sms = message.sms();
  nlohmann::ordered_json body = {
      {"datas",
       {{"text", sms.text},
        {"number_list", nlohmann::ordered_json::array({national_digits(sms.to)})},
        {"encodage", settings.encodage}}}};
  HttpRequest r = base_request(settings.http, "POST");
  r.headers = {{"Content-Type", "application/json; charset=UTF-8"}, {"Accept", "application/json"}};
  // UTF-8 kept as is (no \u escapes); invalid bytes become U+FFFD instead of throwing.
  r.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  r.basic_auth_user = settings.login;
  r.basic_auth_password = settings.password;
  return r;
}

SendResult classify(const HttpResponse& response) {
  nlohmann::json body;
  if (auto settled = read_json_answer(kLabel, response, body)) return *settled;
  if (response.status >= 200 && response.status < 300) {
    auto push = body.find("push");
    if (push == body.end() || !push->is_object()) return unreadable_body(kLabel, response);
    int parts = static_cast<int>(json_integer(*push, "nb_sms").value_or(0));
    return SendResult::accepted(json_text(*push, "id"), parts);
  }
  // 401 unauthorised, 402 out of credit, 430 account expired: the account is unusable (RDV-S).
  if (response.status == 401 || response.status == 402 || response.status == 430)
    return http_failure(Outcome::unavailable, kLabel, response, error_words(body));
  return classify_by_status(kLabel, response, error_words(body));
}

}  // namespace rappel::clever_technologies

namespace rappel {

std::unique_ptr<Provider> make_clever_technologies_provider(ConfigMap& account,
                                                            ProviderContext& ctx) {
  return make_http_sms_provider(account, ctx, clever_technologies::read_settings(account));
}

}  // namespace rappel
