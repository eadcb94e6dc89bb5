// The credit watch against stand-ins that answer as Brevo SMS and SMS Factor do: the
// credit from each send's answer and from SMS Factor's GET /credits reaches the gauge, Redis and
// `rappel status --providers`; crossing low_credit gives one provider_low_credit event and one
// warning line, re-armed when the credit is back, whatever the number of instances.
#include <atomic>
#include <mutex>

#include <catch2/catch.hpp>

#include "daemon/store/store.hpp"
#include "integration/delivery_support.hpp"
#include "support/http_get.hpp"
#include "support/prometheus_text.hpp"

using namespace rappel::test;
using namespace rappel::test::delivery;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// Brevo SMS' answer to POST /v3/transactionalSMS/sms, with the account's remaining credit.
ScriptedResponse brevo_accepted(int request, double remaining) {
  return {201, R"({"reference":"ab12","messageId":)" + std::to_string(1000 + request) +
                   R"(,"smsCount":1,"usedCredits":1,"remainingCredits":)" +
                   rappel::credit_text(remaining) + "}"};
}

std::string brevo_account(const std::string& name, const ProviderServer& server,
                          const std::string& extra) {
  return "  " + name +
         R"(: {type: brevo_sms, api_key: "${RAPPEL_DELIVERY_SMSFACTOR_TOKEN}", sender: RdvSoli, )"
         "url: \"" +
         server.url("/v3/transactionalSMS/sms") + "\"" + extra + "}\n";
}

double credits_gauge(const DaemonProcess& daemon, const std::string& account) {
  auto samples = parse_samples(http_get(daemon.http_port(), "/metrics").body);
  return sample_value(samples, "rappel_provider_credits", {{"account", account}});
}

json providers_status(Scenario& s) {
  auto [code, out] = run_rappel({"status", "--providers", "--json", "--config", s.config_path});
  REQUIRE(code == 0);
  json all = json::parse(out);
  json by_account = json::object();
  for (auto& a : all) by_account[a["account"].get<std::string>()] = a;
  return by_account;
}

bool exists(Scenario& s, const std::string& key) {
  return s.redis.command({"EXISTS", key})->integer == 1;
}

}  // namespace

TEST_CASE("credits from send answers: gauge, one event and one warning per crossing, status",
          "[integration][credits]") {
  export_secrets();
  std::atomic<double> remaining{503};
  std::atomic<int> refuse{0};  // 1: answer 402 as Brevo does when the credit is gone
  std::atomic<int> requests{0};
  ProviderServer brevo([&](const RecordedRequest&) {
    int n = requests++;
    if (refuse) return ScriptedResponse{402, R"({"code":"not_enough_credits","message":"no"})"};
    remaining = remaining - 1;
    return brevo_accepted(n, remaining);
  });
  TestConfig config;
  config.extra_providers =
      brevo_account("brevo-77", brevo, ", low_credit: 500, rate_limit: \"50/s\"");
  config.departments = "  \"77\": {sms: {provider: brevo-77}}\n";
  Scenario s(config);
  auto& daemon = s.start_daemon();

  // One at a time, so the answers come in the order of the credits: 502 ... 497.
  auto send_one = [&](const std::string& key) {
    s.enqueue(reminder(key));
    REQUIRE(s.wait_status(key + ":sms", "sent"));
  };
  for (int i = 0; i < 6; ++i) send_one("rdv-credit-" + std::to_string(i));

  auto low = account_events(s, "provider_low_credit");
  REQUIRE(low.size() == 1);
  CHECK(low[0]["provider"] == "brevo-77");
  CHECK(low[0]["credits"] == "499");
  CHECK(low[0]["id"].empty());
  CHECK(low[0]["error"] == "credit 499 below low_credit 500");
  CHECK(credits_gauge(daemon, "brevo-77") == 497);
  CHECK(count_of(daemon.log(), "provider account brevo-77 credit 499 below low_credit 500") == 1);

  json status = providers_status(s)["brevo-77"];
  CHECK(status["type"] == "brevo_sms");
  CHECK(status["low_credit"] == 500);
  CHECK(status["below_low_credit"] == true);
  CHECK(status["credits"].get<double>() <= 499);  // recorded at the crossing, then every 10 s
  CHECK(status["rate_limit"] == "50/s");
  CHECK(status["circuits"]["test-a"]["state"] == "closed");

  // Credit bought: the watch is re-armed, and the next fall below is a new crossing.
  remaining = 5000;
  send_one("rdv-credit-bought");
  REQUIRE(eventually([&] { return !exists(s, "rappel:credit-low:brevo-77"); }, 5s));
  CHECK(providers_status(s)["brevo-77"]["below_low_credit"] == false);
  CHECK_THAT(daemon.log(), Catch::Contains("provider account brevo-77 credit back to 4999"));
  remaining = 12;
  send_one("rdv-credit-low-again");
  REQUIRE(eventually([&] { return account_events(s, "provider_low_credit").size() == 2; }, 5s));
  CHECK(account_events(s, "provider_low_credit")[1]["credits"] == "11");
  CHECK(credits_gauge(daemon, "brevo-77") == 11);

  // Out of credit: the circuit opens, and the status shows it for this instance.
  refuse = 1;
  s.enqueue(reminder("rdv-credit-none"));
  REQUIRE(eventually([&] { return account_events(s, "provider_unavailable").size() == 1; }, 10s));
  REQUIRE(eventually(
      [&] { return providers_status(s)["brevo-77"]["circuits"]["test-a"]["state"] == "open"; },
      5s));

  auto [code, table] = run_rappel({"status", "--providers", "--config", s.config_path});
  CHECK(code == 0);
  CHECK_THAT(table, Catch::Contains("brevo-77") && Catch::Contains("11 LOW") &&
                        Catch::Contains("test-a open since"));
}

TEST_CASE("SMS Factor's GET /credits is polled; two instances add one event per crossing",
          "[integration][credits]") {
  export_secrets();
  std::atomic<int> credits{42};
  std::atomic<int> polls{0};
  std::mutex mutex;
  std::string authorization;
  ProviderServer sms_factor([&](const RecordedRequest& r) {
    if (r.path != "/credits") return ScriptedResponse{404, R"({"status":-99})"};
    ++polls;
    {
      std::lock_guard lock(mutex);
      authorization = r.headers.count("authorization") ? r.headers.at("authorization") : "";
    }
    // As SMS Factor writes it: the credit as a string.
    return ScriptedResponse{200, R"({"status":1,"message":"OK","credits":")" +
                                     std::to_string(credits.load()) +
                                     R"(","postpaid":0,"postpaid_limit":0,"unlimited":0})"};
  });
  ProviderServer quiet([](const RecordedRequest&) { return ScriptedResponse{200, kSmsFactorOk}; });
  TestConfig config;
  config.extra_providers =
      sms_factor_account("sms-factor-77", sms_factor, ", low_credit: 100, credit_poll: 1s") +
      sms_factor_account("sms-factor-13", quiet);  // watches nothing: never asked for credits
  config.departments = "  \"77\": {sms: {provider: sms-factor-77}}\n";
  Scenario s(config);
  auto& a = s.start_daemon("test-a");
  auto& b = s.start_daemon("test-b");

  REQUIRE(eventually([&] { return account_events(s, "provider_low_credit").size() == 1; }, 10s));
  CHECK(account_events(s, "provider_low_credit")[0]["credits"] == "42");
  REQUIRE(eventually([&] { return polls >= 4; }, 10s));  // both instances, every second
  CHECK(account_events(s, "provider_low_credit").size() == 1);
  {
    std::lock_guard lock(mutex);
    CHECK(authorization == std::string("Bearer ") + kToken);
  }
  CHECK(credits_gauge(a, "sms-factor-77") == 42);
  CHECK(credits_gauge(b, "sms-factor-77") == 42);
  CHECK(count_of(a.log() + b.log(), "credit 42 below low_credit 100") == 1);

  json status = providers_status(s);
  CHECK(status["sms-factor-77"]["credits"] == 42);
  CHECK(status["sms-factor-77"]["below_low_credit"] == true);
  CHECK(status["sms-factor-77"]["circuits"].size() == 2);
  CHECK_FALSE(status["sms-factor-13"].contains("credits"));
  CHECK_FALSE(status["sms-factor-13"].contains("low_credit"));

  credits = 900;
  REQUIRE(eventually([&] { return !exists(s, "rappel:credit-low:sms-factor-77"); }, 10s));
  CHECK(eventually([&] { return credits_gauge(a, "sms-factor-77") == 900; }, 5s));
  credits = 7;
  REQUIRE(eventually([&] { return account_events(s, "provider_low_credit").size() == 2; }, 10s));
  CHECK(account_events(s, "provider_low_credit")[1]["credits"] == "7");
}

TEST_CASE("a failing credit call is logged with its secrets masked, and sends go on",
          "[integration][credits]") {
  export_secrets();
  ProviderServer sms_factor([](const RecordedRequest& r) {
    if (r.path == "/credits")
      return ScriptedResponse{
          401, std::string(R"({"status":-1,"message":"Invalid token: Bearer )") + kToken + "\"}"};
    return ScriptedResponse{200, kSmsFactorOk};
  });
  TestConfig config;
  config.extra_providers = sms_factor_account("sms-factor-77", sms_factor, ", low_credit: 100");
  config.departments = "  \"77\": {sms: {provider: sms-factor-77}}\n";
  Scenario s(config);
  auto& daemon = s.start_daemon();
  REQUIRE(eventually(
      [&] {
        return daemon.log().find("credit call of provider account sms-factor-77 failed") !=
               std::string::npos;
      },
      10s));
  CHECK_THAT(daemon.log(), Catch::Contains("Bearer [secret]"));
  CHECK(daemon.log().find(kToken) == std::string::npos);
  CHECK(account_events(s, "provider_unavailable").empty());  // a credit call opens no circuit

  // The send's own answer tells the credit (642): above low_credit, no event.
  s.enqueue(reminder("rdv-credit-call-down"));
  REQUIRE(s.wait_status("rdv-credit-call-down:sms", "sent"));
  CHECK(eventually([&] { return providers_status(s)["sms-factor-77"].contains("credits"); }, 5s));
  CHECK(providers_status(s)["sms-factor-77"]["credits"] == 642);
  CHECK(account_events(s, "provider_low_credit").empty());
}
