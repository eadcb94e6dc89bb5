// The appointment's iCalendar object: UTC times, RFC 5545 escaping and 75-octet folding that
// never cuts a UTF-8 character (calendar apps show mojibake otherwise).
#include <catch2/catch.hpp>

#include "daemon/mime.hpp"

using namespace rappel;
using nlohmann::json;

namespace {

std::string unfolded(std::string ics) {
  size_t pos;
  while ((pos = ics.find("\r\n ")) != std::string::npos) ics.erase(pos, 3);
  return ics;
}

bool has_line(const std::string& ics, const std::string& line) {
  return ("\r\n" + unfolded(ics)).find("\r\n" + line + "\r\n") != std::string::npos;
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    size_t n = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

const json kAppointment = {
    {"starts_at", "2026-12-03T10:30:00+01:00"},
    {"duration_minutes", 45},
    {"service", "Protection maternelle et infantile (PMI)"},
    {"place", "Maison départementale des solidarités, 12 rue de l'Église; Melun\nBâtiment B"},
    {"url", "https://www.rdv-solidarites.fr/users/rdvs/4521?invitation_token=abcdefghijklmnop"}};

}  // namespace

TEST_CASE("the calendar object has the appointment in UTC", "[mime][ics]") {
  std::string ics = appointment_ics(kAppointment, "4521", "PUBLISH");
  CHECK(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
  CHECK(ics.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
  CHECK(has_line(ics, "PRODID:-//RDV-Solidarites//rappel//FR"));
  CHECK(has_line(ics, "METHOD:PUBLISH"));
  CHECK(has_line(ics, "UID:4521@rdv-solidarites.fr"));
  CHECK(has_line(ics, "DTSTART:20261203T093000Z"));
  CHECK(has_line(ics, "DTEND:20261203T101500Z"));
  CHECK(has_line(ics, "SUMMARY:RDV Protection maternelle et infantile (PMI)"));
  CHECK(has_line(ics, "STATUS:CONFIRMED"));
  CHECK(ics.find("DTSTAMP:") != std::string::npos);
}

TEST_CASE("text values are escaped per RFC 5545", "[mime][ics]") {
  std::string ics = appointment_ics(kAppointment, "4521", "PUBLISH");
  CHECK(has_line(ics,
                 "LOCATION:Maison départementale des solidarités\\, 12 rue de l'Église\\; "
                 "Melun\\nBâtiment B"));
  CHECK(has_line(ics,
                 "DESCRIPTION:Votre rendez-vous : https://www.rdv-solidarites.fr/users/rdvs/"
                 "4521?invitation_token=abcdefghijklmnop"));
  json odd = kAppointment;
  odd["service"] = "a\\b";
  CHECK(has_line(appointment_ics(odd, "4521", "PUBLISH"), "SUMMARY:RDV a\\\\b"));
}

TEST_CASE("lines are folded at 75 octets without cutting UTF-8", "[mime][ics]") {
  json long_place = kAppointment;
  std::string place;
  for (int i = 0; i < 60; ++i) place += "é€";
  long_place["place"] = place;
  std::string ics = appointment_ics(long_place, "4521", "PUBLISH");
  size_t start = 0, end;
  int lines = 0;
  while ((end = ics.find("\r\n", start)) != std::string::npos) {
    std::string line = ics.substr(start, end - start);
    INFO(line);
    CHECK(line.size() <= 75);
    CHECK(is_valid_utf8(line));
    CHECK(line.find('\n') == std::string::npos);
    start = end + 2;
    ++lines;
  }
  CHECK(start == ics.size());
  CHECK(lines > 15);
  CHECK(has_line(ics, "LOCATION:" + place));
}

TEST_CASE("the end comes from ends_at, else the duration, else 30 minutes", "[mime][ics]") {
  json data = {{"starts_at", "2026-03-29T01:30:00Z"}, {"ends_at", "2026-03-29T03:15:00+02:00"}};
  std::string ics = appointment_ics(data, "9", "PUBLISH");
  CHECK(has_line(ics, "DTSTART:20260329T013000Z"));
  CHECK(has_line(ics, "DTEND:20260329T011500Z") == false);  // ends_at before starts_at: ignored
  CHECK(has_line(ics, "DTEND:20260329T020000Z"));
  data["ends_at"] = "2026-03-29T04:15:00+02:00";
  CHECK(has_line(appointment_ics(data, "9", "PUBLISH"), "DTEND:20260329T021500Z"));
  json with_fraction = {{"starts_at", "2026-12-03T10:30:00.000+01:00"}};
  CHECK(has_line(appointment_ics(with_fraction, "9", "PUBLISH"), "DTEND:20261203T100000Z"));
  CHECK(has_line(appointment_ics(with_fraction, "9", "PUBLISH"), "SUMMARY:RDV"));
}

TEST_CASE("a cancellation keeps the UID and raises the sequence", "[mime][ics]") {
  std::string ics = appointment_ics(kAppointment, "4521", "CANCEL");
  CHECK(has_line(ics, "METHOD:CANCEL"));
  CHECK(has_line(ics, "UID:4521@rdv-solidarites.fr"));
  CHECK(has_line(ics, "STATUS:CANCELLED"));
  CHECK(has_line(ics, "SEQUENCE:1"));
}

TEST_CASE("no calendar object without a valid start", "[mime][ics]") {
  CHECK(appointment_ics(json::object(), "1", "PUBLISH").empty());
  CHECK(appointment_ics({{"starts_at", "jeudi 3 décembre"}}, "1", "PUBLISH").empty());
  CHECK(appointment_ics({{"starts_at", 12}}, "1", "PUBLISH").empty());
  CHECK(appointment_ics(json::array(), "1", "PUBLISH").empty());
  // A malformed offset: undefined behaviour inside date::parse before the shape was checked
  // (found by fuzz/render_fuzz).
  CHECK(appointment_ics({{"starts_at", "2026-12-31T23:30:00-!0:00"}}, "1", "PUBLISH").empty());
  // Without seconds is still read.
  CHECK_FALSE(appointment_ics({{"starts_at", "2026-12-03T10:30+01:00"}}, "1", "PUBLISH").empty());
}
