// Tests of the per-account cap on SMTP sessions (daemon/net/smtp_sessions.hpp) against a real SMTP
// server (aiosmtpd, which records how many connections were open at once): a burst of reminders
// all arrives through no more sessions than the cap, in the order they were handed over, each
// send answered exactly once; a failed send frees its session; stopping answers the waiting sends
// as never sent. Nothing here depends on timing: the server counts sessions, not seconds.
#include <map>
#include <set>

#include <yaml-cpp/yaml.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>

#include "daemon/net/curl_multi.hpp"
#include "daemon/net/smtp_sessions.hpp"
#include "providers/registry.hpp"
#include "providers/smtp_account.hpp"
#include "support/smtp_test_server.hpp"

namespace rappel {
std::unique_ptr<Provider> make_smtp_provider(ConfigMap&, ProviderContext&);  // registry.cpp
}  // namespace rappel

using namespace rappel;
using rappel::test::SmtpTestServer;
using namespace std::chrono_literals;

namespace {

SmtpSettings settings_for(const SmtpTestServer& server, int max_connections) {
  SmtpSettings s;
  s.url = server.url();
  s.username = SmtpTestServer::kUser;
  s.password = SmtpTestServer::kPassword;
  s.ca_file = server.ca_file();
  s.timeout = 30s;
  s.max_connections = max_connections;
  return s;
}

// A short reminder whose Subject carries its number, so the server's copy says which it was.
SmtpMessage numbered_reminder(int n, std::string to = "camille.martin@example.fr") {
  std::string number = std::to_string(n);
  return {"ne-pas-repondre@rdv-solidarites.fr",
          {to},
          "From: RDV Solidarites <ne-pas-repondre@rdv-solidarites.fr>\r\nTo: " + to +
              "\r\nSubject: Rappel " + number +
              "\r\n\r\nVous avez rendez-vous le mardi 12 mars a 9h30 au CDAS d'Arras.\r\n"};
}

// Runs the loop until `done` holds (each step waits for I/O, bounded so a hang fails).
template <typename Predicate>
void run_until(boost::asio::io_context& io, Predicate done) {
  io.restart();
  while (!done()) REQUIRE(io.run_one_for(60s) > 0);
}

Outbound reminder_email(int n) {
  EmailContent email;
  email.to = "usager" + std::to_string(n) + "@example.fr";
  email.subject = "Rappel : votre rendez-vous du 12 mars";
  email.text = "Bonjour, vous avez rendez-vous le mardi 12 mars à 9h30 au CDAS d'Arras.";
  return Outbound{"rdv-" + std::to_string(n) + ":email", "62", 1, email};
}

}  // namespace

TEST_CASE("200 emails through an smtp account capped at 4 sessions all arrive over 4 connections",
          "[smtp_sessions]") {
  SmtpTestServer server;
  boost::asio::io_context io;
  CurlMulti curl(io);
  ProviderContext ctx{io, &curl};
  setenv("RAPPEL_TEST_SMTP_PASSWORD", SmtpTestServer::kPassword, 1);
  ConfigMap settings(
      YAML::Load("url: " + server.url() + "\nusername: " + SmtpTestServer::kUser +
                 "\npassword: ${RAPPEL_TEST_SMTP_PASSWORD}\nca_file: " + server.ca_file() +
                 "\nfrom: ne-pas-repondre@rdv-solidarites.fr\nmax_connections: 4\n"),
      "rappel.yml", "providers.brevo-62");
  auto provider = make_smtp_provider(settings, ctx);
  CHECK_NOTHROW(settings.reject_unknown_keys());

  constexpr int kEmails = 200;
  std::map<std::string, int> answers;  // message id -> results received
  std::map<std::string, Outcome> outcomes;
  int answered = 0;
  for (int n = 0; n < kEmails; ++n) {
    Outbound message = reminder_email(n);
    provider->send(message, [&, id = message.id](SendResult r) {
      ++answers[id];
      outcomes[id] = r.outcome;
      ++answered;
    });
  }
  CHECK(answered == 0);  // never from inside send()
  run_until(io, [&] { return answered == kEmails; });

  CHECK(answers.size() == size_t(kEmails));
  for (const auto& [id, count] : answers) {
    CHECK(count == 1);
    CHECK(outcomes[id] == Outcome::accepted);
  }
  REQUIRE(server.message_count() == kEmails);
  std::set<std::string> received;
  for (int n = 1; n <= kEmails; ++n) {
    std::string eml = server.message(n);
    size_t at = eml.find("X-Mailin-custom: ");
    REQUIRE(at != std::string::npos);
    received.insert(eml.substr(at + 17, eml.find("\r\n", at) - at - 17));
  }
  CHECK(received.size() == size_t(kEmails));
  CHECK(received.count("rdv-0:email") == 1);
  CHECK(received.count("rdv-199:email") == 1);
  CHECK(server.peak_sessions() <= 4);
  CHECK(server.connections() <= 4);  // each session kept open and reused
  CHECK(curl.in_flight() == 0);
}

TEST_CASE("sends beyond the cap wait in order and reuse the session", "[smtp_sessions]") {
  SmtpTestServer server;
  boost::asio::io_context io;
  CurlMulti curl(io);
  SmtpSessions sessions(curl, settings_for(server, 1));
  std::vector<int> answered_in_order;
  for (int n = 1; n <= 6; ++n)
    sessions.send(numbered_reminder(n), [&, n](SmtpResult r) {
      CHECK(r.accepted());
      answered_in_order.push_back(n);
    });
  CHECK(sessions.running() == 1);
  CHECK(sessions.waiting() == 5);
  run_until(io, [&] { return answered_in_order.size() == 6; });

  CHECK(answered_in_order == std::vector<int>{1, 2, 3, 4, 5, 6});
  REQUIRE(server.message_count() == 6);
  for (int n = 1; n <= 6; ++n) {
    CHECK(server.message(n).find("Subject: Rappel " + std::to_string(n) + "\r\n") !=
          std::string::npos);
    CHECK(server.envelope(n)["connection"] == 1);
  }
  CHECK(server.connections() == 1);
  CHECK(sessions.running() == 0);
  CHECK(sessions.waiting() == 0);
}

TEST_CASE("a refused or failed send frees its session for the next one", "[smtp_sessions]") {
  SECTION("a 451 from the relay") {
    SmtpTestServer server;
    boost::asio::io_context io;
    CurlMulti curl(io);
    SmtpSessions sessions(curl, settings_for(server, 1));
    std::vector<SendResult> results;
    auto keep = [&](SmtpResult r) { results.push_back(to_send_result(r)); };
    sessions.send(numbered_reminder(1, "tempfail-camille@example.fr"), keep);
    sessions.send(numbered_reminder(2), keep);
    run_until(io, [&] { return results.size() == 2; });
    CHECK(results[0].outcome == Outcome::transient);
    CHECK(results[1].outcome == Outcome::accepted);
    CHECK(server.message_count() == 1);
  }
  SECTION("a relay that cannot be reached") {
    boost::asio::io_context io;
    unsigned short port;
    {
      boost::asio::ip::tcp::acceptor bound(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
      port = bound.local_endpoint().port();
    }
    CurlMulti curl(io);
    SmtpSettings settings;
    settings.url = "smtp://127.0.0.1:" + std::to_string(port);
    settings.max_connections = 2;
    SmtpSessions sessions(curl, settings);
    std::vector<SendResult> results;
    for (int n = 1; n <= 5; ++n)
      sessions.send(numbered_reminder(n),
                    [&](SmtpResult r) { results.push_back(to_send_result(r)); });
    run_until(io, [&] { return results.size() == 5; });
    for (const auto& r : results) {
      CHECK(r.outcome == Outcome::transient);
      CHECK_FALSE(r.outcome_unknown);
    }
  }
}

TEST_CASE("cancel_all answers waiting sends as not sent and running ones as maybe sent",
          "[smtp_sessions]") {
  SmtpTestServer server;
  boost::asio::io_context io;
  CurlMulti curl(io);
  SmtpSessions sessions(curl, settings_for(server, 1));
  std::vector<SendResult> results(10);
  int answered = 0;
  for (int n = 0; n < 10; ++n)
    sessions.send(numbered_reminder(n), [&, n](SmtpResult r) {
      results[n] = to_send_result(r);
      ++answered;
    });
  sessions.cancel_all();
  CHECK(answered == 0);  // answered later, on the loop
  CHECK(sessions.waiting() == 0);
  run_until(io, [&] { return answered == 10 && curl.in_flight() == 0; });

  CHECK(answered == 10);  // the running transfer's own completion did not answer a second time
  CHECK(results[0].outcome == Outcome::transient);
  CHECK(results[0].outcome_unknown);  // it was on its way to the relay
  for (int n = 1; n < 10; ++n) {
    CHECK(results[n].outcome == Outcome::transient);
    CHECK_FALSE(results[n].outcome_unknown);
    CHECK(results[n].error.find("not sent") != std::string::npos);
  }
  CHECK(server.message_count() <= 1);  // only the one already running may have gone out

  // The account stays usable: a send after the cancel goes out normally.
  std::optional<SmtpResult> after;
  sessions.send(numbered_reminder(10), [&](SmtpResult r) { after = std::move(r); });
  run_until(io, [&] { return after.has_value(); });
  CHECK(after->accepted());
  CHECK(server.message(server.message_count()).find("Subject: Rappel 10\r\n") != std::string::npos);
}

TEST_CASE("max_connections is read from the account, 8 by default", "[smtp_sessions]") {
  auto config = [](const std::string& yaml) {
    return ConfigMap(YAML::Load(yaml), "rappel.yml", "providers.brevo-62");
  };
  auto plain = config("url: smtp://smtp-relay.brevo.com:587\n");
  CHECK(read_smtp_settings(plain).max_connections == 8);
  auto four = config("url: smtp://smtp-relay.brevo.com:587\nmax_connections: 4\n");
  CHECK(read_smtp_settings(four).max_connections == 4);
  CHECK_NOTHROW(four.reject_unknown_keys());
  auto zero = config("url: smtp://smtp-relay.brevo.com:587\nmax_connections: 0\n");
  CHECK_THROWS_WITH(read_smtp_settings(zero), Catch::Contains("max_connections"));
}
