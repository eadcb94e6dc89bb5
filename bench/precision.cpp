// Due-time precision: N SMS whose send_at are spread evenly over S seconds, starting a few seconds
// after they are enqueued; the provider stand-in (the tests' Boost.Beast server, answering like SMS
// Factor) notes when each request arrives. Every entry is applied before the first send_at, so
// the lag is the dispatcher's alone. The lag is arrival minus send_at, per message; a
// negative lag would be a message sent early, which is a bug, so the minimum is printed too.
#include <algorithm>
#include <cstdio>
#include <mutex>
#include <thread>

#include "benchmarks.hpp"
#include "stack.hpp"
#include "support/bulk_redis.hpp"
#include "support/provider_server.hpp"
#include "support/redis_fixture.hpp"

namespace rappel::bench {

namespace {

constexpr const char* kSmsFactorOk =
    R"({"status":1,"message":"OK","ticket":"14672468","cost":1,"credits":642,"total":1,"sent":1,)"
    R"("blacklisted":0,"invalid":0,"invalid_numbers":[],"npai":0,"not_allowed":0,"flood":0,)"
    R"("country_limit":0,"duplicated":0})";

struct Arrivals {
  std::mutex mutex;
  std::vector<std::pair<std::string, long long>> seen;  // gsmsmsid, wall ms
};

long long percentile(const std::vector<long long>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t at = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(at, sorted.size() - 1)];
}

}  // namespace

int precision(int messages, int spread_seconds) {
  std::printf("== precision: %d SMS spread over %d s; %s\n", messages, spread_seconds,
              machine_summary().c_str());
  auto arrivals = std::make_shared<Arrivals>();
  test::ProviderServer provider([arrivals](const test::RecordedRequest& request) {
    long long now = wall_ms();
    std::lock_guard lock(arrivals->mutex);
    auto id = request.query.find("gsmsmsid");
    arrivals->seen.emplace_back(id == request.query.end() ? "" : id->second, now);
    return test::ScriptedResponse{200, kSmsFactorOk};
  });
  test::RedisServer redis_server;
  DaemonSettings settings;
  settings.redis_url = redis_server.url();
  settings.providers = "  bench-sms: {type: sms_factor, token: bench-token, url: \"" +
                       provider.url("/send") + "\"}\n";
  Daemon daemon(settings);
  test::BulkRedis redis(redis_server.port());

  // The lag measured must be the dispatcher's, not intake's: every entry is applied (the inbox is
  // empty) before the first send_at. A generous head start: 5 s plus 2 ms per message.
  long long first = wall_ms() + 5000 + 2LL * messages;
  std::map<std::string, long long> due;  // gsmsmsid (= message id) -> send_at ms
  std::vector<std::string> payloads;
  for (int i = 0; i < messages; ++i) {
    long long send_at = first + static_cast<long long>(i) * spread_seconds * 1000 / messages;
    std::string key = "rdv-precision-" + std::to_string(i);
    due[key + ":sms"] = send_at;
    payloads.push_back(reminder_payload(key, "sms", iso_utc_ms(send_at)));
  }
  redis.enqueue(payloads);
  while (redis.integer({"XLEN", "rappel:inbox"}) > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  long long margin = first - wall_ms();
  std::printf("every entry applied %lld ms before the first send_at%s\n", margin,
              margin < 0 ? " (NOT in time: the lags below include intake)" : "");
  test::eventually(
      [&] {
        std::lock_guard lock(arrivals->mutex);
        return arrivals->seen.size() >= static_cast<size_t>(messages);
      },
      std::chrono::seconds(spread_seconds + 60));

  std::vector<long long> lags;
  {
    std::lock_guard lock(arrivals->mutex);
    for (auto& [id, at] : arrivals->seen)
      if (auto d = due.find(id); d != due.end()) lags.push_back(at - d->second);
  }
  std::sort(lags.begin(), lags.end());
  std::printf("received %zu of %d requests\n", lags.size(), messages);
  if (lags.empty()) return 1;
  std::printf("lag send_at -> provider: min %lld ms, p50 %lld ms, p99 %lld ms, max %lld ms\n",
              lags.front(), percentile(lags, 0.5), percentile(lags, 0.99), lags.back());
  std::printf("rappel peak RSS (VmHWM): %.1f MiB\n", status_kib(daemon.pid(), "VmHWM") / 1024.0);
  return lags.size() == static_cast<size_t>(messages) && lags.front() >= 0 ? 0 : 1;
}

}  // namespace rappel::bench
