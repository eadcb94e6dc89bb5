// Whether a code names a French département: 01 to 95 but 20, 2A and 2B (Corsica), 971 to 976
// (overseas). The intake, the configuration and the statistics all ask it.
#pragma once

#include <string_view>

namespace rappel {

constexpr bool is_french_department_code(std::string_view code) {
  if (code == "2A" || code == "2B") return true;
  if (code.size() == 3 && code.starts_with("97")) return code[2] >= '1' && code[2] <= '6';
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (code.size() != 2 || !digit(code[0]) || !digit(code[1])) return false;
  int n = (code[0] - '0') * 10 + (code[1] - '0');
  return n >= 1 && n <= 95 && n != 20;
}

}  // namespace rappel
