// Tests of the SMTP client against a real SMTP server (aiosmtpd through smtp_server.py): TLS and
// AUTH as the Brevo relay requires them, the message arriving byte for byte, the classification of
// the server's refusals, and one connection serving consecutive messages.
#include <yaml-cpp/yaml.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>

#include "daemon/net/curl_multi.hpp"
#include "daemon/net/smtp_client.hpp"
#include "providers/smtp_account.hpp"
#include "support/smtp_test_server.hpp"

using namespace rappel;
using rappel::test::SmtpServerTls;
using rappel::test::SmtpTestServer;
using namespace std::chrono_literals;

namespace {

SmtpSettings settings_for(const SmtpTestServer& server) {
  SmtpSettings s;
  s.url = server.url();
  s.username = SmtpTestServer::kUser;
  s.password = SmtpTestServer::kPassword;
  s.ca_file = server.ca_file();
  s.timeout = 30s;
  return s;
}

// A reminder as build_email would make it: CRLF lines, 8-bit UTF-8, and a line starting with a
// dot (which SMTP must escape and the server unescape).
SmtpMessage reminder(std::string to = "camille.martin@example.fr") {
  SmtpMessage m;
  m.mail_from = "ne-pas-repondre@rdv-solidarites.fr";
  m.recipients = {to};
  m.data =
      "From: RDV Solidarités <ne-pas-repondre@rdv-solidarites.fr>\r\n"
      "To: " +
      to +
      "\r\n"
      "Subject: =?UTF-8?Q?Rappel_de_votre_rendez-vous?=\r\n"
      "Message-ID: <rdv-4521-reminder.email@rdv-solidarites.fr>\r\n"
      "X-Mailin-custom: rdv-4521-reminder:email\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=UTF-8\r\n"
      "Content-Transfer-Encoding: 8bit\r\n"
      "\r\n"
      "Bonjour,\r\n"
      "Vous avez rendez-vous le mardi 12 mars à 9h30 au CDAS d'Arras.\r\n"
      ".Ligne commençant par un point.\r\n"
      ".\r\n"
      "Pour annuler : https://www.rdv-solidarites.fr/r/abc\r\n";
  return m;
}

SmtpResult send(CurlMulti& curl, const SmtpSettings& settings, SmtpMessage message) {
  std::optional<SmtpResult> result;
  smtp_send(curl, settings, std::move(message), [&](SmtpResult r) { result = std::move(r); });
  curl.io().restart();
  while (!result) REQUIRE(curl.io().run_one_for(60s) > 0);
  return *result;
}

ConfigMap config(const std::string& yaml) {
  return ConfigMap(YAML::Load(yaml), "rappel.yml", "providers.relay-62");
}

}  // namespace

TEST_CASE("SMTP with STARTTLS and AUTH delivers the message bytes intact", "[smtp_client]") {
  SmtpTestServer server;
  boost::asio::io_context io;
  CurlMulti curl(io);
  SmtpMessage message = reminder();
  SmtpResult result = send(curl, settings_for(server), message);
  CHECK(result.accepted());
  CHECK(result.code == 250);
  CHECK(result.text == "250 2.0.0 Queued as 1");
  CHECK(to_send_result(result).outcome == Outcome::accepted);
  REQUIRE(server.message_count() == 1);
  CHECK(server.message(1) == message.data);
  CHECK(server.envelope(1)["mail_from"] == "ne-pas-repondre@rdv-solidarites.fr");
  CHECK(server.envelope(1)["rcpt_tos"] == nlohmann::json::array({"camille.martin@example.fr"}));
}

TEST_CASE("SMTP with implicit TLS (smtps) delivers", "[smtp_client]") {
  SmtpTestServer server(SmtpServerTls::implicit);
  boost::asio::io_context io;
  CurlMulti curl(io);
  SmtpResult result = send(curl, settings_for(server), reminder());
  CHECK(result.accepted());
  CHECK(server.message_count() == 1);
}

TEST_CASE("SMTP 4xx is transient and 5xx permanent, without the address", "[smtp_client]") {
  SmtpTestServer server;
  boost::asio::io_context io;
  CurlMulti curl(io);

  SmtpResult tempfail = send(curl, settings_for(server), reminder("tempfail-camille@example.fr"));
  CHECK_FALSE(tempfail.accepted());
  CHECK(tempfail.code == 451);
  CHECK_FALSE(tempfail.maybe_delivered);
  SendResult transient = to_send_result(tempfail);
  CHECK(transient.outcome == Outcome::transient);
  CHECK_FALSE(transient.outcome_unknown);
  CHECK(transient.error == "SMTP 451 4.3.0 Mailbox temporarily unavailable, try again later");

  SmtpResult rejected = send(curl, settings_for(server), reminder("reject-camille@example.fr"));
  CHECK(rejected.code == 550);
  SendResult permanent = to_send_result(rejected);
  CHECK(permanent.outcome == Outcome::permanent);
  CHECK(permanent.error == "SMTP 550 5.1.1 [address] Mailbox unavailable");
  CHECK(server.message_count() == 0);
}

TEST_CASE("SMTP reply words are masked and made valid UTF-8", "[smtp_client]") {
  // A relay answering in Latin-1 ("Boîte" with \xee) and echoing the number it refuses.
  SmtpResult refused;
  refused.curl_code = CURLE_SEND_ERROR;
  refused.code = 550;
  refused.text = "550 5.1.1 Bo\xeete inconnue pour le 06 12 34 56 78";
  SendResult r = to_send_result(refused);
  CHECK(r.outcome == Outcome::permanent);
  CHECK(r.error == "SMTP 550 5.1.1 Bo\xEF\xBF\xBDte inconnue pour le <number>");
  refused.text = "550";
  CHECK(to_send_result(refused).error == "SMTP 550");
  refused.text = "451 4.7.1 Greylisted";  // not the last code: the code alone
  CHECK(to_send_result(refused).error == "SMTP 550");
}

TEST_CASE("SMTP with a wrong password makes the account unavailable", "[smtp_client]") {
  SmtpTestServer server;
  boost::asio::io_context io;
  CurlMulti curl(io);
  SmtpSettings settings = settings_for(server);
  settings.password = "ancienne-clé";
  SmtpResult result = send(curl, settings, reminder());
  CHECK(result.code == 535);
  SendResult sent = to_send_result(result);
  CHECK(sent.outcome == Outcome::unavailable);
  CHECK(sent.error.find("ancienne") == std::string::npos);
  CHECK(server.message_count() == 0);
}

TEST_CASE("SMTP reuses one connection for consecutive messages", "[smtp_client]") {
  SmtpTestServer server;
  boost::asio::io_context io;
  CurlMulti curl(io);
  for (int i = 1; i <= 5; ++i) {
    SmtpResult result = send(curl, settings_for(server), reminder());
    REQUIRE(result.accepted());
    CHECK(result.text == "250 2.0.0 Queued as " + std::to_string(i));
  }
  CHECK(server.message_count() == 5);
  CHECK(server.connections() == 1);
  CHECK(server.envelope(5)["connection"] == 1);
}

TEST_CASE("SMTP refuses to send in clear or to an unverified server", "[smtp_client]") {
  SECTION("a server without STARTTLS") {
    SmtpTestServer server(SmtpServerTls::none);
    boost::asio::io_context io;
    CurlMulti curl(io);
    SmtpResult result = send(curl, settings_for(server), reminder());
    CHECK(result.curl_code == CURLE_USE_SSL_FAILED);
    CHECK(to_send_result(result).outcome == Outcome::unavailable);
    CHECK(server.message_count() == 0);
  }
  SECTION("a certificate no trusted CA signed") {
    SmtpTestServer server;
    boost::asio::io_context io;
    CurlMulti curl(io);
    SmtpSettings settings = settings_for(server);
    settings.ca_file.clear();
    SmtpResult result = send(curl, settings, reminder());
    CHECK(result.curl_code == CURLE_PEER_FAILED_VERIFICATION);
    CHECK(to_send_result(result).outcome == Outcome::unavailable);
    CHECK(server.message_count() == 0);
  }
}

TEST_CASE("SMTP with tls none talks plain SMTP to a local relay", "[smtp_client]") {
  SmtpTestServer server(SmtpServerTls::none);
  boost::asio::io_context io;
  CurlMulti curl(io);
  SmtpSettings settings = settings_for(server);
  settings.tls = SmtpTls::none;
  settings.username.clear();
  SmtpResult result = send(curl, settings, reminder());
  CHECK(result.accepted());
  CHECK(server.message_count() == 1);
}

TEST_CASE("SMTP to a closed port is transient and not delivered", "[smtp_client]") {
  boost::asio::io_context io;
  unsigned short port;
  {
    boost::asio::ip::tcp::acceptor bound(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = bound.local_endpoint().port();
  }
  CurlMulti curl(io);
  SmtpSettings settings;
  settings.url = "smtp://127.0.0.1:" + std::to_string(port);
  SmtpResult result = send(curl, settings, reminder());
  CHECK(result.curl_code == CURLE_COULDNT_CONNECT);
  SendResult sent = to_send_result(result);
  CHECK(sent.outcome == Outcome::transient);
  CHECK_FALSE(sent.outcome_unknown);
}

TEST_CASE("read_smtp_settings reads an account and guards tls none", "[smtp_client]") {
  setenv("RAPPEL_TEST_SMTP_KEY", "xsmtpsib-0123", 1);
  auto relay = config(
      "url: smtp://smtp-relay.brevo.com:587\n"
      "username: rdv@cd62.fr\n"
      "password: ${RAPPEL_TEST_SMTP_KEY}\n"
      "timeout: 20s\n");
  SmtpSettings s = read_smtp_settings(relay);
  CHECK(s.url == "smtp://smtp-relay.brevo.com:587");
  CHECK(s.password == "xsmtpsib-0123");
  CHECK(s.tls == SmtpTls::required);
  CHECK(s.timeout == 20s);
  CHECK_NOTHROW(relay.reject_unknown_keys());

  auto local = config("url: smtp://127.0.0.1:2525\ntls: none\n");
  CHECK(read_smtp_settings(local).tls == SmtpTls::none);

  auto remote_clear = config("url: smtp://smtp-relay.brevo.com:587\ntls: none\n");
  CHECK_THROWS_WITH(read_smtp_settings(remote_clear), Catch::Contains("localhost"));
  auto credentials_in_url = config("url: smtp://rdv:secret@smtp-relay.brevo.com:587\n");
  CHECK_THROWS_WITH(read_smtp_settings(credentials_in_url),
                    Catch::Contains("username") && !Catch::Contains("secret"));
  auto http = config("url: https://api.brevo.com\n");
  CHECK_THROWS_AS(read_smtp_settings(http), ConfigError);
}
