// Phone numbers, through libphonenumber: parse with the département's region, keep SMS-capable
// ones.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rappel {

struct PhoneCheck {
  std::optional<std::string> e164;  // "+262692123456" when usable for SMS
  std::string error;                // why not, when e164 is empty (no digits of the number in it)
};

// `region`: "FR", "GP", "MQ", "GF", "RE", "YT"...; `allowed_regions`: regions whose numbers may
// receive SMS. Accepts mobile and fixed-line-or-mobile numbers only.
PhoneCheck normalize_sms_number(std::string_view raw, std::string_view region,
                                const std::vector<std::string>& allowed_regions);

// "+33612345678" -> "0612345678" (national format, digits only).
std::string national_number(std::string_view e164);

// "+33612345678" -> "33612345678".
std::string e164_digits(std::string_view e164);
// "+33612345678" -> "0612345678" throws std::invalid_argument when the number
// has no national form, which an HTTP adapter's build reports as a permanent failure.
std::string national_digits(std::string_view e164);

// The libphonenumber region of a French département code: "971" -> "GP", "974" -> "RE", "77" ->
// "FR".
std::string region_of_department(std::string_view department_code);

// France and its overseas départements: FR, GP, MQ, GF, RE, YT.
std::vector<std::string> default_allowed_regions();

}  // namespace rappel
