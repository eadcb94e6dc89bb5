// Clever Technologies (type `clever_technologies`): the pure parts of the adapter, for tests.
// See clever_technologies.cpp for the API, the settings and where each classification comes from.
#pragma once

#include "providers/http_common.hpp"

namespace rappel::clever_technologies {

struct Settings {
  HttpSettings http;
  std::string login;
  std::string password;
  long encodage = 3;
};

Settings read_settings(ConfigMap& settings);
HttpRequest build_request(const Settings& settings, const Outbound& message);
SendResult classify(const HttpResponse& response);

}  // namespace rappel::clever_technologies

namespace rappel {
// The registry's factory (registry.cpp): reads the account's settings, then builds the provider.
std::unique_ptr<Provider> make_clever_technologies_provider(ConfigMap& settings,
                                                            ProviderContext& ctx);
}  // namespace rappel
