// Delivery reports end to end: the real daemon, a real redis-server, an SMS Factor stand-in that
// accepts the SMS, and the test posting reports to the daemon's /v1/receipts/<account> the way
// SMS Factor would. Each test is one promise of delivery reports: reports before and after the
// provider id is stored, forged and oversized reports change nothing, statuses only move forward,
// and every final status leaves TTLs on what it stored.
#include <atomic>

#include <catch2/catch.hpp>

#include "integration/scenario.hpp"
#include "support/http_test_client.hpp"
#include "support/provider_server.hpp"

using namespace rappel::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* kSecret = "jeton-recus-cd77-5f0e2b8a91";

// An SMS Factor stand-in: every accepted SMS gets the next ticket (provider message id).
struct SmsFactor {
  std::atomic<int> next_ticket{15948909};
  std::function<void(const std::string& ticket, const RecordedRequest&)> before_answer;
  ProviderServer server{[this](const RecordedRequest& r) {
    std::string ticket = std::to_string(next_ticket++);
    if (before_answer) before_answer(ticket, r);
    return ScriptedResponse{200, R"({"status":1,"message":"OK","ticket":")" + ticket +
                                     R"(","cost":1,"credits":642,"total":1,"sent":1,"invalid":0})"};
  }};
};

TestConfig config_for(const SmsFactor& provider, std::string retention = "") {
  TestConfig c;
  c.http = "{listen: \"127.0.0.1:0\", max_body: 2048}";
  c.extra_providers = "  smsf: {type: sms_factor, token: jeton-api, url: \"" +
                      provider.server.url("/send") + "\", receipts: {secret: " + kSecret + "}}\n";
  c.departments = "  \"77\": {sms: {provider: smsf, sender: RdvSoli}}\n";
  c.extra = retention;
  return c;
}

std::string report(const std::string& ticket, int status, const std::string& id = "") {
  return json{{"date", "2026-12-01T10:31:12+01:00"},
              {"status", status},
              {"destination", "33612345678"},
              {"message_id", id},
              {"campaign_id", ticket},
              {"country_code", "FR"}}
      .dump();
}

PostAnswer post_report(unsigned short port, const std::string& body,
                       const std::string& token = kSecret, const std::string& account = "smsf") {
  return http_post(port, "/v1/receipts/" + account + "?token=" + token, body);
}

long long ttl(Scenario& s, const std::string& key) {
  return s.redis.integer({"TTL", key});
}

}  // namespace

TEST_CASE("a report after the provider id is stored marks the message delivered, once",
          "[receipts_e2e]") {
  SmsFactor provider;
  Scenario s(config_for(provider));
  auto& daemon = s.start_daemon();
  s.enqueue(reminder("rdv-4521-rappel"));
  REQUIRE(s.wait_status("rdv-4521-rappel:sms", "sent"));
  std::string ticket = s.message("rdv-4521-rappel:sms")["provider_message_id"];
  CHECK(s.redis.integer({"EXISTS", "rappel:pmid:smsf:" + ticket}) == 1);

  CHECK(post_report(daemon.http_port(), report(ticket, 1)).status == 200);  // sent: intermediate
  CHECK(s.status("rdv-4521-rappel:sms") == "sent");
  CHECK(post_report(daemon.http_port(), report(ticket, 3)).status == 200);
  REQUIRE(s.wait_status("rdv-4521-rappel:sms", "delivered"));
  auto m = s.message("rdv-4521-rappel:sms");
  CHECK(m["provider_status"] == "3");
  CHECK(m["error"].empty());

  // Repeated and late contrary reports change nothing: no event, no status.
  CHECK(post_report(daemon.http_port(), report(ticket, 3)).status == 200);
  CHECK(post_report(daemon.http_port(), report(ticket, 2)).status == 200);
  CHECK(s.status("rdv-4521-rappel:sms") == "delivered");
  CHECK(s.status_trail("rdv-4521-rappel:sms") ==
        std::vector<std::string>{"scheduled", "sending", "sent", "delivered"});
}

TEST_CASE("undelivered carries the provider's reason; a later delivered still wins",
          "[receipts_e2e]") {
  SmsFactor provider;
  Scenario s(config_for(provider));
  auto& daemon = s.start_daemon();
  s.enqueue(reminder("rdv-4522-rappel"));
  REQUIRE(s.wait_status("rdv-4522-rappel:sms", "sent"));
  std::string ticket = s.message("rdv-4522-rappel:sms")["provider_message_id"];
  // Matched by our id (message_id = gsmsmsid) when the report has no campaign_id.
  CHECK(post_report(daemon.http_port(), report("", 5, "rdv-4522-rappel:sms")).status == 200);
  REQUIRE(s.wait_status("rdv-4522-rappel:sms", "undelivered"));
  CHECK(s.message("rdv-4522-rappel:sms")["error"] == "SMS Factor: status 5 invalid destination");
  CHECK(post_report(daemon.http_port(), report(ticket, 3)).status == 200);
  REQUIRE(s.wait_status("rdv-4522-rappel:sms", "delivered"));
  CHECK(s.message("rdv-4522-rappel:sms")["error"].empty());
  CHECK(post_report(daemon.http_port(), report(ticket, 2)).status == 200);
  CHECK(s.status_trail("rdv-4522-rappel:sms") ==
        std::vector<std::string>{"scheduled", "sending", "sent", "undelivered", "delivered"});
}

TEST_CASE("a report that arrives before the provider id is stored is kept and applied",
          "[receipts_e2e]") {
  SmsFactor provider;
  Scenario s(config_for(provider));
  auto& daemon = s.start_daemon();
  // The stand-in posts the delivery report before it answers the send: the daemon has not
  // stored the ticket yet (the message is still `sending`).
  std::atomic<int> early_status{0};
  std::atomic<long long> parked_ttl{-3};
  provider.before_answer = [&](const std::string& ticket, const RecordedRequest&) {
    early_status = post_report(daemon.http_port(), report(ticket, 3)).status;
    parked_ttl = s.redis.integer({"TTL", "rappel:receipt:smsf:" + ticket});
  };
  s.enqueue(reminder("rdv-4523-rappel"));
  REQUIRE(s.wait_status("rdv-4523-rappel:sms", "delivered"));
  CHECK(early_status == 200);
  CHECK(parked_ttl > 0);
  CHECK(parked_ttl <= 3600);
  std::string ticket = s.message("rdv-4523-rappel:sms")["provider_message_id"];
  CHECK(s.redis.integer({"EXISTS", "rappel:receipt:smsf:" + ticket}) == 0);  // consumed
  CHECK(s.status_trail("rdv-4523-rappel:sms") ==
        std::vector<std::string>{"scheduled", "sending", "sent", "delivered"});
}

TEST_CASE("forged, unknown, malformed and oversized reports change nothing", "[receipts_e2e]") {
  SmsFactor provider;
  Scenario s(config_for(provider));
  auto& daemon = s.start_daemon();
  unsigned short port = daemon.http_port();
  s.enqueue(reminder("rdv-4524-rappel"));
  REQUIRE(s.wait_status("rdv-4524-rappel:sms", "sent"));
  std::string ticket = s.message("rdv-4524-rappel:sms")["provider_message_id"];
  size_t events = s.redis.xrange("rappel:events").size();

  CHECK(post_report(port, report(ticket, 3), "jeton-recus-cd77-5f0e2b8a9").status == 401);
  CHECK(post_report(port, report(ticket, 3), "").status == 401);
  CHECK(http_post(port, "/v1/receipts/smsf", report(ticket, 3)).status == 401);
  CHECK(http_post(port, "/v1/receipts/smsf", report(ticket, 3),
                  {{"Authorization", "Bearer pas-le-bon-jeton-du-tout"}})
            .status == 401);
  CHECK(post_report(port, report(ticket, 3), kSecret, "journal").status == 404);
  CHECK(post_report(port, report(ticket, 3), kSecret, "inconnu").status == 404);
  auto malformed = post_report(port, R"({"status":"livré")");
  CHECK(malformed.status == 400);
  CHECK_THAT(malformed.body, Catch::Contains("not JSON"));
  CHECK(post_report(port, report(ticket, 3) + std::string(4096, ' ')).status == 413);

  CHECK(s.status("rdv-4524-rappel:sms") == "sent");
  CHECK(s.redis.xrange("rappel:events").size() == events);
  auto parked = s.redis.command({"KEYS", "rappel:receipt*"});
  CHECK(parked->elements == 0);

  // The bearer header is as good as the token in the URL (Brevo uses it).
  CHECK(http_post(port, "/v1/receipts/smsf", report(ticket, 3),
                  {{"Authorization", std::string("Bearer ") + kSecret}})
            .status == 200);
  REQUIRE(s.wait_status("rdv-4524-rappel:sms", "delivered"));
  CHECK(s.all_logs().find(kSecret) == std::string::npos);
}

TEST_CASE("every final status leaves TTLs: content first, the status record later",
          "[receipts_e2e][retention]") {
  SmsFactor provider;
  Scenario s(config_for(provider, "retention: {content: 2h, status: 30d, receipt_index: 3d}\n"));
  auto& daemon = s.start_daemon();
  constexpr long long kContent = 2 * 3600, kStatus = 30 * 24 * 3600;

  s.enqueue(reminder("ttl-sent"));
  s.enqueue(reminder("ttl-delivered"));
  s.enqueue(reminder("ttl-undelivered"));
  json failing = reminder("ttl-failed");
  failing["recipient"]["phone"] = "+33699999999";
  provider.server.set_handler([](const RecordedRequest& r) {
    if (r.query.at("to") == "33699999999")
      return ScriptedResponse{200, R"({"status":-7,"message":"Données invalides"})"};
    static std::atomic<int> ticket{700};
    return ScriptedResponse{
        200, R"({"status":1,"ticket":")" + std::to_string(ticket++) + R"(","sent":1,"invalid":0})"};
  });
  s.enqueue(failing);
  json stale = reminder("ttl-expired");
  stale["send_at"] = iso_in(-2h);
  stale["expires_at"] = iso_in(-1h);
  s.enqueue(stale);
  json later = reminder("ttl-cancelled");
  later["send_at"] = iso_in(2h);
  s.enqueue(later);
  s.enqueue({{"op", "cancel"}, {"key", "ttl-cancelled"}});
  json landline = reminder("ttl-rejected");
  landline["recipient"]["phone"] = "01 64 00 00 00";
  s.enqueue(landline);

  for (const char* key : {"ttl-sent", "ttl-delivered", "ttl-undelivered"})
    REQUIRE(s.wait_status(std::string(key) + ":sms", "sent"));
  auto ticket = [&](const char* key) {
    return s.message(std::string(key) + ":sms")["provider_message_id"];
  };
  long long index_ttl = ttl(s, "rappel:pmid:smsf:" + ticket("ttl-sent"));
  CHECK(index_ttl > 2 * 24 * 3600);
  CHECK(index_ttl <= 3 * 24 * 3600);
  REQUIRE(post_report(daemon.http_port(), report(ticket("ttl-delivered"), 3)).status == 200);
  REQUIRE(post_report(daemon.http_port(), report(ticket("ttl-undelivered"), 9)).status == 200);

  std::map<std::string, std::string> finals = {{"ttl-sent", "sent"},
                                               {"ttl-delivered", "delivered"},
                                               {"ttl-undelivered", "undelivered"},
                                               {"ttl-failed", "failed"},
                                               {"ttl-expired", "expired"},
                                               {"ttl-cancelled", "cancelled"},
                                               {"ttl-rejected", "rejected"}};
  for (const auto& [key, status] : finals) {
    INFO(key);
    std::string id = key + ":sms";
    REQUIRE(s.wait_status(id, status));
    long long status_ttl = ttl(s, "rappel:msg:" + id);
    CHECK(status_ttl > kContent);
    CHECK(status_ttl <= kStatus);
    // Content (recipient and template data): gone with its short TTL, or never stored.
    long long content_ttl = ttl(s, "rappel:content:" + id);
    if (status == "rejected") {
      CHECK(content_ttl == -2);
    } else {
      CHECK(content_ttl > 0);
      CHECK(content_ttl <= kContent);
    }
  }
  // The index and parked reports hold ids only, never the phone number.
  auto keys = s.redis.command({"KEYS", "rappel:pmid:*"});
  REQUIRE(keys->elements == 3);
  for (size_t i = 0; i < keys->elements; ++i) {
    auto value = s.redis.command({"GET", keys->element[i]->str});
    CHECK(std::string(value->str).ends_with(":sms"));
    CHECK(ttl(s, keys->element[i]->str) > 0);
  }
}
