// See retry_policy.hpp.
#include "daemon/pipeline/retry_policy.hpp"

#include <algorithm>

namespace rappel {

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt,
                                        std::mt19937_64& rng) {
  using std::chrono::milliseconds;
  long long ceiling = policy.base.count();
  for (int i = 1; i < attempt && ceiling < policy.cap.count(); ++i) ceiling *= 2;
  ceiling = std::min<long long>(ceiling, policy.cap.count());
  std::uniform_int_distribution<long long> jitter(0, ceiling);
  // A floor of one second keeps a burst of failures from becoming a tight loop.
  return milliseconds(std::max<long long>(1000, jitter(rng)));
}

Completion decide_outcome(const ClaimedMessage& message, const SendResult& result,
                          const RetryPolicy& policy, Millis now, std::mt19937_64& rng) {
  Completion c = completion_of(message);
  c.provider_message_id = result.provider_message_id;
  c.parts = result.parts;
  c.error = result.error;
  c.outcome_unknown = result.outcome_unknown;
  switch (result.outcome) {
    case Outcome::accepted:
      c.status = "sent";
      c.error.clear();
      return c;
    case Outcome::permanent:
      c.status = "failed";
      return c;
    case Outcome::transient:
    case Outcome::unavailable:
      break;
  }
  if (result.outcome_unknown && message.unknown_attempts + 1 >= policy.max_unknown_attempts) {
    c.status = "failed";
    c.error = "outcome unknown after " + std::to_string(message.unknown_attempts + 1) +
              " attempts, not tried again (the person may have received it): " + result.error;
    return c;
  }
  if (message.attempt >= policy.max_attempts) {
    c.status = "failed";
    c.error = "gave up after " + std::to_string(message.attempt) + " attempts: " + result.error;
    return c;
  }
  auto delay = backoff_delay(policy, message.attempt, rng);
  if (result.retry_after) delay = std::max<std::chrono::milliseconds>(delay, *result.retry_after);
  c.next_attempt_ms = now + delay.count();
  if (message.expires_at_ms > 0 && c.next_attempt_ms >= message.expires_at_ms) {
    c.status = "expired";
    c.error = "would expire before the next attempt; last error: " + result.error;
    return c;
  }
  c.status = "retrying";
  return c;
}

}  // namespace rappel
