// Time as rappel stores it: milliseconds since the Unix epoch in Redis scores, ISO-8601 UTC
// ("2026-12-01T09:30:00.000Z") in message hashes and events.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rappel {

using Millis = std::int64_t;

Millis now_ms();
std::string iso_utc(Millis ms);
// ISO-8601 with an offset or Z ("2026-12-01T10:30:00+01:00", fractional seconds allowed).
std::optional<Millis> parse_iso8601(std::string_view text);

// Whether `text` has the shape YYYY-MM-DDTHH:MM[:SS[.fraction]](Z|±HH|±HHMM|±HH:MM), to check
// before handing it to date::parse (which has undefined behaviour on some malformed text).
bool is_instant_shape(std::string_view text);

}  // namespace rappel
