// The Lua scripts that change a message's state. Every state change of rappel happens inside one
// of these, atomically with the event it appends to <prefix>:events, which is what makes the
// public contract hold with several daemon instances and crashes at any point.
#pragma once

#include "daemon/redis_client.hpp"

namespace rappel::scripts {

// ARGV common to every script: prefix, now_ms, now_iso, events_maxlen, content_ttl_s, status_ttl_s.
constexpr int kCommonArgs = 6;

// Each script's last ARGV is the statistics argument (stats_script_arg in stats.hpp).
const LuaScript& intake();  // ARGV+: group, JSON array of schedule / cancel / reject ops, stats
// Not a state change, without the common ARGV: KEYS inbox; ARGV group, consumer, "0" or ">",
// count, bytes, max payload bytes, max entry bytes (see store_scripts.cpp).
const LuaScript& read_inbox();
const LuaScript& claim();     // ARGV+: limit, lease_ms, stats, lower share, rounding [0,1)
const LuaScript& complete();  // ARGV+: JSON array of outcomes of claimed messages, index TTL (s),
                              // stats
const LuaScript&
credit();  // ARGV+: account, credits, low_credit or ''; 1: event added, 2: re-armed
const LuaScript& receipts();  // ARGV+: account, JSON array of receipts, parked receipt TTL (s),
                              // stats

}  // namespace rappel::scripts
