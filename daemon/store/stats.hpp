// Statistics per département and day: the public figures (`rappel stats`, GET /stats).
//
// The counting happens in Redis, inside the script that sets a final status
// (daemon/store/lua/complete.lua), so the figures of several daemons add up and a crash never
// counts a message twice or not at all. Keys (no personal data, no message id: only counters):
//   <prefix>:stats:<day>          set of the départements with figures that day
//   <prefix>:stats:<day>:<dept>   hash  "<channel>:<status>" -> count, "sms:segments" -> count,
//                                 "<channel>:on_time" -> count (sent within kOnTimeMs)
// The day is the département's local day (Europe/Paris, Indian/Reunion...), not UTC: a figure
// "on 14 March in La Réunion" means the Réunion calendar day, which is what a département reads
// and compares with its own records; UTC would move Réunion's evening and Guyane's night to the
// wrong day. The daemon, which knows the zones, passes the day of each zone to the scripts.
//
// This file holds what both readers share (the CLI synchronously, the HTTP server on the loop):
// the query, the fetching plan over a batch runner, the parsing and the output formats.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/base/clock.hpp"
#include "daemon/store/store.hpp"

namespace rappel {

// "Sent on time": the provider took the message within a minute of its send_at (the public
// page's share; quiet hours and open circuits make a message late, which is what it should say).
constexpr Millis kOnTimeMs = 60'000;

// Every day from `from` to `to` ("2026-03-14"), inclusive; empty if either is not a day.
std::vector<std::string> days_between(const std::string& from, const std::string& to);

// Final statuses in the order they are shown; delivered and undelivered are parts of sent.
const std::vector<std::string>& stats_statuses();

struct StatsQuery {
  std::string department;  // empty: all
  std::string from, to;    // YYYY-MM-DD, inclusive
};
constexpr int kMaxStatsDays = 1000;       // `rappel stats`
constexpr int kMaxPublicStatsDays = 366;  // GET /stats: anyone may ask, each day costs reads

// Checks the query and fills the defaults (to: today in `zone`, from: 30 days before `to`).
// Returns the error ("" when valid), for the CLI's stderr or a 400.
std::string normalize_stats_query(StatsQuery& query, Millis now, const std::string& zone,
                                  int max_days = kMaxStatsDays);

struct ChannelStats {
  std::map<std::string, long long> statuses;  // every final status, 0 when none
  long long segments = 0;                     // SMS only
  long long on_time = 0;  // sent within kOnTimeMs of their send_at (a part of sent)
};
struct StatsRow {
  std::string day, department;
  std::map<std::string, ChannelStats> channels;  // "sms", "email"
};

// Runs Redis commands (as argv) and gives each reply as a flat list of strings.
using RedisBatch = std::vector<std::vector<std::string>>;
using BatchReplies = std::vector<std::vector<std::string>>;
using BatchRunner = std::function<void(const RedisBatch& commands,
                                       std::function<void(BatchReplies, std::string error)> done)>;
using StatsDone = std::function<void(std::vector<StatsRow> rows, std::string error)>;

// Reads the figures of a normalized query: the day indexes, then the hashes.
void fetch_stats(const StatsQuery& query, const std::string& prefix, const BatchRunner& run,
                 StatsDone done);
// A runner over the daemon's asynchronous connection (all commands pipelined at once).
BatchRunner async_batch_runner(RedisClient& redis);

std::string stats_table(const std::vector<StatsRow>& rows);
std::string stats_csv(const std::vector<StatsRow>& rows);
nlohmann::json stats_json(const std::vector<StatsRow>& rows, const StatsQuery& query);

}  // namespace rappel
