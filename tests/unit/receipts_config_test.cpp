// The configuration keys of delivery reports, callbacks and retention: `receipts:` taken out of
// a provider account before its adapter reads it (and refused where no reports exist), Netsize's
// format that must be described, `http.listen`, `callbacks:` and the retention TTLs.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include <boost/asio/io_context.hpp>

#include "daemon/base/config_node.hpp"
#include "daemon/config/config.hpp"

namespace fs = std::filesystem;
using namespace rappel;

namespace {

std::shared_ptr<Config> load(const std::string& yaml) {
  std::random_device random;
  fs::path dir = fs::temp_directory_path() / ("rappel-receipts-" + std::to_string(random()));
  fs::create_directories(dir);
  std::ofstream(dir / "rappel.yaml")
      << "templates: {directory: \"" RAPPEL_SOURCE_DIR "/templates\"}\n"
      << yaml << "departments:\n  default: {sms: {provider: journal, sender: RdvSoli}}\n";
  boost::asio::io_context io;
  ProviderContext ctx{io, nullptr};
  try {
    auto config = load_config((dir / "rappel.yaml").string(), ctx);
    fs::remove_all(dir);
    return config;
  } catch (...) {
    fs::remove_all(dir);
    throw;
  }
}

std::string error_of(const std::string& yaml) {
  try {
    load(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("receipts: a secret per account, read before the adapter sees the account",
          "[receipts][config]") {
  auto config = load(
      "providers:\n"
      "  journal: {type: log}\n"
      "  smsf-77: {type: sms_factor, token: t, receipts: {secret: jeton-recus-cd77-0001}}\n"
      "  brevo-mail: {type: smtp, url: \"smtp://relay.example:587\", from: \"RDV <rdv@ex.fr>\","
      " receipts: {secret: jeton-recus-email-0001}}\n");
  CHECK(config->receipt_secrets.at("smsf-77") == "jeton-recus-cd77-0001");
  CHECK(config->receipt_secrets.at("brevo-mail") == "jeton-recus-email-0001");
  CHECK(config->receipt_secrets.count("journal") == 0);
  CHECK(config->http.host == "127.0.0.1");  // no `http:`: the default address
  CHECK(config->http.port == 8080);
  CHECK(config->callbacks.url.empty());

  CHECK_THAT(
      error_of("providers:\n  journal: {type: log, receipts: {secret: jeton-0123456789ab}}\n"),
      Catch::Contains("rappel.yaml:3:34: providers.journal.receipts: this account") &&
          Catch::Contains("takes no delivery reports (log)"));
  CHECK_THAT(error_of("providers:\n  journal: {type: log}\n"
                      "  n: {type: netsize, login: l, password: p, sender: RdvSoli,"
                      " receipts: {secret: jeton-0123456789ab}}\n"),
             Catch::Contains("set receipt_format"));
  std::string short_secret = error_of(
      "providers:\n  journal: {type: log}\n"
      "  s: {type: sms_factor, token: t, receipts: {secret: court}}\n");
  CHECK_THAT(short_secret, Catch::Contains("too short"));
  CHECK(short_secret.find("court") == std::string::npos);  // never the secret itself
}

TEST_CASE("receipts: Netsize's format comes from the account", "[receipts][config]") {
  auto config = load(
      "providers:\n  journal: {type: log}\n"
      "  n: {type: netsize, login: l, password: p, sender: RdvSoli,\n"
      "      receipts: {secret: jeton-recus-netsize-01},\n"
      "      receipt_format: {body: form, id_field: MessageId, status_field: StatusCode,\n"
      "                       delivered: [DELIVERED], undelivered: [FAILED, EXPIRED]}}\n");
  CHECK(config->provider("n")->supports_receipts());
  CHECK_THAT(error_of("providers:\n  journal: {type: log}\n"
                      "  n: {type: netsize, login: l, password: p, sender: RdvSoli,"
                      " receipt_format: {id_field: a, status_field: b}}\n"),
             Catch::Contains("delivered"));
}

TEST_CASE("http, callbacks and retention settings", "[receipts][config]") {
  setenv("RAPPEL_TEST_BACKEND_TOKEN", "jeton-backend", 1);
  auto config = load(
      "http: {listen: \"[::1]:9180\", max_body: 32768}\n"
      "callbacks: {url: \"https://rdv-solidarites.example/api/rappel\","
      " bearer_token: \"${RAPPEL_TEST_BACKEND_TOKEN}\", max_attempts: 5}\n"
      "retention: {content: 3d, status: 90d, receipt_index: 2d, parked_receipts: 30m}\n"
      "providers:\n  journal: {type: log}\n");
  CHECK(config->http.host == "::1");
  CHECK(config->http.port == 9180);
  CHECK(config->http.max_body == 32768);
  CHECK(config->callbacks.bearer_token == "jeton-backend");
  CHECK(config->callbacks.max_attempts == 5);
  CHECK(config->store.content_ttl == std::chrono::hours(72));
  CHECK(config->store.status_ttl == std::chrono::hours(90 * 24));
  CHECK(config->store.receipt_index_ttl == std::chrono::hours(48));
  CHECK(config->store.parked_receipt_ttl == std::chrono::minutes(30));

  CHECK_THAT(error_of("http: {listen: \"localhost\"}\nproviders:\n  journal: {type: log}\n"),
             Catch::Contains("expected host:port"));
  CHECK_THAT(error_of("callbacks: {url: \"ftp://x\", bearer_token: t}\n"
                      "providers:\n  journal: {type: log}\n"),
             Catch::Contains("http:// or https://"));
}
