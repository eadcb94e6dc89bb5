// Validation of one inbox entry: from the backend's JSON to what the store applies.
//
// Pure (no I/O), so it is fuzzed and unit-tested directly. Every way an entry can be wrong gives
// a reject operation with a reason the backend can act on; the reason never quotes the payload,
// because the events stream is read by people and the payload carries personal data.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/store/store.hpp"

namespace rappel {

using StreamFields = std::vector<std::pair<std::string, std::string>>;

// One entry may give several operations: a schedule whose SMS channel has an unusable number is
// a schedule of its email and a reject of its SMS, so that the person still gets the email.
std::vector<IntakeOp> parse_intake_entry(std::string_view entry_id, const StreamFields& fields,
                                         const Config& config, Millis now);

}  // namespace rappel
