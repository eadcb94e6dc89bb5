// French wording of an appointment's instant, computed in the département's time zone.
//
// The backend sends instants with an offset; what the person reads must be the wall-clock time
// where the appointment takes place (Melun, Pointe-à-Pitre, Saint-Denis de La Réunion...), on the
// right side of a DST change. Howard Hinnant's date/tz does the parsing and the zone arithmetic
// from the system's tzdata (the instant is read by clock.hpp's parse_instant, as intake reads it);
// this file only holds the French words.
#include "daemon/content/french_dates.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <string>

#include <date/tz.h>

#include "daemon/base/clock.hpp"

namespace rappel {

namespace {

constexpr std::array<const char*, 7> kWeekdays = {"dimanche", "lundi",    "mardi", "mercredi",
                                                  "jeudi",    "vendredi", "samedi"};
constexpr std::array<const char*, 12> kMonths = {"janvier",   "février", "mars",     "avril",
                                                 "mai",       "juin",    "juillet",  "août",
                                                 "septembre", "octobre", "novembre", "décembre"};

const date::time_zone* find_zone(std::string_view timezone) {
  if (timezone.empty()) return nullptr;
  try {
    return date::locate_zone(std::string(timezone));
  } catch (const std::exception&) {
    return nullptr;
  }
}

std::string french_time(std::chrono::hours h, std::chrono::minutes m) {
  std::string out = std::to_string(h.count()) + "h";
  if (m.count() != 0) out += (m.count() < 10 ? "0" : "") + std::to_string(m.count());
  return out;
}

std::string two_digits(unsigned value) {
  return (value < 10 ? "0" : "") + std::to_string(value);
}

// "1er" for the first of the month, the plain number otherwise.
std::string french_day(unsigned day) {
  return day == 1 ? "1er" : std::to_string(day);
}

}  // namespace

std::optional<nlohmann::json> french_date_variables(std::string_view iso8601,
                                                    std::string_view timezone) {
  const auto instant = parse_instant(iso8601);
  const auto* zone = find_zone(timezone);
  if (!instant || !zone) return std::nullopt;

  const date::sys_time<std::chrono::milliseconds> utc{std::chrono::milliseconds(*instant)};
  const auto local =
      date::make_zoned(zone, date::floor<std::chrono::minutes>(utc)).get_local_time();
  const auto local_day = date::floor<date::days>(local);
  const date::year_month_day ymd{local_day};
  const date::hh_mm_ss clock{date::floor<std::chrono::minutes>(local - local_day)};

  const unsigned day = static_cast<unsigned>(ymd.day());
  const unsigned month = static_cast<unsigned>(ymd.month());
  const int year = static_cast<int>(ymd.year());
  const std::string weekday = kWeekdays[date::weekday{local_day}.c_encoding()];
  const std::string time = french_time(clock.hours(), clock.minutes());
  const std::string day_month = french_day(day) + " " + kMonths[month - 1];

  return nlohmann::json{
      {"date_short", weekday + " " + std::to_string(day) + "/" + two_digits(month) + " à " + time},
      {"date_long", weekday + " " + day_month + " " + std::to_string(year) + " à " + time},
      {"time", time},
      {"weekday", weekday},
      {"day_month", day_month},
      {"date", two_digits(day) + "/" + two_digits(month) + "/" + std::to_string(year)},
  };
}

bool is_valid_timezone(std::string_view timezone) {
  return find_zone(timezone) != nullptr;
}

namespace {
// "2026-12" -> {2026, 12}; nullopt when the text does not start like one.
std::optional<std::pair<int, unsigned>> year_month_of(std::string_view text) {
  int year = 0;
  unsigned month = 0;
  if (text.size() < 7 ||
      std::sscanf(std::string(text.substr(0, 7)).c_str(), "%4d-%2u", &year, &month) != 2 ||
      month < 1 || month > 12)
    return std::nullopt;
  return std::pair{year, month};
}
}  // namespace

std::string french_month(std::string_view yyyy_mm) {
  auto ym = year_month_of(yyyy_mm);
  if (!ym || yyyy_mm.size() != 7) return std::string(yyyy_mm);
  return std::string(kMonths[ym->second - 1]) + " " + std::to_string(ym->first);
}

std::string french_calendar_day(std::string_view yyyy_mm_dd) {
  auto ym = year_month_of(yyyy_mm_dd);
  unsigned day = 0;
  if (!ym || yyyy_mm_dd.size() != 10 ||
      std::sscanf(std::string(yyyy_mm_dd.substr(8)).c_str(), "%2u", &day) != 1 || day < 1 ||
      day > 31)
    return std::string(yyyy_mm_dd);
  return french_day(day) + " " + french_month(yyyy_mm_dd.substr(0, 7));
}

}  // namespace rappel
