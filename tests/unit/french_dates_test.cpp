// French dates in the département's time zone, across DST changes and in overseas départements.
#include <catch2/catch.hpp>

#include "daemon/content/french_dates.hpp"

using rappel::french_date_variables;
using rappel::is_valid_timezone;

namespace {

std::string field(std::string_view instant, std::string_view zone, const char* name) {
  const auto vars = french_date_variables(instant, zone);
  REQUIRE(vars);
  return (*vars)[name].get<std::string>();
}

}  // namespace

TEST_CASE("every variable of an appointment in Melun", "[french_dates]") {
  const auto vars = french_date_variables("2026-12-03T10:30:00+01:00", "Europe/Paris");
  REQUIRE(vars);
  CHECK((*vars)["date_short"] == "jeudi 3/12 à 10h30");
  CHECK((*vars)["date_long"] == "jeudi 3 décembre 2026 à 10h30");
  CHECK((*vars)["time"] == "10h30");
  CHECK((*vars)["weekday"] == "jeudi");
  CHECK((*vars)["day_month"] == "3 décembre");
  CHECK((*vars)["date"] == "03/12/2026");
}

TEST_CASE("the first of the month is written 1er", "[french_dates]") {
  const auto vars = french_date_variables("2026-12-01T14:30:00+01:00", "Europe/Paris");
  REQUIRE(vars);
  CHECK((*vars)["date_long"] == "mardi 1er décembre 2026 à 14h30");
  CHECK((*vars)["day_month"] == "1er décembre");
  CHECK((*vars)["date_short"] == "mardi 1/12 à 14h30");
  CHECK((*vars)["date"] == "01/12/2026");
}

TEST_CASE("times read 14h30, 9h05 and 14h on the hour", "[french_dates]") {
  CHECK(field("2026-06-02T14:30:00+02:00", "Europe/Paris", "time") == "14h30");
  CHECK(field("2026-06-02T09:05:00+02:00", "Europe/Paris", "time") == "9h05");
  CHECK(field("2026-06-02T14:00:00+02:00", "Europe/Paris", "time") == "14h");
  CHECK(field("2026-06-02T00:15:00+02:00", "Europe/Paris", "time") == "0h15");
  CHECK(field("2026-03-09T09:00:00+01:00", "Europe/Paris", "date_short") == "lundi 9/03 à 9h");
}

TEST_CASE("the instant is shown in the zone, whatever offset it was sent with", "[french_dates]") {
  CHECK(field("2026-12-03T09:30:00Z", "Europe/Paris", "date_short") == "jeudi 3/12 à 10h30");
  CHECK(field("2026-12-03T09:30:00.123Z", "Europe/Paris", "time") == "10h30");
  CHECK(field("2026-12-03T10:30:00.123456+01:00", "Europe/Paris", "time") == "10h30");
  CHECK(field("2026-12-03T10:30:00+0100", "Europe/Paris", "time") == "10h30");
  // Late evening in UTC is already the next day in Paris.
  CHECK(field("2026-12-31T23:30:00Z", "Europe/Paris", "date_long") ==
        "vendredi 1er janvier 2027 à 0h30");
}

TEST_CASE("Paris switches to summer time on 29 March 2026", "[french_dates]") {
  // The change is at 01:00 UTC: 1h59 (UTC+1) is followed by 3h (UTC+2).
  CHECK(field("2026-03-29T00:59:00Z", "Europe/Paris", "time") == "1h59");
  CHECK(field("2026-03-29T01:00:00Z", "Europe/Paris", "time") == "3h");
  CHECK(field("2026-03-29T08:00:00Z", "Europe/Paris", "date_short") == "dimanche 29/03 à 10h");
  CHECK(field("2026-03-28T08:00:00Z", "Europe/Paris", "date_short") == "samedi 28/03 à 9h");
}

TEST_CASE("Paris goes back to winter time on 25 October 2026", "[french_dates]") {
  // The change is at 01:00 UTC: 2h59 (UTC+2) is followed by 2h (UTC+1).
  CHECK(field("2026-10-25T00:59:00Z", "Europe/Paris", "time") == "2h59");
  CHECK(field("2026-10-25T01:00:00Z", "Europe/Paris", "time") == "2h");
  CHECK(field("2026-10-25T08:00:00Z", "Europe/Paris", "date_short") == "dimanche 25/10 à 9h");
  CHECK(field("2026-10-24T08:00:00Z", "Europe/Paris", "date_short") == "samedi 24/10 à 10h");
}

TEST_CASE("overseas départements have no DST and their own offset", "[french_dates]") {
  // 14:00 UTC on 3 December and on 2 July: same wall clock all year round.
  for (const char* day : {"2026-12-03T14:00:00Z", "2026-07-02T14:00:00Z"}) {
    INFO(day);
    CHECK(field(day, "America/Guadeloupe", "time") == "10h");
    CHECK(field(day, "America/Martinique", "time") == "10h");
    CHECK(field(day, "America/Cayenne", "time") == "11h");
    CHECK(field(day, "Indian/Reunion", "time") == "18h");
    CHECK(field(day, "Indian/Mayotte", "time") == "17h");
  }
  // 23h UTC is already Friday in La Réunion.
  CHECK(field("2026-12-03T23:00:00Z", "Indian/Reunion", "date_long") ==
        "vendredi 4 décembre 2026 à 3h");
}

TEST_CASE("invalid instants and zones give nothing", "[french_dates]") {
  for (const char* instant :
       {"", "demain", "2026-12-03", "2026-12-03T10:30:00", "2026-02-30T10:30:00+01:00",
        "2026-12-03T25:30:00+01:00", "2026-12-03T10:30:00+01:00 et plus",
        "2026-12-03 10:30:00+01:00",
        // A malformed offset made the date library negate INT64_MIN
        // (undefined behaviour; found by fuzz/render_fuzz).
        "2026-12-31T23:30:00-!0:00", "2026-12-31T23:30:00+01:!0", "2026-12-03Tc10:30:00+01:00"}) {
    INFO(instant);
    CHECK_FALSE(french_date_variables(instant, "Europe/Paris"));
  }
  CHECK_FALSE(french_date_variables("2026-12-03T10:30:00+01:00", "Europe/Melun"));
  CHECK_FALSE(french_date_variables("2026-12-03T10:30:00+01:00", ""));
}

TEST_CASE("time zones are checked against the system's tz database", "[french_dates]") {
  CHECK(is_valid_timezone("Europe/Paris"));
  CHECK(is_valid_timezone("Indian/Mayotte"));
  CHECK(is_valid_timezone("America/Cayenne"));
  CHECK_FALSE(is_valid_timezone("Europe/Melun"));
  CHECK_FALSE(is_valid_timezone(""));
  CHECK_FALSE(is_valid_timezone("Paris"));
}

TEST_CASE("far years and microseconds are read without overflow", "[french_dates]") {
  // In nanoseconds, an instant after 2262 overflowed inside the date library (found by
  // fuzz/render_fuzz with a starts_at in 4052).
  CHECK(field("4052-12-31T23:30:00-10:00", "Europe/Paris", "date") == "01/01/4053");
  CHECK(field("4052-12-31T23:30:00-10:00", "Europe/Paris", "time") == "10h30");
  CHECK(field("2026-12-03T10:30:00.123456+01:00", "Europe/Paris", "time") == "10h30");
}
