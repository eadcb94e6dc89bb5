// The SMTP session cap seen from the contract: the real daemon, Redis and aiosmtpd, an email
// account limited to one session, and SIGTERM while most emails still wait for it. Whatever the
// moment the signal lands, every email must end up either `sent` (and received) or back in the
// queue, and the ones the daemon says were never sent must not have reached the relay. Then a
// second daemon sends the rest, each once (bar one that was on the wire when the grace ran out,
// which is flagged outcome_unknown).
#include <csignal>
#include <map>

#include <catch2/catch.hpp>

#include "scenario.hpp"
#include "support/smtp_test_server.hpp"

using namespace rappel::test;
using namespace std::chrono_literals;

namespace {

std::map<std::string, int> received_per_message(const SmtpTestServer& smtp) {
  std::map<std::string, int> seen;
  for (int n = 1; n <= smtp.message_count(); ++n) {
    std::string eml = smtp.message(n);
    size_t at = eml.find("X-Mailin-custom: ");
    if (at == std::string::npos) continue;
    at += 17;
    ++seen[eml.substr(at, eml.find("\r\n", at) - at)];
  }
  return seen;
}

}  // namespace

TEST_CASE("SIGTERM with emails waiting for an SMTP session: each sent once or requeued unsent",
          "[integration][smtp_sessions]") {
  setenv("RAPPEL_E2E_SMTP_PASSWORD", SmtpTestServer::kPassword, 1);
  SmtpTestServer smtp;
  TestConfig config;
  // All 300 claimed at once and waiting for the one session, which aiosmtpd serves in ~1.5 ms per
  // email here: most of them are still waiting when the 100 ms grace runs out.
  config.dispatch = "{max_in_flight: 300, claim_batch: 300, shutdown_grace: 100ms}";
  config.extra_providers =
      "  brevo-62: {type: smtp, url: \"" + smtp.url() + "\", username: \"" + SmtpTestServer::kUser +
      R"(", password: "${RAPPEL_E2E_SMTP_PASSWORD}", ca_file: ")" + smtp.ca_file() +
      R"(", from: "RDV Solidarités <rdv@pasdecalais.fr>", max_connections: 1})" + "\n";
  config.departments = "  \"62\": {email: {provider: brevo-62}, retry: {base: 1s, cap: 1s}}\n";
  Scenario s(config);
  std::vector<std::string> ids;
  for (int i = 0; i < 300; ++i) {
    s.enqueue(reminder("rdv-62-" + std::to_string(i), "62", {"email"}));
    ids.push_back("rdv-62-" + std::to_string(i) + ":email");
  }
  auto& first = s.start_daemon("first");
  REQUIRE(eventually([&] { return smtp.message_count() >= 5; }, 30s));
  first.signal(SIGTERM);
  int received_at_signal = smtp.message_count();
  auto code = first.wait(30s);
  INFO(received_at_signal << " received when SIGTERM was sent; log:\n" << first.log());
  REQUIRE(code);
  CHECK(*code == 0);

  CHECK(s.redis.integer({"ZCARD", "rappel:inflight"}) == 0);
  CHECK(count_with_status(s.redis, ids, "sending") == 0);
  auto seen = received_per_message(smtp);
  int sent = 0, requeued_unsent = 0, never_claimed = 0;
  for (const auto& id : ids) {
    auto m = s.message(id);
    INFO(id << " " << m["status"] << " " << m["error"]);
    if (m["status"] == "sent") {
      ++sent;
      CHECK(seen[id] == 1);
    } else if (m["status"] == "scheduled") {
      ++never_claimed;  // beyond max_in_flight: still in Redis, untouched
      CHECK(seen.count(id) == 0);
    } else {
      CHECK(m["status"] == "retrying");
      if (m["error"].find("not sent") != std::string::npos) {
        ++requeued_unsent;
        CHECK(seen.count(id) == 0);  // told "never sent": it must not be at the relay
      } else {
        CHECK(m["outcome_unknown"] == "1");  // the one on the wire when the grace ran out
      }
    }
  }
  INFO(sent << " sent, " << requeued_unsent << " requeued unsent, " << never_claimed
            << " never claimed");
  CHECK(sent >= 5);
  // Whether the grace ran out with emails still waiting depends on the machine's speed; the checks
  // above hold either way, and the unit tests cover cancel_all() on its own.
  if (requeued_unsent == 0) WARN("every email went out within the grace: no cancel seen here");
  CHECK(sent + requeued_unsent + never_claimed >= 299);  // at most one session was cut short

  auto& second = s.start_daemon("second");
  bool all_sent = eventually([&] { return count_with_status(s.redis, ids, "sent") == 300; }, 90s);
  INFO(second.log());
  REQUIRE(all_sent);
  seen = received_per_message(smtp);
  CHECK(seen.size() == 300);
  int duplicated = 0;
  for (const auto& [id, count] : seen) {
    CHECK(count <= 2);
    if (count == 2) {
      ++duplicated;
      CHECK(s.message(id)["outcome_unknown"] == "1");
    }
  }
  CHECK(duplicated <= 1);
  CHECK(smtp.peak_sessions() == 1);
}
