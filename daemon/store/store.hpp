// The message store: rappel's public Redis contract, seen from the daemon.
//
// Typed operations over the Lua scripts of daemon/store/lua/. Each is one round trip, and each
// works on a batch (intake entries, claims, outcomes), because the cost per message is dominated
// by round trips, not by Redis' work.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/base/clock.hpp"
#include "daemon/base/priority.hpp"
#include "daemon/base/provider.hpp"
#include "daemon/net/redis_client.hpp"

namespace rappel {

struct StoreSettings {
  std::string prefix = "rappel";
  std::string group = "rappel";
  long events_maxlen = 1000000;
  std::chrono::seconds content_ttl{7 * 24 * 3600};   // personal data, after the final status
  std::chrono::seconds status_ttl{180 * 24 * 3600};  // the status record, after the final status
  std::chrono::seconds receipt_index_ttl{7 * 24 * 3600};  // provider message id -> our id
  std::chrono::seconds parked_receipt_ttl{3600};          // a report that came before its index
  // Statistics (stats.hpp): kept this long after a day's last count, by the département's day.
  std::chrono::seconds stats_ttl{400 * 24 * 3600};
  std::string stats_zone = "Europe/Paris";         // the day of départements not listed below
  std::map<std::string, std::string> stats_zones;  // département -> IANA zone, where different

  std::string inbox() const { return prefix + ":inbox"; }
  std::string events() const { return prefix + ":events"; }
  std::string schedule() const { return prefix + ":schedule"; }  // the normal priority's
  std::string schedule(Priority p) const { return schedule_key(prefix, p); }
  std::string inflight() const { return prefix + ":inflight"; }
  std::string message(const std::string& id) const { return prefix + ":msg:" + id; }
  std::string content(const std::string& id) const { return prefix + ":content:" + id; }
  std::string retrying() const { return prefix + ":retrying"; }
  // A provider account's credit and circuits (`rappel status --providers`).
  std::string account(std::string_view name) const {
    return prefix + ":account:" + std::string(name);
  }
  std::string credit_low(std::string_view name) const {
    return prefix + ":credit-low:" + std::string(name);
  }
  std::string rate(std::string_view name) const { return prefix + ":rate:" + std::string(name); }
};

// One intake entry turned into what the store applies (see intake_parse.hpp).
struct IntakeOp {
  enum class Kind { schedule, cancel, reject } kind = Kind::reject;
  std::string entry;  // the inbox stream entry id
  std::string key;
  std::string department;
  std::string event;
  std::vector<std::string> channels;
  Priority priority = Priority::normal;
  Millis send_at_ms = 0;
  Millis expires_at_ms = 0;  // 0: never
  std::string content;       // JSON {"recipient":..., "data":...}
  std::string error;         // for reject
};

struct ClaimedMessage {
  std::string id, key, channel, department, event, content;
  int attempt = 0;
  Millis send_at_ms = 0;
  Millis expires_at_ms = 0;
  std::string previous_status;  // scheduled or retrying: what a deferral goes back to
  std::string pinned_provider;  // set once an attempt had an unknown outcome: only this account
  int unknown_attempts = 0;     // earlier attempts whose outcome was unknown
  Priority priority = Priority::normal;
};

struct Claim {
  std::vector<ClaimedMessage> messages;
  Millis next_due_ms = 0;    // 0: nothing scheduled
  Millis next_lease_ms = 0;  // 0: nothing in flight
};

// What became of one claimed message.
struct Completion {
  std::string id;
  int attempt = 0;
  std::string department, channel;  // for logs and metrics; not sent to Redis
  // sent, retrying, failed, expired, or deferred: back to the schedule at next_attempt_ms in its
  // previous status, the attempt given back (quiet hours, open circuit, rate limit).
  std::string status;
  std::string provider;
  std::string provider_message_id;
  std::string error;
  Millis next_attempt_ms = 0;   // retrying, deferred
  bool not_attempted = false;   // no provider saw it: the claim's attempt is given back
  std::string previous_status;  // deferred
  std::string deferred;         // deferred: why (quiet_hours, provider_unavailable, rate_limit)
  int segments = 0;
  std::string encoding;
  int parts = 0;
  bool outcome_unknown = false;
  bool on_time = false;  // sent within kOnTimeMs of send_at (stats.hpp)
};

// A completion of this claim, to be given its status.
inline Completion completion_of(const ClaimedMessage& m) {
  Completion c;
  c.id = m.id;
  c.attempt = m.attempt;
  c.department = m.department;
  c.channel = m.channel;
  return c;
}

// A credit as the events and logs show it: 642, 9.5 (no trailing zeros).
std::string credit_text(double credits);

class Store {
 public:
  // `clock` gives the scripts' "now" (tests choose it to write statistics on chosen days).
  Store(std::shared_ptr<RedisClient> redis, StoreSettings settings,
        std::function<Millis()> clock = now_ms);

  const StoreSettings& settings() const { return settings_; }
  RedisClient& redis() { return *redis_; }
  std::shared_ptr<RedisClient> redis_ptr() const { return redis_; }

  using Done = std::function<void(const std::string& error)>;
  void ensure_group(Done done);
  void apply_intake(const std::vector<IntakeOp>& ops, Done done);
  // The next inbox entries for `consumer` (from "0": its pending ones; ">": new ones), at most
  // `limits.count` of them and about `limits.bytes` (one more entry at most), through `via` (the
  // intake's own connection). An entry above the size limits comes back as its sizes only.
  struct InboxRead {
    int count = 0;
    size_t bytes = 0;
    size_t max_payload = 0;
    size_t max_entry = 0;
  };
  void read_inbox(RedisClient& via, const std::string& consumer, const std::string& from,
                  const InboxRead& limits, RedisCallback done);
  // Due messages, higher priorities first, each lower one keeping `lower_share` of the batch.
  void claim(int limit, std::chrono::milliseconds lease, double lower_share,
             std::function<void(Claim, const std::string& error)> done);
  void complete(const std::vector<Completion>& outcomes, Done done);
  // Pushes the leases of messages this daemon still holds to now + `lease`. Only leases still
  // running are renewed: one that ended (outcome recorded, or requeued by a claim) stays ended.
  void renew_leases(const std::vector<std::string>& ids, std::chrono::milliseconds lease,
                    Done done);
  // An event about a provider account rather than a message (circuit opened or closed).
  void account_event(const std::string& status, const std::string& account,
                     const std::string& error, Done done);
  // The account's credit, recorded for `rappel status --providers` and checked against its
  // low_credit (when set): below it, a provider_low_credit event unless one was already added for
  // this crossing (by any instance); at or above it, re-armed.
  enum class CreditCrossing { none, went_low, came_back };
  void record_credit(const std::string& account, double credits, std::optional<long> low,
                     std::function<void(CreditCrossing, const std::string& error)> done);
  // This instance's circuit of the account, for `rappel status --providers` (circuits are per
  // instance: each records its own field, `circuit:<instance>`).
  void record_circuit(const std::string& account, const std::string& instance,
                      std::string_view state, Done done);
  // Delivery reports of one account (intermediate ones are the caller's to drop); `results` says
  // for each one: applied, ignored (it would not move the message forward), parked (its message
  // is not sent yet, or its index not written yet) or unknown.
  void apply_receipts(
      const std::string& account, const std::vector<Receipt>& receipts,
      std::function<void(std::vector<std::string> results, const std::string& error)> done);

 private:
  std::vector<std::string> common_args(Millis now) const;
  std::string stats_arg(Millis now) const;  // the scripts' last ARGV (see stats.hpp)
  std::vector<std::string> keys() const;

  std::shared_ptr<RedisClient> redis_;
  StoreSettings settings_;
  std::function<Millis()> clock_;
};

}  // namespace rappel
