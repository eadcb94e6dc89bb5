// A cancel or a reschedule that arrives while the message is `sending`, end to end: the real
// daemon and redis-server, and a real HTTP server standing in for SMS Factor that holds the
// request (then answers 503) so that the entry is applied in the middle of the attempt. The
// promise: the failed attempt does not bring the old message back; the cancel, or the new date and
// content, win. A reminder sent later for a cancelled appointment is the harm these tests guard.
#include <thread>

#include <catch2/catch.hpp>

#include "integration/delivery_support.hpp"

using namespace rappel::test;
using namespace rappel::test::delivery;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// The first request is held 3 s, then answered 503 (a transient failure); later ones succeed.
ScriptedResponse held_then_503(size_t n) {
  if (n == 0) return ScriptedResponse{503, R"({"status":-99,"message":"Error"})", {}, 3000ms};
  return ScriptedResponse{200, kSmsFactorOk};
}

// Every inbox entry applied (acknowledged and deleted in the script that applies it).
bool applied(Scenario& s) {
  return eventually([&] { return s.redis.integer({"XLEN", "rappel:inbox"}) == 0; }, 15s);
}

TestConfig sms_factor_config(const ProviderServer& server) {
  TestConfig config;
  config.extra_providers = sms_factor_account("sms-factor-77", server, ", timeout: 5s");
  config.departments =
      "  \"77\": {sms: {provider: sms-factor-77}, retry: {base: 1s, cap: 1s, max_attempts: 5}}\n";
  return config;
}

// A daemon whose reminder `key` is with the provider, held there (held_then_503): `sending`.
struct HeldAttempt {
  Script script;
  ProviderServer server;
  Scenario s;

  explicit HeldAttempt(const std::string& key)
      : server(script.handler()), s(sms_factor_config(server)) {
    script.answer = held_then_503;  // read per request: set before the first one
    export_secrets();
    s.start_daemon();
    s.enqueue(reminder(key));
    REQUIRE(eventually([&] { return script.count() == 1; }, 15s));
    REQUIRE(s.status(key + ":sms") == "sending");
  }
};

}  // namespace

TEST_CASE("a cancel that arrives while the SMS is with a failing provider is not sent on retry",
          "[integration][cancel-sending]") {
  HeldAttempt held("rdv-8101-reminder");  // the provider holds the first request
  auto& s = held.s;
  auto& server = held.server;
  std::string cancel = s.enqueue({{"op", "cancel"}, {"key", "rdv-8101-reminder"}});
  REQUIRE(applied(s));
  CHECK(s.status("rdv-8101-reminder:sms") == "sending");  // applied during the attempt
  CHECK(s.message("rdv-8101-reminder:sms")["cancel_requested"] == cancel);

  REQUIRE(eventually([&] { return s.status("rdv-8101-reminder:sms") != "sending"; }, 15s));
  std::this_thread::sleep_for(3s);  // past the retry (1 s) the 503 would have led to
  auto m = s.message("rdv-8101-reminder:sms");
  CHECK(m["status"] == "cancelled");
  CHECK(m["attempts"] == "1");
  CHECK(server.request_count() == 1);
  CHECK(s.redis.integer({"ZCARD", "rappel:schedule"}) == 0);
  CHECK(s.status_trail("rdv-8101-reminder:sms") ==
        std::vector<std::string>{"scheduled", "sending", "cancelled"});
  auto events = events_of(s, "rdv-8101-reminder:sms");
  CHECK(events.back()["cancel_requested"] == cancel);
  CHECK(s.redis.integer({"TTL", "rappel:content:rdv-8101-reminder:sms"}) > 0);  // retention runs
}

TEST_CASE("a reschedule that arrives while the SMS is with a failing provider sends the new one",
          "[integration][cancel-sending]") {
  HeldAttempt held("rdv-8102-reminder");
  auto& s = held.s;
  auto& server = held.server;
  // The appointment moved: another place, and the reminder is due in 3 s.
  json moved = reminder("rdv-8102-reminder");
  moved["data"]["place"] = "Maison des solidarités, Fontainebleau";
  moved["send_at"] = iso_in(3s);
  std::string entry = s.enqueue(moved);
  REQUIRE(applied(s));
  CHECK(s.status("rdv-8102-reminder:sms") == "sending");  // applied during the attempt
  CHECK(s.message("rdv-8102-reminder:sms")["reschedule_requested"] == entry);

  REQUIRE(s.wait_status("rdv-8102-reminder:sms", "sent", 20s));
  auto m = s.message("rdv-8102-reminder:sms");
  CHECK(m["send_at"] == moved["send_at"].get<std::string>());
  CHECK(m["intake_id"] == entry);
  CHECK(m["attempts"] == "2");
  CHECK(m.count("reschedule_requested") == 0);
  CHECK(s.redis.integer({"EXISTS", "rappel:pending:rdv-8102-reminder:sms"}) == 0);
  auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK_THAT(requests[0].query.at("text"), Catch::Contains("Melun"));
  CHECK_THAT(requests[1].query.at("text"), Catch::Contains("Fontainebleau"));
  // The failed attempt went straight back to `scheduled` with the new date, never `retrying`.
  CHECK(s.status_trail("rdv-8102-reminder:sms") ==
        std::vector<std::string>{"scheduled", "sending", "scheduled", "sending", "sent"});
}
