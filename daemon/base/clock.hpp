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
// The contract's send_at / expires_at: ISO-8601 with seconds and an offset or Z
// ("2026-12-01T10:30:00+01:00", "...00.250Z"; fractional digits past the millisecond dropped).
std::optional<Millis> parse_iso8601(std::string_view text);

// An instant in the appointment data (starts_at, ends_at), read as leniently as the backends
// write it: any shape is_instant_shape accepts (no seconds, "+0100", "+01"). Intake, the French
// date words and the calendar attachment all read it through this one function, so an instant
// that intake accepts is one they all understand.
std::optional<Millis> parse_instant(std::string_view text);

// The calendar day ("2026-03-14") at `at` in the IANA zone; throws std::runtime_error if unknown.
std::string local_day(const std::string& zone, Millis at);

// Whether `text` has the shape YYYY-MM-DDTHH:MM[:SS[.fraction]](Z|±HH|±HHMM|±HH:MM), to check
// before handing it to date::parse (which has undefined behaviour on some malformed text).
bool is_instant_shape(std::string_view text);

}  // namespace rappel
