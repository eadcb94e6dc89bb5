// The delivery settings that live in the YAML: quiet hours per département, and per
// provider account a shared rate limit and circuit-breaker knobs.
//
// Plain data and their parsers only, so config.hpp can hold them without pulling in the machinery
// (quiet_hours.hpp, circuit_breaker.hpp, rate_limiter.hpp) that acts on them. Parse errors are
// std::invalid_argument with the reason; the readers turn them into file:line:col ConfigErrors.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace rappel {

class ConfigMap;

// `quiet_hours: "20:00-08:00"` in the département's zone; the window may wrap past midnight.
struct QuietHours {
  enum class Policy { defer, send_if_expiring };
  int start_minute = 0;  // minutes after local midnight, [0, 1440)
  int end_minute = 0;
  Policy policy = Policy::defer;
};

// `rate_limit: "20/s"`: `count` messages per `period`, evenly spaced (no burst).
struct RateLimit {
  long count = 0;
  std::chrono::milliseconds period{1000};
  // Microseconds between two messages (the GCRA's emission interval), at least 1.
  long long interval_us() const;
};

// `circuit: {failures: 5, cooldown: 30s, max_cooldown: 10m}`.
struct CircuitSettings {
  int failures = 5;  // consecutive transient failures that open the circuit
  std::chrono::milliseconds cooldown{30'000};
  std::chrono::milliseconds max_cooldown{600'000};  // the cool-down doubles up to this
};

// The keys a provider account has next to `type` that are not the adapter's business.
struct AccountPolicy {
  std::optional<RateLimit> rate_limit;
  CircuitSettings circuit;
  // `low_credit: 500`: an alert when the account's credit falls below it (credit_watch.hpp).
  std::optional<long> low_credit;
  // `credit_poll: 15m`: how often the provider's credit call is made, where it has one. It is
  // made only for an account that watches its credit (`low_credit`) or sets `credit_poll`.
  std::optional<std::chrono::milliseconds> credit_poll;
  bool polls_credit() const { return low_credit || credit_poll; }
  std::chrono::milliseconds credit_poll_every() const {
    return credit_poll.value_or(std::chrono::minutes(15));
  }
};

QuietHours parse_quiet_hours(std::string_view text);  // "HH:MM-HH:MM"
RateLimit parse_rate_limit(std::string_view text);    // "N/s", "N/min", "N/h"

// Reads (and so marks as used) `rate_limit`, `circuit`, `low_credit` and `credit_poll` of a
// provider account.
AccountPolicy read_account_policy(ConfigMap& account);
// Reads `quiet_hours` and `quiet_hours_policy` of a département over what it inherits.
std::optional<QuietHours> read_quiet_hours(ConfigMap& department,
                                           std::optional<QuietHours> inherited);

}  // namespace rappel
