// Tests of the Brevo SMS adapter: the JSON it posts (api-key, digits, transactional, unicode,
// tag, webUrl), both API paths' answers, the {"code","message"} errors, its settings, and real
// sends through CurlMulti to the Beast stand-in server.
#include <catch2/catch.hpp>

#include "providers/brevo_sms.hpp"
#include "support/provider_server.hpp"
#include "support/sms_adapter_harness.hpp"

using namespace rappel;
using namespace rappel::test;
using namespace std::chrono_literals;

namespace {

const char* kSettings = "api_key: xkeysib-0123\nsender: RdvSoli";

brevo_sms::Settings settings(const std::string& yaml = kSettings) {
  Account account("brevo-secours", "brevo_sms", yaml);
  return brevo_sms::read_settings(account.settings);
}

SendResult classify_body(int status, const std::string& body) {
  return brevo_sms::classify(json_response(status, body));
}

}  // namespace

TEST_CASE("brevo_sms: the JSON, api-key header and recipient digits", "[provider][brevo_sms]") {
  HttpRequest r = brevo_sms::build_request(settings(), french_sms("+33612345678", "Bonjour Zoé"));
  CHECK(r.method == "POST");
  CHECK(r.url == "https://api.brevo.com/v3/transactionalSMS/sms");
  CHECK(r.headers ==
        std::vector<std::pair<std::string, std::string>>{{"api-key", "xkeysib-0123"},
                                                         {"Content-Type", "application/json"},
                                                         {"Accept", "application/json"}});
  CHECK(r.body == R"({"sender":"RdvSoli","recipient":"33612345678","content":"Bonjour Zoé",)"
                  R"("type":"transactional","unicodeEnabled":false})");
  CHECK(r.basic_auth_user.empty());
}

TEST_CASE("brevo_sms: UCS-2 messages, tag, receipt URL and the newer path",
          "[provider][brevo_sms]") {
  auto s = settings(std::string(kSettings) +
                    "\ntag: rappel-j2\nreceipt_url: https://rappel.rdv-solidarites.fr/receipts/"
                    "brevo?token=abc\nurl: https://api.brevo.com/v3/transactionalSMS/send");
  HttpRequest r = brevo_sms::build_request(s, french_sms("+596696123456", "Cœur", "ucs2"));
  CHECK(r.url == "https://api.brevo.com/v3/transactionalSMS/send");
  CHECK(r.body == R"({"sender":"RdvSoli","recipient":"596696123456","content":"Cœur",)"
                  R"("type":"transactional","unicodeEnabled":true,"tag":"rappel-j2",)"
                  R"("webUrl":"https://rappel.rdv-solidarites.fr/receipts/brevo?token=abc"})");
}

TEST_CASE("brevo_sms: success on both paths, and the documented errors", "[provider][brevo_sms]") {
  SendResult ok = classify_body(201, R"({"reference":"ab1cde2fgh3i4jklmno","messageId":1511882900)"
                                     R"(176220,"smsCount":2,"usedCredits":0.7,)"
                                     R"("remainingCredits":82.85})");
  CHECK(ok.outcome == Outcome::accepted);
  CHECK(ok.provider_message_id == "1511882900176220");
  CHECK(ok.parts == 2);
  SendResult newer = classify_body(201, R"({"messageId":1511882900176221})");
  CHECK(newer.outcome == Outcome::accepted);
  CHECK(newer.parts == 0);

  SendResult bad_number =
      classify_body(400, R"({"code":"invalid_parameter","message":"Invalid telephone number"})");
  CHECK(bad_number.outcome == Outcome::permanent);
  CHECK(bad_number.error == "Brevo SMS: HTTP 400: invalid_parameter: Invalid telephone number");
  CHECK(classify_body(401, R"({"code":"unauthorized","message":"Key not found"})").outcome ==
        Outcome::unavailable);
  SendResult credit =
      classify_body(402, R"({"code":"not_enough_credits","message":"Not enough credits"})");
  CHECK(credit.outcome == Outcome::unavailable);
  CHECK(credit.error == "Brevo SMS: HTTP 402: not_enough_credits: Not enough credits");
  CHECK(classify_body(403, R"({"code":"permission_denied","message":"IP not allowed"})").outcome ==
        Outcome::unavailable);
  HttpResponse limited = json_response(429, R"({"code":"too_many_requests","message":"slow"})");
  limited.headers.emplace_back("retry-after", "Thu, 01 Jan 1970 00:00:00 GMT");
  SendResult r = brevo_sms::classify(limited);
  CHECK(r.outcome == Outcome::transient);
  CHECK(r.retry_after == 0s);  // a date in the past: retry now
}

TEST_CASE("brevo_sms: malformed bodies and timeouts", "[provider][brevo_sms]") {
  SendResult no_id = classify_body(201, R"({"reference":"x"})");
  CHECK(no_id.outcome == Outcome::transient);
  CHECK(no_id.outcome_unknown);
  CHECK(classify_body(503, "upstream connect error").outcome == Outcome::transient);
  HttpResponse timeout;
  timeout.timed_out = true;
  timeout.maybe_delivered = false;  // timed out while connecting: nothing was sent
  SendResult r = brevo_sms::classify(timeout);
  CHECK(r.outcome == Outcome::transient);
  CHECK_FALSE(r.outcome_unknown);
}

TEST_CASE("brevo_sms: configuration errors", "[provider][brevo_sms]") {
  boost::asio::io_context io;
  ProviderContext ctx{io, nullptr};
  auto create = [&](const std::string& yaml) {
    return config_error([&] {
      Account account("brevo-secours", "brevo_sms", yaml);
      make_brevo_sms_provider(account.settings, ctx);
      account.settings.reject_unknown_keys();
    });
  };
  CHECK(create(kSettings).empty());
  CHECK(create("sender: RdvSoli") ==
        "/etc/rappel/rappel.yaml:3:5: providers.brevo-secours: missing required secret "
        "'api_key'");
  CHECK(create("api_key: k") ==
        "/etc/rappel/rappel.yaml:3:5: providers.brevo-secours: missing required key 'sender'");
  CHECK(create("api_key: k\nsender: Dépt 77") ==
        "/etc/rappel/rappel.yaml:5:13: providers.brevo-secours.sender: a sender name may only "
        "contain unaccented letters, digits and spaces");
  CHECK(create("api_key: k\nsender: '0612345678'").empty());  // numeric senders: 15 digits
  CHECK(create(std::string(kSettings) + "\nreceipt_url: /receipts").find("receipt_url") !=
        std::string::npos);
  CHECK(create(std::string(kSettings) + "\nwebUrl: https://x") ==
        "/etc/rappel/rappel.yaml:6:5: unknown key 'providers.brevo-secours.webUrl'");
}

TEST_CASE("brevo_sms: real sends, as the server receives them", "[provider][brevo_sms]") {
  ScriptedResponse answer{201, R"({"reference":"r","messageId":42,"smsCount":2})"};
  ProviderServer server([&answer](const RecordedRequest&) { return answer; });
  boost::asio::io_context io;
  CurlMulti curl(io);
  ProviderContext ctx{io, &curl};
  Account account("brevo-secours", "brevo_sms",
                  std::string(kSettings) + "\nurl: " + server.url("/v3/transactionalSMS/sms"));
  auto provider = make_brevo_sms_provider(account.settings, ctx);

  SendResult r = send_and_wait(*provider, io, french_sms());
  CHECK(r.outcome == Outcome::accepted);
  CHECK(r.provider_message_id == "42");
  CHECK(r.parts == 2);
  RecordedRequest got = server.requests().at(0);
  CHECK(got.method == "POST");
  CHECK(got.target == "/v3/transactionalSMS/sms");
  CHECK(got.headers["api-key"] == "xkeysib-0123");
  CHECK(got.headers["content-type"] == "application/json");
  CHECK(nlohmann::json::parse(got.body) == nlohmann::json{{"sender", "RdvSoli"},
                                                          {"recipient", "33612345678"},
                                                          {"content", kReminderText},
                                                          {"type", "transactional"},
                                                          {"unicodeEnabled", false}});

  answer = ScriptedResponse{401, R"({"code":"unauthorized","message":"Key not found"})"};
  r = send_and_wait(*provider, io, french_sms());
  CHECK(r.outcome == Outcome::unavailable);
  CHECK(r.error == "Brevo SMS: HTTP 401: unauthorized: Key not found");
}
