// French wording of an appointment's date and time, in the département's own time zone.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace rappel {

// From an ISO-8601 instant with offset ("2026-12-03T10:30:00+01:00", "...+0100", "...Z", with or
// without fractional seconds) and an IANA zone:
// {"date_short": "jeudi 3/12 à 10h30", "date_long": "jeudi 3 décembre 2026 à 10h30",
//  "time": "10h30", "weekday": "jeudi", "day_month": "3 décembre", "date": "03/12/2026"}.
// Wording rules (French usage, as people write it in an SMS):
//  - time: hours without leading zero, minutes on two digits, nothing after "h" on the hour:
//    "14h30", "9h05", "14h", "0h15".
//  - date_short: day without leading zero, month on two digits: "3/12", "29/03".
//  - date_long and day_month write the first of the month "1er": "mardi 1er décembre 2026".
//  - names of days and months are lowercase.
// nullopt when the instant (no offset, impossible date, trailing text) or the zone is invalid.
std::optional<nlohmann::json> french_date_variables(std::string_view iso8601,
                                                    std::string_view timezone);

bool is_valid_timezone(std::string_view timezone);

// A calendar day or month as a French page writes it: "2026-12-01" -> "1er décembre 2026",
// "2026-12" -> "décembre 2026". The text itself when it is not shaped like one.
std::string french_calendar_day(std::string_view yyyy_mm_dd);
std::string french_month(std::string_view yyyy_mm);

}  // namespace rappel
