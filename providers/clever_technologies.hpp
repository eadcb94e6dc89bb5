// Clever Technologies (type `clever_technologies`): the pure parts of the adapter, for tests.
// See clever_technologies.cpp for the API, the settings and where each classification comes from.
#pragma once

#include "providers/http_sms.hpp"

namespace rappel::clever_technologies {

struct Settings {
  static constexpr std::string_view label = "Clever Technologies";
  HttpSettings http;
  std::string login;
  std::string password;
  long encodage = 3;
};

Settings read_settings(ConfigMap& account);
HttpRequest build_request(const Settings& settings, const Outbound& message);
SendResult classify(const HttpResponse& response);
// The generic provider's view of classify (make_http_sms_provider).
inline SendResult classify(const Settings&, const HttpResponse& r, const Outbound&) {
  return classify(r);
}

}  // namespace rappel::clever_technologies

namespace rappel {
// The registry's factory (registry.cpp): reads the account's settings, then builds the provider.
std::unique_ptr<Provider> make_clever_technologies_provider(ConfigMap& account,
                                                            ProviderContext& ctx);
}  // namespace rappel
