// What a provider's answer means for the message: sent, retried later, or given up.
//
// Exponential backoff with full jitter (AWS' "Exponential Backoff and Jitter"): many messages that
// failed together do not come back together. A provider's Retry-After is a floor. A retry that
// would fall after the message's expiry is pointless: the message expires instead.
#pragma once

#include <random>

#include "daemon/config.hpp"
#include "daemon/store.hpp"
#include "providers/provider.hpp"

namespace rappel {

Completion decide_outcome(const ClaimedMessage& message, const SendResult& result,
                          const RetryPolicy& policy, Millis now, std::mt19937_64& rng);

// The delay before attempt number `attempt + 1`, after `attempt` failed.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt,
                                        std::mt19937_64& rng);

}  // namespace rappel
