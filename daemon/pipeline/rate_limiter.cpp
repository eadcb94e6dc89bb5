// See rate_limiter.hpp.
#include "daemon/pipeline/rate_limiter.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "daemon/lua_sources.hpp"

namespace rappel {

namespace {

// Slots are reserved at most this far ahead, and about this much waits locally.
constexpr std::chrono::microseconds kHorizon{1'000'000};
constexpr std::chrono::milliseconds kRetryAfterRedisError{500};

}  // namespace

const LuaScript& gcra_script() {
  static const LuaScript script(kLua_rate_limiter);
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
  double lower_share = 0;
  std::array<std::deque<Waiter>, kPriorities> lanes;  // by priority, high first
  std::array<double, kPriorities> credits{};          // pick_lane's state
  bool asking = false;  // a reservation is on its way, or a timer will ask again
  // Per priority: estimated end of the demand already known (for deferrals).
  std::array<Millis, kPriorities> backlog_until{};
  boost::asio::steady_timer retry;

  size_t waiting() const {
    size_t n = 0;
    for (const auto& lane : lanes) n += lane.size();
    return n;
  }
  // Messages waiting that go before one of priority `lane`.
  size_t ahead_of(int lane) const {
    size_t n = 0;
    for (int l = 0; l <= lane; ++l) n += lanes[l].size();
    return n;
  }
  Millis interval_ms() const { return std::max<Millis>(1, limit.interval_us() / 1000); }
  // The next waiter to get a slot (the account has some).
  Waiter take() {
    int lane = pick_lane([this](int l) { return !lanes[l].empty(); }, credits, lower_share);
    Waiter w = std::move(lanes[lane].front());
    lanes[lane].pop_front();
    return w;
  }
  // The lowest-priority waiter below `lane` that may give its place up, or -1. Each lower lane
  // keeps its share of the local queue, so a burst of reminders slows bulk without stopping it.
  int evictable_below(int lane, int capacity) const {
    auto kept = static_cast<size_t>(capacity * lower_share);
    for (int l = kPriorities - 1; l > lane; --l)
      if (lanes[l].size() > kept) return l;
    return -1;
  }
};

RateLimiter::RateLimiter(boost::asio::io_context& io, std::shared_ptr<RedisClient> redis,
                         std::string prefix)
    : io_(io), redis_(std::move(redis)), prefix_(std::move(prefix)) {}

RateLimiter::~RateLimiter() = default;

void RateLimiter::defer_later(Defer defer, Millis when) {
  boost::asio::post(io_, [defer = std::move(defer), when] { defer(when); });
}

void RateLimiter::acquire(const std::string& account, const RateLimit& limit, Priority priority,
                          double lower_share, Go go, Defer defer) {
  if (stopped_) return defer_later(std::move(defer), now_ms());
  auto& a = accounts_[account];
  if (!a) a = std::make_shared<Account>(io_, account);
  a->limit = limit;
  a->lower_share = lower_share;
  int lane = static_cast<int>(priority);
  int capacity = local_capacity(limit);
  if (static_cast<int>(a->waiting()) >= capacity) {
    Millis now = now_ms();
    if (int lower = a->evictable_below(lane, capacity); lower >= 0) {
      // Its place goes to this one: back to Redis, due about when its turn would have come.
      auto evicted = std::move(a->lanes[lower].back());
      a->lanes[lower].pop_back();
      defer_later(std::move(evicted.defer),
                  now + static_cast<Millis>(a->ahead_of(lower) + 1) * a->interval_ms());
    } else {
      // Over what waits here: back to Redis, at its estimated turn among its priority and above.
      Millis when = std::max(a->backlog_until[lane],
                             now + static_cast<Millis>(a->ahead_of(lane)) * a->interval_ms());
      a->backlog_until[lane] = when + a->interval_ms();
      return defer_later(std::move(defer), when);
    }
  }
  a->lanes[lane].push_back({std::move(go), std::move(defer)});
  if (!a->asking) boost::asio::post(io_, [this, a] { ask(a); });
  a->asking = true;
}

void RateLimiter::ask(const std::shared_ptr<Account>& a) {
  if (stopped_ || a->waiting() == 0) {
    a->asking = false;
    return;
  }
  a->asking = true;
  std::vector<std::string> args{std::to_string(a->limit.interval_us()),
                                std::to_string(kHorizon.count()), std::to_string(a->waiting())};
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
  for (long long i = 0; i < granted && a->waiting() > 0; ++i) {
    auto waiter = a->take();
    auto delay = std::chrono::microseconds(std::max<long long>(0, first_us + i * interval));
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, delay);
    timer->async_wait([timer, go = std::move(waiter.go)](boost::system::error_code) { go(); });
  }
  if (a->waiting() == 0) {
    a->asking = false;
    return;
  }
  if (next_us > kHorizon.count()) {
    // A slow limit (or a busy account): rather than hold messages (and their leases) that long,
    // give them back to Redis, each at its estimated turn, higher priorities first.
    Millis when = now_ms() + next_us / 1000;
    for (int lane = 0; lane < kPriorities; ++lane) {
      for (auto& w : a->lanes[lane]) {
        defer_later(std::move(w.defer), when);
        when += a->interval_ms();
      }
      a->lanes[lane].clear();
      a->backlog_until[lane] = std::max(a->backlog_until[lane], when);
    }
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
    for (auto& lane : a->lanes) {
      auto queue = std::move(lane);
      lane.clear();
      for (auto& w : queue) defer_later(std::move(w.defer), now_ms());
    }
  }
}

}  // namespace rappel
