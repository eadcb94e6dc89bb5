// The state of a provider account's circuit, in the words of the core, the metrics and Redis.
// It sits on the ground floor because the metrics report it and the circuit breakers
// (daemon/pipeline/circuit_breaker.hpp) drive it: neither should include the other for a word.
#pragma once

#include <string_view>

namespace rappel {

enum class CircuitState { closed, open, half_open };

constexpr std::string_view to_string(CircuitState s) {
  switch (s) {
    case CircuitState::closed:
      return "closed";
    case CircuitState::open:
      return "open";
    case CircuitState::half_open:
      return "half-open";
  }
  return "?";
}

}  // namespace rappel
