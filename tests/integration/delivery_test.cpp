// Delivery guarantees end to end, the dispatch side: the real daemon and redis-server, and
// real HTTP servers standing in for SMS Factor and Netsize, driven to misbehave: 5xx and timeouts,
// 429 with Retry-After, 402 out of credit with a fallback, an outage, an unknown outcome. Each
// test asserts what the provider saw (request counts) against what Redis says (attempts, events).
#include <atomic>
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

std::vector<std::string> enqueue_many(Scenario& s, const std::string& prefix, int n,
                                      const std::string& department = "77") {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    s.enqueue(reminder(prefix + std::to_string(i), department));
    ids.push_back(prefix + std::to_string(i) + ":sms");
  }
  return ids;
}

}  // namespace

TEST_CASE("5xx and timeouts on a fraction of requests: sent or failed, attempts match requests",
          "[integration][delivery]") {
  export_secrets();
  Script script;
  // Of every four requests: an HTTP 503, a success, a timeout (answered after the client gave up),
  // a success.
  script.answer = [](size_t n) {
    if (n % 4 == 0) return ScriptedResponse{503, R"({"status":-99,"message":"Error"})"};
    if (n % 4 == 2) return ScriptedResponse{200, kSmsFactorOk, {}, 1500ms};
    return ScriptedResponse{200, kSmsFactorOk};
  };
  ProviderServer server(script.handler());
  TestConfig config;
  config.extra_providers = sms_factor_account(
      "sms-factor-77", server,
      ", connect_timeout: 200ms, timeout: 500ms, circuit: {cooldown: 200ms, max_cooldown: 400ms}");
  config.departments =
      "  \"77\": {sms: {provider: sms-factor-77}, retry: {base: 1s, cap: 1s, max_attempts: 3}}\n";
  Scenario s(config);
  s.start_daemon();
  auto ids = enqueue_many(s, "rdv-flaky-", 24);
  REQUIRE(eventually([&] { return tally(s, ids, {"sent", "failed"}).first == 24; }, 60s));
  auto [done, attempts] = tally(s, ids, {"sent", "failed"});
  INFO("requests " << server.request_count() << ", attempts " << attempts);
  CHECK(attempts == static_cast<long long>(server.request_count()));
  size_t timeouts = 0;
  for (size_t n = 0; n < server.request_count(); ++n) timeouts += n % 4 == 2;
  size_t unknown_events = 0, sent = 0;
  for (auto& e : s.redis.xrange("rappel:events")) {
    unknown_events += e["outcome_unknown"] == "1";
    sent += e["status"] == "sent";
  }
  // Each timeout is in the message's history as an attempt of unknown outcome.
  CHECK(unknown_events == timeouts);
  CHECK(sent >= 12);
  for (const auto& id : ids) {
    auto m = s.message(id);
    if (m["status"] == "failed" && m["error"].starts_with("outcome unknown after 2 attempts")) {
      CHECK(m["outcome_unknown"] == "1");  // two timeouts: retry.max_unknown_attempts
    } else if (m["status"] == "failed") {
      CHECK(m["attempts"] == "3");
      CHECK_THAT(m["error"], Catch::StartsWith("gave up after 3 attempts"));
    }
  }
}

TEST_CASE("an unreadable 200 is tried twice, then failed with outcome_unknown",
          "[integration][delivery][unknown]") {
  // Found from outside: a provider answering garbage with 200 got 10 requests per message
  // (max_attempts), each of which may have reached the person.
  export_secrets();
  Script script;
  script.answer = [](size_t) { return ScriptedResponse{200, "<html>Maintenance</html>"}; };
  ProviderServer server(script.handler());
  TestConfig config;
  // The circuit stays closed: this test is about attempts, not about waiting out a cool-down.
  config.extra_providers =
      sms_factor_account("sms-factor-77", server, ", circuit: {failures: 100}");
  config.departments =
      "  \"77\": {sms: {provider: sms-factor-77}, retry: {base: 1s, cap: 1s, max_attempts: 10}}\n";
  Scenario s(config);
  s.start_daemon();
  auto ids = enqueue_many(s, "rdv-garbled-", 3);
  REQUIRE(eventually([&] { return tally(s, ids, {"failed"}).first == 3; }, 30s));
  CHECK(server.request_count() == 6);
  for (const auto& id : ids) {
    auto m = s.message(id);
    CHECK(m["attempts"] == "2");
    CHECK(m["outcome_unknown"] == "1");
    CHECK(m["unknown_attempts"] == "2");
    CHECK_THAT(m["error"], Catch::StartsWith("outcome unknown after 2 attempts, not tried again"));
  }
  std::this_thread::sleep_for(1500ms);  // past the backoff: nothing is tried a third time
  CHECK(server.request_count() == 6);
}

TEST_CASE("retry.max_unknown_attempts sets how many unknown outcomes a message may have",
          "[integration][delivery][unknown]") {
  export_secrets();
  Script script;
  script.answer = [](size_t n) {
    return n < 3 ? ScriptedResponse{200, "not json"} : ScriptedResponse{200, kSmsFactorOk};
  };
  ProviderServer server(script.handler());
  TestConfig config;
  config.extra_providers = sms_factor_account("sms-factor-77", server);
  config.departments =
      "  \"77\": {sms: {provider: sms-factor-77}, retry: {base: 1s, cap: 1s, max_unknown_attempts: "
      "4}}\n";
  Scenario s(config);
  s.start_daemon();
  s.enqueue(reminder("rdv-third-time"));
  REQUIRE(s.wait_status("rdv-third-time:sms", "sent", 30s));
  auto m = s.message("rdv-third-time:sms");
  CHECK(m["attempts"] == "4");
  CHECK(m["unknown_attempts"] == "3");
}

TEST_CASE("429 with Retry-After: the next attempt waits at least that long",
          "[integration][delivery]") {
  export_secrets();
  Script script;
  script.answer = [](size_t n) {
    if (n == 0)
      return ScriptedResponse{429,
                              R"({"status":-99,"message":"Too many requests"})",
                              {{"Content-Type", "application/json"}, {"Retry-After", "3"}}};
    return ScriptedResponse{200, kSmsFactorOk};
  };
  ProviderServer server(script.handler());
  TestConfig config;
  config.extra_providers = sms_factor_account("sms-factor-77", server);
  config.departments =
      "  \"77\": {sms: {provider: sms-factor-77}, retry: {base: 1s, cap: 1s, max_attempts: 3}}\n";
  Scenario s(config);
  s.start_daemon();
  s.enqueue(reminder("rdv-429"));
  REQUIRE(s.wait_status("rdv-429:sms", "retrying"));
  auto m = s.message("rdv-429:sms");
  CHECK_THAT(m["error"], Catch::Contains("HTTP 429"));
  auto due = rappel::parse_iso8601(m["next_attempt_at"]);
  auto failed_at = rappel::parse_iso8601(m["updated_at"]);
  REQUIRE(due);
  REQUIRE(failed_at);
  // The due time is computed when the answer comes, updated_at when the outcome is written a few
  // ms later: more than 2 s apart says Retry-After won (the backoff alone is at most 1 s).
  CHECK(*due - *failed_at > 2000);
  REQUIRE(s.wait_status("rdv-429:sms", "sent"));
  CHECK(s.message("rdv-429:sms")["attempts"] == "2");
  std::lock_guard lock(script.mutex);
  REQUIRE(script.arrivals.size() == 2);
  CHECK(script.arrivals[1] - script.arrivals[0] >= 3s);
}

// 77 has a fallback, 13 has none; both use the same SMS Factor account, out of credit.
TEST_CASE("402 out of credit: circuit opens, loudly; the fallback takes over; no attempt burnt",
          "[integration][delivery][circuit]") {
  export_secrets();
  Script primary;
  std::atomic<bool> credited{false};
  primary.answer = [&](size_t) {
    if (credited) return ScriptedResponse{200, kSmsFactorOk};
    return ScriptedResponse{402, kSmsFactorNoCredit};
  };
  ProviderServer sms_factor(primary.handler());
  ProviderServer netsize([](const RecordedRequest&) { return ScriptedResponse{200, kNetsizeOk}; });
  TestConfig config;
  config.extra_providers = sms_factor_account("sms-factor-77", sms_factor,
                                              ", circuit: {cooldown: 300ms, max_cooldown: 600ms}") +
                           netsize_account("netsize-77", netsize);
  config.departments =
      "  \"77\": {sms: {provider: sms-factor-77, fallback: netsize-77}}\n"
      "  \"13\": {sms: {provider: sms-factor-77}}\n";
  Scenario s(config);
  s.start_daemon();
  auto ids = enqueue_many(s, "rdv-credit-77-", 8);
  REQUIRE(eventually([&] { return tally(s, ids, {"sent"}).first == 8; }));
  for (const auto& id : ids) {
    auto m = s.message(id);
    CHECK(m["provider"] == "netsize-77");
    CHECK(m["attempts"] == "1");  // the 402 was not charged
  }
  CHECK(netsize.request_count() == 8);
  auto opened = account_events(s, "provider_unavailable");
  REQUIRE(opened.size() == 1);
  CHECK(opened[0]["provider"] == "sms-factor-77");
  CHECK_THAT(opened[0]["error"], Catch::Contains("HTTP 402"));
  CHECK_THAT(s.all_logs(), Catch::Contains("provider account sms-factor-77 unavailable"));

  // Without a fallback the message waits, still scheduled, its attempt given back at each probe.
  s.enqueue(reminder("rdv-credit-13", "13"));
  REQUIRE(eventually([&] { return primary.count_for("rdv-credit-13:sms") >= 3; }, 20s));
  auto waiting = s.message("rdv-credit-13:sms");
  CHECK(waiting["status"] == "scheduled");
  CHECK(waiting["attempts"] == "0");
  CHECK(waiting["deferred"] == "provider_unavailable");
  CHECK_FALSE(waiting["due_at"].empty());
  CHECK(account_events(s, "provider_unavailable").size() == 1);  // once per opening

  credited = true;  // the département bought credits
  REQUIRE(s.wait_status("rdv-credit-13:sms", "sent"));
  CHECK(s.message("rdv-credit-13:sms")["provider"] == "sms-factor-77");
  CHECK(s.message("rdv-credit-13:sms")["attempts"] == "1");
  auto closed = account_events(s, "provider_available");
  REQUIRE(closed.size() == 1);
  CHECK(closed[0]["provider"] == "sms-factor-77");
  CHECK_THAT(s.all_logs(), Catch::Contains("provider account sms-factor-77 available again"));
  CHECK(s.all_logs().find("612345678") == std::string::npos);
}

TEST_CASE("an outage: no tight retry loop, and a message expiring meanwhile is never sent late",
          "[integration][delivery][circuit]") {
  export_secrets();
  Script script;
  std::atomic<bool> down{true};
  script.answer = [&](size_t) {
    if (down) return ScriptedResponse{503, "Service Unavailable", {{"Content-Type", "text/html"}}};
    return ScriptedResponse{200, kSmsFactorOk};
  };
  ProviderServer server(script.handler());
  TestConfig config;
  config.extra_providers = sms_factor_account(
      "sms-factor-77", server, ", circuit: {failures: 3, cooldown: 300ms, max_cooldown: 1200ms}");
  // Without the circuit, each of the 20 messages would be tried about every second.
  config.departments =
      "  \"77\": {sms: {provider: sms-factor-77}, retry: {base: 1s, cap: 1s, max_attempts: 20}}\n";
  Scenario s(config);
  s.start_daemon();
  auto ids = enqueue_many(s, "rdv-outage-", 20);
  json expiring = reminder("rdv-outage-expiring");
  expiring["expires_at"] = iso_in(2500ms);
  auto expires = std::chrono::steady_clock::now() + 2500ms;
  s.enqueue(expiring);
  std::this_thread::sleep_for(6s);
  size_t during = server.request_count();
  down = false;
  REQUIRE(eventually([&] { return tally(s, ids, {"sent"}).first == 20; }, 30s));
  std::cout << "requests during a 6 s outage of 21 messages: " << during << "\n";
  CHECK(during <= 21 + 12);  // the first tries, then about one probe per cool-down
  size_t expiring_requests = script.count_for("rdv-outage-expiring:sms");
  CHECK(tally(s, ids, {"sent"}).second + static_cast<long long>(expiring_requests) ==
        static_cast<long long>(server.request_count()));
  CHECK(s.status("rdv-outage-expiring:sms") == "expired");
  std::lock_guard lock(script.mutex);
  for (size_t i = 0; i < script.ids.size(); ++i)
    if (script.ids[i] == "rdv-outage-expiring:sms") CHECK(script.arrivals[i] < expires);
}
