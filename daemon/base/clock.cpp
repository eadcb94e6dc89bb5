// See clock.hpp. Parsing goes through Howard Hinnant's date library, which handles offsets.
#include "daemon/base/clock.hpp"

#include <sstream>

// date.h's from_stream trips a false -Wmaybe-uninitialized in g++ 12 when inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <date/date.h>
#include <date/tz.h>

namespace rappel {

Millis now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string iso_utc(Millis ms) {
  date::sys_time<std::chrono::milliseconds> tp{std::chrono::milliseconds(ms)};
  return date::format("%FT%TZ", tp);
}

namespace {

bool digits(std::string_view text, size_t at, size_t count) {
  if (at + count > text.size()) return false;
  for (size_t i = at; i < at + count; ++i)
    if (text[i] < '0' || text[i] > '9') return false;
  return true;
}

// No place on Earth is further than 14 hours from UTC (Kiribati, +14:00; the furthest west is
// -12:00): an offset beyond is a writer's mistake, and date::parse would happily shift the
// message by up to four days ("+99:00").
constexpr int kMaxOffsetMinutes = 14 * 60;

bool offset_in_range(std::string_view hours, std::string_view minutes) {
  int h = (hours[0] - '0') * 10 + (hours[1] - '0');
  int m = (minutes[0] - '0') * 10 + (minutes[1] - '0');
  return m < 60 && h * 60 + m <= kMaxOffsetMinutes;
}

}  // namespace

// Checked before date::parse: on "Tc10:30:00" it converts a NaN to an integer duration (found by
// fuzz/intake_fuzz), on a malformed offset ("-!0:00", found by fuzz/render_fuzz) it negates the
// minimum of its minutes: undefined behaviour either way.
bool is_instant_shape(std::string_view t) {
  if (t.size() > 64 || !digits(t, 0, 4) || t[4] != '-' || !digits(t, 5, 2) || t[7] != '-' ||
      !digits(t, 8, 2) || t[10] != 'T' || !digits(t, 11, 2) || t[13] != ':' || !digits(t, 14, 2))
    return false;
  size_t at = 16;
  if (at < t.size() && t[at] == ':') {  // seconds, optional
    if (!digits(t, at + 1, 2)) return false;
    at += 3;
    if (at < t.size() && t[at] == '.') {
      size_t start = ++at;
      while (at < t.size() && t[at] >= '0' && t[at] <= '9') ++at;
      if (at == start) return false;
    }
  }
  std::string_view zone = t.substr(at);
  if (zone == "Z" || zone == "z") return true;
  if (zone.empty() || (zone[0] != '+' && zone[0] != '-') || !digits(zone, 1, 2)) return false;
  size_t minutes_at = zone.size() == 5 ? 3 : 4;
  bool shaped = zone.size() == 3 || (zone.size() == 5 && digits(zone, 3, 2)) ||
                (zone.size() == 6 && zone[3] == ':' && digits(zone, 4, 2));
  return shaped &&
         offset_in_range(zone.substr(1, 2), zone.size() == 3 ? "00" : zone.substr(minutes_at, 2));
}

namespace {

// The contract's send_at/expires_at: that shape with seconds, and no "±HHMM" offset.
bool well_formed(std::string_view t) {
  if (!is_instant_shape(t) || t.size() < 19 || t[16] != ':') return false;
  std::string_view zone = t.substr(t.find_first_of("Zz+-", 19));
  return zone.size() != 5;
}

}  // namespace

std::optional<Millis> parse_instant(std::string_view text) {
  if (!is_instant_shape(text)) return std::nullopt;
  std::string s(text);
  if (s.back() == 'Z' || s.back() == 'z') s.back() = '+', s += "00:00";
  if (s[16] != ':') s.insert(16, ":00");  // no seconds
  // Milliseconds are rappel's precision, but writers often give more (Python's isoformat()
  // microseconds, Go's nanoseconds): the digits past the third are dropped, which is the floor.
  if (size_t dot = s.find('.', 19); dot != std::string::npos) {
    size_t end = s.find_first_not_of("0123456789", dot + 1);
    if (end > dot + 4) s.erase(dot + 4, end - dot - 4);
  }
  for (const char* format : {"%FT%T%Ez", "%FT%T%z"}) {
    date::sys_time<std::chrono::milliseconds> tp;
    std::istringstream in(s);
    in >> date::parse(format, tp);
    if (!in.fail() && in.peek() == std::char_traits<char>::eof())
      return tp.time_since_epoch().count();
  }
  return std::nullopt;
}

std::optional<Millis> parse_iso8601(std::string_view text) {
  if (!well_formed(text)) return std::nullopt;
  return parse_instant(text);
}

#pragma GCC diagnostic pop

std::string local_day(const std::string& zone, Millis at) {
  const date::time_zone* tz = date::locate_zone(zone);
  auto local =
      tz->to_local(date::sys_time<std::chrono::milliseconds>{std::chrono::milliseconds(at)});
  return date::format("%F", date::floor<date::days>(local));
}

}  // namespace rappel
