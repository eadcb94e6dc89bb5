// See store.hpp.
#include "daemon/store/store.hpp"

#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "daemon/store/store_scripts.hpp"

namespace rappel {

namespace {

// The scripts' statistics argument: {"ttl": seconds, "days": {"*": "2026-03-14", "974": ...}}:
// which day each département's figures are counted on, and how long they are kept.
std::string stats_script_arg(const StoreSettings& settings, Millis now) {
  nlohmann::json days = nlohmann::json::object();
  days["*"] = local_day(settings.stats_zone, now);
  std::map<std::string, std::string> by_zone{{settings.stats_zone, days["*"]}};
  for (const auto& [department, zone] : settings.stats_zones) {
    auto it = by_zone.find(zone);
    if (it == by_zone.end()) it = by_zone.emplace(zone, local_day(zone, now)).first;
    days[department] = it->second;
  }
  // At least a day: EXPIRE with 0 would delete the figures just written.
  long long ttl = std::max<long long>(settings.stats_ttl.count(), 24 * 3600);
  return nlohmann::json{{"ttl", ttl}, {"days", days}}.dump();
}

// A script's batch as JSON. Invalid UTF-8 (a provider's answer cut mid-character, say) becomes
// U+FFFD instead of an exception: thrown here, inside a Redis reply callback, it would stop the
// daemon, and the same input would stop it again after every restart.
std::string script_json(const nlohmann::json& batch) {
  return batch.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string credit_text(double credits) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.15g", credits);
  return buf;
}

Store::Store(std::shared_ptr<RedisClient> redis, StoreSettings settings,
             std::function<Millis()> clock)
    : redis_(std::move(redis)), settings_(std::move(settings)), clock_(std::move(clock)) {}

std::vector<std::string> Store::common_args(Millis now) const {
  return {settings_.prefix,
          std::to_string(now),
          iso_utc(now),
          std::to_string(settings_.events_maxlen),
          std::to_string(settings_.content_ttl.count()),
          std::to_string(settings_.status_ttl.count())};
}

std::string Store::stats_arg(Millis now) const {
  return stats_script_arg(settings_, now);
}

// Declared for Redis Cluster routing: with a prefix in braces ("{rappel}") every key of rappel,
// these and the per-message ones the scripts build, hashes to the same slot.
std::vector<std::string> Store::keys() const {
  return {settings_.inbox(),
          settings_.events(),
          settings_.schedule(),
          settings_.inflight(),
          settings_.schedule(Priority::high),
          settings_.schedule(Priority::bulk)};
}

void Store::ensure_group(Done done) {
  // From id 0: entries added before the group existed are processed, not skipped.
  redis_->command({"XGROUP", "CREATE", settings_.inbox(), settings_.group, "0", "MKSTREAM"},
                  [done = std::move(done)](const redisReply*, const std::string& error) {
                    done(error.starts_with("BUSYGROUP") ? std::string() : error);
                  });
}

void Store::apply_intake(const std::vector<IntakeOp>& ops, Done done) {
  nlohmann::json batch = nlohmann::json::array();
  for (const auto& op : ops) {
    nlohmann::json j{{"entry", op.entry}, {"key", op.key}};
    switch (op.kind) {
      case IntakeOp::Kind::schedule:
        j["op"] = "schedule";
        j["department"] = op.department;
        j["event"] = op.event;
        j["channels"] = op.channels;
        j["priority"] = std::string(to_string(op.priority));
        j["send_at"] = iso_utc(op.send_at_ms);
        j["send_at_ms"] = std::to_string(op.send_at_ms);
        j["expires_at"] = op.expires_at_ms ? iso_utc(op.expires_at_ms) : "";
        j["expires_at_ms"] = std::to_string(op.expires_at_ms);
        j["content"] = op.content;
        break;
      case IntakeOp::Kind::cancel:
        j["op"] = "cancel";
        break;
      case IntakeOp::Kind::reject:
        j["op"] = "reject";
        j["department"] = op.department;
        j["event"] = op.event;
        j["channels"] = op.channels.empty() ? nlohmann::json::array() : nlohmann::json(op.channels);
        j["error"] = op.error;
        break;
    }
    batch.push_back(std::move(j));
  }
  Millis now = clock_();
  auto args = common_args(now);
  args.push_back(settings_.group);
  args.push_back(script_json(batch));
  args.push_back(stats_arg(now));
  redis_->eval(
      scripts::intake(), keys(), args,
      [done = std::move(done)](const redisReply*, const std::string& error) { done(error); });
}

void Store::read_inbox(RedisClient& via, const std::string& consumer, const std::string& from,
                       const InboxRead& limits, RedisCallback done) {
  via.eval(
      scripts::read_inbox(), {settings_.inbox()},
      {settings_.group, consumer, from, std::to_string(limits.count), std::to_string(limits.bytes),
       std::to_string(limits.max_payload), std::to_string(limits.max_entry)},
      std::move(done));
}

namespace {

Millis score(const redisReply* r) {
  std::string s = reply_string(r);
  return s.empty() ? 0 : static_cast<Millis>(std::stod(s));
}

ClaimedMessage parse_claimed(const redisReply* row) {
  ClaimedMessage m;
  if (row->type != REDIS_REPLY_ARRAY || row->elements < 9) return m;
  m.id = reply_string(row->element[0]);
  m.key = reply_string(row->element[1]);
  m.channel = reply_string(row->element[2]);
  m.department = reply_string(row->element[3]);
  m.event = reply_string(row->element[4]);
  m.content = reply_string(row->element[5]);
  m.attempt = static_cast<int>(reply_integer(row->element[6]));
  m.send_at_ms = reply_integer(row->element[7]);
  m.expires_at_ms = reply_integer(row->element[8]);
  if (row->elements >= 11) {
    m.previous_status = reply_string(row->element[9]);
    m.pinned_provider = reply_string(row->element[10]);
  }
  if (row->elements >= 12)
    m.priority = priority_from_string(reply_string(row->element[11])).value_or(Priority::normal);
  if (row->elements >= 13) m.unknown_attempts = static_cast<int>(reply_integer(row->element[12]));
  return m;
}

}  // namespace

void Store::claim(int limit, std::chrono::milliseconds lease, double lower_share,
                  std::function<void(Claim, const std::string& error)> done) {
  Millis now = clock_();
  auto args = common_args(now);
  args.push_back(std::to_string(limit));
  args.push_back(std::to_string(lease.count()));
  args.push_back(stats_arg(now));
  args.push_back(std::to_string(lower_share));
  // Rounds each lower priority's share of a batch up or down at random, so that its expected
  // share is exact even for batches of one (a daemon with one free slot claims one at a time).
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  args.push_back(std::to_string(std::uniform_real_distribution<double>(0, 1)(rng)));
  redis_->eval(
      scripts::claim(), keys(), args,
      [done = std::move(done)](const redisReply* reply, const std::string& error) {
        Claim claim;
        if (!error.empty() || !reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) {
          done(std::move(claim), error.empty() ? "unexpected claim reply" : error);
          return;
        }
        const redisReply* rows = reply->element[0];
        for (size_t i = 0; i < rows->elements; ++i)
          claim.messages.push_back(parse_claimed(rows->element[i]));
        claim.next_due_ms = score(reply->element[1]);
        claim.next_lease_ms = score(reply->element[2]);
        done(std::move(claim), {});
      });
}

void Store::renew_leases(const std::vector<std::string>& ids, std::chrono::milliseconds lease,
                         Done done) {
  std::string deadline = std::to_string(clock_() + lease.count());
  std::vector<std::string> argv{"ZADD", settings_.inflight(), "XX"};
  argv.reserve(3 + 2 * ids.size());
  for (const auto& id : ids) {
    argv.push_back(deadline);
    argv.push_back(id);
  }
  redis_->command(
      argv, [done = std::move(done)](const redisReply*, const std::string& error) { done(error); });
}

void Store::complete(const std::vector<Completion>& outcomes, Done done) {
  nlohmann::json batch = nlohmann::json::array();
  for (const auto& c : outcomes) {
    nlohmann::json j{{"id", c.id},
                     {"attempt", c.attempt},
                     {"status", c.status},
                     {"provider", c.provider},
                     {"error", c.error}};
    if (!c.provider_message_id.empty()) j["provider_message_id"] = c.provider_message_id;
    if (c.segments) j["segments"] = c.segments;
    if (!c.encoding.empty()) j["encoding"] = c.encoding;
    if (c.parts) j["parts"] = c.parts;
    if (c.outcome_unknown) j["outcome_unknown"] = true;
    if (c.on_time) j["on_time"] = true;
    if (c.not_attempted) j["not_attempted"] = true;
    if (c.status == "deferred") {
      j["previous_status"] = c.previous_status;
      j["deferred"] = c.deferred;
    }
    if (c.status == "retrying" || c.status == "deferred") {
      j["next_attempt_ms"] = std::to_string(c.next_attempt_ms);
      j["next_attempt_at"] = iso_utc(c.next_attempt_ms);
    }
    batch.push_back(std::move(j));
  }
  Millis now = clock_();
  auto args = common_args(now);
  args.push_back(script_json(batch));
  args.push_back(std::to_string(settings_.receipt_index_ttl.count()));
  args.push_back(stats_arg(now));
  redis_->eval(
      scripts::complete(), keys(), args,
      [done = std::move(done)](const redisReply*, const std::string& error) { done(error); });
}

void Store::account_event(const std::string& status, const std::string& account,
                          const std::string& error, Done done) {
  Millis now = now_ms();
  redis_->command({"XADD",
                   settings_.events(),
                   "MAXLEN",
                   "~",
                   std::to_string(settings_.events_maxlen),
                   "*",
                   "id",
                   "",
                   "key",
                   "",
                   "channel",
                   "",
                   "department",
                   "",
                   "status",
                   status,
                   "attempt",
                   "0",
                   "provider",
                   account,
                   "provider_message_id",
                   "",
                   "error",
                   error,
                   "at",
                   iso_utc(now)},
                  [done = std::move(done)](const redisReply*, const std::string& e) { done(e); });
}

void Store::record_credit(const std::string& account, double credits, std::optional<long> low,
                          std::function<void(CreditCrossing, const std::string& error)> done) {
  auto args = common_args(clock_());
  args.push_back(account);
  args.push_back(credit_text(credits));
  args.push_back(low ? std::to_string(*low) : std::string());
  redis_->eval(scripts::credit(), keys(), args,
               [done = std::move(done)](const redisReply* reply, const std::string& error) {
                 long long r = error.empty() && reply ? reply_integer(reply) : 0;
                 done(r == 1   ? CreditCrossing::went_low
                      : r == 2 ? CreditCrossing::came_back
                               : CreditCrossing::none,
                      error);
               });
}

void Store::record_circuit(const std::string& account, const std::string& instance,
                           std::string_view state, Done done) {
  redis_->command({"HSET", settings_.account(account), "circuit:" + instance,
                   std::string(state) + " " + iso_utc(clock_())},
                  [done = std::move(done)](const redisReply*, const std::string& e) { done(e); });
}

void Store::apply_receipts(
    const std::string& account, const std::vector<Receipt>& receipts,
    std::function<void(std::vector<std::string> results, const std::string& error)> done) {
  nlohmann::json batch = nlohmann::json::array();
  for (const auto& r : receipts)
    batch.push_back({{"pmid", r.provider_message_id},
                     {"id", r.message_id},
                     {"state", r.state == ReceiptState::delivered ? "delivered" : "undelivered"},
                     {"provider_status", r.provider_status},
                     {"reason", r.reason}});
  Millis now = clock_();
  auto args = common_args(now);
  args.push_back(account);
  args.push_back(script_json(batch));
  args.push_back(std::to_string(settings_.parked_receipt_ttl.count()));
  args.push_back(stats_arg(now));
  redis_->eval(scripts::receipts(), keys(), args,
               [done = std::move(done)](const redisReply* reply, const std::string& error) {
                 std::vector<std::string> results;
                 if (error.empty() && reply && reply->type == REDIS_REPLY_ARRAY)
                   for (size_t i = 0; i < reply->elements; ++i)
                     results.push_back(reply_string(reply->element[i]));
                 done(std::move(results), error);
               });
}

}  // namespace rappel
