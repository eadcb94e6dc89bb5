// The provider registry: every adapter type by name (Envoy's "factory registered by name").
// Adding a provider is one file in providers/, one line in registry.cpp and one test file.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "daemon/base/config_node.hpp"
#include "daemon/base/provider.hpp"

namespace rappel {

// Reads and validates the account's settings (everything but `type`), then builds the provider.
// Must read every key it accepts through `settings`; the caller rejects the rest.
using ProviderFactory = std::unique_ptr<Provider> (*)(ConfigMap& account, ProviderContext& ctx);

struct ProviderType {
  std::string_view name;
  Channel channel;
  ProviderFactory create;
};

// The account name of a provider's ConfigMap ("providers.netsize-dinum" -> "netsize-dinum").
std::string account_name(const ConfigMap& account);

std::span<const ProviderType> provider_types();
const ProviderType* find_provider_type(std::string_view name);

}  // namespace rappel
