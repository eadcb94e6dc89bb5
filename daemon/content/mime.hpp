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

}  // namespace rappel
