// Tests of the Clever Technologies adapter (Seine-et-Marne): the exact JSON it posts, the 201 /
// 401 / 402 / 430 answers with their `errors` objects, its settings, and real sends through
// CurlMulti to the Beast stand-in server. National number format comes from
// daemon/content/phone.cpp.
#include <catch2/catch.hpp>

#include "providers/clever_technologies.hpp"
#include "support/provider_server.hpp"
#include "support/sms_adapter_harness.hpp"

using namespace rappel;
using namespace rappel::test;
using namespace std::chrono_literals;

namespace {

const char* kSettings = "login: cd77-rdvs\npassword: cl3ver";
const std::string kShortText = "Rappel : RDV mardi 12 mars à 9h30, MDS de Meaux. Annulation : 0164";

clever_technologies::Settings settings(const std::string& yaml = kSettings) {
  Account account("clever-77", "clever_technologies", yaml);
  return clever_technologies::read_settings(account.settings);
}

SendResult classify_body(int status, const std::string& body) {
  return clever_technologies::classify(json_response(status, body));
}

}  // namespace

TEST_CASE("clever_technologies: exactly the JSON production sends, with Basic auth",
          "[provider][clever_technologies]") {
  HttpRequest r =
      clever_technologies::build_request(settings(), french_sms("+33612345678", kShortText));
  CHECK(r.method == "POST");
  CHECK(r.url == "https://webservicesmultimedias.clever-is.fr/api/pushs");
  CHECK(r.headers[0] ==
        std::pair<std::string, std::string>("Content-Type", "application/json; charset=UTF-8"));
  CHECK(r.basic_auth_user == "cd77-rdvs");
  CHECK(r.basic_auth_password == "cl3ver");
  // UTF-8 as is, not \u00e0: the accents reach the provider as the core wrote them.
  CHECK(r.body ==
        R"({"datas":{"text":")" + kShortText + R"(","number_list":["0612345678"],"encodage":3}})");
}

TEST_CASE("clever_technologies: encodage is configurable, overseas numbers stay national",
          "[provider][clever_technologies]") {
  HttpRequest r = clever_technologies::build_request(
      settings(std::string(kSettings) + "\nencodage: 1"), french_sms("+262692123456", "Bonjour"));
  CHECK(r.body == R"({"datas":{"text":"Bonjour","number_list":["0692123456"],"encodage":1}})");
}

TEST_CASE("clever_technologies: 201 with the parts, and the account failures",
          "[provider][clever_technologies]") {
  SendResult ok = classify_body(201, R"({"push":{"id":88123,"nb_sms":2,"error":null}})");
  CHECK(ok.outcome == Outcome::accepted);
  CHECK(ok.provider_message_id == "88123");
  CHECK(ok.parts == 2);

  // The 77's recurring incident: out of credit, every SMS blocked until credit is bought.
  SendResult broke =
      classify_body(402, R"({"errors":{"credit":"Crédit insuffisant pour cet envoi"}})");
  CHECK(broke.outcome == Outcome::unavailable);
  CHECK(broke.error == "Clever Technologies: HTTP 402: Crédit insuffisant pour cet envoi");
  SendResult expired = classify_body(430, R"({"errors":{"account":"Compte expiré"}})");
  CHECK(expired.outcome == Outcome::unavailable);
  CHECK(expired.error == "Clever Technologies: HTTP 430: Compte expiré");
  SendResult denied = classify_body(401, R"({"errors":{"a":"Identifiants invalides","b":["x"]}})");
  CHECK(denied.outcome == Outcome::unavailable);
  CHECK(denied.error == "Clever Technologies: HTTP 401: Identifiants invalides; x");

  CHECK(classify_body(400, R"({"errors":{"text":"Texte vide"}})").outcome == Outcome::permanent);
  CHECK(classify_body(500, R"({"errors":{}})").outcome == Outcome::transient);
}

TEST_CASE("clever_technologies: malformed bodies, HTML errors, timeouts",
          "[provider][clever_technologies]") {
  SendResult no_push = classify_body(201, R"({"result":"ok"})");
  CHECK(no_push.outcome == Outcome::transient);
  CHECK(no_push.outcome_unknown);  // 201: it probably went out
  CHECK(classify_body(402, "<html>Payment Required</html>").outcome == Outcome::unavailable);
  CHECK(classify_body(502, "<html>Bad Gateway</html>").outcome == Outcome::transient);
  HttpResponse timeout;
  timeout.timed_out = true;
  timeout.maybe_delivered = true;
  CHECK(clever_technologies::classify(timeout).outcome_unknown);
}

TEST_CASE("clever_technologies: configuration errors", "[provider][clever_technologies]") {
  boost::asio::io_context io;
  ProviderContext ctx{io, nullptr};
  auto create = [&](const std::string& yaml) {
    return config_error([&] {
      Account account("clever-77", "clever_technologies", yaml);
      make_clever_technologies_provider(account.settings, ctx);
      account.settings.reject_unknown_keys();
    });
  };
  CHECK(create(kSettings).empty());
  CHECK(create("login: cd77-rdvs") ==
        "/etc/rappel/rappel.yaml:3:5: providers.clever-77: missing required secret 'password'");
  // No sender in this API: saying one would silently do nothing, so it is refused.
  CHECK(create(std::string(kSettings) + "\nsender: RdvSoli") ==
        "/etc/rappel/rappel.yaml:6:5: unknown key 'providers.clever-77.sender'");
  CHECK(create(std::string(kSettings) + "\nencodage: trois").find("expected an integer") !=
        std::string::npos);
}

TEST_CASE("clever_technologies: real sends, as the server receives them",
          "[provider][clever_technologies]") {
  ScriptedResponse answer{201, R"({"push":{"id":"p-1","nb_sms":2}})"};
  ProviderServer server([&answer](const RecordedRequest&) { return answer; });
  boost::asio::io_context io;
  CurlMulti curl(io);
  ProviderContext ctx{io, &curl};
  Account account("clever-77", "clever_technologies",
                  std::string(kSettings) + "\nurl: " + server.url("/api/pushs"));
  auto provider = make_clever_technologies_provider(account.settings, ctx);

  SendResult r = send_and_wait(*provider, io, french_sms());
  CHECK(r.outcome == Outcome::accepted);
  CHECK(r.parts == 2);
  RecordedRequest got = server.requests().at(0);
  CHECK(got.method == "POST");
  CHECK(got.target == "/api/pushs");
  CHECK(got.headers["content-type"] == "application/json; charset=UTF-8");
  CHECK(got.headers["authorization"] == "Basic Y2Q3Ny1yZHZzOmNsM3Zlcg==");  // cd77-rdvs:cl3ver
  auto body = nlohmann::json::parse(got.body);
  CHECK(body == nlohmann::json{{"datas",
                                {{"text", kReminderText},
                                 {"number_list", nlohmann::json::array({"0612345678"})},
                                 {"encodage", 3}}}});

  SendResult garbage = send_and_wait(*provider, io, french_sms("+999"));
  CHECK(garbage.outcome == Outcome::permanent);
  CHECK(garbage.error == "Clever Technologies: the number has no national format");
  CHECK(server.request_count() == 1);  // nothing sent for it

  answer = ScriptedResponse{402, R"({"errors":{"credit":"Crédit épuisé"}})"};
  r = send_and_wait(*provider, io, french_sms());
  CHECK(r.outcome == Outcome::unavailable);
  CHECK(r.error == "Clever Technologies: HTTP 402: Crédit épuisé");
}
