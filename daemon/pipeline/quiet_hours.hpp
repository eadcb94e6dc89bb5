// Quiet hours: when a département does not want reminders to go out (e.g. 20:00-08:00), in its
// own time zone, with daylight-saving changes handled by the IANA database (date/tz).
//
// Only the window's end matters to the dispatcher: a message due inside the window is deferred to
// it. The end is a local wall-clock time, which on a DST change may not exist (spring forward:
// 02:30 is skipped) or exist twice (fall back). A skipped end means the first instant after the
// gap (the clock shows 03:00); a repeated one means its next occurrence after now (the window is
// judged by the wall clock, so in the repeated hour it is entered again).
#pragma once

#include <optional>
#include <string_view>

#include "daemon/base/clock.hpp"
#include "daemon/config/delivery_settings.hpp"

namespace rappel {

// When the window that contains `now` ends (UTC ms), or nullopt when `now` is outside it.
// Throws std::runtime_error for an unknown zone (config validation rules that out).
std::optional<Millis> quiet_until(const QuietHours& quiet, std::string_view timezone, Millis now);

}  // namespace rappel
