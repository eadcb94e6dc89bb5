// The rate limiter alone against a real redis-server: its GCRA script run directly, then
// RateLimiter's answers (a go at the slot, or the message given back to Redis at its estimated
// turn). The limits are slow (one per minute or less), so what is asserted is which callback ran
// and when it is due, never how long anything took.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include "daemon/base/clock.hpp"
#include "daemon/net/redis_client.hpp"
#include "daemon/pipeline/rate_limiter.hpp"
#include "support/redis_fixture.hpp"

using namespace rappel;
using namespace rappel::test;

namespace {

// EVAL of the GCRA script: {granted, first slot offset (µs), ask again after (µs)}.
std::array<long long, 3> reserve(const RedisServer& redis, const std::string& key,
                                 long long interval_us, long long wanted) {
  ReplyPtr r = redis.command({"EVAL", gcra_script().source, "1", key, std::to_string(interval_us),
                              "1000000", std::to_string(wanted)});
  REQUIRE(r);
  REQUIRE(r->type == REDIS_REPLY_ARRAY);
  REQUIRE(r->elements == 3);
  return {r->element[0]->integer, r->element[1]->integer, r->element[2]->integer};
}

RateLimit per_minute(long count) {
  RateLimit limit;
  limit.count = count;
  limit.period = std::chrono::minutes(1);
  return limit;
}

// One instance's limiter on its own connection, and what its callbacks said.
struct Instance {
  boost::asio::io_context& io;
  std::shared_ptr<RedisClient> client;
  RateLimiter limiter;
  int gone = 0;
  std::vector<Millis> deferred;  // the `when` of each message given back, in order

  Instance(boost::asio::io_context& io, const RedisServer& redis)
      : io(io),
        client(std::make_shared<RedisClient>(io, parse_redis_url(redis.url()), "rate")),
        limiter(io, client, "rl") {
    client->start();
    REQUIRE(eventually([&] { return io.poll(), client->connected(); }));
  }
  ~Instance() {
    limiter.stop();
    client->stop();
  }
  void acquire(const RateLimit& limit, Priority priority = Priority::normal) {
    limiter.acquire(
        "sms-factor", limit, priority, 0.0, [this] { ++gone; },
        [this](Millis when) { deferred.push_back(when); });
  }
  void settle(size_t answers) {
    REQUIRE(eventually([&] {
      io.poll();
      return static_cast<size_t>(gone) + deferred.size() >= answers;
    }));
  }
};

}  // namespace

TEST_CASE("a rate of N a second waits about a second's worth locally", "[rate]") {
  RateLimit twenty;
  twenty.count = 20;
  CHECK(local_capacity(twenty) == 20);
  CHECK(local_capacity(per_minute(1)) == 1);  // at least one
  RateLimit huge;
  huge.count = 1'000'000;
  CHECK(local_capacity(huge) == 10'000);  // bounded
}

TEST_CASE("the GCRA script grants a horizon's worth of slots, then none until they pass",
          "[rate][lua]") {
  RedisServer redis;
  // One per 10 s, a 1 s horizon: one slot now, then the next is 10 s away.
  auto [granted, first_us, next_us] = reserve(redis, "rl:rate:a", 10'000'000, 5);
  CHECK(granted == 1);
  CHECK(first_us == 0);
  CHECK(next_us > 8'000'000);
  CHECK(next_us <= 9'000'000);
  auto [again, again_first, again_next] = reserve(redis, "rl:rate:a", 10'000'000, 5);
  CHECK(again == 0);
  CHECK(again_first > 8'000'000);  // the next free slot is still ahead
  CHECK(again_next > 7'000'000);
  // The key expires once its slots are past (PX: the booked time plus a second).
  long long ttl = redis.integer({"PTTL", "rl:rate:a"});
  CHECK(ttl > 9'000);
  CHECK(ttl <= 11'000);
  // Another account has its own budget.
  CHECK(reserve(redis, "rl:rate:b", 10'000'000, 5)[0] == 1);
  // 20 a second: 21 slots within the second ahead (now and every 50 ms).
  CHECK(reserve(redis, "rl:rate:c", 50'000, 100)[0] == 21);
}

TEST_CASE("over the local capacity, messages go back to Redis at their estimated turns", "[rate]") {
  RedisServer redis;
  boost::asio::io_context io;
  Instance one(io, redis);
  const Millis before = now_ms();
  for (int i = 0; i < 4; ++i) one.acquire(per_minute(1));
  one.settle(4);
  CHECK(one.gone == 1);  // the slot available now
  REQUIRE(one.deferred.size() == 3);
  // A minute apart, the first a minute ahead: never sooner than the limit allows.
  CHECK(one.deferred[0] >= before + 60'000);
  CHECK(one.deferred[1] == one.deferred[0] + 60'000);
  CHECK(one.deferred[2] == one.deferred[1] + 60'000);
}

TEST_CASE("a reminder takes the place of a campaign message waiting for the same account",
          "[rate][priority]") {
  RedisServer redis;
  boost::asio::io_context io;
  Instance one(io, redis);
  int bulk_gone = 0;
  std::vector<Millis> bulk_deferred;
  one.limiter.acquire(
      "sms-factor", per_minute(1), Priority::bulk, 0.0, [&] { ++bulk_gone; },
      [&](Millis when) { bulk_deferred.push_back(when); });
  one.acquire(per_minute(1), Priority::high);
  one.settle(1);
  REQUIRE(eventually([&] { return io.poll(), bulk_deferred.size() == 1; }));
  CHECK(one.gone == 1);
  CHECK(bulk_gone == 0);
  CHECK(bulk_deferred[0] >= now_ms() + 50'000);  // due after the reminder's slot
}

TEST_CASE("two instances share one budget: the second finds the slot taken", "[rate]") {
  RedisServer redis;
  boost::asio::io_context io;
  Instance one(io, redis);
  Instance two(io, redis);
  one.acquire(per_minute(1));
  one.settle(1);
  CHECK(one.gone == 1);
  two.acquire(per_minute(1));
  two.settle(1);
  CHECK(two.gone == 0);
  REQUIRE(two.deferred.size() == 1);
  CHECK(two.deferred[0] >= now_ms() + 50'000);  // the next slot of the minute, on Redis' clock
}
