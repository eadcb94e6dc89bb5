// Names of the contract's enumerations, as they appear in YAML, Redis and logs.
#include "daemon/base/provider.hpp"

namespace rappel {

std::string_view to_string(Channel c) {
  return c == Channel::sms ? "sms" : "email";
}

std::optional<Channel> channel_from_string(std::string_view s) {
  if (s == "sms") return Channel::sms;
  if (s == "email") return Channel::email;
  return std::nullopt;
}

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::accepted:
      return "accepted";
    case Outcome::transient:
      return "transient";
    case Outcome::permanent:
      return "permanent";
    case Outcome::unavailable:
      return "unavailable";
  }
  return "unknown";
}

}  // namespace rappel
