// See circuit_breaker.hpp.
#include "daemon/pipeline/circuit_breaker.hpp"

#include <algorithm>

namespace rappel {

Admission CircuitBreakers::admit(const std::string& account, const CircuitSettings& settings,
                                 Millis now) {
  Breaker& b = breakers_[account];
  switch (b.snap.state) {
    case CircuitState::closed:
      return {true, false, 0};
    case CircuitState::open:
      if (now < b.snap.open_until) return {false, false, b.snap.open_until};
      b.snap.state = CircuitState::half_open;
      b.probe_in_flight = true;
      return {true, true, 0, true};
    case CircuitState::half_open:
      if (!b.probe_in_flight) {
        b.probe_in_flight = true;
        return {true, true, 0};
      }
      // The probe's answer decides; until then, others wait about one base cool-down.
      return {false, false, now + settings.cooldown.count()};
  }
  return {true, false, 0};
}

void CircuitBreakers::release_probe(const std::string& account) {
  auto it = breakers_.find(account);
  if (it != breakers_.end() && it->second.snap.state == CircuitState::half_open)
    it->second.probe_in_flight = false;
}

bool CircuitBreakers::is_open(const std::string& account, Millis now) const {
  auto it = breakers_.find(account);
  if (it == breakers_.end()) return false;
  const Breaker& b = it->second;
  if (b.snap.state == CircuitState::open) return now < b.snap.open_until;
  return b.snap.state == CircuitState::half_open && b.probe_in_flight;
}

CircuitTransition CircuitBreakers::open(const std::string& account, Breaker& b,
                                        const CircuitSettings& settings, Millis now,
                                        std::string reason) {
  CircuitTransition t{account, b.snap.state, CircuitState::open, {}, std::move(reason)};
  // Growing only while the account keeps failing its probes; a fresh opening starts over.
  b.cooldown = b.snap.state == CircuitState::half_open
                   ? std::min(b.cooldown * 2, settings.max_cooldown)
                   : settings.cooldown;
  b.snap.state = CircuitState::open;
  b.snap.open_until = now + b.cooldown.count();
  b.snap.consecutive_failures = 0;
  b.probe_in_flight = false;
  ++b.snap.opened_total;
  t.cooldown = b.cooldown;
  return t;
}

std::optional<CircuitTransition> CircuitBreakers::record(const std::string& account,
                                                         const CircuitSettings& settings,
                                                         const SendResult& result, Millis now) {
  Breaker& b = breakers_[account];
  switch (result.outcome) {
    case Outcome::accepted:
    case Outcome::permanent: {
      b.snap.consecutive_failures = 0;
      if (b.snap.state == CircuitState::closed) return std::nullopt;
      CircuitTransition t{account, b.snap.state, CircuitState::closed, {}, {}};
      b.snap.state = CircuitState::closed;
      b.probe_in_flight = false;
      return t;
    }
    case Outcome::unavailable:
      // Already open (answers of sends started before it opened): no new transition.
      if (b.snap.state == CircuitState::open) return std::nullopt;
      return open(account, b, settings, now, result.error);
    case Outcome::transient:
      // Our own shortage (descriptors, memory) says nothing of the provider. A half-open probe
      // that failed so is given back, so that the next send probes again.
      if (result.local_failure) {
        if (b.snap.state == CircuitState::half_open) b.probe_in_flight = false;
        return std::nullopt;
      }
      if (b.snap.state == CircuitState::half_open)
        return open(account, b, settings, now, result.error);
      if (b.snap.state == CircuitState::open) return std::nullopt;
      if (++b.snap.consecutive_failures < settings.failures) return std::nullopt;
      return open(account, b, settings, now, result.error);
  }
  return std::nullopt;
}

std::map<std::string, CircuitSnapshot> CircuitBreakers::states() const {
  std::map<std::string, CircuitSnapshot> out;
  for (const auto& [account, b] : breakers_) out[account] = b.snap;
  return out;
}

}  // namespace rappel
