// Status callbacks end to end: the real daemon posts final statuses to a real HTTP server
// standing in for the booking backend. The backend is first absent (connection refused), then
// answers 503, then recovers: every final status must reach it exactly once per status change,
// with the bearer token, and nothing may stay pending in the `callbacks` group.
#include <algorithm>
#include <atomic>
#include <cstdlib>

#include <catch2/catch.hpp>

#include "integration/scenario.hpp"
#include "support/http_test_client.hpp"
#include "support/provider_server.hpp"

using namespace rappel::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* kBackendToken = "jeton-backend-rdvs-9c41d2e7";
constexpr const char* kReceiptSecret = "jeton-recus-cd77-5f0e2b8a91";

ScriptedResponse sms_factor_ok(const RecordedRequest&) {
  static std::atomic<int> ticket{52000};
  return {200, R"({"status":1,"message":"OK","ticket":")" + std::to_string(ticket++) +
                   R"(","sent":1,"invalid":0})"};
}

TestConfig config_with_callbacks(const ProviderServer& sms, unsigned short backend_port,
                                 int max_attempts) {
  setenv("RAPPEL_TEST_CALLBACK_TOKEN", kBackendToken, 1);
  TestConfig c;
  c.extra_providers = "  smsf: {type: sms_factor, token: jeton-api, url: \"" + sms.url("/send") +
                      "\", receipts: {secret: " + kReceiptSecret + "}}\n";
  c.departments = "  \"77\": {sms: {provider: smsf, sender: RdvSoli}}\n";
  c.extra = "callbacks: {url: \"http://127.0.0.1:" + std::to_string(backend_port) +
            "/api/rappel/statuts\", bearer_token: \"${RAPPEL_TEST_CALLBACK_TOKEN}\", "
            "backoff_base: 50ms, backoff_cap: 200ms, max_attempts: " +
            std::to_string(max_attempts) + "}\n";
  return c;
}

long long pending_callbacks(Scenario& s) {
  auto reply = s.redis.command({"XPENDING", "rappel:events", "callbacks"});
  return reply && reply->elements > 0 ? reply->element[0]->integer : -1;
}

}  // namespace

TEST_CASE("callbacks reach a backend that is down, then failing, then back: each status once",
          "[callbacks_e2e]") {
  ProviderServer sms(sms_factor_ok);
  unsigned short backend_port = free_tcp_port();  // nothing listens there yet: refused
  Scenario s(config_with_callbacks(sms, backend_port, 1000));
  auto& daemon = s.start_daemon();

  s.enqueue(reminder("rdv-7001-rappel"));
  json later = reminder("rdv-7002-rappel");
  later["send_at"] = iso_in(2h);
  s.enqueue(later);
  s.enqueue({{"op", "cancel"}, {"key", "rdv-7002-rappel"}});
  REQUIRE(s.wait_status("rdv-7001-rappel:sms", "sent"));
  REQUIRE(s.wait_status("rdv-7002-rappel:sms", "cancelled"));
  REQUIRE(eventually([&] {
    return s.all_logs().find(" not taken (") != std::string::npos;  // refused, retrying
  }));

  // The backend comes up, answers 503 three times, then takes everything.
  std::atomic<int> seen{0};
  ProviderServer backend(
      [&](const RecordedRequest&) {
        return seen++ < 3 ? ScriptedResponse{503, R"({"error":"maintenance"})"}
                          : ScriptedResponse{200, R"({"ok":true})"};
      },
      backend_port);
  auto taken = [&] {
    auto all = backend.requests();
    return std::vector<RecordedRequest>(all.begin() + std::min<size_t>(3, all.size()), all.end());
  };
  REQUIRE(eventually([&] { return taken().size() >= 2; }));

  std::string ticket = s.message("rdv-7001-rappel:sms")["provider_message_id"];
  auto receipt =
      http_post(daemon.http_port(), std::string("/v1/receipts/smsf?token=") + kReceiptSecret,
                json{{"status", 3}, {"campaign_id", ticket}}.dump());
  REQUIRE(receipt.status == 200);
  REQUIRE(eventually([&] { return taken().size() >= 3 && pending_callbacks(s) == 0; }));

  std::vector<std::pair<std::string, std::string>> statuses;
  for (const auto& r : taken()) {
    CHECK(r.method == "POST");
    CHECK(r.path == "/api/rappel/statuts");
    CHECK(r.headers.at("authorization") == std::string("Bearer ") + kBackendToken);
    json body = json::parse(r.body);
    statuses.emplace_back(body["id"], body["status"]);
    CHECK(body["department"] == "77");
    CHECK(body["channel"] == "sms");
    CHECK_FALSE(body["event_id"].get<std::string>().empty());
    CHECK_FALSE(body["at"].get<std::string>().empty());
    CHECK_FALSE(body["created_at"].get<std::string>().empty());
    CHECK(r.body.find("+33612345678") == std::string::npos);  // no personal data
    CHECK(r.body.find("Camille") == std::string::npos);
  }
  // In stream order: sent before delivered (the cancellation may come before either).
  CHECK(statuses.back() == std::pair<std::string, std::string>{"rdv-7001-rappel:sms", "delivered"});
  std::sort(statuses.begin(), statuses.end());
  CHECK(statuses ==
        std::vector<std::pair<std::string, std::string>>{{"rdv-7001-rappel:sms", "delivered"},
                                                         {"rdv-7001-rappel:sms", "sent"},
                                                         {"rdv-7002-rappel:sms", "cancelled"}});
  CHECK(s.all_logs().find(kBackendToken) == std::string::npos);
}

TEST_CASE("a callback that keeps failing is given up after its attempts and acknowledged",
          "[callbacks_e2e]") {
  ProviderServer sms(sms_factor_ok);
  ProviderServer backend([](const RecordedRequest&) {
    return ScriptedResponse{500, R"({"error":"panne"})"};
  });
  Scenario s(config_with_callbacks(sms, backend.port(), 3));
  s.start_daemon();
  s.enqueue(reminder("rdv-7003-rappel"));
  REQUIRE(s.wait_status("rdv-7003-rappel:sms", "sent"));
  REQUIRE(eventually([&] {
    return s.all_logs().find("gave up on rdv-7003-rappel:sms sent") != std::string::npos;
  }));
  CHECK(backend.request_count() == 3);
  REQUIRE(eventually([&] { return pending_callbacks(s) == 0; }));

  // A 4xx other than 429 is not retried: the backend refuses this payload for good.
  backend.set_handler([](const RecordedRequest&) {
    return ScriptedResponse{422, R"({"error":"inconnu"})"};
  });
  s.enqueue(reminder("rdv-7004-rappel"));
  REQUIRE(eventually([&] {
    return s.all_logs().find("gave up on rdv-7004-rappel:sms sent") != std::string::npos;
  }));
  CHECK(backend.request_count() == 4);
}
