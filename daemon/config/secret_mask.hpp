// Masks an account's secrets in what its provider says. Providers echo what they were sent: a 401
// answering "Invalid token: Bearer <token>" put the token in the events stream (read by the
// backend) and in the log. Every text that comes from a provider account (send errors, delivery
// report reasons, credit call errors) goes through this account's mask before it reaches Redis,
// an event or a log line, so adapters need not remember it: the registry wraps every account.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/base/config_node.hpp"
#include "daemon/base/provider.hpp"

namespace rappel {

// The secrets an account's mapping read, with the forms in which a provider could echo them:
// base64, and the basic-auth and SMTP AUTH PLAIN strings built with the other values it read.
std::vector<std::string> secret_forms(const ConfigMap& account);

class SecretMask {
 public:
  // `forms`: the secrets and the forms they travel in (ConfigMap::secret_forms). Values shorter
  // than 4 bytes are not masked: they would garble every text and protect nothing.
  explicit SecretMask(std::vector<std::string> forms);

  // `text` with every occurrence of a form replaced by "[secret]".
  std::string apply(std::string_view text) const;
  bool empty() const { return forms_.empty(); }

 private:
  std::vector<std::string> forms_;  // longest first, so a longer form is masked whole
};

// `provider` with its texts masked: SendResult::error, Receipt reason and status, credit errors.
std::unique_ptr<Provider> with_secrets_masked(std::unique_ptr<Provider> provider, SecretMask mask);

}  // namespace rappel
