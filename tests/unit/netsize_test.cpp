// Tests of the Netsize adapter: the form it posts, its responseCode table, its settings, and real
// sends through CurlMulti to the Beast stand-in server (including a timeout, a dropped connection
// and cancellation, which the generic HTTP provider handles the same way for every adapter).
#include <catch2/catch.hpp>

#include "providers/netsize.hpp"
#include "support/provider_server.hpp"
#include "support/sms_adapter_harness.hpp"

using namespace rappel;
using namespace rappel::test;
using namespace std::chrono_literals;

namespace {

const char* kSettings = "login: dinum-rdvs\npassword: p4ss\nsender: RdvSoli";

netsize::Settings settings(const std::string& yaml = kSettings) {
  Account account("netsize-dinum", "netsize", yaml);
  return netsize::read_settings(account.settings);
}

SendResult classify_body(const std::string& body, std::string_view to = "+33612345678") {
  return netsize::classify(json_response(200, body), to);
}

SendResult classify_code(int code, std::string_view to = "+33612345678") {
  return classify_body(R"({"responseCode":)" + std::to_string(code) +
                           R"(,"responseMessage":"Netsize says no","traceId":"t-1"})",
                       to);
}

}  // namespace

TEST_CASE("netsize: the form, with UTF-8 charset, Basic auth and E.164 digits",
          "[provider][netsize]") {
  HttpRequest r = netsize::build_request(settings(), french_sms());
  CHECK(r.method == "POST");
  CHECK(r.url == "https://europe.ipx.com/restapi/v1/sms/send");
  CHECK(r.headers[0] == std::pair<std::string, std::string>(
                            "Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"));
  CHECK(r.basic_auth_user == "dinum-rdvs");
  CHECK(r.basic_auth_password == "p4ss");
  CHECK(r.connect_timeout == 5s);
  CHECK(r.total_timeout == 15s);
  CHECK(
      r.body.starts_with("destinationAddress=33612345678&messageText=RDV%20Solidarit%C3%A9s%20"
                         "%3A%20rappel%20de%20votre%20rendez-vous%20le%20mardi%2012%20mars%20%"
                         "C3%A0%209h30"));
  CHECK(r.body.ends_with("&originatingAddress=RdvSoli&originatorTON=1&maxConcatenatedMessages=10"));
  CHECK(r.body.find("campaignName") == std::string::npos);
}

TEST_CASE("netsize: the message's sender, max concatenation and campaign name",
          "[provider][netsize]") {
  Outbound m = french_sms("+262692123456");
  std::get<SmsContent>(m.content).sender = "RdvAideNum";
  auto s = settings(std::string(kSettings) +
                    "\nmax_concatenated_messages: 4\ncampaign_name: Rappels 974");
  HttpRequest r = netsize::build_request(s, m);
  CHECK(r.body.starts_with("destinationAddress=262692123456&"));
  CHECK(
      r.body.ends_with("&originatingAddress=RdvAideNum&originatorTON=1"
                       "&maxConcatenatedMessages=4&campaignName=Rappels%20974"));
}

TEST_CASE("netsize: success, partial success and the parts billed", "[provider][netsize]") {
  SendResult ok = classify_body(
      R"({"responseCode":0,"responseMessage":"Success","timestamp":"2024-03-10T09:30:00Z",
          "traceId":"tr-9","messageIds":["4f1a-1","4f1a-2"]})");
  CHECK(ok.outcome == Outcome::accepted);
  CHECK(ok.provider_message_id == "4f1a-1");
  CHECK(ok.parts == 2);
  CHECK(ok.error.empty());

  SendResult partial = classify_body(R"({"responseCode":50,"traceId":"tr-7","messageIds":[]})");
  CHECK(partial.outcome == Outcome::accepted);
  CHECK(partial.provider_message_id == "tr-7");
  CHECK(partial.parts == 0);
}

TEST_CASE("netsize: every documented responseCode class", "[provider][netsize]") {
  for (int code : {1, 2, 3, 18, 103, 106, 107, 120, 121}) {
    INFO("responseCode " << code);
    CHECK(classify_code(code).outcome == Outcome::unavailable);
  }
  for (int code : {13, 17, 99, 42}) {  // 42: undocumented, retried like RDV-Solidarités does
    INFO("responseCode " << code);
    CHECK(classify_code(code).outcome == Outcome::transient);
  }
  for (int code : {6, 7, 8, 9, 10, 11, 12, 15, 16, 100, 110, 111, 113, 117}) {
    INFO("responseCode " << code);
    CHECK(classify_code(code).outcome == Outcome::permanent);
  }
  SendResult low = classify_code(18);
  CHECK(low.error == "Netsize: HTTP 200: responseCode 18 Netsize says no");
  CHECK(low.provider_message_id.empty());
}

TEST_CASE("netsize: 103 outside France and its overseas départements is the number's fault",
          "[provider][netsize]") {
  CHECK(classify_code(103, "+590690123456").outcome == Outcome::unavailable);  // Guadeloupe
  CHECK(classify_code(103, "+262639123456").outcome == Outcome::unavailable);  // Mayotte
  // The Comoros (+269) are not Mayotte: a 103 there is the number's fault, not the account's.
  CHECK(classify_code(103, "+2693212345").outcome == Outcome::permanent);
  SendResult abroad = classify_code(103, "+32470123456");  // Belgium
  CHECK(abroad.outcome == Outcome::permanent);
  CHECK(abroad.error.find("serves only France") != std::string::npos);
}

TEST_CASE("netsize: HTTP errors, malformed bodies and timeouts", "[provider][netsize]") {
  CHECK(netsize::classify(json_response(401, "Unauthorized")).outcome == Outcome::unavailable);
  CHECK(netsize::classify(json_response(503, "<html>busy</html>")).outcome == Outcome::transient);
  CHECK(netsize::classify(json_response(500, R"({"error":"x"})")).outcome == Outcome::transient);
  SendResult garbled = classify_body(R"({"responseCode":0,"messageIds":[)");
  CHECK(garbled.outcome == Outcome::transient);
  CHECK(garbled.outcome_unknown);

  HttpResponse timeout;
  timeout.timed_out = true;
  timeout.maybe_delivered = true;
  SendResult late = netsize::classify(timeout);
  CHECK(late.outcome == Outcome::transient);
  CHECK(late.outcome_unknown);

  HttpResponse throttled = json_response(429, R"({"responseCode":13})");
  throttled.headers.emplace_back("retry-after", "60");
  CHECK(netsize::classify(throttled).retry_after == 60s);
}

TEST_CASE("netsize: a 2xx without responseCode is no success, and may have gone out",
          "[provider][netsize]") {
  for (std::string body :
       {R"({"error":"Service Unavailable"})", "{}", R"({"traceId":"t-1","messageIds":["m-1"]})"}) {
    INFO(body);
    SendResult r = classify_body(body);
    CHECK(r.outcome == Outcome::transient);
    CHECK(r.outcome_unknown);
    CHECK(r.provider_message_id.empty());
  }
  CHECK(classify_body(R"({"responseMessage":"Service en maintenance"})").error ==
        "Netsize: HTTP 200: no responseCode in the answer: the message may have been sent: "
        "Service en maintenance");
  SendResult refused = netsize::classify(json_response(401, R"({"error":"Unauthorized"})"));
  CHECK(refused.outcome == Outcome::unavailable);
  CHECK_FALSE(refused.outcome_unknown);
}

TEST_CASE("netsize: configuration errors name the account and the line", "[provider][netsize]") {
  boost::asio::io_context io;
  ProviderContext ctx{io, nullptr};
  auto create = [&](const std::string& yaml) {
    return config_error([&] {
      Account account("netsize-dinum", "netsize", yaml);
      make_netsize_provider(account.settings, ctx);
      account.settings.reject_unknown_keys();
    });
  };
  CHECK(create(kSettings).empty());  // and constructible without a CurlMulti (check-config)
  CHECK(create("login: dinum-rdvs\nsender: RdvSoli") ==
        "/etc/rappel/rappel.yaml:3:5: providers.netsize-dinum: missing required secret "
        "'password'");
  CHECK(create("login: dinum-rdvs\npassword: p4ss\nsender: RDV S.P.") ==
        "/etc/rappel/rappel.yaml:6:13: providers.netsize-dinum.sender: a sender name may only "
        "contain unaccented letters, digits and spaces");
  CHECK(
      create("login: dinum-rdvs\npassword: p4ss\nsender: RDV S.P.\nsender_punctuation: .").empty());
  CHECK(create("login: dinum-rdvs\npassword: p4ss\nsender: '0612345678'").find("numeric") !=
        std::string::npos);
  CHECK(create(std::string(kSettings) + "\nmax_concatenated_message: 10") ==
        "/etc/rappel/rappel.yaml:7:5: unknown key 'providers.netsize-dinum."
        "max_concatenated_message'");
  CHECK(create(std::string(kSettings) + "\nmax_concatenated_messages: 0")
            .find("must be between 1 and 255") != std::string::npos);
}

TEST_CASE("netsize: a real send, as the server receives it", "[provider][netsize]") {
  ProviderServer server([](const RecordedRequest&) {
    return ScriptedResponse{200, R"({"responseCode":0,"responseMessage":"Success",)"
                                 R"("traceId":"tr-1","messageIds":["m-1","m-2"]})"};
  });
  boost::asio::io_context io;
  CurlMulti curl(io);
  ProviderContext ctx{io, &curl};
  Account account("netsize-dinum", "netsize",
                  std::string(kSettings) + "\nurl: " + server.url("/restapi/v1/sms/send"));
  auto provider = make_netsize_provider(account.settings, ctx);

  SendResult r = send_and_wait(*provider, io, french_sms());
  CHECK(r.outcome == Outcome::accepted);
  CHECK(r.provider_message_id == "m-1");
  CHECK(r.parts == 2);

  REQUIRE(server.request_count() == 1);
  RecordedRequest got = server.requests()[0];
  CHECK(got.method == "POST");
  CHECK(got.target == "/restapi/v1/sms/send");
  CHECK(got.headers["content-type"] == "application/x-www-form-urlencoded; charset=UTF-8");
  CHECK(got.headers["authorization"] == "Basic ZGludW0tcmR2czpwNHNz");  // dinum-rdvs:p4ss
  CHECK(got.form() == std::map<std::string, std::string>{{"destinationAddress", "33612345678"},
                                                         {"messageText", kReminderText},
                                                         {"originatingAddress", "RdvSoli"},
                                                         {"originatorTON", "1"},
                                                         {"maxConcatenatedMessages", "10"}});
}

TEST_CASE("netsize: out of credit through the real server", "[provider][netsize]") {
  ProviderServer server([](const RecordedRequest&) {
    return ScriptedResponse{200, R"({"responseCode":18,"responseMessage":"Too low balance"})"};
  });
  boost::asio::io_context io;
  CurlMulti curl(io);
  ProviderContext ctx{io, &curl};
  Account account("netsize-dinum", "netsize", std::string(kSettings) + "\nurl: " + server.url());
  auto provider = make_netsize_provider(account.settings, ctx);
  SendResult r = send_and_wait(*provider, io, french_sms());
  CHECK(r.outcome == Outcome::unavailable);
  CHECK(r.error == "Netsize: HTTP 200: responseCode 18 Too low balance");
}

TEST_CASE("netsize: a slow provider, a dropped connection, and cancellation",
          "[provider][netsize]") {
  // Each answer is handed over with set_handler (under the server's mutex): the server reads it
  // on its own thread, and a request the client gave up on never orders that read before the
  // test's next change (ThreadSanitizer found the race when the answer was a captured variable).
  ProviderServer server([](const RecordedRequest&) { return ScriptedResponse{}; });
  auto answer_with = [&server](ScriptedResponse answer) {
    server.set_handler([answer](const RecordedRequest&) { return answer; });
  };
  boost::asio::io_context io;
  CurlMulti curl(io);
  ProviderContext ctx{io, &curl};
  Account account("netsize-dinum", "netsize",
                  std::string(kSettings) + "\nurl: " + server.url() +
                      "\nconnect_timeout: 200ms\ntimeout: 300ms");
  auto provider = make_netsize_provider(account.settings, ctx);

  answer_with({.delay = 10min});  // the server sleeps on a timer; the client gives up first
  SendResult slow = send_and_wait(*provider, io, french_sms());
  CHECK(slow.outcome == Outcome::transient);
  CHECK(slow.outcome_unknown);  // Netsize had the whole request: it may have sent the SMS
  CHECK(slow.error.find("timed out") != std::string::npos);

  answer_with({.drop_connection = true});
  SendResult dropped = send_and_wait(*provider, io, french_sms());
  CHECK(dropped.outcome == Outcome::transient);
  CHECK(dropped.outcome_unknown);

  answer_with({.delay = 10min});
  std::optional<SendResult> cancelled;
  provider->send(french_sms(), [&](SendResult r) { cancelled = std::move(r); });
  provider->cancel_all();
  CHECK_FALSE(cancelled);  // never from inside the call
  io.restart();
  while (!cancelled) REQUIRE(io.run_one_for(30s) > 0);
  CHECK(cancelled->outcome == Outcome::transient);
  CHECK(cancelled->outcome_unknown);
  CHECK(cancelled->error == "Netsize: cancelled");
}

TEST_CASE("netsize: check-config builds the provider without a CurlMulti", "[provider][netsize]") {
  boost::asio::io_context io;
  ProviderContext ctx{io, nullptr};
  Account account("netsize-dinum", "netsize", kSettings);
  auto provider = make_netsize_provider(account.settings, ctx);
  CHECK(provider->channel() == Channel::sms);
  CHECK_FALSE(provider->check_sender("RdvSoli"));
  CHECK(provider->check_sender("RDV S.P."));
  SendResult r = send_and_wait(*provider, io, french_sms());
  CHECK(r.outcome == Outcome::transient);
}
