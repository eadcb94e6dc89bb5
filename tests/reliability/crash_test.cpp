// Crashes on purpose: the daemon SIGKILLed in the middle of a drain, Redis restarted in the middle
// of one. What must hold (docs/contract.md): no message is lost, every one ends `sent`, and the
// only duplicates are messages that were with the provider when the daemon died, each marked
// outcome_unknown. The figures (duplicates per kill) are printed for docs/performance.md.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include <catch2/catch.hpp>

#include "support/reliability.hpp"

using namespace rappel::test;
using namespace std::chrono_literals;

namespace {

constexpr int kMaxInFlight = 64;
constexpr int kKills = 5;

// SIGKILLs the daemon `kills` times, each time once a further slice of the messages has reached
// the provider, restarting it after each kill; then lets the last one finish.
void drain_with_kills(int messages) {
  ReliabilityProvider provider;
  TestConfig config;
  config.extra_providers = provider.account("sms-factor-77", "timeout: 5s");
  config.departments = "  \"77\": {sms: {provider: sms-factor-77}}\n";
  // Short lease and reclaim delays, so that what a dead daemon held comes back within the test.
  config.dispatch =
      "{max_in_flight: " + std::to_string(kMaxInFlight) + ", claim_batch: 32, lease: 2s}";
  config.intake = "{reclaim_after: 2s}";
  Scenario s(config);
  BulkRedis redis(s.redis.port());
  s.start_daemon("crash-0");
  Batch batch = reminders("rdv-kill", messages);
  redis.enqueue(batch.payloads);

  for (int kill = 1; kill <= kKills; ++kill) {
    size_t threshold = static_cast<size_t>(messages) * kill / (kKills + 2);
    REQUIRE(eventually([&] { return provider.total() >= threshold; }, 120s));
    s.daemons.back()->signal(SIGKILL);
    s.daemons.back()->wait(10s);
    s.start_daemon("crash-" + std::to_string(kill));
  }
  bool drained = eventually([&] { return all_final(redis, batch.ids); }, 300s);
  if (!drained) UNSCOPED_INFO(unfinished_report(redis, batch.ids, s));
  REQUIRE(drained);

  auto counts = redis.count_statuses(batch.ids);
  CHECK(counts["sent"] == messages);
  auto per_message = provider.per_message();
  CHECK(per_message.size() == static_cast<size_t>(messages));  // every one reached the provider
  long duplicates = static_cast<long>(provider.total()) - messages;
  std::printf(
      "[reliability] %d messages, %d SIGKILLs: %ld duplicate request(s) at the provider "
      "(bound %d per kill)\n",
      messages, kKills, duplicates, kMaxInFlight);
  CHECK(duplicates <= static_cast<long>(kKills) * kMaxInFlight);
  // A message sent twice was with the provider when a daemon died: the backend is told so.
  std::vector<std::string> twice;
  for (auto& [id, n] : per_message)
    if (n > 1) twice.push_back(id);
  for (const auto& flag : redis.field_of(twice, "outcome_unknown")) CHECK(flag == "1");
}

}  // namespace

TEST_CASE("SIGKILL five times during a drain: nothing lost, duplicates within the in-flight window",
          "[reliability][kill]") {
  drain_with_kills(5000);
}

TEST_CASE("SIGKILL five times during a 20,000-message drain", "[reliability][kill][.heavy]") {
  drain_with_kills(20000);
}

TEST_CASE("Redis restarted (AOF) in the middle of a drain: nothing lost once it is back",
          "[reliability][redis-restart]") {
  ReliabilityProvider provider;
  TestConfig config;
  config.extra_providers = provider.account("sms-factor-77");
  config.departments = "  \"77\": {sms: {provider: sms-factor-77}}\n";
  config.dispatch = "{max_in_flight: 64, claim_batch: 32, lease: 5s}";
  Scenario s(config, /*append_only=*/true);
  BulkRedis redis(s.redis.port());
  s.start_daemon();
  constexpr int kMessages = 3000;
  Batch batch = reminders("rdv-redis-restart", kMessages);
  redis.enqueue(batch.payloads);

  REQUIRE(eventually([&] { return provider.total() >= kMessages / 3; }, 60s));
  s.redis.restart();
  REQUIRE(redis.reconnect());
  size_t at_restart = provider.total();
  auto back = std::chrono::steady_clock::now();
  bool drained = eventually([&] { return all_final(redis, batch.ids); }, 120s);
  if (!drained) UNSCOPED_INFO(unfinished_report(redis, batch.ids, s));
  REQUIRE(drained);
  auto drain_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - back).count();

  CHECK(redis.count_statuses(batch.ids)["sent"] == kMessages);
  CHECK(provider.per_message().size() == static_cast<size_t>(kMessages));
  CHECK(s.daemons.back()->running());
  std::printf(
      "[reliability] Redis restarted after %zu of %d requests: %zu duplicate(s), the rest final "
      "%.1f s after it was back\n",
      at_restart, kMessages, provider.total() - kMessages, drain_s);
}
