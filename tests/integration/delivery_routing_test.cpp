// Delivery guarantees end to end, the routing half: quiet hours in the département's
// zone, a rate limit shared by two daemon instances, a message pinned to the provider that may
// already have sent it, and a lease that ran out recorded as an unknown outcome.
#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#include <catch2/catch.hpp>

#include "daemon/base/clock.hpp"
#include "integration/delivery_support.hpp"

using namespace rappel::test;
using namespace rappel::test::delivery;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string hh_mm(long minute_of_day) {
  char buf[8];
  snprintf(buf, sizeof buf, "%02ld:%02ld", (minute_of_day % 1440) / 60, minute_of_day % 60);
  return buf;
}

bool has_event(Scenario& s, const std::string& id, const std::string& field,
               const std::string& value) {
  for (auto& e : events_of(s, id))
    if (e[field] == value) return true;
  return false;
}

}  // namespace

TEST_CASE("quiet hours: deferred to the window's end, visibly; expiring ones as configured",
          "[integration][delivery][quiet]") {
  // A window that contains now and ends in 30 minutes, wrapping past midnight (UTC is the zone,
  // so the test computes the end without a time zone library).
  rappel::Millis now = rappel::now_ms();
  rappel::Millis minute = now / 60'000;
  long m = static_cast<long>(minute % 1440);
  std::string window = hh_mm(m + 60) + "-" + hh_mm(m + 30);
  std::string expected_end = rappel::iso_utc((minute + 30) * 60'000);
  TestConfig config;
  config.departments = "  \"77\": {timezone: UTC, quiet_hours: \"" + window +
                       "\"}\n"
                       "  \"13\": {timezone: UTC, quiet_hours: \"" +
                       window + "\", quiet_hours_policy: send_if_expiring}\n";
  Scenario s(config);
  s.start_daemon();
  json expiring_77 = reminder("rdv-quiet-77-expiring", "77");
  expiring_77["expires_at"] = iso_in(10min);
  json expiring_13 = reminder("rdv-quiet-13-expiring", "13");
  expiring_13["expires_at"] = iso_in(10min);
  for (const json& entry : {reminder("rdv-quiet-77", "77"), expiring_77, expiring_13})
    s.enqueue(entry);

  REQUIRE(eventually([&] { return s.message("rdv-quiet-77:sms")["deferred"] == "quiet_hours"; }));
  auto waiting = s.message("rdv-quiet-77:sms");
  CHECK(waiting["status"] == "scheduled");
  CHECK(waiting["due_at"] == expected_end);
  CHECK(waiting["attempts"] == "0");
  CHECK(waiting["provider"].empty());
  auto last = events_of(s, "rdv-quiet-77:sms").back();
  CHECK(last["status"] == "scheduled");
  CHECK(last["due_at"] == expected_end);
  CHECK(s.redis.integer({"ZSCORE", "rappel:schedule", "rdv-quiet-77:sms"}) ==
        *rappel::parse_iso8601(expected_end));

  // Expiring before the window ends: "defer" expires it, "send_if_expiring" sends it now.
  REQUIRE(s.wait_status("rdv-quiet-77-expiring:sms", "expired"));
  CHECK_THAT(s.message("rdv-quiet-77-expiring:sms")["error"], Catch::Contains("quiet hours"));
  CHECK(s.message("rdv-quiet-77-expiring:sms")["attempts"] == "0");
  REQUIRE(s.wait_status("rdv-quiet-13-expiring:sms", "sent"));
  CHECK(s.message("rdv-quiet-13-expiring:sms")["attempts"] == "1");
  CHECK(s.status("rdv-quiet-77:sms") == "scheduled");
}

TEST_CASE("a rate limit shared by two daemons holds at the provider; nothing fails for it",
          "[integration][delivery][rate]") {
  export_secrets();
  Script script;
  script.answer = [](size_t) { return ScriptedResponse{200, kNetsizeOk}; };
  ProviderServer server(script.handler());
  TestConfig config;
  config.dispatch = "{claim_batch: 16}";
  config.extra_providers = netsize_account("netsize-77", server, ", rate_limit: \"30/s\"");
  config.departments = "  \"77\": {sms: {provider: netsize-77}}\n";
  Scenario s(config);
  s.start_daemon("a");
  s.start_daemon("b");
  const int n = 150;
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    s.enqueue(reminder("rdv-rate-" + std::to_string(i)));
    ids.push_back("rdv-rate-" + std::to_string(i) + ":sms");
  }
  REQUIRE(eventually([&] { return tally(s, ids, {"sent"}).first == n; }, 60s));
  CHECK(tally(s, ids, {"sent"}).second == n);  // one attempt each: waiting burnt none
  REQUIRE(server.request_count() == n);

  std::lock_guard lock(script.mutex);
  auto& t = script.arrivals;
  double seconds = std::chrono::duration<double>(t.back() - t.front()).count();
  double rate = (n - 1) / seconds;
  size_t busiest = 0;  // the most requests in any one second
  for (size_t i = 0, j = 0; i < t.size(); ++i) {
    while (j < t.size() && t[j] - t[i] < 1s) ++j;
    busiest = std::max(busiest, j - i);
  }
  std::cout << "shared rate limit 30/s over two daemons: " << rate << " requests/s over " << seconds
            << " s, busiest second " << busiest << "\n";
  CHECK(rate <= 30 * 1.15);
  for (auto& d : s.daemons) CHECK_THAT(d->log(), Catch::Contains("sending rdv-rate-"));
}

TEST_CASE("an unknown outcome pins the message to its provider, even with a fallback",
          "[integration][delivery][circuit]") {
  export_secrets();
  Script primary;
  // The first request is answered after the client gave up: it may have gone out.
  primary.answer = [](size_t n) {
    return ScriptedResponse{200, kSmsFactorOk, {}, n == 0 ? 1500ms : 0ms};
  };
  ProviderServer sms_factor(primary.handler());
  ProviderServer netsize([](const RecordedRequest&) { return ScriptedResponse{200, kNetsizeOk}; });
  TestConfig config;
  config.extra_providers =
      sms_factor_account("sms-factor-77", sms_factor,
                         ", connect_timeout: 200ms, timeout: 500ms, circuit: {failures: 1, "
                         "cooldown: 3s}") +
      netsize_account("netsize-77", netsize);
  config.departments =
      "  \"77\": {sms: {provider: sms-factor-77, fallback: netsize-77}, retry: {base: 1s, cap: "
      "1s}}\n";
  Scenario s(config);
  s.start_daemon();
  s.enqueue(reminder("rdv-pinned"));
  REQUIRE(s.wait_status("rdv-pinned:sms", "retrying"));
  CHECK(s.message("rdv-pinned:sms")["pinned_provider"] == "sms-factor-77");
  // The circuit of sms-factor-77 is open: a new message goes to the fallback...
  s.enqueue(reminder("rdv-not-pinned"));
  REQUIRE(s.wait_status("rdv-not-pinned:sms", "sent"));
  CHECK(s.message("rdv-not-pinned:sms")["provider"] == "netsize-77");
  // ...but the pinned one waits for sms-factor-77 and goes through it again.
  REQUIRE(s.wait_status("rdv-pinned:sms", "sent"));
  auto m = s.message("rdv-pinned:sms");
  CHECK(m["provider"] == "sms-factor-77");
  CHECK(m["outcome_unknown"] == "1");
  CHECK(m["attempts"] == "2");
  CHECK(primary.count_for("rdv-pinned:sms") == 2);
  CHECK(netsize.request_count() == 1);
  CHECK(has_event(s, "rdv-pinned:sms", "deferred", "provider_unavailable"));
  bool unknown_recorded = false;
  for (auto& e : events_of(s, "rdv-pinned:sms"))
    unknown_recorded |= e["status"] == "retrying" && e["outcome_unknown"] == "1" &&
                        e["provider"] == "sms-factor-77";
  CHECK(unknown_recorded);
}

TEST_CASE("a lease that ran out is an attempt of unknown outcome in the events",
          "[integration][delivery]") {
  // A living daemon renews its leases (lease_test.cpp); one that is frozen (a paused VM, a stuck
  // host) cannot, and another instance then takes the message over while the first request may
  // still reach the provider.
  export_secrets();
  Script script;
  script.answer = [](size_t n) {
    return ScriptedResponse{200, kSmsFactorOk, {}, n == 0 ? 2500ms : 0ms};
  };
  ProviderServer server(script.handler());
  TestConfig config;
  config.dispatch = "{lease: 1s}";
  config.extra_providers = sms_factor_account("sms-factor-77", server, ", timeout: 10s");
  config.departments = "  \"77\": {sms: {provider: sms-factor-77}}\n";
  Scenario s(config);
  auto& frozen = s.start_daemon("test-a");
  s.enqueue(reminder("rdv-lease"));
  REQUIRE(eventually([&] { return server.request_count() == 1; }, 10s));
  frozen.signal(SIGSTOP);
  s.start_daemon("test-b");
  REQUIRE(s.wait_status("rdv-lease:sms", "sent"));
  frozen.signal(SIGCONT);
  std::this_thread::sleep_for(3s);  // the first, late answer reaches test-a: it must change nothing
  CHECK(frozen.running());
  auto m = s.message("rdv-lease:sms");
  CHECK(m["status"] == "sent");
  CHECK(m["attempts"] == "2");
  CHECK(m["outcome_unknown"] == "1");
  CHECK(server.request_count() == 2);
  CHECK(has_event(s, "rdv-lease:sms", "outcome_unknown", "1"));
}

TEST_CASE("a slow rate limit gives waiting messages back to Redis instead of outliving leases",
          "[integration][delivery][rate]") {
  export_secrets();
  ProviderServer server([](const RecordedRequest&) { return ScriptedResponse{200, kNetsizeOk}; });
  TestConfig config;
  config.dispatch = "{lease: 3s}";  // a lease must outlast a send: the provider's timeout + 1 s
  config.extra_providers = netsize_account("netsize-77", server, ", rate_limit: \"60/min\"");
  config.departments = "  \"77\": {sms: {provider: netsize-77}}\n";
  Scenario s(config);
  s.start_daemon();
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    s.enqueue(reminder("rdv-slow-" + std::to_string(i)));
    ids.push_back("rdv-slow-" + std::to_string(i) + ":sms");
  }
  REQUIRE(eventually([&] { return tally(s, ids, {"sent"}).first == 4; }, 30s));
  CHECK(tally(s, ids, {"sent"}).second == 4);
  CHECK(server.request_count() == 4);
  int deferred = 0;
  for (const auto& id : ids) {
    CHECK(s.message(id)["outcome_unknown"].empty());  // no lease ran out while waiting
    deferred += has_event(s, id, "deferred", "rate_limit");
  }
  CHECK(deferred >= 1);  // one waits in the daemon, the others in Redis
}
