// See email_address.hpp.
#include "daemon/content/email_address.hpp"

#include <algorithm>

namespace rappel {

namespace {

bool is_atext_domain_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool is_valid_local_part(std::string_view local) {
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.')
    return false;
  if (local.find("..") != std::string_view::npos) return false;
  static constexpr std::string_view kAtextSpecials = "!#$%&'*+/=?^_`{|}~-.";
  return std::all_of(local.begin(), local.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kAtextSpecials.find(c) != std::string_view::npos;
  });
}

}  // namespace

bool is_valid_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253 || domain.find('.') == std::string_view::npos)
    return false;
  size_t start = 0;
  std::string_view label;
  while (start <= domain.size()) {
    size_t dot = domain.find('.', start);
    label = domain.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    if (!std::all_of(label.begin(), label.end(), is_atext_domain_char)) return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  // The top-level label is never all digits (that would be an IP address written bare).
  return !std::all_of(label.begin(), label.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_valid_email_address(std::string_view address) {
  if (address.size() > 254) return false;
  auto at = address.rfind('@');
  if (at == std::string_view::npos) return false;
  return is_valid_local_part(address.substr(0, at)) && is_valid_domain(address.substr(at + 1));
}

std::string envelope_address(std::string_view from) {
  size_t open = from.rfind('<');
  size_t close = from.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && open < close)
    from = from.substr(open + 1, close - open - 1);
  while (!from.empty() && from.front() == ' ') from.remove_prefix(1);
  while (!from.empty() && from.back() == ' ') from.remove_suffix(1);
  return std::string(from);
}

}  // namespace rappel
