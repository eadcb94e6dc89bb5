// Message priorities: `high`, `normal`, `bulk`, and how a stream of slots is shared
// among them.
//
// A reminder due now must not wait behind a campaign of 2,000 `new_creneau_available` of the same
// département: among messages that are due, a higher priority goes first, both when claiming
// (one schedule zset per priority, daemon/store/lua/prelude.lua) and when waiting for a rate-limit
// slot (rate_limiter.cpp). Strict priority would starve `bulk` under a steady flow of reminders, so
// each lower priority that waits keeps a guaranteed share of the slots (the lane picker below and
// the claim script apply the same share). Priority never makes a message early: only due
// messages are ever compared.
#pragma once

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace rappel {

enum class Priority { high = 0, normal = 1, bulk = 2 };
constexpr int kPriorities = 3;

inline std::string_view to_string(Priority p) {
  switch (p) {
    case Priority::high:
      return "high";
    case Priority::bulk:
      return "bulk";
    case Priority::normal:
      break;
  }
  return "normal";
}

inline std::optional<Priority> priority_from_string(std::string_view s) {
  if (s == "high") return Priority::high;
  if (s == "normal") return Priority::normal;
  if (s == "bulk") return Priority::bulk;
  return std::nullopt;
}

// The schedule zset of a priority under the prefix. `normal` keeps the key rappel always had
// (`<prefix>:schedule`), so messages queued before priorities existed need no migration.
inline std::string schedule_key(const std::string& prefix, Priority p) {
  if (p == Priority::normal) return prefix + ":schedule";
  return prefix + ":schedule:" + std::string(to_string(p));
}

// Chooses which lane takes the next slot: the highest non-empty one, except that each lower
// non-empty lane earns `share` of a slot for every slot given while it waits, and takes one when
// it has earned a whole one. `credits` is the caller's state between calls. Returns -1 when every
// lane is empty.
template <typename NonEmpty>
int pick_lane(NonEmpty non_empty, std::array<double, kPriorities>& credits, double share) {
  int top = -1;
  for (int lane = 0; lane < kPriorities && top < 0; ++lane)
    if (non_empty(lane)) top = lane;
  if (top < 0) return -1;
  for (int lane = top + 1; lane < kPriorities; ++lane)
    if (non_empty(lane)) credits[lane] = std::min(credits[lane] + share, 1.0 + share);
  for (int lane = kPriorities - 1; lane > top; --lane) {
    if (non_empty(lane) && credits[lane] >= 1.0 - 1e-9) {  // 10 x 0.1 is 0.999...9
      credits[lane] -= 1.0;
      return lane;
    }
  }
  return top;
}

}  // namespace rappel
