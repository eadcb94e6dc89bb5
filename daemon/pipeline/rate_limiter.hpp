// Per-account rate limits shared by every daemon instance, through Redis.
//
// A GCRA (the "generic cell rate algorithm" of ATM networks, as in redis-cell and Stripe's
// limiter) kept in one Redis key per account: the theoretical arrival time of the next message.
// Each round trip reserves a batch of evenly spaced send slots up to `horizon` ahead, on Redis'
// own clock (TIME), so instances whose clocks disagree still share one schedule; the daemon then
// sends each message at its slot. Nothing is ever sent before its slot, so the provider never sees
// more than the limit, whatever the number of instances.
//
// Messages over the limit wait and never fail. Only about `horizon` worth of them wait here (each
// one holds a max_in_flight slot); the rest go back to Redis, deferred at staggered estimated
// times, so a throttled account does not starve the other départements' messages.
//
// Waiting messages are kept per priority (priority.hpp): each slot goes to the highest priority
// waiting, but for the share each lower one keeps. A higher-priority message that finds the local
// queue full takes the place of a lower one (which goes back to Redis, due about when its turn
// would have come), so a reminder never waits behind a campaign of the same account.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/base/clock.hpp"
#include "daemon/base/priority.hpp"
#include "daemon/config/delivery_settings.hpp"
#include "daemon/net/redis_client.hpp"

namespace rappel {

// The GCRA reservation script. KEYS[1]: the account's key. ARGV: interval_us, horizon_us, wanted.
// Returns {granted, first_slot_offset_us, next_ask_after_us} (offsets from Redis' now).
const LuaScript& gcra_script();

// How many messages of `limit` wait locally (about one second's worth, at least 1).
int local_capacity(const RateLimit& limit);

class RateLimiter {
 public:
  using Go = std::function<void()>;                // send now
  using Defer = std::function<void(Millis when)>;  // give the message back to Redis, due `when`

  RateLimiter(boost::asio::io_context& io, std::shared_ptr<RedisClient> redis, std::string prefix);
  ~RateLimiter();

  // Calls exactly one of `go` (at the message's slot) or `defer`, never from inside acquire().
  // `lower_share`: the share of slots each lower priority keeps while higher ones wait.
  void acquire(const std::string& account, const RateLimit& limit, Priority priority,
               double lower_share, Go go, Defer defer);
  // Everything still waiting is deferred at once (the daemon is stopping).
  void stop();

 private:
  struct Account;
  void ask(const std::shared_ptr<Account>& a);
  void on_grant(const std::shared_ptr<Account>& a, long long granted, long long first_us,
                long long next_us);
  void defer_later(Defer defer, Millis when);

  boost::asio::io_context& io_;
  std::shared_ptr<RedisClient> redis_;
  std::string prefix_;
  std::map<std::string, std::shared_ptr<Account>> accounts_;
  bool stopped_ = false;
};

}  // namespace rappel
