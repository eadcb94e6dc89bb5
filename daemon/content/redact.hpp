// The one place that masks personal data before anything reaches a log line.
// Names and message text are never logged at all; these are for phone numbers and addresses.
#pragma once

#include <string>
#include <string_view>

namespace rappel {

std::string mask_phone(std::string_view phone);  // "+33612345678" -> "+33 6** ** ** 78"
std::string mask_email(std::string_view email);  // "camille@example.fr" -> "c***@example.fr"

// The provider's own words, safe for logs and the database: runs of 6 or more digits (with the
// separators people write in numbers) become "<number>", control characters become spaces, bytes
// that are not UTF-8 become U+FFFD (the result is always valid UTF-8), and the text is cut at 200
// bytes on a character boundary.
// Every text a provider (HTTP or SMTP) says goes through it before Redis, an event or a log.
std::string provider_text(std::string_view text);

}  // namespace rappel
