// Where a claimed message goes now (quiet hours, circuits, failover, expiry), decided apart from
// the dispatch loop.
//
// In order: quiet hours (defer to the window's end, or expire, or send now if expiring and the
// département says so), then the provider account (the route's provider, or its fallback while
// the provider's circuit is open; a message pinned to a provider by an unknown outcome only ever
// goes to that one), then the rate limit (applied by the dispatcher, asynchronously). A decision
// to wait that would end after the message's expiry expires it instead: never sent late.
#pragma once

#include <string>

#include "daemon/config/config.hpp"
#include "daemon/pipeline/circuit_breaker.hpp"
#include "daemon/store/store.hpp"

namespace rappel {

struct RouteDecision {
  enum class Kind { send, defer, expire, fail } kind = Kind::fail;
  std::string account;  // send: the provider account
  bool probe = false;   // send: the account's half-open probe (see circuit_breaker.hpp)
  Millis until = 0;     // defer: when it is due again
  std::string reason;   // defer: quiet_hours or provider_unavailable; expire/fail: the error
};

RouteDecision decide_route(const ClaimedMessage& message, const DepartmentConfig& department,
                           const Config& config, CircuitBreakers& breakers, Millis now);

// The completion that gives a message back to the schedule without charging its attempt.
Completion deferral(const ClaimedMessage& message, Millis until, std::string reason);

}  // namespace rappel
