// The one place that masks personal data before anything reaches a log line.
// Names and message text are never logged at all; these are for phone numbers and addresses.
#pragma once

#include <string>
#include <string_view>

namespace rappel {

std::string mask_phone(std::string_view phone);  // "+33612345678" -> "+33 6** ** ** 78"
std::string mask_email(std::string_view email);  // "camille@example.fr" -> "c***@example.fr"

}  // namespace rappel
