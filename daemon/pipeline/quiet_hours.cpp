// See quiet_hours.hpp.
#include "daemon/pipeline/quiet_hours.hpp"

#include <date/tz.h>

namespace rappel {

namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;

// The first instant after `after` at which the wall clock reads `local` (or, in a DST gap, the
// first instant that exists after it).
date::sys_time<milliseconds> next_instant_of(const date::time_zone* zone,
                                             date::local_time<milliseconds> local,
                                             date::sys_time<milliseconds> after) {
  date::local_info info = zone->get_info(local);
  switch (info.result) {
    case date::local_info::unique:
      return zone->to_sys(local);
    case date::local_info::nonexistent:
      // In the gap: the transition itself, the first instant that exists after it.
      return date::sys_time<milliseconds>(info.second.begin);
    case date::local_info::ambiguous:
    default: {
      auto first = zone->to_sys(local, date::choose::earliest);
      return first > after ? first : zone->to_sys(local, date::choose::latest);
    }
  }
}

bool inside(const QuietHours& q, int minute) {
  if (q.start_minute < q.end_minute) return minute >= q.start_minute && minute < q.end_minute;
  return minute >= q.start_minute || minute < q.end_minute;  // wraps past midnight
}

}  // namespace

std::optional<Millis> quiet_until(const QuietHours& quiet, std::string_view timezone, Millis now) {
  const date::time_zone* zone = date::locate_zone(timezone);
  date::sys_time<milliseconds> now_sys{milliseconds(now)};
  auto local = zone->to_local(now_sys);
  auto day = date::floor<date::days>(local);
  int minute = static_cast<int>(date::floor<minutes>(local - day).count());
  if (!inside(quiet, minute)) return std::nullopt;
  // A wrapping window entered in the evening ends tomorrow; otherwise it ends today.
  if (quiet.start_minute > quiet.end_minute && minute >= quiet.start_minute) day += date::days(1);
  auto end = next_instant_of(zone, date::local_time<milliseconds>(day) + minutes(quiet.end_minute),
                             now_sys);
  return end.time_since_epoch().count();
}

}  // namespace rappel
