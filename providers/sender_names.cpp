// See sender_names.hpp.
#include "providers/sender_names.hpp"

namespace rappel {

namespace {
bool is_ascii_letter(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}
}  // namespace

std::optional<std::string> check_sender_name(std::string_view sender, const SenderRules& rules) {
  if (sender.empty()) return "the sender name is empty";
  bool all_digits = true, has_letter = false;
  for (char c : sender) {
    all_digits = all_digits && is_ascii_digit(c);
    has_letter = has_letter || is_ascii_letter(c);
  }
  if (all_digits) {
    if (!rules.numeric_allowed) return "numeric sender names are not supported by this provider";
    if (sender.size() > rules.max_numeric)
      return "a numeric sender name has at most " + std::to_string(rules.max_numeric) + " digits";
    return std::nullopt;
  }
  if (sender.size() > rules.max_alphanumeric)
    return "an alphanumeric sender name has at most " + std::to_string(rules.max_alphanumeric) +
           " characters";
  for (char c : sender) {
    bool ok = is_ascii_letter(c) || is_ascii_digit(c) || c == ' ' ||
              rules.punctuation.find(c) != std::string::npos;
    if (!ok)
      return "a sender name may only contain unaccented letters, digits and spaces" +
             (rules.punctuation.empty() ? std::string() : " and " + rules.punctuation);
  }
  if (!has_letter) return "an alphanumeric sender name needs at least one letter";
  return std::nullopt;
}

void read_sender_punctuation(ConfigMap& account, SenderRules& rules) {
  rules.punctuation = account.string_or("sender_punctuation", "");
  for (char c : rules.punctuation)
    if (is_ascii_letter(c) || is_ascii_digit(c) || static_cast<unsigned char>(c) < 0x21 ||
        static_cast<unsigned char>(c) > 0x7e)
      account.fail("sender_punctuation", "expected ASCII punctuation characters, like \".-\"");
}

std::string read_sender(ConfigMap& account, const SenderRules& rules, bool required) {
  std::string sender = required ? account.string("sender") : account.string_or("sender", "");
  if (!sender.empty())
    if (auto why = check_sender_name(sender, rules)) account.fail("sender", *why);
  return sender;
}

}  // namespace rappel
