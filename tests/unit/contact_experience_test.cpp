// Tests of the Contact Experience adapter: the GET query (number, msg, devCode, emetteur), the
// 201 / httpStatusCode success with `size`, the KO answers, its settings, and real sends through
// CurlMulti to the Beast stand-in server.
#include <catch2/catch.hpp>

#include "providers/contact_experience.hpp"
#include "support/provider_server.hpp"
#include "support/sms_adapter_harness.hpp"

using namespace rappel;
using namespace rappel::test;
using namespace std::chrono_literals;

namespace {

const char* kSettings = "dev_code: CE62-dev\nreply_email: sms-reponses@pasdecalais.fr";

contact_experience::Settings settings(const std::string& yaml = kSettings) {
  Account account("contact-exp-62", "contact_experience", yaml);
  return contact_experience::read_settings(account.settings);
}

SendResult classify_body(int status, const std::string& body) {
  return contact_experience::classify(json_response(status, body));
}

}  // namespace

TEST_CASE("contact_experience: the GET query with a national number",
          "[provider][contact_experience]") {
  HttpRequest r = contact_experience::build_request(
      settings(), french_sms("+33612345678", "RDV à Arras : 9h30"));
  CHECK(r.method == "GET");
  CHECK(r.url ==
        "https://contact-experience.com/ccv/webServicesCCV/SMS/sendSms.php?number=0612345678"
        "&msg=RDV%20%C3%A0%20Arras%20%3A%209h30&devCode=CE62-dev"
        "&emetteur=sms-reponses%40pasdecalais.fr");
  CHECK(r.body.empty());

  auto e164 = settings(std::string(kSettings) + "\nnumber_format: e164");
  CHECK(contact_experience::build_request(e164, french_sms()).url.find("number=%2B33612345678&") !=
        std::string::npos);
}

TEST_CASE("contact_experience: success and KO answers", "[provider][contact_experience]") {
  const std::string sent =
      R"({"size":3,"total":null,"list":[{"id":"680560"}],"httpStatusCode":201})";
  SendResult ok = classify_body(201, sent);
  CHECK(ok.outcome == Outcome::accepted);
  CHECK(ok.provider_message_id == "680560");
  CHECK(ok.parts == 3);
  CHECK(classify_body(200, sent).outcome == Outcome::accepted);  // read from the body too

  SendResult bad_code = classify_body(200, R"({"status":"KO","message":"BAD DEV CODE "})");
  CHECK(bad_code.outcome == Outcome::unavailable);
  CHECK(bad_code.error == "Contact Experience: HTTP 200: BAD DEV CODE");
  SendResult bad_number = classify_body(200, R"({"status":"KO","message":"Invalid number "})");
  CHECK(bad_number.outcome == Outcome::permanent);
  CHECK(classify_body(200, R"({"status":"KO","message":"Quota atteint"})").outcome ==
        Outcome::transient);
  CHECK(classify_body(403, R"({"status":"KO","message":"Forbidden"})").outcome ==
        Outcome::unavailable);

  SendResult puzzling = classify_body(200, R"({"size":1})");  // neither success nor KO
  CHECK(puzzling.outcome == Outcome::transient);
  CHECK(puzzling.outcome_unknown);
  CHECK(classify_body(500, "Fatal error: ...").outcome == Outcome::transient);
  HttpResponse timeout;
  timeout.timed_out = true;
  timeout.maybe_delivered = true;
  CHECK(contact_experience::classify(timeout).outcome_unknown);
}

TEST_CASE("contact_experience: configuration errors", "[provider][contact_experience]") {
  boost::asio::io_context io;
  ProviderContext ctx{io, nullptr};
  auto create = [&](const std::string& yaml) {
    return config_error([&] {
      Account account("contact-exp-62", "contact_experience", yaml);
      make_contact_experience_provider(account.settings, ctx);
      account.settings.reject_unknown_keys();
    });
  };
  CHECK(create(kSettings).empty());
  CHECK(create("reply_email: sms@pasdecalais.fr") ==
        "/etc/rappel/rappel.yaml:3:5: providers.contact-exp-62: missing required secret "
        "'dev_code'");
  CHECK(create("dev_code: x") ==
        "/etc/rappel/rappel.yaml:3:5: providers.contact-exp-62: missing required key "
        "'reply_email'");
  CHECK(create("dev_code: x\nreply_email: pasdecalais.fr") ==
        "/etc/rappel/rappel.yaml:5:18: providers.contact-exp-62.reply_email: expected an email "
        "address");
  CHECK(create(std::string(kSettings) + "\nemetteur: x@y.fr") ==
        "/etc/rappel/rappel.yaml:6:5: unknown key 'providers.contact-exp-62.emetteur'");
}

TEST_CASE("contact_experience: real sends, as the server receives them",
          "[provider][contact_experience]") {
  ScriptedResponse answer{201,
                          R"({"size":2,"total":null,"list":[{"id":"7"}],"httpStatusCode":201})"};
  ProviderServer server([&answer](const RecordedRequest&) { return answer; });
  boost::asio::io_context io;
  CurlMulti curl(io);
  ProviderContext ctx{io, &curl};
  Account account(
      "contact-exp-62", "contact_experience",
      std::string(kSettings) + "\nurl: " + server.url("/ccv/webServicesCCV/SMS/sendSms.php"));
  auto provider = make_contact_experience_provider(account.settings, ctx);

  SendResult r = send_and_wait(*provider, io, french_sms());
  CHECK(r.outcome == Outcome::accepted);
  CHECK(r.parts == 2);
  RecordedRequest got = server.requests().at(0);
  CHECK(got.method == "GET");
  CHECK(got.path == "/ccv/webServicesCCV/SMS/sendSms.php");
  CHECK(got.query ==
        std::map<std::string, std::string>{{"number", "0612345678"},
                                           {"msg", kReminderText},
                                           {"devCode", "CE62-dev"},
                                           {"emetteur", "sms-reponses@pasdecalais.fr"}});

  answer = ScriptedResponse{200, R"({"status":"KO","message":"BAD DEV CODE "})"};
  r = send_and_wait(*provider, io, french_sms());
  CHECK(r.outcome == Outcome::unavailable);
}
