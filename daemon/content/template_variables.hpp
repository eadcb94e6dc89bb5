// What a message template sees: the entry's data, the recipient's name and the French date words
// of the appointment (templates.hpp renders them; this only builds them).
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace rappel {

// The variables a template sees: every field of the entry's `data`, `name` (the recipient's name),
// `department_name`, and the French date variables derived from data.starts_at in `timezone`
// (see french_dates.hpp), e.g. date_short, date_long, time, weekday, day_month; the computed date
// variables win over fields of `data` with the same name. `name` comes from recipient.name when it
// is a string (otherwise data.name is kept). `phone_appointment` is true when
// data.phone_appointment is true or data.place is absent or blank, so that templates can write "RDV
// téléphonique".
nlohmann::json template_variables(const nlohmann::json& data, const nlohmann::json& recipient,
                                  std::string_view timezone, std::string_view department_name);

// Sample data for `check-config` and `render`: a realistic appointment, with the recipient's
// "name" included so that it can be used alone as `data`.
nlohmann::json sample_template_data();

}  // namespace rappel
