// Tests of what every HTTP SMS adapter shares: sender-name rules, the default status table,
// Retry-After, provider texts scrubbed of phone numbers, unreadable bodies, and the common
// settings.
#include <date/date.h>
#include <catch2/catch.hpp>

#include "providers/http_sms.hpp"
#include "support/sms_adapter_harness.hpp"

using namespace rappel;
using namespace rappel::test;
using namespace std::chrono_literals;

TEST_CASE("sender names: the names in use pass, the rest say why", "[provider][http_answers]") {
  SenderRules rules;
  CHECK_FALSE(check_sender_name("RdvSoli", rules));
  CHECK_FALSE(check_sender_name("RdvAideNum", rules));
  CHECK_FALSE(check_sender_name("CD 77", rules));
  CHECK_FALSE(check_sender_name("33612345678", rules));  // numeric, up to 15 digits
  CHECK(check_sender_name("RDV S.P.", rules)->find("letters, digits and spaces") !=
        std::string::npos);
  CHECK(check_sender_name("RdvSolidarite", rules)->find("at most 11") != std::string::npos);
  CHECK(check_sender_name("Département", rules));  // accents are not allowed in sender names
  CHECK(check_sender_name("1234567890123456", rules)->find("15 digits") != std::string::npos);
  CHECK(check_sender_name("12 34", rules)->find("at least one letter") != std::string::npos);
  CHECK(check_sender_name("", rules));

  rules.punctuation = ".";
  CHECK_FALSE(check_sender_name("RDV S.P.", rules));
  rules.numeric_allowed = false;
  CHECK(check_sender_name("0612345678", rules)->find("numeric") != std::string::npos);
}

TEST_CASE("default HTTP status classification", "[provider][http_answers]") {
  CHECK(outcome_of_status(200) == Outcome::accepted);
  CHECK(outcome_of_status(201) == Outcome::accepted);
  CHECK(outcome_of_status(408) == Outcome::transient);
  CHECK(outcome_of_status(429) == Outcome::transient);
  CHECK(outcome_of_status(500) == Outcome::transient);
  CHECK(outcome_of_status(503) == Outcome::transient);
  CHECK(outcome_of_status(401) == Outcome::unavailable);
  CHECK(outcome_of_status(402) == Outcome::unavailable);  // out of credit
  CHECK(outcome_of_status(403) == Outcome::unavailable);
  CHECK(outcome_of_status(301) == Outcome::unavailable);  // a wrong url: every send would fail
  CHECK(outcome_of_status(400) == Outcome::permanent);
  CHECK(outcome_of_status(404) == Outcome::permanent);
  CHECK(outcome_of_status(422) == Outcome::permanent);
}

TEST_CASE("Retry-After in seconds or as an HTTP date", "[provider][http_answers]") {
  using namespace std::chrono;
  // Tue, 12 Mar 2024 09:30:00 GMT
  date::sys_seconds now = date::sys_days{date::year{2024} / 3 / 12} + 9h + 30min;
  CHECK(parse_retry_after("120", now) == 120s);
  CHECK(parse_retry_after(" 0 ", now) == 0s);
  CHECK(parse_retry_after("Tue, 12 Mar 2024 09:32:30 GMT", now) == 150s);
  CHECK(parse_retry_after("Tue, 12 Mar 2024 09:00:00 GMT", now) == 0s);  // already past
  CHECK_FALSE(parse_retry_after("bientôt", now));
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("99999999999999", now));
}

TEST_CASE("failures carry the provider's words, the status and Retry-After",
          "[provider][http_answers]") {
  HttpResponse busy = json_response(429, R"({"message":"slow down"})");
  busy.headers.emplace_back("retry-after", "30");
  SendResult r = http_failure(Outcome::transient, "SMS Factor", busy, "slow down");
  CHECK(r.outcome == Outcome::transient);
  CHECK(r.error == "SMS Factor: HTTP 429: slow down");
  CHECK(r.retry_after == 30s);
  CHECK_FALSE(r.outcome_unknown);
}

TEST_CASE("no response: transient, unknown only if the request may have gone out",
          "[provider][http_answers]") {
  HttpResponse timeout;
  timeout.timed_out = true;
  timeout.maybe_delivered = true;
  timeout.transport_error = "Operation timed out after 15000 milliseconds";
  SendResult r = classify_by_status("Netsize", timeout);
  CHECK(r.outcome == Outcome::transient);
  CHECK(r.outcome_unknown);
  CHECK(r.error.find("timed out") != std::string::npos);

  HttpResponse refused;
  refused.transport_error = "Couldn't connect to server";
  r = classify_by_status("Netsize", refused);
  CHECK(r.outcome == Outcome::transient);
  CHECK_FALSE(r.outcome_unknown);
}

TEST_CASE("5xx: 500, 502 and 504 leave the outcome unknown, 503 and 429 are refusals",
          "[provider][http_answers]") {
  for (int status : {500, 502, 504}) {
    INFO("HTTP " << status);
    SendResult r = classify_by_status("SMS Factor", json_response(status, "<html>Erreur</html>"));
    CHECK(r.outcome == Outcome::transient);
    CHECK(r.outcome_unknown);  // the SMS may be queued behind the error: never the fallback
  }
  for (int status : {503, 429, 408, 501, 505}) {
    INFO("HTTP " << status);
    SendResult r = classify_by_status("SMS Factor", json_response(status, "<html>Erreur</html>"));
    CHECK(r.outcome == Outcome::transient);
    CHECK_FALSE(r.outcome_unknown);
  }
  // A provider's own transient code under HTTP 200 says it did not take the message.
  CHECK_FALSE(http_failure(Outcome::transient, "Netsize", json_response(200, "{}"), "code 99")
                  .outcome_unknown);
  // Only transient failures are pinned: an adapter that calls a 500 permanent means it.
  CHECK_FALSE(
      http_failure(Outcome::permanent, "Netsize", json_response(500, "{}"), "").outcome_unknown);
}

TEST_CASE("unreadable bodies: by status, and unknown after a 2xx", "[provider][http_answers]") {
  SendResult ok_but_html = unreadable_body("Brevo SMS", json_response(200, "<html>OK</html>"));
  CHECK(ok_but_html.outcome == Outcome::transient);
  CHECK(ok_but_html.outcome_unknown);  // the provider may have taken it: a retry may duplicate

  SendResult busy = unreadable_body("Brevo SMS", json_response(503, "<html>Busy</html>"));
  CHECK(busy.outcome == Outcome::transient);
  CHECK_FALSE(busy.outcome_unknown);
  SendResult gateway = unreadable_body("Brevo SMS", json_response(502, "<html>Bad</html>"));
  CHECK(gateway.outcome == Outcome::transient);
  CHECK(gateway.outcome_unknown);  // the gateway took the request: the backend may have sent it
  CHECK(unreadable_body("Brevo SMS", json_response(401, "")).outcome == Outcome::unavailable);
  CHECK_FALSE(parse_json("{\"status\":1"));
  CHECK(json_integer(*parse_json(R"({"n":"42","m":7,"x":"4a"})"), "n") == 42);
  CHECK_FALSE(json_integer(*parse_json(R"({"x":"4a"})"), "x"));
}

TEST_CASE("common HTTP settings: defaults, overrides and located errors",
          "[provider][http_answers]") {
  Account plain("sms-77", "clever_technologies", "login: cd77");
  HttpSettings s = read_http_settings(plain.settings, "https://api.example.fr/send");
  CHECK(s.url == "https://api.example.fr/send");
  CHECK(s.connect_timeout == 5s);
  CHECK(s.timeout == 15s);

  Account tuned("sms-77", "clever_technologies",
                "url: http://127.0.0.1:8080/api\nconnect_timeout: 2s\ntimeout: 30s");
  s = read_http_settings(tuned.settings, "https://api.example.fr/send");
  CHECK(s.url == "http://127.0.0.1:8080/api");
  CHECK(s.connect_timeout == 2s);
  CHECK(s.timeout == 30s);

  Account bad("sms-77", "clever_technologies", "login: cd77\nurl: ftp://example.fr");
  CHECK(config_error([&] { read_http_settings(bad.settings, "https://x"); }) ==
        "/etc/rappel/rappel.yaml:5:10: providers.sms-77.url: expected an http:// or https:// URL");
  Account inverted("sms-77", "clever_technologies", "connect_timeout: 10s\ntimeout: 2s");
  CHECK(config_error([&] {
          read_http_settings(inverted.settings, "https://x");
        }).find("timeout: must be at least connect_timeout") != std::string::npos);
}
