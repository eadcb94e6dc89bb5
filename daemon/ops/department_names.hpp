// The names of the French départements (INSEE's code officiel géographique), for pages that a
// citizen reads: "Seine-et-Marne", not "77". A département's `name:` in the YAML wins over it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rappel {

// "Seine-et-Marne" for "77", "La Réunion" for "974"; the code itself when it names none.
std::string department_name(std::string_view code);
// Every code, in INSEE's order ("01" ... "19", "2A", "2B", "21" ... "95", "971" ... "976").
const std::vector<std::string>& department_codes();

}  // namespace rappel
