// Time as rappel reads it from the backend (ISO-8601 with an offset) and writes it to Redis
// (ISO-8601 UTC with milliseconds). A wrong parse is a reminder sent at the wrong hour, so the
// expected epochs below come from `date -u -d ... +%s%3N`, not from the code under test.
#include <catch2/catch.hpp>

#include <random>

#include "daemon/base/clock.hpp"

using namespace rappel;

namespace {
constexpr Millis kDecemberFirstAt0930Utc = 1796117400000;  // 2026-12-01T09:30:00Z
}  // namespace

TEST_CASE("iso_utc writes UTC with milliseconds", "[clock]") {
  CHECK(iso_utc(0) == "1970-01-01T00:00:00.000Z");
  CHECK(iso_utc(kDecemberFirstAt0930Utc) == "2026-12-01T09:30:00.000Z");
  CHECK(iso_utc(kDecemberFirstAt0930Utc + 250) == "2026-12-01T09:30:00.250Z");
  CHECK(iso_utc(1774746000000) == "2026-03-29T01:00:00.000Z");  // the spring DST change in Paris
}

TEST_CASE("Z and offsets give the same instant", "[clock]") {
  CHECK(parse_iso8601("2026-12-01T09:30:00Z") == kDecemberFirstAt0930Utc);
  CHECK(parse_iso8601("2026-12-01T09:30:00z") == kDecemberFirstAt0930Utc);
  CHECK(parse_iso8601("2026-12-01T09:30:00+00:00") == kDecemberFirstAt0930Utc);
  CHECK(parse_iso8601("2026-12-01T10:30:00+01:00") == kDecemberFirstAt0930Utc);  // Paris, winter
  CHECK(parse_iso8601("2026-12-01T13:30:00+04:00") == kDecemberFirstAt0930Utc);  // La Réunion
  CHECK(parse_iso8601("2026-12-01T05:30:00-04:00") == kDecemberFirstAt0930Utc);  // Guadeloupe
  CHECK(parse_iso8601("2026-12-01T06:30:00-03:00") == kDecemberFirstAt0930Utc);  // Guyane
  // Across midnight and the date line of the offset.
  CHECK(parse_iso8601("2026-12-01T00:30:00+01:00") == kDecemberFirstAt0930Utc - 10 * 3600000LL);
}

TEST_CASE("fractional seconds are kept to the millisecond", "[clock]") {
  CHECK(parse_iso8601("2026-12-01T09:30:00.250Z") == kDecemberFirstAt0930Utc + 250);
  CHECK(parse_iso8601("2026-12-01T10:30:00.5+01:00") == kDecemberFirstAt0930Utc + 500);
  // Python's isoformat() writes microseconds, Go's RFC 3339 nanoseconds: floored to the
  // millisecond.
  CHECK(parse_iso8601("2026-12-01T10:30:00.250999+01:00") == kDecemberFirstAt0930Utc + 250);
  CHECK(parse_iso8601("2026-12-01T09:30:00.999999999Z") == kDecemberFirstAt0930Utc + 999);
  CHECK(parse_iso8601("2026-12-01T10:30:00.007+01:00") == kDecemberFirstAt0930Utc + 7);
}

TEST_CASE("iso_utc and parse_iso8601 round-trip", "[clock]") {
  std::mt19937_64 rng(42);
  // From 2000 to 2100, at millisecond resolution.
  std::uniform_int_distribution<Millis> instants(946684800000, 4102444800000);
  for (int i = 0; i < 1000; ++i) {
    Millis t = instants(rng);
    INFO(iso_utc(t));
    CHECK(parse_iso8601(iso_utc(t)) == t);
  }
  CHECK(iso_utc(*parse_iso8601("2026-12-01T10:30:00.125+01:00")) == "2026-12-01T09:30:00.125Z");
}

TEST_CASE("times without an offset or that are not times are rejected", "[clock]") {
  for (const char* text : {
           "",
           "2026-12-01T10:30:00",         // local time: which zone?
           "2026-12-01T10:30:00.000",     // still no offset
           "2026-12-01",                  // a date alone
           "demain à 10h30",              // French, not ISO
           "01/12/2026 10:30:00+01:00",   // French date order
           "2026-12-01 10:30:00+01:00",   // space instead of T
           "2026-12-01T10:30:00+01:00 ",  // trailing space
           "2026-12-01T10:30:00+01:00Z",  // two offsets
           "2026-12-01T10:30:00 Europe/Paris",
           "2026-13-01T10:30:00+01:00",  // month 13
           "2026-12-32T10:30:00+01:00",  // day 32
           "2026-12-01T24:30:00+01:00",  // hour 24
           "2026-12-01T10:60:00+01:00",  // minute 60
           "1796117400000",              // epoch milliseconds
           "2026-12-01Tc10:30:00.250Z",  // found by fuzz/intake_fuzz: UB inside date::parse
           "2026-12-01T10:30:00.Z",      // a dot without digits
           "2026-12-01T10:30:00+0100",   // offset without a colon
       }) {
    INFO('"' << text << '"');
    CHECK_FALSE(parse_iso8601(text));
  }
}

TEST_CASE("impossible calendar dates are rejected", "[clock]") {
  CHECK_FALSE(parse_iso8601("2026-02-30T10:30:00+01:00"));
  CHECK_FALSE(parse_iso8601("2026-02-29T10:30:00+01:00"));  // 2026 is not a leap year
  CHECK(parse_iso8601("2028-02-29T10:30:00+01:00"));
}

TEST_CASE("offsets beyond the ±14:00 that places on Earth use are rejected", "[clock]") {
  CHECK(parse_iso8601("2026-12-01T23:30:00+14:00") == kDecemberFirstAt0930Utc);  // Kiribati
  CHECK(parse_iso8601("2026-11-30T21:30:00-12:00") == kDecemberFirstAt0930Utc);
  CHECK(parse_instant("2026-12-01T15:15+0545") == kDecemberFirstAt0930Utc);  // Népal
  for (const char* text : {
           "2026-12-01T10:30:00+99:00",  // found from outside: sent four days off
           "2026-12-01T10:30:00-99:00", "2026-12-01T10:30:00+14:01", "2026-12-01T10:30:00+15:00",
           "2026-12-01T10:30:00+01:60",  // sixty minutes
       }) {
    INFO('"' << text << '"');
    CHECK_FALSE(parse_iso8601(text));
  }
  CHECK_FALSE(parse_instant("2026-12-01T10:30+99"));
  CHECK_FALSE(parse_instant("2026-12-01T10:30+1460"));
}
