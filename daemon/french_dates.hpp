// French wording of an appointment's date and time, in the département's own time zone.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace rappel {

// From an ISO-8601 instant with offset ("2026-12-03T10:30:00+01:00" or "...Z") and an IANA zone:
// {"date_short": "jeudi 3/12 à 10h30", "date_long": "jeudi 3 décembre 2026 à 10h30",
//  "time": "10h30", "weekday": "jeudi", "day_month": "3 décembre", "date": "03/12/2026"}.
// nullopt when the instant or the zone is invalid.
std::optional<nlohmann::json> french_date_variables(std::string_view iso8601,
                                                    std::string_view timezone);

bool is_valid_timezone(std::string_view timezone);

}  // namespace rappel
