// Email messages as RFC 5322 bytes: one builder serves the SMTP adapters and the file outbox, so
// what is tested in an .eml is exactly what an SMTP server receives.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/base/provider.hpp"

namespace rappel {

struct MimeOptions {
  std::string from;  // "RDV Solidarités <ne-pas-repondre@rdv-solidarites.fr>" or a bare address
  std::chrono::system_clock::time_point date;
  // e.g. X-Mailin-custom; a value that is one printable-ASCII word is written as is, unfolded.
  std::vector<std::pair<std::string, std::string>> extra_headers;
};

// multipart/alternative (text + html) inside multipart/mixed with the text/calendar part when
// email.ics is set; RFC 2047 subject and display names; Date; Message-ID derived from message.id
// (and the From domain) so that duplicates can be recognised.
std::string build_email(const Outbound& message, const MimeOptions& options);

// The Message-ID header value build_email uses, e.g. "<rdv-4521-reminder.email@rappel.example.fr>":
// message_token(id) at the From's domain.
std::string message_id_for(std::string_view id, std::string_view from);

// A message id made into a dot-atom that no other id gives ("rdv-4521:email" ->
// "rdv-4521.email", "a/b:email" -> "a=2Fb.email"): the left part of the Message-ID and the `file`
// outbox's file name. Only letters, digits, '-', '_', '.' and '=', never a leading or trailing dot.
std::string message_token(std::string_view id);

bool is_valid_email_address(std::string_view address);

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

// The bare address of a From setting for MAIL FROM: "RDV Solidarités <rdv@cd62.fr>" ->
// "rdv@cd62.fr".
std::string envelope_address(std::string_view from);

}  // namespace rappel
