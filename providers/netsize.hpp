// Link Mobility / Netsize REST API (type `netsize`): the pure parts of the adapter, for tests.
// See netsize.cpp for the API, the settings and where each classification comes from.
#pragma once

#include "providers/http_common.hpp"

namespace rappel::netsize {

struct Settings {
  HttpSettings http;
  std::string login;
  std::string password;
  std::string sender;  // originatingAddress when the message carries none
  SenderRules sender_rules;
  long max_concatenated_messages = 10;
  std::string campaign_name;  // optional
};

SenderRules sender_rules();
Settings read_settings(ConfigMap& settings);
HttpRequest build_request(const Settings& settings, const Outbound& message);
// `destination` is the message's E.164 number: code 103 means "invalid account" for France and its
// overseas départements, but "not served" for other countries.
SendResult classify(const HttpResponse& response, std::string_view destination = "+33");

}  // namespace rappel::netsize

namespace rappel {
// The registry's factory (registry.cpp): reads the account's settings, then builds the provider.
std::unique_ptr<Provider> make_netsize_provider(ConfigMap& settings, ProviderContext& ctx);
}  // namespace rappel
