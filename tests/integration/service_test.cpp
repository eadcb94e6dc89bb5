// rappel as a systemd service, without systemd: the daemon started with NOTIFY_SOCKET pointing at
// a socket of the test (see support/notify_listener.hpp) and WATCHDOG_USEC/WATCHDOG_PID set as
// systemd sets them. The container the tests run in has no systemd as PID 1, so the protocol is
// checked at its boundary: the datagrams rappel sends. Reload and shutdown are checked where it
// matters, at a provider stand-in that counts each message it receives: none lost, none doubled.
#include <time.h>

#include <csignal>
#include <fstream>

#include <catch2/catch.hpp>

#include "integration/ops_support.hpp"

using namespace rappel::test;
using namespace std::chrono_literals;

namespace {

std::string status_of(NotifyListener& notify, int index) {
  auto m = notify.messages().at(size_t(index));
  return m.count("STATUS") ? m.at("STATUS") : "";
}

auto status_containing(const std::string& text) {
  return [text](const NotifyMessage& m) {
    return m.count("STATUS") && m.at("STATUS").find(text) != std::string::npos;
  };
}

unsigned long long monotonic_now_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000ULL + ts.tv_nsec / 1000ULL;
}

TestConfig config_for_77(const CountingProvider& provider, const std::string& sender,
                         const std::string& dispatch,
                         const std::string& account = "sms-factor-77") {
  TestConfig config;
  config.dispatch = dispatch;
  config.extra_providers = provider.account("sms-factor-77");
  config.departments = "  \"77\": {name: Seine-et-Marne, sms: {provider: " + account +
                       ", sender: " + sender + "}}\n";
  return config;
}

void rewrite_config(Scenario& s, TestConfig config) {
  config.redis_url = s.redis.url();
  config.outbox = s.dir + "/outbox";
  write_config(s.dir, config);
}

std::vector<std::string> enqueue_batch(Scenario& s, const std::string& prefix, int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    s.enqueue(reminder(prefix + "-" + std::to_string(i)));
    ids.push_back(prefix + "-" + std::to_string(i) + ":sms");
  }
  return ids;
}

}  // namespace

TEST_CASE("systemd hears READY only once Redis answers, then watchdog pings, RELOADING, STOPPING",
          "[integration][systemd]") {
  Scenario s;
  s.redis.stop();  // Redis is not there yet: rappel must say so, and not claim to be ready
  NotifyListener notify;
  ManagedDaemon daemon(s.config_path, "notify", s.dir + "/daemon.log", notify, 1s);

  std::string where = "127.0.0.1:" + std::to_string(s.redis.port()) + "/0";
  REQUIRE(notify.wait_for(status_containing("connecting to Redis at " + where)) >= 0);
  // The event loop runs (it pings the watchdog) while Redis is away, and READY=1 is not sent.
  int first_ping = notify.wait_for_key("WATCHDOG", 0, "1");
  REQUIRE(first_ping >= 0);
  REQUIRE(notify.wait_for_key("WATCHDOG", size_t(first_ping) + 1, "1") >= 0);
  CHECK(notify.count_key("READY") == 0);

  s.redis.start();
  int ready = notify.wait_for_key("READY", 0, "1");
  REQUIRE(ready >= 0);
  CHECK(status_of(notify, ready) == "dispatching, 0 in flight");
  CHECK_THAT(daemon.log(), Catch::Contains("systemd watchdog: pinging every 500 ms"));
  size_t pings = notify.count_key("WATCHDOG");
  REQUIRE(eventually([&] { return notify.count_key("WATCHDOG") >= pings + 2; }));

  // SIGHUP, as ExecReload=/bin/kill -HUP $MAINPID sends it.
  size_t mark = notify.messages().size();
  unsigned long long before_reload = monotonic_now_usec();
  daemon.process().terminate(SIGHUP);
  int reloading = notify.wait_for_key("RELOADING", mark, "1");
  REQUIRE(reloading >= 0);
  auto reload_message = notify.messages()[size_t(reloading)];
  REQUIRE(reload_message.count("MONOTONIC_USEC"));
  // CLOCK_MONOTONIC is one clock for the whole machine: the stamp falls within the test's window.
  unsigned long long stamp = std::stoull(reload_message.at("MONOTONIC_USEC"));
  CHECK(stamp >= before_reload);
  CHECK(stamp <= monotonic_now_usec());
  int reloaded = notify.wait_for_key("READY", size_t(reloading) + 1, "1");
  REQUIRE(reloaded >= 0);
  CHECK(status_of(notify, reloaded).find("reload refused") == std::string::npos);

  // SIGTERM: STOPPING=1, a status saying it drains, exit 0.
  mark = notify.messages().size();
  daemon.process().terminate(SIGTERM);
  int stopping = notify.wait_for_key("STOPPING", mark, "1");
  REQUIRE(stopping >= 0);
  CHECK_THAT(status_of(notify, stopping), Catch::StartsWith("draining, "));
  auto code = daemon.process().wait(30s);
  REQUIRE(code);
  CHECK(*code == 0);
}

TEST_CASE("reloads while messages flow: an invalid one is refused and said, none lost or doubled",
          "[integration][systemd][reload]") {
  CountingProvider provider(30ms);
  const std::string dispatch = "{max_in_flight: 8, claim_batch: 8}";
  Scenario s(config_for_77(provider, "RdvSoli", dispatch));
  NotifyListener notify;
  ManagedDaemon daemon(s.config_path, "reload", s.dir + "/daemon.log", notify);
  REQUIRE(notify.wait_for_key("READY", 0, "1") >= 0);

  auto ids = enqueue_batch(s, "rdv-77-avant", 200);
  REQUIRE(eventually([&] { return provider.server.request_count() >= 10; }));

  // A typo in the account name: the whole file is refused, the running configuration stays.
  rewrite_config(s, config_for_77(provider, "CD77", dispatch, "sms-factor-78"));
  size_t mark = notify.messages().size();
  daemon.process().terminate(SIGHUP);
  int refused = notify.wait_for(
      [](const NotifyMessage& m) {
        return m.count("READY") && status_containing("reload refused")(m);
      },
      mark);
  REQUIRE(refused >= 0);
  CHECK_THAT(status_of(notify, refused),
             Catch::Contains("no provider account named 'sms-factor-78'") &&
                 Catch::Contains("rappel.yaml:"));
  CHECK_THAT(daemon.log(), Catch::Contains("reload refused, keeping the running configuration"));
  auto middle = enqueue_batch(s, "rdv-77-pendant", 200);
  ids.insert(ids.end(), middle.begin(), middle.end());

  // The fix: the new sender takes effect for what is claimed after the reload.
  rewrite_config(s, config_for_77(provider, "CD77", dispatch));
  mark = notify.messages().size();
  daemon.process().terminate(SIGHUP);
  int reloaded = notify.wait_for_key("READY", notify.wait_for_key("RELOADING", mark, "1"), "1");
  REQUIRE(reloaded >= 0);
  CHECK(status_of(notify, reloaded).find("reload refused") == std::string::npos);
  auto after = enqueue_batch(s, "rdv-77-apres", 200);
  ids.insert(ids.end(), after.begin(), after.end());

  bool all_sent = eventually([&] { return count_with_status(s.redis, ids, "sent") == 600; }, 60s);
  INFO(status_summary(s.redis, ids) << "\n" << tail(daemon.log()));
  REQUIRE(all_sent);
  auto seen = provider.per_message();
  CHECK(seen.size() == 600);
  int doubled = 0;
  for (const auto& [id, count] : seen) doubled += count > 1;
  CHECK(doubled == 0);
  CHECK(provider.sender_of("rdv-77-avant-0:sms") == "RdvSoli");
  for (int i = 0; i < 200; i += 19)
    CHECK(provider.sender_of("rdv-77-apres-" + std::to_string(i) + ":sms") == "CD77");
  CHECK(daemon.process().running());
}

TEST_CASE("SIGTERM mid-flow: exit 0 within the grace, a restarted daemon sends the rest once",
          "[integration][systemd][shutdown]") {
  CountingProvider provider(200ms);
  Scenario s(
      config_for_77(provider, "RdvSoli", "{max_in_flight: 8, claim_batch: 8, shutdown_grace: 5s}"));
  auto ids = enqueue_batch(s, "rdv-77-arret", 150);
  NotifyListener notify;
  {
    ManagedDaemon first(s.config_path, "first", s.dir + "/first.log", notify);
    REQUIRE(eventually([&] { return provider.server.request_count() >= 8; }));
    first.process().terminate(SIGTERM);
    REQUIRE(notify.wait_for_key("STOPPING", 0, "1") >= 0);
    auto code = first.process().wait(30s);
    REQUIRE(code);
    CHECK(*code == 0);
    CHECK_THAT(first.log(), Catch::Contains("stopped cleanly"));
  }
  // Nothing left claimed: what was in flight finished (the provider answers within the grace).
  CHECK(s.redis.integer({"ZCARD", "rappel:inflight"}) == 0);
  CHECK(count_with_status(s.redis, ids, "sending") == 0);
  long long sent_by_first = count_with_status(s.redis, ids, "sent");
  CHECK(sent_by_first < 150);

  ManagedDaemon second(s.config_path, "second", s.dir + "/second.log", notify);
  bool all_sent = eventually([&] { return count_with_status(s.redis, ids, "sent") == 150; }, 60s);
  INFO(status_summary(s.redis, ids) << "\n" << tail(second.log()));
  REQUIRE(all_sent);
  auto seen = provider.per_message();
  CHECK(seen.size() == 150);
  for (const auto& [id, count] : seen) CHECK(count == 1);
}
