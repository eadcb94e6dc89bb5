// The appointment's iCalendar object: UTC times, RFC 5545 escaping and 75-octet folding that
// never cuts a UTF-8 character (calendar apps show mojibake otherwise).
#include <catch2/catch.hpp>

#include <date/date.h>

#include "daemon/content/ics.hpp"
#include "daemon/content/mime.hpp"

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

// Revision 7, written on 20 November 2026 at 09:00 UTC.
const IcsRevision kRevision{7, date::sys_days{date::year{2026} / 11 / 20} + std::chrono::hours{9}};

// Milliseconds of an inbox entry id at `seconds` past 2026-01-01T00:00:00Z (1767225600).
std::int64_t entry_at(std::int64_t seconds, int ms = 0) {
  return (1767225600 + seconds) * 1000 + ms;
}

const json kAppointment = {
    {"starts_at", "2026-12-03T10:30:00+01:00"},
    {"duration_minutes", 45},
    {"service", "Protection maternelle et infantile (PMI)"},
    {"place", "Maison départementale des solidarités, 12 rue de l'Église; Melun\nBâtiment B"},
    {"url", "https://www.rdv-solidarites.fr/users/rdvs/4521?invitation_token=abcdefghijklmnop"}};

}  // namespace

TEST_CASE("the calendar object has the appointment in UTC", "[mime][ics]") {
  std::string ics = appointment_ics(kAppointment, "4521", "PUBLISH", kRevision);
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
  std::string ics = appointment_ics(kAppointment, "4521", "PUBLISH", kRevision);
  CHECK(has_line(ics,
                 "LOCATION:Maison départementale des solidarités\\, 12 rue de l'Église\\; "
                 "Melun\\nBâtiment B"));
  CHECK(has_line(ics,
                 "DESCRIPTION:Votre rendez-vous : https://www.rdv-solidarites.fr/users/rdvs/"
                 "4521?invitation_token=abcdefghijklmnop"));
  json odd = kAppointment;
  odd["service"] = "a\\b";
  CHECK(has_line(appointment_ics(odd, "4521", "PUBLISH", kRevision), "SUMMARY:RDV a\\\\b"));
}

TEST_CASE("lines are folded at 75 octets without cutting UTF-8", "[mime][ics]") {
  json long_place = kAppointment;
  std::string place;
  for (int i = 0; i < 60; ++i) place += "é€";
  long_place["place"] = place;
  std::string ics = appointment_ics(long_place, "4521", "PUBLISH", kRevision);
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
  std::string ics = appointment_ics(data, "9", "PUBLISH", kRevision);
  CHECK(has_line(ics, "DTSTART:20260329T013000Z"));
  CHECK(has_line(ics, "DTEND:20260329T011500Z") == false);  // ends_at before starts_at: ignored
  CHECK(has_line(ics, "DTEND:20260329T020000Z"));
  data["ends_at"] = "2026-03-29T04:15:00+02:00";
  CHECK(has_line(appointment_ics(data, "9", "PUBLISH", kRevision), "DTEND:20260329T021500Z"));
  json with_fraction = {{"starts_at", "2026-12-03T10:30:00.000+01:00"}};
  CHECK(has_line(appointment_ics(with_fraction, "9", "PUBLISH", kRevision),
                 "DTEND:20261203T100000Z"));
  CHECK(has_line(appointment_ics(with_fraction, "9", "PUBLISH", kRevision), "SUMMARY:RDV"));
}

TEST_CASE("a cancellation keeps the UID and carries the revision's sequence", "[mime][ics]") {
  std::string ics = appointment_ics(kAppointment, "4521", "CANCEL", kRevision);
  CHECK(has_line(ics, "METHOD:CANCEL"));
  CHECK(has_line(ics, "UID:4521@rdv-solidarites.fr"));
  CHECK(has_line(ics, "STATUS:CANCELLED"));
  CHECK(has_line(ics, "SEQUENCE:7"));
  CHECK(has_line(ics, "DTSTAMP:20261120T090000Z"));
  CHECK(ics.find("ORGANIZER") == std::string::npos);  // build_email adds it
}

// RFC 5545 §3.8.7.4: SEQUENCE must rise when DTSTART moves, or a client may keep the old time.
TEST_CASE("the sequence rises with each inbox entry, without the backend counting", "[mime][ics]") {
  auto now = std::chrono::system_clock::now();
  auto created = calendar_revision(kAppointment, entry_at(86'400), "PUBLISH", now);
  auto updated = calendar_revision(kAppointment, entry_at(86'460), "PUBLISH", now);
  auto cancelled = calendar_revision(kAppointment, entry_at(90'000, 999), "CANCEL", now);
  CHECK(created.sequence == 86'400);
  CHECK(updated.sequence == 86'460);
  CHECK(cancelled.sequence == 90'001);
  // DTSTAMP is when the backend wrote the entry: a retry sends the same object.
  CHECK(created.stamp == date::sys_days{date::year{2026} / 1 / 2});
  CHECK(cancelled.stamp == date::sys_days{date::year{2026} / 1 / 2} + std::chrono::seconds{3600});
  CHECK(has_line(appointment_ics(kAppointment, "4521", "PUBLISH", updated), "SEQUENCE:86460"));
  // A cancellation written in the same second as an invitation still supersedes it.
  auto same_second = calendar_revision(kAppointment, entry_at(86'400, 500), "CANCEL", now);
  CHECK(same_second.sequence > created.sequence);
  // No entry time (`rappel render`, messages stored before): now.
  auto preview = calendar_revision(kAppointment, std::nullopt, "PUBLISH", now);
  CHECK(preview.stamp == std::chrono::floor<std::chrono::seconds>(now));
  // Seconds since 2026 fit RFC 5545's INTEGER (and an entry dated before it is 0, not negative).
  CHECK(calendar_revision(kAppointment, entry_at(-10), "PUBLISH", now).sequence == 0);
  CHECK(calendar_revision(kAppointment, 4'102'444'800'000, "PUBLISH", now).sequence <
        2'147'483'647);  // 2100
}

TEST_CASE("data.revision, when the backend gives it, is the sequence", "[mime][ics]") {
  auto now = std::chrono::system_clock::now();
  json data = kAppointment;
  data["revision"] = 3;
  CHECK(calendar_revision(data, entry_at(86'400), "PUBLISH", now).sequence == 3);
  CHECK(calendar_revision(data, entry_at(86'400), "CANCEL", now).sequence == 4);
  data["revision"] = kMaxCalendarRevision;
  CHECK(calendar_revision(data, entry_at(86'400), "CANCEL", now).sequence == 2'147'483'647);
}

TEST_CASE("the organizer goes into the event, its name quoted", "[mime][ics]") {
  std::string ics = appointment_ics(kAppointment, "4521", "PUBLISH", kRevision);
  std::string with = ics_with_organizer(ics, "CD77; \"Solidarités\": PMI", "rdv@seine-et-marne.fr");
  CHECK(has_line(with, "ORGANIZER;CN=\"CD77; Solidarités: PMI\":mailto:rdv@seine-et-marne.fr"));
  CHECK(with.find("BEGIN:VEVENT\r\nORGANIZER") != std::string::npos);
  CHECK(ics_with_organizer(with, "Other", "other@example.fr") == with);  // one organizer
  CHECK(has_line(ics_with_organizer(ics, "", "rdv@seine-et-marne.fr"),
                 "ORGANIZER:mailto:rdv@seine-et-marne.fr"));
  CHECK(ics_with_organizer(ics, "CD77", "not an address") == ics);
  CHECK(ics_with_organizer("", "CD77", "rdv@seine-et-marne.fr").empty());
}

TEST_CASE("no calendar object without a valid start", "[mime][ics]") {
  CHECK(appointment_ics(json::object(), "1", "PUBLISH", kRevision).empty());
  CHECK(appointment_ics({{"starts_at", "jeudi 3 décembre"}}, "1", "PUBLISH", kRevision).empty());
  CHECK(appointment_ics({{"starts_at", 12}}, "1", "PUBLISH", kRevision).empty());
  CHECK(appointment_ics(json::array(), "1", "PUBLISH", kRevision).empty());
  // A malformed offset: undefined behaviour inside date::parse before the shape was checked
  // (found by fuzz/render_fuzz).
  CHECK(appointment_ics({{"starts_at", "2026-12-31T23:30:00-!0:00"}}, "1", "PUBLISH", kRevision)
            .empty());
  // Without seconds is still read.
  CHECK_FALSE(appointment_ics({{"starts_at", "2026-12-03T10:30+01:00"}}, "1", "PUBLISH", kRevision)
                  .empty());
}
