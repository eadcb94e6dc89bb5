// Circuit breakers, one per provider account: stop sending to an account that is down or unusable,
// probe it now and then, and resume when it answers.
//
//   closed ──(N consecutive transient failures, or any "unavailable")──► open
//   open ──(cool-down elapsed: one message is let through as a probe)──► half-open
//   half-open ──(the probe succeeds)──► closed;  ──(it fails)──► open, cool-down doubled (capped)
//
// A permanent failure is the message's problem, not the account's: it counts as an answer. The
// state belongs to this daemon instance (each instance learns it from its own sends) and is keyed
// by account name, outside Config, so it survives configuration reloads. Time is passed in, never
// read, so transitions are tested with fixed instants.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/base/circuit_state.hpp"
#include "daemon/base/clock.hpp"
#include "daemon/base/provider.hpp"
#include "daemon/config/delivery_settings.hpp"

namespace rappel {

struct Admission {
  bool allowed = false;
  bool probe = false;        // allowed as the half-open probe
  Millis retry_at = 0;       // when not allowed: when to ask again
  bool half_opened = false;  // this call moved the circuit from open to half-open (to log it)
};

struct CircuitTransition {
  std::string account;
  CircuitState from = CircuitState::closed;
  CircuitState to = CircuitState::closed;
  std::chrono::milliseconds cooldown{0};  // when opening
  std::string reason;                     // the provider's words (never personal data)
};

struct CircuitSnapshot {
  CircuitState state = CircuitState::closed;
  int consecutive_failures = 0;
  Millis open_until = 0;  // open: when the next probe may go
  unsigned long opened_total = 0;
};

class CircuitBreakers {
 public:
  // May a message go to `account` now? In half-open, the first caller gets the probe.
  Admission admit(const std::string& account, const CircuitSettings& settings, Millis now);
  // The answer of a send through `account`; returns the transition it caused, if any.
  std::optional<CircuitTransition> record(const std::string& account,
                                          const CircuitSettings& settings, const SendResult& result,
                                          Millis now);
  // The probe admitted for `account` will not be sent after all (held back by the rate limit):
  // the next caller may probe.
  void release_probe(const std::string& account);
  // Would admit() refuse, without taking the probe? (for choosing a fallback)
  bool is_open(const std::string& account, Millis now) const;
  // Every account seen so far (for metrics).
  std::map<std::string, CircuitSnapshot> states() const;

 private:
  struct Breaker {
    CircuitSnapshot snap;
    std::chrono::milliseconds cooldown{0};  // the current one; 0 until the first opening
    bool probe_in_flight = false;
  };
  CircuitTransition open(const std::string& account, Breaker& b, const CircuitSettings& settings,
                         Millis now, std::string reason);

  std::map<std::string, Breaker, std::less<>> breakers_;
};

}  // namespace rappel
