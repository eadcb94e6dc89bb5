// The Lua scripts that change a message's state. Every state change of rappel happens inside one
// of these, atomically with the event it appends to <prefix>:events, which is what makes the
// public contract hold with several daemon instances and crashes at any point. Their texts are the
// files of daemon/store/lua/ (each one's ARGV are described at its top).
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "daemon/net/lua_script.hpp"

namespace rappel::scripts {

// ARGV common to every script: prefix, now_ms, now_iso, events_maxlen, content_ttl_s, status_ttl_s.
constexpr int kCommonArgs = 6;

// Each script's last ARGV is the statistics argument (stats_script_arg in store.cpp); the other
// ARGV after the common ones are described at the top of each file.
const LuaScript& intake();      // intake.lua
const LuaScript& read_inbox();  // read_inbox.lua: without the prelude nor the common ARGV
const LuaScript& claim();       // claim.lua
const LuaScript& complete();    // complete.lua
const LuaScript& credit();      // credit.lua: 1 when it added the event, 2 when it re-armed it
const LuaScript& receipts();    // receipts.lua

// Every script by its file's name ("claim"), for `rappel scripts` and the tests.
std::vector<std::pair<std::string_view, const LuaScript*>> all();

}  // namespace rappel::scripts
