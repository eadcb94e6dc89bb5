// Orange Contact Everyone, API light (type `orange_contact_everyone`): set up for the Somme (80).
//
//   POST https://contact-everyone.orange-business.com/api/light/diffusions/sms, form-encoded
//   (charset=UTF-8): token, to, msg; optional xcharset=true, diffusionname, category.
//   Success: HTTP 200, the body being an id. Errors: JSON with `message` and `logId`.
//
// Settings: token (secret), number_format, xcharset, diffusion_name, category, url,
// connect_timeout, timeout. The API light has no sender field: any sender name the core checks
// passes the generic rules but is not sent.
//
// Unconfirmed, so configurable or chosen and said here:
// - number_format: `national` (0612345678, default) or `e164` (+33612345678); the manual's
//   expected format is not public.
// - xcharset: `ucs2` (default: xcharset=true only for messages the core encoded as UCS-2),
//   `always` (what Symfony's public bridge does), `never` (what RDV-Solidarités did).
// - The success id's format: a JSON object's `id`, a JSON string or number, or the body itself,
//   trimmed. The reference says a 200 carries an id, so a 2xx whose id is missing or is not 1 to
//   100 ASCII token characters ([A-Za-z0-9] and -_.:/+=) is no success: an HTML page from a proxy,
//   an empty body or a sentence is unreadable, transient with outcome_unknown (the message may or
//   may not have been taken). Arbitrary page text is never kept as an id (it would be stored).
// - Long messages: whether Orange concatenates them is unknown (RDV-Solidarités once cut them in
//   160-character chunks itself). This adapter sends the whole text in one request, which is what
//   keeps one reminder one send; an account that truncates must be found by a test send.
// - Orange reports no routing errors for wrong numbers and no delivery reports are known.
#include "providers/orange_contact_everyone.hpp"

#include <algorithm>

namespace rappel::orange_contact_everyone {
namespace {

constexpr std::string_view kLabel = Settings::label;
constexpr std::string_view kDefaultUrl =
    "https://contact-everyone.orange-business.com/api/light/diffusions/sms";

bool is_id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view("-_.:/+=").find(c) != std::string_view::npos;
}

// The text as an id, trimmed, when it looks like one: 1 to 100 ASCII token characters.
std::optional<std::string> as_id(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  if (s.empty() || s.size() > 100 || !std::all_of(s.begin(), s.end(), is_id_char))
    return std::nullopt;
  return std::string(s);
}

std::optional<std::string> success_id(std::string_view body_text) {
  if (auto body = parse_json(body_text)) {
    if (body->is_object()) return as_id(json_text(*body, "id"));
    if (body->is_string()) return as_id(body->get<std::string>());
    if (body->is_number_integer()) return std::to_string(body->get<long long>());
    return std::nullopt;
  }
  return as_id(body_text);
}

}  // namespace

Settings read_settings(ConfigMap& account) {
  Settings s;
  s.http = read_http_settings(account, kDefaultUrl);
  s.token = account.secret("token");
  std::string format = account.string_or("number_format", "national");
  if (format == "national")
    s.number_format = NumberFormat::national;
  else if (format == "e164")
    s.number_format = NumberFormat::e164;
  else
    account.fail("number_format", "expected national or e164");
  std::string xcharset = account.string_or("xcharset", "ucs2");
  if (xcharset == "ucs2")
    s.xcharset = Xcharset::ucs2;
  else if (xcharset == "always")
    s.xcharset = Xcharset::always;
  else if (xcharset == "never")
    s.xcharset = Xcharset::never;
  else
    account.fail("xcharset", "expected ucs2, always or never");
  s.diffusion_name = account.string_or("diffusion_name", "");
  s.category = account.string_or("category", "");
  return s;
}

HttpRequest build_request(const Settings& settings, const Outbound& message) {
  const SmsContent& sms = message.sms();
  std::string to =
      settings.number_format == NumberFormat::national ? national_digits(sms.to) : sms.to;
  std::vector<std::pair<std::string, std::string>> fields = {
      {"token", settings.token}, {"to", to}, {"msg", sms.text}};
  bool xcharset = settings.xcharset == Xcharset::always ||
                  (settings.xcharset == Xcharset::ucs2 && sms.encoding == "ucs2");
  if (xcharset) fields.emplace_back("xcharset", "true");
  if (!settings.diffusion_name.empty())
    fields.emplace_back("diffusionname", settings.diffusion_name);
  if (!settings.category.empty()) fields.emplace_back("category", settings.category);
  HttpRequest r = base_request(settings.http, "POST");
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"}};
  r.body = form_encode(fields);
  return r;
}

SendResult classify(const HttpResponse& response) {
  if (response.status == 0) return transport_failure(kLabel, response);
  if (response.status >= 200 && response.status < 300) {
    if (auto id = success_id(response.body)) return SendResult::accepted(*id);
    return unreadable_body(kLabel, response);
  }
  auto body = parse_json(response.body);
  if (!body || !body->is_object()) return unreadable_body(kLabel, response);
  std::string words = json_text(*body, "message");
  std::string log_id = json_text(*body, "logId");
  if (!log_id.empty()) words += " (logId " + log_id + ")";
  return classify_by_status(kLabel, response, words);
}

}  // namespace rappel::orange_contact_everyone

namespace rappel {

std::unique_ptr<Provider> make_orange_contact_everyone_provider(ConfigMap& account,
                                                                ProviderContext& ctx) {
  return make_http_sms_provider(account, ctx, orange_contact_everyone::read_settings(account));
}

}  // namespace rappel
