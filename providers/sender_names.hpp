// Sender names (the "from" of an SMS) and the rules each SMS provider puts on them. Checked when
// the configuration is read, so a name a provider would refuse fails at load with its
// file:line:col instead of at the first send.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "daemon/base/config_node.hpp"

namespace rappel {

// Sender names. Alphanumeric: 1..max_alphanumeric characters of [A-Za-z0-9 ] (plus `punctuation`)
// with at least one letter; numeric: up to max_numeric digits, when numeric_allowed.
struct SenderRules {
  size_t max_alphanumeric = 11;
  size_t max_numeric = 15;
  bool numeric_allowed = true;
  std::string punctuation;  // extra characters an account allows, e.g. "." for "RDV S.P."
};
std::optional<std::string> check_sender_name(std::string_view sender, const SenderRules& rules);
// Reads `sender_punctuation` (see SenderRules::punctuation) into `rules`.
void read_sender_punctuation(ConfigMap& account, SenderRules& rules);
// Reads `sender` and validates it now, so a bad name fails at load with its file:line:col.
std::string read_sender(ConfigMap& account, const SenderRules& rules, bool required);

}  // namespace rappel
