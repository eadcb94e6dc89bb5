// See registry.hpp. The X-macro keeps each provider to exactly one line here.
#include "providers/registry.hpp"

#include <array>

// X(type name, channel): the factory is make_<type>_provider, defined in providers/<type>.cpp.
#define RAPPEL_PROVIDERS(X)       \
  X(log, sms)                     \
  X(file, email)                  \
  X(smtp, email)                  \
  X(sfr_mail2sms, sms)            \
  X(netsize, sms)                 \
  X(sms_factor, sms)              \
  X(clever_technologies, sms)     \
  X(brevo_sms, sms)               \
  X(orange_contact_everyone, sms) \
  X(contact_experience, sms)

namespace rappel {

#define RAPPEL_DECLARE(name, channel) \
  std::unique_ptr<Provider> make_##name##_provider(ConfigMap&, ProviderContext&);
RAPPEL_PROVIDERS(RAPPEL_DECLARE)
#undef RAPPEL_DECLARE

namespace {
#define RAPPEL_ENTRY(name, channel) ProviderType{#name, Channel::channel, &make_##name##_provider},
constexpr std::array kProviderTypes{RAPPEL_PROVIDERS(RAPPEL_ENTRY)};
#undef RAPPEL_ENTRY
}  // namespace

std::string account_name(const ConfigMap& account) {
  const std::string& where = account.where();
  return where.substr(where.rfind('.') + 1);
}

std::span<const ProviderType> provider_types() {
  return kProviderTypes;
}

const ProviderType* find_provider_type(std::string_view name) {
  for (const auto& t : kProviderTypes)
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace rappel
