// The provider adapters end to end through the real daemon: a real redis-server, the rappel
// binary, and real servers standing in for the providers (Beast HTTP servers answering like SMS
// Factor and Netsize, an aiosmtpd with STARTTLS). Each test states one promise of the adapters as
// the booking backend and the provider would see it: what reached the provider, and which status
// the message ended in. States are asserted, never timings: a slow provider is made slow by its
// stand-in, and the test waits for the states that prove the loop kept going meanwhile.
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "integration/scenario.hpp"
#include "support/provider_server.hpp"
#include "support/smtp_test_server.hpp"

using namespace rappel::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* kToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.cd77-e2e";
constexpr const char* kNetsizePassword = "mot-de-passe-cd13";

// SMS Factor's answer to a successful /send (the reference's example, one SMS, one number).
constexpr const char* kSmsFactorOk =
    R"({"status":1,"message":"OK","ticket":"14672468","cost":1,"credits":642,"total":1,"sent":1,)"
    R"("blacklisted":0,"invalid":0,"invalid_numbers":[],"npai":0,"not_allowed":0,"flood":0,)"
    R"("country_limit":0,"duplicated":0})";
constexpr const char* kNetsizeOk =
    R"({"responseCode":0,"responseMessage":"Success.","traceId":"8f1c2a","messageIds":["5f0e2b"]})";

// The daemon inherits the test's environment: secrets reach it the way ${ENV} references say.
void export_secrets() {
  setenv("RAPPEL_E2E_SMSFACTOR_TOKEN", kToken, 1);
  setenv("RAPPEL_E2E_NETSIZE_PASSWORD", kNetsizePassword, 1);
  setenv("RAPPEL_E2E_SMTP_PASSWORD", SmtpTestServer::kPassword, 1);
}

std::string sms_factor_account(const std::string& name, const ProviderServer& server) {
  return "  " + name + R"(: {type: sms_factor, token: "${RAPPEL_E2E_SMSFACTOR_TOKEN}", url: ")" +
         server.url("/send") + "\"}\n";
}

std::string netsize_account(const std::string& name, const ProviderServer& server) {
  return "  " + name +
         R"(: {type: netsize, login: cd13, password: "${RAPPEL_E2E_NETSIZE_PASSWORD}", )"
         "sender: RdvSoli, url: \"" +
         server.url("/restapi/v1/sms/send") + "\"}\n";
}

std::string smtp_settings(const SmtpTestServer& smtp) {
  return "url: \"" + smtp.url() + "\", username: \"" + SmtpTestServer::kUser +
         R"(", password: "${RAPPEL_E2E_SMTP_PASSWORD}", ca_file: ")" + smtp.ca_file() + "\"";
}

// SMS Factor for 77, its circuit opening at the first failure, with Netsize as its fallback.
TestConfig with_fallback(const ProviderServer& sms_factor, const ProviderServer& netsize,
                         const std::string& cooldown) {
  TestConfig config;
  config.extra_providers =
      "  sms-factor-77: {type: sms_factor, token: \"${RAPPEL_E2E_SMSFACTOR_TOKEN}\", url: \"" +
      sms_factor.url("/send") + "\", circuit: {failures: 1, cooldown: " + cooldown + "}}\n" +
      netsize_account("netsize-77", netsize);
  config.departments =
      "  \"77\": {sms: {provider: sms-factor-77, fallback: netsize-77}, retry: {base: 1s, cap: "
      "1s}}\n";
  return config;
}

// A stand-in whose answer depends on how many requests came before, and which notes when each
// request arrived (for "nothing was sent after the expiry").
struct Script {
  std::mutex mutex;
  std::vector<std::chrono::system_clock::time_point> arrivals;
  std::function<ScriptedResponse(size_t)> answer;  // argument: 0-based request number
  ProviderServer::Handler handler() {
    return [this](const RecordedRequest&) {
      std::lock_guard lock(mutex);
      arrivals.push_back(std::chrono::system_clock::now());
      return answer(arrivals.size() - 1);
    };
  }
};

std::string header_value(const std::string& message, const std::string& name) {
  size_t at = message.find("\r\n" + name + ": ");
  if (at == std::string::npos) return {};
  at += name.size() + 4;
  return message.substr(at, message.find("\r\n", at) - at);
}

}  // namespace

// A slow SMS Factor for 77 (every answer after 3 s) and a fast Netsize for 13, on one daemon.
struct TwoProviders {
  ProviderServer slow{[](const RecordedRequest&) {
    return ScriptedResponse{200, kSmsFactorOk, {}, 3s};
  }};
  ProviderServer fast{[](const RecordedRequest&) { return ScriptedResponse{200, kNetsizeOk}; }};
  std::unique_ptr<Scenario> s;

  TwoProviders() {
    export_secrets();
    TestConfig config;
    config.dispatch = "{max_in_flight: 1000, claim_batch: 500}";
    config.extra_providers =
        sms_factor_account("sms-factor-77", slow) + netsize_account("netsize-13", fast);
    config.departments =
        "  \"77\": {sms: {provider: sms-factor-77}}\n"
        "  \"13\": {sms: {provider: netsize-13}}\n";
    s = std::make_unique<Scenario>(config);
    s->start_daemon();
  }

  std::vector<std::string> enqueue_slow(int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      s->enqueue(reminder("rdv-77-" + std::to_string(i)));
      ids.push_back("rdv-77-" + std::to_string(i) + ":sms");
    }
    return ids;
  }

  // The slow provider holds all `ids` at once; a message for 13 goes out meanwhile; then all of
  // `ids` are sent, each one requested exactly once.
  void check_other_provider_not_held(const std::vector<std::string>& ids) {
    REQUIRE(eventually([&] { return slow.request_count() == ids.size(); }, 10s));
    s->enqueue(reminder("rdv-13-0", "13"));
    REQUIRE(s->wait_status("rdv-13-0:sms", "sent"));
    CHECK(count_with_status(s->redis, ids, "sending") == static_cast<long long>(ids.size()));
    REQUIRE(eventually(
        [&] {
          return count_with_status(s->redis, ids, "sent") == static_cast<long long>(ids.size());
        },
        30s));
    std::set<std::string> seen;
    for (const auto& r : slow.requests()) seen.insert(r.query.at("gsmsmsid"));
    CHECK(seen == std::set<std::string>(ids.begin(), ids.end()));
    CHECK(slow.request_count() == ids.size());  // no duplicate
  }
};

TEST_CASE("500 SMS held by a slow provider do not hold a message to another provider",
          "[integration][providers]") {
  TwoProviders t;
  t.check_other_provider_not_held(t.enqueue_slow(500));
}

TEST_CASE("SMS Factor and Netsize get what they document; Netsize's connection is reused",
          "[integration][providers]") {
  TwoProviders t;
  // 60 stay under libcurl's per-host connection limit, so all are at the provider at once.
  auto ids = t.enqueue_slow(60);
  t.check_other_provider_not_held(ids);
  auto sent = t.s->message("rdv-77-0:sms");
  CHECK(sent["provider"] == "sms-factor-77");
  CHECK(sent["provider_message_id"] == "14672468");
  CHECK(sent["attempts"] == "1");
  for (const auto& r : t.slow.requests()) {
    CHECK(r.method == "GET");
    CHECK(r.path == "/send");
    CHECK(r.headers.at("authorization") == std::string("Bearer ") + kToken);
    CHECK(r.query.at("to") == "33612345678");
    CHECK(r.query.at("sender") == "RdvSoli");
    CHECK(r.query.at("pushtype") == "alert");
    CHECK_THAT(r.query.at("text"), Catch::Contains("PMI"));
  }

  // 50 reminders one after the other to Netsize reuse a kept-alive connection.
  for (int i = 1; i <= 50; ++i) {
    std::string key = "rdv-13-" + std::to_string(i);
    t.s->enqueue(reminder(key, "13"));
    REQUIRE(t.s->wait_status(key + ":sms", "sent"));
  }
  REQUIRE(t.fast.request_count() == 51);
  CHECK(t.fast.connections_accepted() <= 5);
  auto netsize = t.fast.requests().back();
  CHECK(netsize.headers.at("authorization").starts_with("Basic "));
  CHECK(netsize.form().at("destinationAddress") == "33612345678");
  CHECK(netsize.form().at("originatingAddress") == "RdvSoli");
}

TEST_CASE("a provider error then a success: retrying, then sent on the second attempt",
          "[integration][providers]") {
  export_secrets();
  Script script;
  script.answer = [](size_t n) {
    if (n == 0)
      return ScriptedResponse{500, R"({"status":-99,"message":"Error","details":"Unknown error"})"};
    return ScriptedResponse{200, kSmsFactorOk};
  };
  ProviderServer server(script.handler());
  TestConfig config;
  config.extra_providers = sms_factor_account("sms-factor-77", server);
  config.departments =
      "  \"77\": {sms: {provider: sms-factor-77}, retry: {base: 1s, cap: 2s, max_attempts: 3}}\n";
  Scenario s(config);
  s.start_daemon();
  s.enqueue(reminder("rdv-retry"));
  REQUIRE(s.wait_status("rdv-retry:sms", "retrying"));
  CHECK_THAT(s.message("rdv-retry:sms")["error"], Catch::Contains("HTTP 500"));
  REQUIRE(s.wait_status("rdv-retry:sms", "sent"));
  CHECK(s.message("rdv-retry:sms")["attempts"] == "2");
  CHECK(s.status_trail("rdv-retry:sms") ==
        std::vector<std::string>{"scheduled", "sending", "retrying", "sending", "sent"});
  CHECK(server.request_count() == 2);
}

// A 504 from the provider's gateway: its backend may have queued the SMS. The message stays with
// that account (its circuit open, a fallback configured) rather than go out a second time.
TEST_CASE("a gateway timeout (504) pins the message to its provider, never the fallback",
          "[integration][providers]") {
  export_secrets();
  Script script;
  script.answer = [](size_t n) {
    if (n == 0) return ScriptedResponse{504, "<html><h1>504 Gateway Time-out</h1></html>"};
    return ScriptedResponse{200, kSmsFactorOk};
  };
  ProviderServer sms_factor(script.handler());
  ProviderServer netsize([](const RecordedRequest&) { return ScriptedResponse{200, kNetsizeOk}; });
  Scenario s(with_fallback(sms_factor, netsize, "2s"));
  s.start_daemon();
  s.enqueue(reminder("rdv-gateway"));
  REQUIRE(s.wait_status("rdv-gateway:sms", "retrying"));
  CHECK(s.message("rdv-gateway:sms")["pinned_provider"] == "sms-factor-77");
  REQUIRE(s.wait_status("rdv-gateway:sms", "sent"));
  auto m = s.message("rdv-gateway:sms");
  CHECK(m["provider"] == "sms-factor-77");
  CHECK(m["outcome_unknown"] == "1");  // the backend is told it may get there twice
  CHECK(sms_factor.request_count() == 2);
  CHECK(netsize.request_count() == 0);
}

// A 503 is a refusal: nothing was taken, so the fallback may send it.
TEST_CASE("a 503 is a refusal: the fallback sends the message, no unknown outcome",
          "[integration][providers]") {
  export_secrets();
  ProviderServer sms_factor([](const RecordedRequest&) {
    return ScriptedResponse{503, "<html>Maintenance en cours</html>"};
  });
  ProviderServer netsize([](const RecordedRequest&) { return ScriptedResponse{200, kNetsizeOk}; });
  Scenario s(with_fallback(sms_factor, netsize, "30s"));
  s.start_daemon();
  s.enqueue(reminder("rdv-busy"));
  REQUIRE(s.wait_status("rdv-busy:sms", "sent"));
  auto m = s.message("rdv-busy:sms");
  CHECK(m["provider"] == "netsize-77");
  CHECK(m["outcome_unknown"].empty());
  CHECK(m["pinned_provider"].empty());
  CHECK(sms_factor.request_count() == 1);
}

TEST_CASE("a permanent provider error fails at once with the provider's words",
          "[integration][providers]") {
  export_secrets();
  ProviderServer sms_factor([](const RecordedRequest&) {
    return ScriptedResponse{200, R"({"status":-7,"message":"Error","details":"Invalid sender"})"};
  });
  ProviderServer netsize([](const RecordedRequest&) {
    return ScriptedResponse{
        200,
        R"({"responseCode":100,"responseMessage":"Invalid destination address.","traceId":"9a"})"};
  });
  TestConfig config;
  config.extra_providers =
      sms_factor_account("sms-factor-77", sms_factor) + netsize_account("netsize-13", netsize);
  config.departments =
      "  \"77\": {sms: {provider: sms-factor-77}}\n"
      "  \"13\": {sms: {provider: netsize-13}}\n";
  Scenario s(config);
  s.start_daemon();
  s.enqueue(reminder("rdv-data-error", "77"));
  s.enqueue(reminder("rdv-bad-destination", "13"));
  REQUIRE(s.wait_status("rdv-data-error:sms", "failed"));
  REQUIRE(s.wait_status("rdv-bad-destination:sms", "failed"));

  auto data_error = s.message("rdv-data-error:sms");
  CHECK(data_error["error"] == "SMS Factor: HTTP 200: status -7 Invalid sender");
  CHECK(data_error["attempts"] == "1");
  auto bad_destination = s.message("rdv-bad-destination:sms");
  CHECK_THAT(bad_destination["error"],
             Catch::Contains("responseCode 100 Invalid destination address."));
  CHECK(bad_destination["attempts"] == "1");
  CHECK(s.status_trail("rdv-bad-destination:sms") ==
        std::vector<std::string>{"scheduled", "sending", "failed"});
  CHECK(sms_factor.request_count() == 1);
  CHECK(netsize.request_count() == 1);
}

TEST_CASE("a provider down for good: failed after max_attempts", "[integration][providers]") {
  export_secrets();
  ProviderServer server([](const RecordedRequest&) {
    return ScriptedResponse{503, "Service Unavailable", {{"Content-Type", "text/html"}}};
  });
  TestConfig config;
  config.extra_providers = netsize_account("netsize-13", server);
  config.departments =
      "  \"13\": {sms: {provider: netsize-13}, retry: {base: 1s, cap: 1s, max_attempts: 2}}\n";
  Scenario s(config);
  s.start_daemon();
  s.enqueue(reminder("rdv-outage", "13"));
  REQUIRE(s.wait_status("rdv-outage:sms", "failed"));
  auto m = s.message("rdv-outage:sms");
  CHECK_THAT(m["error"], Catch::StartsWith("gave up after 2 attempts"));
  CHECK_THAT(m["error"], Catch::Contains("HTTP 503"));
  CHECK(m["attempts"] == "2");
  CHECK(server.request_count() == 2);
}

TEST_CASE("a reminder expiring during an outage is expired, never sent late",
          "[integration][providers]") {
  export_secrets();
  Script script;
  script.answer = [](size_t) { return ScriptedResponse{503, R"({"responseCode":99})"}; };
  ProviderServer server(script.handler());
  TestConfig config;
  config.extra_providers = netsize_account("netsize-13", server);
  config.departments =
      "  \"13\": {sms: {provider: netsize-13}, retry: {base: 5s, cap: 5s, max_attempts: 10}}\n";
  Scenario s(config);
  s.start_daemon();
  auto expires = std::chrono::system_clock::now() + 3s;
  json entry = reminder("rdv-expiring", "13");
  entry["expires_at"] = iso_in(3s);
  s.enqueue(entry);
  REQUIRE(s.wait_status("rdv-expiring:sms", "expired"));
  size_t requests_at_expiry = server.request_count();
  CHECK(requests_at_expiry >= 1);
  std::this_thread::sleep_for(1s);  // a late attempt, if any, would show now
  CHECK(server.request_count() == requests_at_expiry);
  std::lock_guard lock(script.mutex);
  // An attempt started just before the expiry may land a few milliseconds after it.
  for (auto arrival : script.arrivals) CHECK(arrival < expires + 250ms);
  auto trail = s.status_trail("rdv-expiring:sms");
  CHECK(trail.back() == "expired");
  CHECK(std::find(trail.begin(), trail.end(), "sent") == trail.end());
}

TEST_CASE("an email goes out through SMTP with STARTTLS, X-Mailin-custom = message id",
          "[integration][providers]") {
  export_secrets();
  SmtpTestServer smtp(SmtpServerTls::starttls);
  TestConfig config;
  config.extra_providers = "  brevo-smtp: {type: smtp, " + smtp_settings(smtp) +
                           R"(, from: "RDV Solidarités <ne-pas-repondre@rdv-solidarites.fr>"})" +
                           "\n";
  config.departments = "  \"62\": {email: {provider: brevo-smtp}}\n";
  Scenario s(config);
  s.start_daemon();
  s.enqueue(reminder("rdv-62-email", "62", {"email"}));
  REQUIRE(s.wait_status("rdv-62-email:email", "sent"));
  REQUIRE(smtp.message_count() == 1);
  std::string received = smtp.message(1);
  CHECK(header_value(received, "X-Mailin-custom") == "rdv-62-email:email");
  CHECK(smtp.envelope(1)["rcpt_tos"] == json{"camille.martin@example.fr"});
  CHECK(s.message("rdv-62-email:email")["provider"] == "brevo-smtp");
}

TEST_CASE("email-to-SMS: SFR's gateway gets a plain-text email whose subject is the number",
          "[integration][providers]") {
  export_secrets();
  SmtpTestServer smtp(SmtpServerTls::starttls);
  TestConfig config;
  config.extra_providers = "  sfr-62: {type: sfr_mail2sms, " + smtp_settings(smtp) +
                           ", gateway: cd62@mailtosms.dmc.sfr-sh.fr, from: sms@pas-de-calais.fr}\n";
  config.departments = "  \"62\": {sms: {provider: sfr-62}}\n";
  Scenario s(config);
  s.start_daemon();
  s.enqueue(reminder("rdv-62-sms", "62"));
  REQUIRE(s.wait_status("rdv-62-sms:sms", "sent"));
  REQUIRE(smtp.message_count() == 1);
  std::string received = smtp.message(1);
  CHECK(header_value(received, "Subject") == "0612345678");
  CHECK_THAT(header_value(received, "Content-Type"), Catch::StartsWith("text/plain"));
  CHECK(received.find("multipart") == std::string::npos);
  CHECK(received.find("text/html") == std::string::npos);
  CHECK(smtp.envelope(1)["rcpt_tos"] == json{"cd62@mailtosms.dmc.sfr-sh.fr"});
  CHECK(smtp.envelope(1)["mail_from"] == "sms@pas-de-calais.fr");
}

TEST_CASE("check-config names the account and variable of a missing secret, never a value",
          "[integration][providers]") {
  export_secrets();
  unsetenv("RAPPEL_UNSET_TOKEN");
  ProviderServer unused([](const RecordedRequest&) { return ScriptedResponse{}; });
  std::string dir = make_temp_dir("check-config");
  TestConfig config;
  config.redis_url = "redis://127.0.0.1:6379/0";
  config.outbox = dir + "/outbox";
  // The accounts whose secrets are set come first, so their values were read before the error.
  config.extra_providers =
      netsize_account("netsize-13", unused) + sms_factor_account("sms-factor-national", unused) +
      "  sms-factor-77: {type: sms_factor, token: \"${RAPPEL_UNSET_TOKEN}\"}\n";
  config.departments = "  \"77\": {sms: {provider: sms-factor-77}}\n";
  std::string path = write_config(dir, config);
  auto [code, output] = run_rappel({"check-config", "--config", path});
  std::filesystem::remove_all(dir);
  CHECK(code == 1);
  CHECK_THAT(output, Catch::Contains("sms-factor-77"));
  CHECK_THAT(output, Catch::Contains("RAPPEL_UNSET_TOKEN"));
  CHECK(output.find(kToken) == std::string::npos);
  CHECK(output.find(kNetsizePassword) == std::string::npos);
}

// `rappel send-test --department 77 --to +33612345678 --simulate` against an SMS Factor stand-in.
struct SendTestRun {
  ProviderServer server{[](const RecordedRequest&) {
    return ScriptedResponse{200, R"({"status":1,"message":"OK","cost":1,"credits":642,"total":1})"};
  }};
  int code = -1;
  std::string output;

  SendTestRun() {
    export_secrets();
    std::string dir = make_temp_dir("send-test");
    TestConfig config;
    config.redis_url = "redis://127.0.0.1:6379/0";
    config.outbox = dir + "/outbox";
    config.extra_providers = sms_factor_account("sms-factor-77", server);
    config.departments = "  \"77\": {sms: {provider: sms-factor-77}}\n";
    std::string path = write_config(dir, config);
    std::tie(code, output) = run_rappel({"send-test", "--config", path, "--department", "77",
                                         "--to", "+33612345678", "--simulate"});
    std::filesystem::remove_all(dir);
  }
};

TEST_CASE("send-test --simulate goes to SMS Factor's /send/simulate and prints the outcome",
          "[integration][providers]") {
  SendTestRun run;
  INFO(run.output);
  CHECK(run.code == 0);
  REQUIRE(run.server.request_count() == 1);
  auto request = run.server.requests().front();
  CHECK(request.path == "/send/simulate");
  CHECK(request.query.at("to") == "33612345678");
  CHECK(request.headers.at("authorization") == std::string("Bearer ") + kToken);
  CHECK_THAT(run.output, Catch::Contains("outcome: accepted"));
  CHECK(run.output.find("612345678") == std::string::npos);  // the number is masked
  CHECK(run.output.find(kToken) == std::string::npos);
}

// SMS Factor's simulation answers no part count: send-test prints the parts rappel counted.
TEST_CASE("send-test --simulate prints the parts of the SMS", "[integration][providers]") {
  SendTestRun run;
  INFO(run.output);
  CHECK(run.code == 0);
  CHECK_THAT(run.output, Catch::Contains("part", Catch::CaseSensitive::No));
}
