// Tests of the `smtp` and `sfr_mail2sms` adapters, from their YAML settings to what a real SMTP
// server (aiosmtpd) receives: the email relay's X-Mailin-custom header, and SFR's gateway email
// whose Subject is the national number and whose only part is the SMS as plain text.
#include <sys/resource.h>

#include <csignal>
#include <filesystem>

#include <yaml-cpp/yaml.h>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "daemon/content/mime.hpp"
#include "daemon/net/curl_multi.hpp"
#include "providers/receipt_parsing.hpp"
#include "providers/registry.hpp"
#include "support/smtp_test_server.hpp"

namespace rappel {
// Declared by registry.cpp's X-macro; called directly so these tests need no other provider.
std::unique_ptr<Provider> make_smtp_provider(ConfigMap&, ProviderContext&);
std::unique_ptr<Provider> make_file_provider(ConfigMap&, ProviderContext&);
std::unique_ptr<Provider> make_sfr_mail2sms_provider(ConfigMap&, ProviderContext&);
}  // namespace rappel

using namespace rappel;
using rappel::test::SmtpTestServer;
using namespace std::chrono_literals;

namespace {

std::string account_yaml(const SmtpTestServer& server) {
  return "url: " + server.url() + "\nusername: " + SmtpTestServer::kUser +
         "\npassword: ${RAPPEL_TEST_SMTP_PASSWORD}\nca_file: " + server.ca_file() + "\n";
}

ConfigMap config(const std::string& yaml) {
  setenv("RAPPEL_TEST_SMTP_PASSWORD", SmtpTestServer::kPassword, 1);
  return ConfigMap(YAML::Load(yaml), "rappel.yml", "providers.cd62");
}

SendResult send(boost::asio::io_context& io, Provider& provider, const Outbound& message) {
  std::optional<SendResult> result;
  provider.send(message, [&](SendResult r) { result = std::move(r); });
  CHECK_FALSE(result);  // never from inside send()
  io.restart();
  while (!result) REQUIRE(io.run_one_for(60s) > 0);
  return *result;
}

Outbound reminder_email(std::string to = "camille.martin@example.fr") {
  EmailContent email;
  email.to = std::move(to);
  email.to_name = "Camille Martin";
  email.subject = "Rappel : votre rendez-vous du 12 mars";
  email.text = "Bonjour, vous avez rendez-vous le mardi 12 mars à 9h30 au CDAS d'Arras.";
  email.html = "<p>Bonjour, vous avez rendez-vous le <b>mardi 12 mars à 9h30</b>.</p>";
  return Outbound{"rdv-4521-reminder:email", "62", 1, email};
}

Outbound reminder_sms() {
  SmsContent sms;
  sms.to = "+33611223344";
  sms.sender = "RdvSoli";
  sms.text = "RDV le 12/03 à 9h30 au CDAS d'Arras, 5 rue Baudimont. Annuler : 0321000000";
  return Outbound{"rdv-4521-reminder:sms", "62", 1, sms};
}

// A header's value as received: up to the end of its line (a folded header would be cut there,
// which is what the test wants to notice).
std::string header_value(const std::string& message, const std::string& name) {
  size_t at = message.find("\r\n" + name + ": ");
  if (at == std::string::npos) return {};
  at += name.size() + 4;
  return message.substr(at, message.find("\r\n", at) - at);
}

// An `smtp` account in front of aiosmtpd, on its own event loop.
struct SmtpAccount {
  SmtpTestServer server;
  boost::asio::io_context io;
  CurlMulti curl{io};
  ProviderContext ctx{io, &curl};
  ConfigMap settings;
  std::unique_ptr<Provider> provider;

  explicit SmtpAccount(const std::string& from = "ne-pas-repondre@rdv-solidarites.fr")
      : settings(config(account_yaml(server) + "from: " + from + "\n")),
        provider(make_smtp_provider(settings, ctx)) {}
  SendResult send_one(const Outbound& message) { return send(io, *provider, message); }
};

}  // namespace

TEST_CASE("smtp provider sends the built email with X-Mailin-custom", "[smtp_provider]") {
  SmtpAccount account("RDV Solidarités <ne-pas-repondre@rdv-solidarites.fr>");
  auto& server = account.server;
  CHECK_NOTHROW(account.settings.reject_unknown_keys());
  CHECK(account.provider->channel() == Channel::email);

  SendResult result = account.send_one(reminder_email());
  CHECK(result.outcome == Outcome::accepted);
  CHECK(result.provider_message_id ==
        message_id_for("rdv-4521-reminder:email", "ne-pas-repondre@rdv-solidarites.fr"));
  REQUIRE(server.message_count() == 1);
  std::string received = server.message(1);
  CHECK(received.find("X-Mailin-custom: rdv-4521-reminder:email\r\n") != std::string::npos);
  CHECK(received.find("multipart/alternative") != std::string::npos);
  CHECK(server.envelope(1)["mail_from"] == "ne-pas-repondre@rdv-solidarites.fr");
  CHECK(server.envelope(1)["rcpt_tos"] == nlohmann::json::array({"camille.martin@example.fr"}));
}

TEST_CASE("smtp provider: a 120-character key comes back in Brevo's event as it was sent",
          "[smtp_provider]") {
  SmtpAccount account;
  std::string key = "cd62/arras:usager-" + std::string(70, '7') + "-rappel_j2@rdv+";
  key += std::string(120 - key.size(), 'x');
  REQUIRE(key.size() == 120);
  Outbound message = reminder_email();
  message.id = key + ":email";
  REQUIRE(account.send_one(message).outcome == Outcome::accepted);
  std::string received = account.server.message(1);
  CHECK(received.find("X-Mailin-custom: " + message.id + "\r\n") != std::string::npos);

  // Brevo's webhook echoes the header's value; the event finds the message by it.
  nlohmann::json event = {{"event", "hard_bounce"},
                          {"email", "camille.martin@example.fr"},
                          {"X-Mailin-custom", header_value(received, "X-Mailin-custom")},
                          {"reason", "mailbox does not exist"}};
  ReceiptParse events = parse_brevo_email_events(event.dump());
  REQUIRE(events.receipts.size() == 1);
  CHECK(events.receipts[0].message_id == message.id);
  CHECK(events.receipts[0].state == ReceiptState::undelivered);
}

TEST_CASE("smtp provider reports a refused recipient as permanent", "[smtp_provider]") {
  SmtpAccount account;
  SendResult result = account.send_one(reminder_email("reject-camille@example.fr"));
  CHECK(result.outcome == Outcome::permanent);
  CHECK(result.error.find("camille") == std::string::npos);
}

TEST_CASE("smtp provider settings are checked without connecting", "[smtp_provider]") {
  boost::asio::io_context io;
  ProviderContext check_config{io, nullptr};
  ConfigMap good = config(
      "url: smtp://smtp-relay.brevo.com:587\nusername: rdv@cd62.fr\npassword: x\n"
      "from: RDV Solidarités <ne-pas-repondre@rdv-solidarites.fr>\n");
  CHECK(make_smtp_provider(good, check_config) != nullptr);

  ConfigMap typo = config("url: smtp://smtp-relay.brevo.com:587\nfrom: rdv@cd62.fr\ntimout: 5s\n");
  make_smtp_provider(typo, check_config);
  CHECK_THROWS_WITH(typo.reject_unknown_keys(), Catch::Contains("timout"));

  ConfigMap no_from = config("url: smtp://smtp-relay.brevo.com:587\n");
  CHECK_THROWS_AS(make_smtp_provider(no_from, check_config), ConfigError);
  ConfigMap bad_from = config("url: smtp://smtp-relay.brevo.com:587\nfrom: RDV Solidarités\n");
  CHECK_THROWS_WITH(make_smtp_provider(bad_from, check_config), Catch::Contains("from"));
}

TEST_CASE("sfr_mail2sms sends the SMS as a plain-text email to the gateway", "[sfr_mail2sms]") {
  SmtpTestServer server;
  boost::asio::io_context io;
  CurlMulti curl(io);
  ProviderContext ctx{io, &curl};
  ConfigMap settings = config(account_yaml(server) +
                              "gateway: cd62@mailtosms.dmc.sfr-sh.fr\n"
                              "from: sms@pasdecalais.fr\n");
  auto provider = make_sfr_mail2sms_provider(settings, ctx);
  CHECK_NOTHROW(settings.reject_unknown_keys());
  CHECK(provider->channel() == Channel::sms);

  SendResult result = send(io, *provider, reminder_sms());
  CHECK(result.outcome == Outcome::accepted);
  CHECK(result.provider_message_id.empty());  // the gateway tells nothing back
  REQUIRE(server.message_count() == 1);
  CHECK(server.envelope(1)["rcpt_tos"] == nlohmann::json::array({"cd62@mailtosms.dmc.sfr-sh.fr"}));
  CHECK(server.envelope(1)["mail_from"] == "sms@pasdecalais.fr");
  std::string received = server.message(1);
  CHECK(received.find("\r\nSubject: 0611223344\r\n") != std::string::npos);
  CHECK(received.find("Content-Type: text/plain; charset=UTF-8") != std::string::npos);
  CHECK(received.find("multipart") == std::string::npos);
  CHECK(received.find("text/html") == std::string::npos);
  // Quoted-printable keeps the SMS text readable; the accent is =C3=A0.
  CHECK(received.find("RDV le 12/03 =C3=A0 9h30") != std::string::npos);
}

TEST_CASE("sfr_mail2sms reports a relay refusal and a wrong password", "[sfr_mail2sms]") {
  SmtpTestServer server;
  boost::asio::io_context io;
  CurlMulti curl(io);
  ProviderContext ctx{io, &curl};
  ConfigMap tempfail = config(account_yaml(server) +
                              "gateway: tempfail-cd62@mailtosms.dmc.sfr-sh.fr\n"
                              "from: sms@pasdecalais.fr\n");
  CHECK(send(io, *make_sfr_mail2sms_provider(tempfail, ctx), reminder_sms()).outcome ==
        Outcome::transient);

  setenv("RAPPEL_TEST_SMTP_PASSWORD", "périmé", 1);
  ConfigMap wrong_password(
      YAML::Load("url: " + server.url() + "\nusername: " + SmtpTestServer::kUser +
                 "\npassword: ${RAPPEL_TEST_SMTP_PASSWORD}\nca_file: " + server.ca_file() +
                 "\ngateway: cd62@mailtosms.dmc.sfr-sh.fr\n"
                 "from: sms@pasdecalais.fr\n"),
      "rappel.yml", "providers.cd62");
  CHECK(send(io, *make_sfr_mail2sms_provider(wrong_password, ctx), reminder_sms()).outcome ==
        Outcome::unavailable);
  CHECK(server.message_count() == 0);
}

TEST_CASE("file provider: a full disk is a transient failure and leaves no .tmp behind",
          "[file_provider]") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("rappel-full-" + std::to_string(getpid()));
  fs::remove_all(dir);
  boost::asio::io_context io;
  ProviderContext ctx{io, nullptr};
  ConfigMap settings(YAML::Load("directory: " + dir.string()), "rappel.yml", "providers.outbox");
  auto provider = make_file_provider(settings, ctx);

  // The disk is full for this process: a file may not grow past 256 bytes (the write fails with
  // EFBIG, as it would with ENOSPC; SIGXFSZ, which would stop the process, is ignored).
  rlimit before{};
  getrlimit(RLIMIT_FSIZE, &before);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit full = before;
  full.rlim_cur = 256;
  setrlimit(RLIMIT_FSIZE, &full);
  SendResult result = send(io, *provider, reminder_email());
  setrlimit(RLIMIT_FSIZE, &before);
  std::signal(SIGXFSZ, old_handler);

  CHECK(result.outcome == Outcome::transient);
  CHECK_THAT(result.error, Catch::StartsWith("cannot write to the outbox: "));
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(dir)) left.push_back(entry.path().string());
  CHECK(left.empty());  // neither a .tmp nor a truncated .eml

  // Once there is room again the same message is written whole.
  CHECK(send(io, *provider, reminder_email()).outcome == Outcome::accepted);
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    CHECK(entry.path().extension() == ".eml");
    CHECK(entry.file_size() > 256);
    ++files;
  }
  CHECK(files == 1);
  fs::remove_all(dir);
}
