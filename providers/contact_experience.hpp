// Contact Experience (type `contact_experience`): the pure parts of the adapter, for tests.
// See contact_experience.cpp for the API, the settings and where each classification comes from.
#pragma once

#include "providers/http_sms.hpp"

namespace rappel::contact_experience {

enum class NumberFormat { national, e164 };

struct Settings {
  static constexpr std::string_view label = "Contact Experience";
  HttpSettings http;
  std::string dev_code;
  std::string reply_email;  // sent as `emetteur`
  NumberFormat number_format = NumberFormat::national;
};

Settings read_settings(ConfigMap& account);
HttpRequest build_request(const Settings& settings, const Outbound& message);
SendResult classify(const HttpResponse& response);
// The generic provider's view of classify (make_http_sms_provider).
inline SendResult classify(const Settings&, const HttpResponse& r, const Outbound&) {
  return classify(r);
}

}  // namespace rappel::contact_experience

namespace rappel {
// The registry's factory (registry.cpp): reads the account's settings, then builds the provider.
std::unique_ptr<Provider> make_contact_experience_provider(ConfigMap& account,
                                                           ProviderContext& ctx);
}  // namespace rappel
