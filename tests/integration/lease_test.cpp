// Leases, end to end: a living daemon keeps what it claimed, however slow the provider; only a
// dead daemon's messages go back to the queue (that half is tests/reliability/crash_test.cpp).
#include <catch2/catch.hpp>

#include "integration/scenario.hpp"
#include "support/provider_server.hpp"

using namespace rappel::test;
using namespace std::chrono_literals;

TEST_CASE("a provider slower than the lease gets the message once", "[integration][lease]") {
  // Answers after 5 s, well past the 2 s lease. Without renewal the next claim would take the
  // lease as abandoned, mark the message outcome_unknown and send it a second time.
  ProviderServer provider([](const RecordedRequest&) {
    return ScriptedResponse{
        200, R"({"status":1,"message":"OK","ticket":"14672468","sent":1,"invalid":0})", {}, 5s};
  });
  TestConfig config;
  config.extra_providers =
      "  sms-factor-77: {type: sms_factor, token: t0k3n, timeout: 10s, url: \"" +
      provider.url("/send") + "\"}\n";
  config.departments = "  \"77\": {sms: {provider: sms-factor-77}}\n";
  config.dispatch = "{lease: 2s, max_idle: 500ms}";
  Scenario s(config);
  s.start_daemon();
  s.enqueue(reminder("rdv-slow-provider"));
  REQUIRE(s.wait_status("rdv-slow-provider:sms", "sent", 20s));
  CHECK(provider.request_count() == 1);
  CHECK(s.status_trail("rdv-slow-provider:sms") ==
        std::vector<std::string>{"scheduled", "sending", "sent"});
  CHECK(s.message("rdv-slow-provider:sms")["outcome_unknown"] == "");
  CHECK(s.redis.integer({"ZCARD", "rappel:inflight"}) == 0);  // the renewed lease ended with it
}
