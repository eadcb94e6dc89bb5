// Masking of phone numbers and email addresses for log lines.
//
// A log line must let an operator tell two recipients apart and recognise a number a person reads
// out on the phone, without the log itself becoming a directory of the people we write to. So we
// keep a few digits at each end and mask the middle, and we fail closed: anything we do not
// understand is masked entirely rather than echoed.
#include "daemon/content/redact.hpp"

#include <algorithm>

#include "daemon/content/utf8.hpp"

namespace rappel {

namespace {

bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}

// French numbers in E.164 (+33 then 9 digits) read as "+33 6** ** ** 78", the way people write
// them.
std::string mask_french_e164(std::string_view digits) {
  std::string out = "+33 ";
  out += digits[2];
  out += "** ** ** ";
  out += digits.substr(digits.size() - 2);
  return out;
}

// Any other number: at most the first 4 and last 2 digits, fewer on short numbers, so that at least
// half of the digits are always masked.
std::string mask_generic(bool plus, std::string_view digits) {
  const std::size_t n = digits.size();
  const std::size_t head = std::min<std::size_t>(4, n / 3);
  const std::size_t tail = std::min<std::size_t>(2, n / 4);
  std::string out = plus ? "+" : "";
  out += digits.substr(0, head);
  out.append(n - head - tail, '*');
  out += digits.substr(n - tail);
  return out;
}

// Bytes that never belong in an address we would echo (and could forge a log line).
bool is_unsafe_email_byte(unsigned char c) {
  return c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == '\\' || c == ',' ||
         c == ';';
}

// Length of the UTF-8 sequence starting with `lead`, so that we never cut a character in half.
std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xe) return 3;
  if ((lead >> 3) == 0x1e) return 4;
  return 0;
}

}  // namespace

std::string mask_phone(std::string_view phone) {
  if (phone.empty()) return "";
  const bool plus = phone.front() == '+';
  std::string digits;
  for (char c : phone)
    if (is_ascii_digit(c)) digits += c;
  if (digits.empty()) return "***";
  if (plus && digits.size() == 11 && digits.starts_with("33")) return mask_french_e164(digits);
  return mask_generic(plus, digits);
}

std::string mask_email(std::string_view email) {
  const auto at = email.find('@');
  if (at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos)
    return "***";
  const auto local = email.substr(0, at);
  const auto domain = email.substr(at + 1);
  if (local.empty() || domain.empty() || domain.front() == '.' || domain.back() == '.')
    return "***";
  if (std::any_of(email.begin(), email.end(),
                  [](char c) { return is_unsafe_email_byte(static_cast<unsigned char>(c)); }))
    return "***";
  const std::size_t first = utf8_length(static_cast<unsigned char>(local.front()));
  // A one-character local part would be revealed whole: mask it all.
  const bool show_first = first != 0 && first < local.size();
  return (show_first ? std::string(local.substr(0, first)) : std::string()) + "***@" +
         std::string(domain);
}

std::string provider_text(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size() && out.size() < 200) {
    // A run of digits, possibly written with + . - space separators, long enough to be a number.
    // Control characters separate too: they come out as spaces ("06\t12\t34..." must not become
    // "06 12 34..." in clear; found by fuzz/receipts_fuzz), and so do the no-break spaces of French
    // typography (U+00A0, U+202F) and the thin space (U+2009).
    auto separator_length = [&](size_t k) -> size_t {
      auto c = static_cast<unsigned char>(text[k]);
      if (c == ' ' || c == '.' || c == '-' || c < 0x20 || c == 0x7f) return 1;
      std::string_view rest = text.substr(k);
      if (rest.starts_with("\xC2\xA0")) return 2;
      if (rest.starts_with("\xE2\x80\xAF") || rest.starts_with("\xE2\x80\x89")) return 3;
      return 0;
    };
    size_t j = i, digits = 0;
    for (;;) {
      if (j >= text.size()) break;
      if (is_ascii_digit(text[j])) {
        ++digits;
        ++j;
      } else if (j == i && text[j] == '+') {
        ++j;
      } else if (size_t n = j > i ? separator_length(j) : 0) {
        j += n;
      } else {
        break;
      }
    }
    if (digits >= 6) {
      while (j > i && !is_ascii_digit(text[j - 1])) --j;  // keep a trailing separator
      out += "<number>";
      i = j;
      continue;
    }
    // One character at a time, never cut: bytes that are not UTF-8 (a Latin-1 "\xe9" from an
    // old mail server) become U+FFFD, so the text is always valid UTF-8 (Redis, JSON, logs).
    size_t n = utf8_length(text, i);
    std::string_view piece = n == 0 ? "\xEF\xBF\xBD" : text.substr(i, n);
    if (out.size() + piece.size() > 200) break;
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) piece = " ";
    out += piece;
    i += n == 0 ? 1 : n;
  }
  if (i < text.size()) out += "...";
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace rappel
