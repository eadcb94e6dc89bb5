// The appointment as an iCalendar (RFC 5545) object, attached to e-mails (see ics.cpp for what
// calendars do with it and why it is written this way).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace rappel {

// What makes a later calendar object of an appointment supersede the earlier ones (RFC 5546
// §2.1.5): a higher SEQUENCE, or the same one and a later DTSTAMP.
struct IcsRevision {
  std::int64_t sequence = 0;
  std::chrono::system_clock::time_point stamp;  // DTSTAMP, whole seconds
};

// data.revision's largest value: SEQUENCE is an RFC 5545 INTEGER (< 2^31) and a cancellation
// adds 1.
inline constexpr std::int64_t kMaxCalendarRevision = 2147483646;

// The revision of an appointment's calendar object without the backend counting: data.revision
// when given, else the seconds since 2026-01-01T00:00:00Z of the inbox entry (`entry_ms`; `now`
// when unknown), which rise with every entry the backend writes. A cancellation (method CANCEL) is
// one higher, so that it supersedes every invitation written before it, even in the same second.
// DTSTAMP is the entry's time: a retried message carries the same object.
IcsRevision calendar_revision(const nlohmann::json& data, std::optional<std::int64_t> entry_ms,
                              std::string_view method, std::chrono::system_clock::time_point now);

// An iCalendar object for the appointment in `data` (starts_at, optional ends_at /
// duration_minutes, service, place, url). method "PUBLISH" or "CANCEL"; uid stable per appointment.
// Empty when starts_at is missing or unparsable: the email then goes without the attachment.
// Without ORGANIZER: build_email adds it (ics_with_organizer), from the address the email is from.
std::string appointment_ics(const nlohmann::json& data, std::string_view uid,
                            std::string_view method, const IcsRevision& revision);

// `ics` with "ORGANIZER;CN=name:mailto:address" in its event (RFC 5546 requires it in PUBLISH and
// CANCEL), unless it has one; unchanged when the address is not valid.
std::string ics_with_organizer(std::string_view ics, std::string_view name,
                               std::string_view address);

}  // namespace rappel
