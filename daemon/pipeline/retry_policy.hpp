// What a provider's answer means for the message: sent, retried later, or given up.
//
// Exponential backoff with full jitter (AWS' "Exponential Backoff and Jitter"): many messages that
// failed together do not come back together. A provider's Retry-After is a floor. A retry that
// would fall after the message's expiry is pointless: the message expires instead.
// An "unavailable" answer (the account, not the message) never reaches decide_outcome from the
// dispatcher: the account's circuit opens and the message is re-routed without using its attempt
// (router.hpp). Alone, decide_outcome treats it like a transient failure.
// A transient failure whose outcome is unknown (the provider may have sent it) is retried only
// up to retry.max_unknown_attempts such attempts: each retry may be one more SMS to the person.
#pragma once

#include <random>

#include "daemon/base/provider.hpp"
#include "daemon/config/config.hpp"
#include "daemon/store/store.hpp"

namespace rappel {

Completion decide_outcome(const ClaimedMessage& message, const SendResult& result,
                          const RetryPolicy& policy, Millis now, std::mt19937_64& rng);

// The delay before attempt number `attempt + 1`, after `attempt` failed.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int attempt,
                                        std::mt19937_64& rng);

}  // namespace rappel
