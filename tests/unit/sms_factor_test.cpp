// Tests of the SMS Factor adapter: the GET it sends (Bearer token, query, gsmsmsid, simulate),
// its status and counter table (including -8 "under moderation"), its settings, and real sends
// through CurlMulti to the Beast stand-in server.
#include <catch2/catch.hpp>

#include "providers/sms_factor.hpp"
#include "support/provider_server.hpp"
#include "support/sms_adapter_harness.hpp"

using namespace rappel;
using namespace rappel::test;
using namespace std::chrono_literals;

namespace {

const char* kSettings = "token: eyJ0eXAiOiJKV1Q\nsender: RdvSoli";

sms_factor::Settings settings(const std::string& yaml = kSettings) {
  Account account("smsfactor-anct", "sms_factor", yaml);
  return sms_factor::read_settings(account.settings);
}

SendResult classify_body(const std::string& body, int status = 200) {
  return sms_factor::classify(json_response(status, body));
}

const char* kSent =
    R"({"status":1,"message":"OK","ticket":"14672468","cost":2,"credits":6462,"total":1,)"
    R"("sent":1,"blacklisted":0,"duplicated":0,"invalid":0,"npai":0})";

}  // namespace

TEST_CASE("sms_factor: the GET with Bearer token, E.164 digits and our id",
          "[provider][sms_factor]") {
  HttpRequest r = sms_factor::build_request(settings(), french_sms());
  CHECK(r.method == "GET");
  CHECK(r.url ==
        "https://api.smsfactor.com/send?text=RDV%20Solidarit%C3%A9s%20%3A%20rappel%20de%20votre%"
        "20rendez-vous%20le%20mardi%2012%20mars%20%C3%A0%209h30%2C%20Maison%20des%20solidarit%C3%"
        "A9s%20de%20Melun%2C%202%20rue%20de%20l%27%C3%89glise.%20Pour%20annuler%20%3A%2001%2064%"
        "2014%2077%2077&to=33612345678&pushtype=alert&gsmsmsid=rdv-4217%3Asms&sender=RdvSoli");
  CHECK(r.headers ==
        std::vector<std::pair<std::string, std::string>>{
            {"Authorization", "Bearer eyJ0eXAiOiJKV1Q"}, {"Accept", "application/json"}});
  CHECK(r.body.empty());
}

TEST_CASE("sms_factor: simulate, no sender, and a sanitised gsmsmsid", "[provider][sms_factor]") {
  HttpRequest r = sms_factor::build_request(settings("token: t\nsimulate: true"), french_sms());
  CHECK(r.url.starts_with("https://api.smsfactor.com/send/simulate?text="));
  CHECK(r.url.find("sender=") == std::string::npos);  // the account's default sender
  CHECK(sms_factor::gsmsmsid("rdv-4217:sms") == "rdv-4217:sms");
  CHECK(sms_factor::gsmsmsid("rdv 42/é") == "rdv_42___");
  CHECK(sms_factor::gsmsmsid(std::string(80, 'a')).size() == 50);
}

TEST_CASE("sms_factor: accepted only with status 1, sent 1 and invalid 0",
          "[provider][sms_factor]") {
  SendResult ok = classify_body(kSent);
  CHECK(ok.outcome == Outcome::accepted);
  CHECK(ok.provider_message_id == "14672468");
  CHECK(ok.error.empty());

  SendResult invalid = classify_body(R"({"status":1,"ticket":"1","sent":0,"invalid":1})");
  CHECK(invalid.outcome == Outcome::permanent);
  CHECK(invalid.error == "SMS Factor: HTTP 200: invalid number");
  CHECK(classify_body(R"({"status":1,"sent":0,"blacklisted":1})").outcome == Outcome::permanent);
  CHECK(classify_body(R"({"status":1,"sent":0,"npai":1})").outcome == Outcome::permanent);
  CHECK(classify_body(R"({"status":1,"sent":0,"not_allowed":1})").outcome == Outcome::permanent);
  CHECK(classify_body(R"({"status":1,"sent":0,"country_limit":1})").outcome == Outcome::permanent);
  CHECK(classify_body(R"({"status":1,"sent":0,"flood":1})").outcome == Outcome::transient);
  CHECK(classify_body(R"({"status":1,"sent":0})").outcome == Outcome::transient);
  // Simulation answers with costs only: status 1 and nothing invalid is a success there.
  CHECK(sms_factor::classify(json_response(200, R"({"status":1,"cost":2})"), true).outcome ==
        Outcome::accepted);
  CHECK(classify_body(R"({"status":1,"cost":2})").outcome == Outcome::transient);
}

TEST_CASE("sms_factor: every documented error status", "[provider][sms_factor]") {
  SendResult auth = classify_body(R"({"status":-1,"message":"Error","details":"Bad token"})");
  CHECK(auth.outcome == Outcome::unavailable);
  CHECK(auth.error == "SMS Factor: HTTP 200: status -1 Bad token");
  SendResult credits = classify_body(R"({"status":-3,"error":"Not enough credits"})", 401);
  CHECK(credits.outcome == Outcome::unavailable);
  CHECK(credits.error == "SMS Factor: HTTP 401: status -3 Not enough credits");
  for (int s : {-2, -6, -7}) {
    INFO("status " << s);
    CHECK(classify_body(R"({"status":)" + std::to_string(s) + "}").outcome == Outcome::permanent);
  }
  // Under moderation: it may still go out, so never retried (a retry could send it twice).
  SendResult moderated = classify_body(R"({"status":-8,"ticket":"15948909"})");
  CHECK(moderated.outcome == Outcome::accepted);
  CHECK(moderated.provider_message_id == "15948909");
  CHECK(classify_body(R"({"status":-99})").outcome == Outcome::transient);
  CHECK(classify_body(R"({"status":-42})").outcome == Outcome::transient);
  CHECK(classify_body(R"({"status":-42})", 403).outcome == Outcome::unavailable);
}

TEST_CASE("sms_factor: HTTP errors, malformed bodies, timeouts", "[provider][sms_factor]") {
  CHECK(classify_body("Unauthenticated.", 401).outcome == Outcome::unavailable);
  CHECK(classify_body(R"({"message":"Too Many Attempts."})", 429).outcome == Outcome::transient);
  SendResult garbled = classify_body(R"({"status":1,"ticket":)");
  CHECK(garbled.outcome == Outcome::transient);
  CHECK(garbled.outcome_unknown);
  HttpResponse refused;
  refused.transport_error = "Couldn't connect to server";
  SendResult r = sms_factor::classify(refused);
  CHECK(r.outcome == Outcome::transient);
  CHECK_FALSE(r.outcome_unknown);
}

TEST_CASE("sms_factor: a 2xx without status is no success, and may have gone out",
          "[provider][sms_factor]") {
  // Error bodies sometimes carry only an `error` key; a proxy may answer {} or a maintenance page.
  SendResult error_only = classify_body(R"({"error":"Service momentanément indisponible"})");
  CHECK(error_only.outcome == Outcome::transient);
  CHECK(error_only.outcome_unknown);
  CHECK(error_only.provider_message_id.empty());
  CHECK(error_only.error ==
        "SMS Factor: HTTP 200: no status in the answer: the message may have been sent: "
        "Service momentanément indisponible");
  SendResult empty = classify_body("{}");
  CHECK(empty.outcome == Outcome::transient);
  CHECK(empty.outcome_unknown);
  SendResult maintenance = classify_body("<html><body>Maintenance en cours</body></html>");
  CHECK(maintenance.outcome == Outcome::transient);
  CHECK(maintenance.outcome_unknown);
  // Without status and with an error status, the HTTP status decides, with the provider's words.
  SendResult throttled = classify_body(R"({"message":"Too Many Attempts."})", 429);
  CHECK(throttled.error == "SMS Factor: HTTP 429: Too Many Attempts.");
  CHECK_FALSE(throttled.outcome_unknown);
}

TEST_CASE("sms_factor: configuration errors", "[provider][sms_factor]") {
  boost::asio::io_context io;
  ProviderContext ctx{io, nullptr};
  auto create = [&](const std::string& yaml) {
    return config_error([&] {
      Account account("smsfactor-anct", "sms_factor", yaml);
      make_sms_factor_provider(account.settings, ctx);
      account.settings.reject_unknown_keys();
    });
  };
  CHECK(create(kSettings).empty());
  CHECK(create("token: t").empty());  // sender optional: the account's default
  CHECK(create("sender: RdvSoli") ==
        "/etc/rappel/rappel.yaml:3:5: providers.smsfactor-anct: missing required secret 'token'");
  CHECK(create("token: t\nsender: RdvSolidarites") ==
        "/etc/rappel/rappel.yaml:5:13: providers.smsfactor-anct.sender: an alphanumeric sender "
        "name has at most 11 characters");
  CHECK(create("token: t\nsimulate: peut-être").find("simulate: expected true or false") !=
        std::string::npos);
  CHECK(create("token: t\napi_key: x") ==
        "/etc/rappel/rappel.yaml:5:5: unknown key 'providers.smsfactor-anct.api_key'");
}

TEST_CASE("sms_factor: real sends, as the server receives them", "[provider][sms_factor]") {
  ScriptedResponse answer{200, kSent};
  ProviderServer server([&answer](const RecordedRequest&) { return answer; });
  boost::asio::io_context io;
  CurlMulti curl(io);
  ProviderContext ctx{io, &curl};
  Account account("smsfactor-anct", "sms_factor",
                  std::string(kSettings) + "\nurl: " + server.url("/send"));
  auto provider = make_sms_factor_provider(account.settings, ctx);

  SendResult r = send_and_wait(*provider, io, french_sms());
  CHECK(r.outcome == Outcome::accepted);
  CHECK(r.provider_message_id == "14672468");
  RecordedRequest got = server.requests().at(0);
  CHECK(got.method == "GET");
  CHECK(got.path == "/send");
  CHECK(got.headers["authorization"] == "Bearer eyJ0eXAiOiJKV1Q");
  CHECK(got.headers["accept"] == "application/json");
  CHECK(got.query == std::map<std::string, std::string>{{"text", kReminderText},
                                                        {"to", "33612345678"},
                                                        {"pushtype", "alert"},
                                                        {"gsmsmsid", "rdv-4217:sms"},
                                                        {"sender", "RdvSoli"}});
  CHECK(got.body.empty());

  answer = ScriptedResponse{200, R"({"status":-3,"message":"Error","details":"No credits"})"};
  r = send_and_wait(*provider, io, french_sms());
  CHECK(r.outcome == Outcome::unavailable);
  CHECK(r.error == "SMS Factor: HTTP 200: status -3 No credits");
}

TEST_CASE("sms_factor: simulate mode calls /send/simulate", "[provider][sms_factor]") {
  ProviderServer server([](const RecordedRequest&) {
    return ScriptedResponse{200, R"({"status":1,"message":"OK","cost":2,"credits":6462})"};
  });
  boost::asio::io_context io;
  CurlMulti curl(io);
  ProviderContext ctx{io, &curl};
  Account account("smsfactor-anct", "sms_factor",
                  std::string(kSettings) + "\nsimulate: true\nurl: " + server.url("/send"));
  auto provider = make_sms_factor_provider(account.settings, ctx);
  CHECK(send_and_wait(*provider, io, french_sms()).outcome == Outcome::accepted);
  CHECK(server.requests().at(0).path == "/send/simulate");
}

TEST_CASE("sms_factor: GET /credits, its answer read as the credit watch needs it",
          "[provider][sms_factor][credits]") {
  HttpRequest r = sms_factor::credits_request(settings());
  CHECK(r.method == "GET");
  CHECK(r.url == "https://api.smsfactor.com/credits");
  std::string error;
  auto read = [&error](int status, const std::string& body) {
    error.clear();
    return sms_factor::read_credits(json_response(status, body), error);
  };
  CHECK(read(200, R"({"status":1,"message":"OK","credits":"1234","postpaid":0,"unlimited":0})") ==
        1234);
  CHECK(read(200, R"({"status":1,"message":"OK","credits":-12.5,"postpaid":1})") == -12.5);
  CHECK_FALSE(read(200, R"({"status":1,"message":"OK","credits":"0","unlimited":1})"));
  CHECK_THAT(error, Catch::Contains("unlimited account"));
  CHECK_FALSE(read(401, R"({"status":-1,"message":"Authentication error"})"));
  CHECK(error == "SMS Factor credits: HTTP 401: Authentication error");
  CHECK_FALSE(read(200, R"({"status":1,"message":"OK","credits":"beaucoup"})"));
  CHECK_FALSE(error.empty());
  CHECK_FALSE(read(200, "<html>"));
  CHECK_THAT(error, Catch::Contains("unreadable answer"));
}
