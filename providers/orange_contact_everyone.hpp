// Orange Contact Everyone, API light (type `orange_contact_everyone`): the pure parts of the
// adapter, for tests. See orange_contact_everyone.cpp for the API, settings and choices.
#pragma once

#include "providers/http_sms.hpp"

namespace rappel::orange_contact_everyone {

enum class NumberFormat { national, e164 };
enum class Xcharset { ucs2, always, never };

struct Settings {
  static constexpr std::string_view label = "Orange Contact Everyone";
  HttpSettings http;
  std::string token;
  NumberFormat number_format = NumberFormat::national;
  Xcharset xcharset = Xcharset::ucs2;
  std::string diffusion_name;  // optional
  std::string category;        // optional
};

Settings read_settings(ConfigMap& account);
HttpRequest build_request(const Settings& settings, const Outbound& message);
SendResult classify(const HttpResponse& response);
// The generic provider's view of classify (make_http_sms_provider).
inline SendResult classify(const Settings&, const HttpResponse& r, const Outbound&) {
  return classify(r);
}

}  // namespace rappel::orange_contact_everyone

namespace rappel {
// The registry's factory (registry.cpp): reads the account's settings, then builds the provider.
std::unique_ptr<Provider> make_orange_contact_everyone_provider(ConfigMap& account,
                                                                ProviderContext& ctx);
}  // namespace rappel
