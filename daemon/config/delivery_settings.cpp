// See delivery_settings.hpp. Hand parsing is small here: the formats are two numbers and a unit.
#include "daemon/config/delivery_settings.hpp"

#include <charconv>
#include <stdexcept>

#include "daemon/base/config_node.hpp"

namespace rappel {

namespace {

// A non-negative decimal integer filling all of `text`.
std::optional<long> whole_number(std::string_view text) {
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0)
    return std::nullopt;
  return value;
}

// "HH:MM" (one or two digits for the hour), 00:00 to 23:59.
std::optional<int> minute_of_day(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2 || text.size() != colon + 3)
    return std::nullopt;
  auto hours = whole_number(text.substr(0, colon));
  auto minutes = whole_number(text.substr(colon + 1));
  if (!hours || !minutes || *hours > 23 || *minutes > 59) return std::nullopt;
  return static_cast<int>(*hours * 60 + *minutes);
}

}  // namespace

long long RateLimit::interval_us() const {
  long long us = std::chrono::duration_cast<std::chrono::microseconds>(period).count() / count;
  return us > 0 ? us : 1;
}

QuietHours parse_quiet_hours(std::string_view text) {
  size_t dash = text.find('-');
  std::optional<int> start, end;
  if (dash != std::string_view::npos) {
    start = minute_of_day(text.substr(0, dash));
    end = minute_of_day(text.substr(dash + 1));
  }
  if (!start || !end)
    throw std::invalid_argument("expected a local time window like \"20:00-08:00\"");
  if (*start == *end) throw std::invalid_argument("the window starts and ends at the same time");
  QuietHours q;
  q.start_minute = *start;
  q.end_minute = *end;
  return q;
}

RateLimit parse_rate_limit(std::string_view text) {
  size_t slash = text.find('/');
  const char* usage = "expected a rate like \"20/s\", \"1000/min\" or \"5000/h\"";
  if (slash == std::string_view::npos) throw std::invalid_argument(usage);
  auto count = whole_number(text.substr(0, slash));
  std::string_view unit = text.substr(slash + 1);
  RateLimit r;
  if (unit == "s")
    r.period = std::chrono::seconds(1);
  else if (unit == "min")
    r.period = std::chrono::minutes(1);
  else if (unit == "h")
    r.period = std::chrono::hours(1);
  else
    throw std::invalid_argument(usage);
  if (!count) throw std::invalid_argument(usage);
  if (*count < 1 || *count > 1'000'000)
    throw std::invalid_argument("the count must be 1 to 1000000");
  r.count = *count;
  return r;
}

AccountPolicy read_account_policy(ConfigMap& account) {
  AccountPolicy policy;
  if (auto text = account.optional_string("rate_limit")) {
    try {
      policy.rate_limit = parse_rate_limit(*text);
    } catch (const std::invalid_argument& e) {
      account.fail("rate_limit", e.what());
    }
  }
  if (auto c = account.optional_map("circuit")) {
    CircuitSettings& s = policy.circuit;
    s.failures = static_cast<int>(c->integer_or("failures", s.failures, 1, 1000));
    s.cooldown = c->duration_or("cooldown", s.cooldown);
    s.max_cooldown = c->duration_or("max_cooldown", std::max(s.max_cooldown, s.cooldown));
    if (s.cooldown.count() <= 0) c->fail("cooldown", "must be positive");
    if (s.max_cooldown < s.cooldown) c->fail("max_cooldown", "must be at least cooldown");
    c->reject_unknown_keys();
  }
  if (account.has("low_credit"))
    policy.low_credit = account.integer_or("low_credit", 0, 1, 1L << 40);
  if (account.has("credit_poll")) {
    policy.credit_poll = account.duration_or("credit_poll", policy.credit_poll_every());
    if (*policy.credit_poll < std::chrono::seconds(1))
      account.fail("credit_poll", "must be at least 1s");
  }
  return policy;
}

std::optional<QuietHours> read_quiet_hours(ConfigMap& department,
                                           std::optional<QuietHours> inherited) {
  std::optional<QuietHours> quiet = inherited;
  if (auto text = department.optional_string("quiet_hours")) {
    if (*text == "off" || text->empty()) {
      quiet.reset();
    } else {
      try {
        QuietHours parsed = parse_quiet_hours(*text);
        if (quiet) parsed.policy = quiet->policy;
        quiet = parsed;
      } catch (const std::invalid_argument& e) {
        department.fail("quiet_hours", e.what());
      }
    }
  }
  if (auto policy = department.optional_string("quiet_hours_policy")) {
    QuietHours::Policy p = QuietHours::Policy::defer;
    if (*policy == "send_if_expiring")
      p = QuietHours::Policy::send_if_expiring;
    else if (*policy != "defer")
      department.fail("quiet_hours_policy", "expected defer or send_if_expiring");
    if (!quiet) department.fail("quiet_hours_policy", "set without quiet_hours");
    quiet->policy = p;
  }
  return quiet;
}

}  // namespace rappel
