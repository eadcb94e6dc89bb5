// Tests of the Orange Contact Everyone (API light) adapter: the form it posts, its configurable
// number format and xcharset, the success id in its possible shapes, the message/logId errors,
// its settings, and real sends through CurlMulti to the Beast stand-in server.
#include <catch2/catch.hpp>

#include "providers/orange_contact_everyone.hpp"
#include "support/provider_server.hpp"
#include "support/sms_adapter_harness.hpp"

using namespace rappel;
using namespace rappel::test;
using namespace std::chrono_literals;

namespace {

const char* kSettings = "token: ce-80-token";

orange_contact_everyone::Settings settings(const std::string& yaml = kSettings) {
  Account account("orange-80", "orange_contact_everyone", yaml);
  return orange_contact_everyone::read_settings(account.settings);
}

SendResult classify_body(int status, const std::string& body) {
  return orange_contact_everyone::classify(json_response(status, body));
}

}  // namespace

TEST_CASE("orange_contact_everyone: the form with token, national number and UTF-8 text",
          "[provider][orange_contact_everyone]") {
  HttpRequest r = orange_contact_everyone::build_request(
      settings(), french_sms("+33612345678", "RDV à Amiens, 10h"));
  CHECK(r.method == "POST");
  CHECK(r.url == "https://contact-everyone.orange-business.com/api/light/diffusions/sms");
  CHECK(r.headers[0] == std::pair<std::string, std::string>(
                            "Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"));
  CHECK(r.body == "token=ce-80-token&to=0612345678&msg=RDV%20%C3%A0%20Amiens%2C%2010h");
}

TEST_CASE("orange_contact_everyone: xcharset, E.164 numbers, diffusion name and category",
          "[provider][orange_contact_everyone]") {
  auto plain = settings();
  CHECK(orange_contact_everyone::build_request(plain, french_sms("+33612345678", "Cœur", "ucs2"))
            .body == "token=ce-80-token&to=0612345678&msg=C%C5%93ur&xcharset=true");
  auto tuned = settings(std::string(kSettings) +
                        "\nnumber_format: e164\nxcharset: always\ndiffusion_name: Rappels RDV"
                        "\ncategory: social");
  CHECK(orange_contact_everyone::build_request(tuned, french_sms("+33612345678", "Bonjour")).body ==
        "token=ce-80-token&to=%2B33612345678&msg=Bonjour&xcharset=true"
        "&diffusionname=Rappels%20RDV&category=social");
  auto never = settings(std::string(kSettings) + "\nxcharset: never");
  CHECK(orange_contact_everyone::build_request(never, french_sms("+33612345678", "Cœur", "ucs2"))
            .body.find("xcharset") == std::string::npos);
}

TEST_CASE("orange_contact_everyone: success ids and errors",
          "[provider][orange_contact_everyone]") {
  CHECK(classify_body(200, "  d1f2-77a\n").provider_message_id == "d1f2-77a");
  CHECK(classify_body(200, R"({"id":"5f9a"})").provider_message_id == "5f9a");
  CHECK(classify_body(200, R"("5f9b")").provider_message_id == "5f9b");
  CHECK(classify_body(200, "48213").provider_message_id == "48213");  // a JSON number

  SendResult bad_token = classify_body(401, R"({"message":"Token invalide","logId":"c0ffee-12"})");
  CHECK(bad_token.outcome == Outcome::unavailable);
  CHECK(bad_token.error == "Orange Contact Everyone: HTTP 401: Token invalide (logId c0ffee-12)");
  SendResult bad_request =
      classify_body(400, R"({"message":"Paramètre to invalide : 0612","logId":"1"})");
  CHECK(bad_request.outcome == Outcome::permanent);
  CHECK(classify_body(500, R"({"message":"Erreur interne","logId":"2"})").outcome ==
        Outcome::transient);
  CHECK(classify_body(503, "<html>Maintenance</html>").outcome == Outcome::transient);
  HttpResponse dropped;
  dropped.maybe_delivered = true;
  dropped.transport_error = "Server returned nothing (no headers, no data)";
  SendResult r = orange_contact_everyone::classify(dropped);
  CHECK(r.outcome == Outcome::transient);
  CHECK(r.outcome_unknown);
}

TEST_CASE("orange_contact_everyone: a 2xx without an id is no success, and no page is an id",
          "[provider][orange_contact_everyone]") {
  // A proxy's maintenance page, an empty body, a JSON object without id, a French sentence cut in
  // the middle of "é" at byte 100: none is an id, and the message may or may not have gone out.
  std::string sentence = std::string(99, 'x') + "\xc3\xa9t\xc3\xa9";
  for (std::string body :
       {std::string("<html><body>Maintenance en cours</body></html>"), std::string(""),
        std::string("  \n"), std::string(R"({"logId":"7"})"),
        std::string(R"({"id":"<b>5f9a</b>"})"), sentence, std::string(101, 'a')}) {
    INFO(body);
    SendResult r = classify_body(200, body);
    CHECK(r.outcome == Outcome::transient);
    CHECK(r.outcome_unknown);
    CHECK(r.provider_message_id.empty());
    CHECK(r.error ==
          "Orange Contact Everyone: HTTP 200: unreadable response body: the message may have been "
          "sent");
  }
  CHECK(classify_body(201, std::string(100, 'a')).provider_message_id == std::string(100, 'a'));
}

TEST_CASE("orange_contact_everyone: configuration errors", "[provider][orange_contact_everyone]") {
  boost::asio::io_context io;
  ProviderContext ctx{io, nullptr};
  auto create = [&](const std::string& yaml) {
    return config_error([&] {
      Account account("orange-80", "orange_contact_everyone", yaml);
      make_orange_contact_everyone_provider(account.settings, ctx);
      account.settings.reject_unknown_keys();
    });
  };
  CHECK(create(kSettings).empty());
  CHECK(create("number_format: national") ==
        "/etc/rappel/rappel.yaml:3:5: providers.orange-80: missing required secret 'token'");
  CHECK(create(std::string(kSettings) + "\nnumber_format: international") ==
        "/etc/rappel/rappel.yaml:5:20: providers.orange-80.number_format: expected national or "
        "e164");
  CHECK(
      create(std::string(kSettings) + "\nxcharset: true").find("expected ucs2, always or never") !=
      std::string::npos);
  CHECK(create(std::string(kSettings) + "\nsender: RdvSoli") ==
        "/etc/rappel/rappel.yaml:5:5: unknown key 'providers.orange-80.sender'");
}

TEST_CASE("orange_contact_everyone: real sends, as the server receives them",
          "[provider][orange_contact_everyone]") {
  ScriptedResponse answer{200, "a8c1e2", {{"Content-Type", "text/plain"}}};
  ProviderServer server([&answer](const RecordedRequest&) { return answer; });
  boost::asio::io_context io;
  CurlMulti curl(io);
  ProviderContext ctx{io, &curl};
  Account account("orange-80", "orange_contact_everyone",
                  std::string(kSettings) + "\nurl: " + server.url("/api/light/diffusions/sms"));
  auto provider = make_orange_contact_everyone_provider(account.settings, ctx);

  SendResult r = send_and_wait(*provider, io, french_sms());
  CHECK(r.outcome == Outcome::accepted);
  CHECK(r.provider_message_id == "a8c1e2");
  RecordedRequest got = server.requests().at(0);
  CHECK(got.method == "POST");
  CHECK(got.target == "/api/light/diffusions/sms");
  CHECK(got.headers["content-type"] == "application/x-www-form-urlencoded; charset=UTF-8");
  CHECK(got.form() == std::map<std::string, std::string>{
                          {"token", "ce-80-token"}, {"to", "0612345678"}, {"msg", kReminderText}});

  answer = ScriptedResponse{403, R"({"message":"Forbidden","logId":"9f"})"};
  r = send_and_wait(*provider, io, french_sms());
  CHECK(r.outcome == Outcome::unavailable);
  CHECK(r.error == "Orange Contact Everyone: HTTP 403: Forbidden (logId 9f)");
}
