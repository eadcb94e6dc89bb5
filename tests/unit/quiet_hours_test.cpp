// Quiet hours: when a reminder due at a given instant may leave, in the département's zone, with
// fixed instants (no clock read). The DST cases use the real changes of Europe/Paris in 2026-2027
// (spring forward on Sunday 28 March 2027, 02:00 -> 03:00; fall back on Sunday 25 October 2026,
// 03:00 -> 02:00), where a window's length or its end time itself is affected.
#include <catch2/catch.hpp>

#include "daemon/base/clock.hpp"
#include "daemon/config/delivery_settings.hpp"
#include "daemon/pipeline/quiet_hours.hpp"

using namespace rappel;

namespace {

Millis at(const char* iso) {
  auto ms = parse_iso8601(iso);
  REQUIRE(ms);
  return *ms;
}

std::string until(const char* window, const char* zone, const char* now) {
  auto end = quiet_until(parse_quiet_hours(window), zone, at(now));
  return end ? iso_utc(*end) : "outside";
}

}  // namespace

TEST_CASE("a night window wrapping past midnight, in Paris in winter", "[quiet]") {
  // Entered in the evening: ends tomorrow morning at 08:00 Paris time (07:00 UTC).
  CHECK(until("20:00-08:00", "Europe/Paris", "2026-12-01T21:30:00+01:00") ==
        "2026-12-02T07:00:00.000Z");
  // After midnight: ends the same morning.
  CHECK(until("20:00-08:00", "Europe/Paris", "2026-12-02T06:15:00+01:00") ==
        "2026-12-02T07:00:00.000Z");
  // Its bounds: 20:00 is inside, 08:00 and 19:59:59 outside.
  CHECK(until("20:00-08:00", "Europe/Paris", "2026-12-01T20:00:00+01:00") ==
        "2026-12-02T07:00:00.000Z");
  CHECK(until("20:00-08:00", "Europe/Paris", "2026-12-02T08:00:00+01:00") == "outside");
  CHECK(until("20:00-08:00", "Europe/Paris", "2026-12-01T19:59:59+01:00") == "outside");
  CHECK(until("20:00-08:00", "Europe/Paris", "2026-12-01T12:00:00+01:00") == "outside");
}

TEST_CASE("a daytime window does not wrap", "[quiet]") {
  CHECK(until("12:00-14:00", "Europe/Paris", "2026-12-01T13:10:00+01:00") ==
        "2026-12-01T13:00:00.000Z");
  CHECK(until("12:00-14:00", "Europe/Paris", "2026-12-01T21:00:00+01:00") == "outside");
  CHECK(until("12:00-14:00", "Europe/Paris", "2026-12-01T11:59:00+01:00") == "outside");
}

TEST_CASE("quiet hours follow the département's own zone", "[quiet]") {
  // 21:30 in Paris is 00:30 in La Réunion (UTC+4, no DST): inside its night, ending 08:00 local.
  CHECK(until("20:00-08:00", "Indian/Reunion", "2026-12-01T21:30:00+01:00") ==
        "2026-12-02T04:00:00.000Z");
  // 09:00 in Paris is 04:00 in Guadeloupe (UTC-4).
  CHECK(until("20:00-08:00", "America/Guadeloupe", "2026-12-01T09:00:00+01:00") ==
        "2026-12-01T12:00:00.000Z");
}

TEST_CASE("a night across a DST change ends at the local wall-clock time", "[quiet][dst]") {
  // Spring forward: from 22:00 CET to 08:00 CEST is 9 hours, not 10.
  CHECK(until("22:00-08:00", "Europe/Paris", "2027-03-27T23:00:00+01:00") ==
        "2027-03-28T06:00:00.000Z");
  // Fall back: from 21:00 CEST to 08:00 CET is 12 hours.
  CHECK(until("20:00-08:00", "Europe/Paris", "2026-10-24T21:00:00+02:00") ==
        "2026-10-25T07:00:00.000Z");
}

TEST_CASE("a window ending in the skipped hour ends when the clock jumps", "[quiet][dst]") {
  // 02:30 does not exist on 28 March 2027 in Paris: the window ends at the jump, 03:00 CEST.
  CHECK(until("20:00-02:30", "Europe/Paris", "2027-03-28T01:30:00+01:00") ==
        "2027-03-28T01:00:00.000Z");
}

TEST_CASE("a window ending in the repeated hour ends at its next occurrence", "[quiet][dst]") {
  // 02:30 happens twice on 25 October 2026 in Paris: 00:30 UTC (CEST) and 01:30 UTC (CET).
  CHECK(until("20:00-02:30", "Europe/Paris", "2026-10-25T01:00:00+02:00") ==
        "2026-10-25T00:30:00.000Z");
  // In the repeated hour, 02:10 CET is inside again; the first 02:30 has passed.
  CHECK(until("20:00-02:30", "Europe/Paris", "2026-10-25T02:10:00+01:00") ==
        "2026-10-25T01:30:00.000Z");
  // Between the two: 02:40 CEST is outside.
  CHECK(until("20:00-02:30", "Europe/Paris", "2026-10-25T02:40:00+02:00") == "outside");
}

TEST_CASE("quiet_hours and rate_limit texts", "[quiet][rate]") {
  QuietHours q = parse_quiet_hours("20:00-08:00");
  CHECK(q.start_minute == 20 * 60);
  CHECK(q.end_minute == 8 * 60);
  CHECK(parse_quiet_hours("7:30-9:05").end_minute == 9 * 60 + 5);
  for (const char* bad :
       {"20h-8h", "20:00", "24:00-08:00", "20:00-08:60", "20:00-20:00", "20:00 - 08:00", "", "-"})
    CHECK_THROWS_AS(parse_quiet_hours(bad), std::invalid_argument);

  RateLimit per_second = parse_rate_limit("20/s");
  CHECK(per_second.count == 20);
  CHECK(per_second.interval_us() == 50'000);
  CHECK(parse_rate_limit("1000/min").interval_us() == 60'000);
  CHECK(parse_rate_limit("3600/h").interval_us() == 1'000'000);
  for (const char* bad : {"20", "20/sec", "0/s", "-1/s", "/s", "20/", "vingt/s", "2000000/s"})
    CHECK_THROWS_AS(parse_rate_limit(bad), std::invalid_argument);
}
