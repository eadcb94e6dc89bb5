// The appointment as an iCalendar (RFC 5545) object, attached to emails so that people can add it
// to their calendar (METHOD:PUBLISH), see it move when it is updated and removed when it is
// cancelled (METHOD:CANCEL): same UID, a SEQUENCE that rises with each revision, and the ORGANIZER
// RFC 5546 requires (clients match a cancellation by UID and organizer). Times are written in
// UTC: no VTIMEZONE block to get wrong, and every calendar shows them in the reader's own zone.
#include "daemon/content/ics.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>

#include <date/date.h>

#include "daemon/base/clock.hpp"
#include "daemon/content/email_address.hpp"
#include "daemon/content/french_dates.hpp"

namespace rappel {
namespace {

using Seconds = date::sys_seconds;

// starts_at / ends_at, read as intake and the French date words read them (clock.hpp).
std::optional<Seconds> instant_of(const std::string& text) {
  auto ms = parse_instant(text);
  if (!ms) return std::nullopt;
  return std::chrono::floor<std::chrono::seconds>(
      date::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(*ms)));
}

std::string utc_stamp(Seconds tp) {
  return date::format("%Y%m%dT%H%M%SZ", tp);
}

std::string string_field(const nlohmann::json& data, const char* key) {
  auto it = data.find(key);
  if (it == data.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

// RFC 5545 TEXT: backslash, semicolon, comma and line breaks escaped; other controls dropped.
std::string escape_text(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' || c == ';' || c == ',') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      if (i + 1 >= s.size() || s[i + 1] != '\n') out += "\\n";
    } else if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7F) {
      out += c;
    }
  }
  return out;
}

// One content line folded at 75 octets (continuations start with a space), never inside a UTF-8
// sequence, CRLF-terminated.
std::string folded(std::string_view line) {
  std::string out;
  size_t limit = 75, used = 0;
  for (size_t i = 0; i < line.size();) {
    size_t n = 1;
    while (i + n < line.size() && (static_cast<unsigned char>(line[i + n]) & 0xC0) == 0x80) ++n;
    if (used + n > limit) {
      out += "\r\n ";
      used = 1;
    }
    out.append(line.substr(i, n));
    used += n;
    i += n;
  }
  return out + "\r\n";
}

// The place may be a plain string or {"name": ..., "address": ...}.
std::string place_of(const nlohmann::json& data) {
  auto it = data.find("place");
  if (it == data.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (!it->is_object()) return {};
  std::string name = string_field(*it, "name"), address = string_field(*it, "address");
  if (name.empty() || address.empty()) return name + address;
  return name + ", " + address;
}

Seconds end_of(const nlohmann::json& data, Seconds start) {
  if (auto end = instant_of(string_field(data, "ends_at")); end && *end > start) return *end;
  int minutes = 30;
  auto it = data.find("duration_minutes");
  if (it != data.end() && it->is_number_integer()) minutes = it->get<int>();
  if (minutes <= 0 || minutes > 24 * 60) minutes = 30;
  return start + std::chrono::minutes(minutes);
}

// RFC 5545 param-value, always quoted: DQUOTE and controls have no place in a quoted-string.
std::string quoted_param(std::string_view s) {
  std::string out = "\"";
  for (char c : s)
    if (c != '"' && (static_cast<unsigned char>(c) >= 0x20 && c != 0x7F)) out += c;
  return out + "\"";
}

// The fixed epoch of SEQUENCE: seconds since then fit RFC 5545's INTEGER until 2094.
constexpr date::sys_days kSequenceEpoch = date::sys_days{date::year{2026} / 1 / 1};

}  // namespace

IcsRevision calendar_revision(const nlohmann::json& data, std::optional<std::int64_t> entry_ms,
                              std::string_view method, std::chrono::system_clock::time_point now) {
  auto at =
      entry_ms
          ? Seconds(std::chrono::floor<std::chrono::seconds>(std::chrono::milliseconds(*entry_ms)))
          : std::chrono::floor<std::chrono::seconds>(now);
  std::int64_t revision = (at - Seconds(kSequenceEpoch)).count();
  if (auto it = data.find("revision");
      data.is_object() && it != data.end() && it->is_number_integer())
    revision = it->get<std::int64_t>();  // intake checked its range
  revision = std::clamp<std::int64_t>(revision, 0, kMaxCalendarRevision);
  return {revision + (method == "CANCEL" ? 1 : 0), at};
}

std::string ics_with_organizer(std::string_view ics, std::string_view name,
                               std::string_view address) {
  static constexpr std::string_view kEvent = "BEGIN:VEVENT\r\n";
  auto at = ics.find(kEvent);
  if (at == std::string_view::npos || !is_valid_email_address(address) ||
      ics.find("\r\nORGANIZER") != std::string_view::npos)
    return std::string(ics);
  std::string line = "ORGANIZER";
  if (!name.empty()) line += ";CN=" + quoted_param(name);
  line += ":mailto:" + std::string(address);
  std::string out(ics.substr(0, at + kEvent.size()));
  return out + folded(line) + std::string(ics.substr(at + kEvent.size()));
}

std::string appointment_ics(const nlohmann::json& data, std::string_view uid,
                            std::string_view method, const IcsRevision& revision) {
  if (!data.is_object()) return {};
  auto start = instant_of(string_field(data, "starts_at"));
  if (!start) return {};
  bool cancel = method == "CANCEL";
  std::string service = string_field(data, "service");
  std::string place = place_of(data);
  std::string url = string_field(data, "url");

  std::string out;
  auto line = [&](std::string_view text) { out += folded(text); };
  line("BEGIN:VCALENDAR");
  line("VERSION:2.0");
  line("PRODID:-//RDV-Solidarites//rappel//FR");
  line(cancel ? "METHOD:CANCEL" : "METHOD:PUBLISH");
  line("BEGIN:VEVENT");
  line("UID:" + escape_text(uid) + "@rdv-solidarites.fr");
  line("DTSTAMP:" + utc_stamp(std::chrono::floor<std::chrono::seconds>(revision.stamp)));
  line("DTSTART:" + utc_stamp(*start));
  line("DTEND:" + utc_stamp(end_of(data, *start)));
  line("SEQUENCE:" + std::to_string(revision.sequence));
  line(service.empty() ? "SUMMARY:RDV" : "SUMMARY:" + escape_text("RDV " + service));
  if (!place.empty()) line("LOCATION:" + escape_text(place));
  if (!url.empty()) {
    line("DESCRIPTION:" + escape_text("Votre rendez-vous : " + url));
    if (url.find_first_of(" \r\n\t\"") == std::string::npos) line("URL:" + url);  // a URI, not TEXT
  }
  line(cancel ? "STATUS:CANCELLED" : "STATUS:CONFIRMED");
  line("END:VEVENT");
  line("END:VCALENDAR");
  return out;
}

}  // namespace rappel
