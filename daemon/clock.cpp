// See clock.hpp. Parsing goes through Howard Hinnant's date library, which handles offsets.
#include "daemon/clock.hpp"

#include <sstream>

#include <date/date.h>

namespace rappel {

Millis now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string iso_utc(Millis ms) {
  date::sys_time<std::chrono::milliseconds> tp{std::chrono::milliseconds(ms)};
  return date::format("%FT%TZ", tp);
}

std::optional<Millis> parse_iso8601(std::string_view text) {
  if (text.size() < 20 || text.size() > 40) return std::nullopt;
  std::string s(text);
  bool zulu = s.back() == 'Z' || s.back() == 'z';
  if (zulu) s.back() = '+', s += "00:00";
  date::sys_time<std::chrono::milliseconds> tp;
  std::istringstream in(s);
  in >> date::parse("%FT%T%Ez", tp);
  if (in.fail()) return std::nullopt;
  in.peek();
  if (!in.eof()) return std::nullopt;
  return tp.time_since_epoch().count();
}

}  // namespace rappel
