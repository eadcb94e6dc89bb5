// The appointment as an iCalendar (RFC 5545) object, attached to emails so that people can add it
// to their calendar (METHOD:PUBLISH) and see it removed when it is cancelled (METHOD:CANCEL, same
// UID, higher SEQUENCE). Times are written in UTC: no VTIMEZONE block to get wrong, and every
// calendar shows them in the reader's own zone.
#include <chrono>
#include <cstdio>
#include <sstream>

#include <date/date.h>

#include "daemon/clock.hpp"
#include "daemon/french_dates.hpp"
#include "daemon/mime.hpp"

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

}  // namespace

std::string appointment_ics(const nlohmann::json& data, std::string_view uid,
                            std::string_view method) {
  if (!data.is_object()) return {};
  auto start = instant_of(string_field(data, "starts_at"));
  if (!start) return {};
  bool cancel = method == "CANCEL";
  auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
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
  line("DTSTAMP:" + utc_stamp(now));
  line("DTSTART:" + utc_stamp(*start));
  line("DTEND:" + utc_stamp(end_of(data, *start)));
  line("SEQUENCE:" + std::string(cancel ? "1" : "0"));
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
