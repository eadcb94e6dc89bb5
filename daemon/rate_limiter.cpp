// See rate_limiter.hpp.
#include "daemon/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

namespace rappel {

namespace {

// Slots are reserved at most this far ahead, and about this much waits locally.
constexpr std::chrono::microseconds kHorizon{1'000'000};
constexpr std::chrono::milliseconds kRetryAfterRedisError{500};

// tat: the theoretical arrival time (µs, Redis clock) of the next free slot. Numbers are doubles
// in Lua: µs since the epoch (~2^51) are still exact.
constexpr const char* kGcra = R"LUA(
local interval = tonumber(ARGV[1])
local horizon = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then tat = now end
local granted = math.floor((now + horizon - tat) / interval) + 1
if granted < 0 then granted = 0 end
if granted > wanted then granted = wanted end
local next_tat = tat + granted * interval
if granted > 0 then
  redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX',
             math.floor((next_tat - now) / 1000) + 1000)
end
return {granted, tat - now, math.max(0, next_tat - horizon - now)}
)LUA";

}  // namespace

const LuaScript& gcra_script() {
  static const LuaScript script(kGcra);
  return script;
}

int local_capacity(const RateLimit& limit) {
  long long n = std::chrono::microseconds(kHorizon).count() / limit.interval_us();
  return static_cast<int>(std::clamp<long long>(n, 1, 10'000));
}

struct RateLimiter::Account {
  struct Waiter {
    Go go;
    Defer defer;
  };
  Account(boost::asio::io_context& io, std::string name) : name(std::move(name)), retry(io) {}
  std::string name;
  RateLimit limit;
  std::deque<Waiter> queue;
  bool asking = false;       // a reservation is on its way, or a timer will ask again
  Millis backlog_until = 0;  // estimated end of the demand already known (for deferrals)
  boost::asio::steady_timer retry;
};

RateLimiter::RateLimiter(boost::asio::io_context& io, std::shared_ptr<RedisClient> redis,
                         std::string prefix)
    : io_(io), redis_(std::move(redis)), prefix_(std::move(prefix)) {}

RateLimiter::~RateLimiter() = default;

void RateLimiter::acquire(const std::string& account, const RateLimit& limit, Go go, Defer defer) {
  if (stopped_) {
    boost::asio::post(io_, [defer = std::move(defer)] { defer(now_ms()); });
    return;
  }
  auto& a = accounts_[account];
  if (!a) a = std::make_shared<Account>(io_, account);
  a->limit = limit;
  Millis interval_ms = std::max<Millis>(1, limit.interval_us() / 1000);
  if (static_cast<int>(a->queue.size()) >= local_capacity(limit)) {
    // Over what waits here: back to Redis, each at its estimated turn.
    Millis now = now_ms();
    Millis when =
        std::max(a->backlog_until, now + static_cast<Millis>(a->queue.size()) * interval_ms);
    a->backlog_until = when + interval_ms;
    boost::asio::post(io_, [defer = std::move(defer), when] { defer(when); });
    return;
  }
  a->queue.push_back({std::move(go), std::move(defer)});
  if (!a->asking) boost::asio::post(io_, [this, a] { ask(a); });
  a->asking = true;
}

void RateLimiter::ask(const std::shared_ptr<Account>& a) {
  if (stopped_ || a->queue.empty()) {
    a->asking = false;
    return;
  }
  a->asking = true;
  std::vector<std::string> args{std::to_string(a->limit.interval_us()),
                                std::to_string(kHorizon.count()), std::to_string(a->queue.size())};
  redis_->eval(
      gcra_script(), {prefix_ + ":rate:" + a->name}, args,
      [this, a](const redisReply* reply, const std::string& error) {
        if (!error.empty() || !reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) {
          spdlog::warn("rate limit of {}: reservation failed: {}; retrying", a->name,
                       error.empty() ? "unexpected reply" : error);
          on_grant(a, 0, 0, std::chrono::microseconds(kRetryAfterRedisError).count());
          return;
        }
        on_grant(a, reply_integer(reply->element[0]), reply_integer(reply->element[1]),
                 reply_integer(reply->element[2]));
      });
}

void RateLimiter::on_grant(const std::shared_ptr<Account>& a, long long granted, long long first_us,
                           long long next_us) {
  if (stopped_) return;  // stop() deferred the queue; reserved slots are simply unused
  long long interval = a->limit.interval_us();
  for (long long i = 0; i < granted && !a->queue.empty(); ++i) {
    auto waiter = std::move(a->queue.front());
    a->queue.pop_front();
    auto delay = std::chrono::microseconds(std::max<long long>(0, first_us + i * interval));
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, delay);
    timer->async_wait([timer, go = std::move(waiter.go)](boost::system::error_code) { go(); });
  }
  if (a->queue.empty()) {
    a->asking = false;
    return;
  }
  if (next_us > kHorizon.count()) {
    // A slow limit (or a busy account): rather than hold messages (and their leases) that long,
    // give them back to Redis, each at its estimated turn.
    Millis when = now_ms() + next_us / 1000;
    Millis interval_ms = std::max<Millis>(1, interval / 1000);
    for (auto& w : a->queue) {
      boost::asio::post(io_, [defer = std::move(w.defer), when] { defer(when); });
      when += interval_ms;
    }
    a->queue.clear();
    a->backlog_until = std::max(a->backlog_until, when);
    a->asking = false;
    return;
  }
  // Other instances took the slots: ask again when the next one comes within the horizon.
  a->retry.expires_after(std::chrono::microseconds(std::max<long long>(next_us, 1000)));
  a->retry.async_wait([this, a](boost::system::error_code ec) {
    if (!ec) ask(a);
  });
}

void RateLimiter::stop() {
  stopped_ = true;
  for (auto& [name, a] : accounts_) {
    a->retry.cancel();
    auto queue = std::move(a->queue);
    a->queue.clear();
    for (auto& w : queue) boost::asio::post(io_, [defer = std::move(w.defer)] { defer(now_ms()); });
  }
}

}  // namespace rappel
