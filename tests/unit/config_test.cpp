// Configuration loading: every error an admin can make must point at the exact place in the YAML
// ("file:line:column: ..."), secrets must never appear in an error, and a département inherits
// what it does not say from `default`.
//
// The YAML texts are written to a scratch directory and loaded with the real providers `log` and
// `file`, so these are the errors `rappel check-config` prints. Line and column numbers in the
// expectations are counted by hand from the texts below, which is the point: they are what an
// admin reads to find the mistake.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>

#include <boost/asio/io_context.hpp>

#include "daemon/base/config_node.hpp"
#include "daemon/config/config.hpp"
#include "daemon/ops/fd_limit.hpp"

namespace fs = std::filesystem;
using namespace rappel;

namespace {

// A scratch directory removed at the end of the test.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::random_device random;
    path = fs::temp_directory_path() / ("rappel-config-" + std::to_string(random()));
    fs::create_directories(path);
  }
  ~ScratchDir() { fs::remove_all(path); }
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(path / name, std::ios::binary) << content;
    return (path / name).string();
  }
};

// Sets (or unsets, with nullopt) an environment variable for one test, then puts it back.
class EnvGuard {
 public:
  EnvGuard(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      setenv(name, value->c_str(), 1);
    else
      unsetenv(name);
  }
  ~EnvGuard() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Lines 1 to 8 of every test configuration; tests append from line 9 (inside `departments:`
// when indented by two spaces, at top level otherwise).
std::string base_yaml() {
  return "templates: {directory: \"" RAPPEL_SOURCE_DIR
         "/templates\"}\n"                                  // 1
         "providers:\n"                                     // 2
         "  journal: {type: log, sender: RdvSoli}\n"        // 3
         "  outbox: {type: file, directory: outbox}\n"      // 4
         "departments:\n"                                   // 5
         "  default:\n"                                     // 6
         "    sms: {provider: journal, sender: RdvSoli}\n"  // 7
         "    email: {provider: outbox}\n";                 // 8
}

std::shared_ptr<Config> load(const ScratchDir& dir, const std::string& yaml) {
  boost::asio::io_context io;
  ProviderContext ctx{io, nullptr};
  return load_config(dir.write("rappel.yaml", yaml), ctx);
}

// The message of the ConfigError that loading `yaml` throws ("" if it loads).
std::string load_error(const ScratchDir& dir, const std::string& yaml) {
  try {
    load(dir, yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string at(const ScratchDir& dir, int line, int column) {
  return (dir.path / "rappel.yaml").string() + ":" + std::to_string(line) + ":" +
         std::to_string(column) + ": ";
}

}  // namespace

TEST_CASE("the base configuration loads", "[config]") {
  ScratchDir dir;
  auto config = load(dir, base_yaml());
  REQUIRE(config);
  CHECK(config->provider("journal")->channel() == Channel::sms);
  CHECK(config->provider("outbox")->channel() == Channel::email);
  CHECK(config->provider("brevo") == nullptr);
}

TEST_CASE("an unknown top-level key is reported where it is", "[config]") {
  ScratchDir dir;
  CHECK(load_error(dir, base_yaml() + "rappels: oui\n") == at(dir, 9, 1) + "unknown key 'rappels'");
}

TEST_CASE("an unknown key inside a département is reported with its path", "[config]") {
  ScratchDir dir;
  CHECK(load_error(dir, base_yaml() + "  \"77\": {name: Seine-et-Marne, expediteur: CD77}\n") ==
        at(dir, 9, 32) + "unknown key 'departments.77.expediteur'");
}

TEST_CASE("a value of the wrong type points at the value", "[config]") {
  ScratchDir dir;
  CHECK(load_error(dir, base_yaml() + "dispatch: {max_in_flight: many}\n") ==
        at(dir, 9, 27) + "dispatch.max_in_flight: expected an integer");
  CHECK(load_error(dir, base_yaml() + "dispatch: {lease: 2 minutes}\n") ==
        at(dir, 9, 19) + "dispatch.lease: expected a duration unit ms, s, m, h or d");
  CHECK(load_error(dir, base_yaml() + "dispatch: [512]\n") ==
        at(dir, 9, 11) + "dispatch: expected a mapping");
}

TEST_CASE("a provider type that does not exist is reported on its type", "[config]") {
  ScratchDir dir;
  std::string yaml = base_yaml();
  yaml.insert(yaml.find("departments:"), "  smsfactor-77: {type: smsfactor}\n");  // line 5
  CHECK(load_error(dir, yaml) ==
        at(dir, 5, 24) + "providers.smsfactor-77.type: unknown provider type 'smsfactor'");
}

TEST_CASE("a route to an undefined provider account is reported", "[config]") {
  ScratchDir dir;
  CHECK(load_error(dir, base_yaml() + "  \"77\":\n    sms: {provider: orange-77}\n") ==
        at(dir, 10, 21) + "departments.77.sms.provider: no provider account named 'orange-77'");
}

TEST_CASE("an SMS route to an email provider is reported", "[config]") {
  ScratchDir dir;
  CHECK(load_error(dir, base_yaml() + "  \"77\":\n    sms: {provider: outbox}\n") ==
        at(dir, 10, 21) +
            "departments.77.sms.provider: provider account 'outbox' does not send sms");
  CHECK(load_error(dir, base_yaml() + "  \"93\":\n    email: {provider: journal}\n") ==
        at(dir, 10, 23) +
            "departments.93.email.provider: provider account 'journal' does not send email");
}

TEST_CASE("a département's calendar organizer is an address, inherited from default", "[config]") {
  ScratchDir dir;
  std::string yaml = base_yaml();
  yaml.replace(yaml.find("email: {provider: outbox}"), 25,
               "email: {provider: outbox, organizer: \"RDV Solidarités <rdv@example.fr>\"}");
  auto config = load(dir, yaml + "  \"77\":\n    email: {organizer: pmi@seine-et-marne.fr}\n" +
                              "  \"93\": {name: Seine-Saint-Denis}\n");
  CHECK(config->department("77")->email->organizer == "pmi@seine-et-marne.fr");
  CHECK(config->department("93")->email->organizer == "RDV Solidarités <rdv@example.fr>");
  CHECK(
      load_error(dir, base_yaml() + "  \"77\":\n    email: {provider: outbox, organizer: PMI}\n") ==
      at(dir, 10, 42) +
          "departments.77.email.organizer: expected \"Name <address>\" or an address");
}

TEST_CASE("a code that is not a French département is refused", "[config]") {
  ScratchDir dir;
  // The error points at the département's settings (column 9, after `  "20": `).
  for (std::string code : {"20", "99", "2C"})
    CHECK(load_error(dir, base_yaml() + "  \"" + code + "\": {name: Corse}\n") ==
          at(dir, 9, 9) + "departments." + code + ": not a French département code");
  // A key that is no code at all, not even a scalar: refused the same way, not a crash.
  std::string message = load_error(dir, base_yaml() + "  [77, 93]: {name: Corse}\n");
  CHECK_THAT(message, Catch::Contains("departments.: not a French département code"));
  CHECK_THAT(message, Catch::StartsWith((dir.path / "rappel.yaml").string() + ":"));
}

TEST_CASE("a YAML syntax error is located", "[config]") {
  ScratchDir dir;
  std::string message =
      load_error(dir, base_yaml() + "  \"77\": {name: Seine-et-Marne\n  \"93\": {}\n");
  // yaml-cpp notices at the ':' of the next key, which still takes the admin to the right place.
  CHECK(message == at(dir, 10, 7) + "end of map flow not found");
}

TEST_CASE("an unreadable configuration file says so", "[config]") {
  ScratchDir dir;
  boost::asio::io_context io;
  ProviderContext ctx{io, nullptr};
  std::string missing = (dir.path / "absent.yaml").string();
  CHECK_THROWS_WITH(load_config(missing, ctx), missing + ": cannot read the file");
}

TEST_CASE("an unknown time zone is reported on the timezone key", "[config]") {
  ScratchDir dir;
  CHECK(load_error(dir, base_yaml() + "  \"77\": {timezone: Europe/Lutece}\n") ==
        at(dir, 9, 20) + "departments.77.timezone: unknown time zone 'Europe/Lutece'");
}

TEST_CASE("a template override directory that does not exist is reported", "[config]") {
  ScratchDir dir;
  CHECK(load_error(dir, base_yaml() + "  \"77\": {templates: surcharges-77}\n") ==
        at(dir, 9, 21) + "departments.77.templates: no such directory: " +
            (dir.path / "surcharges-77").string());
  // The same directory, once it exists (empty: every default applies), is accepted.
  fs::create_directories(dir.path / "surcharges-77");
  CHECK(load_error(dir, base_yaml() + "  \"77\": {templates: surcharges-77}\n") == "");
}

TEST_CASE("a missing environment secret names the setting and the variable, never a value",
          "[config]") {
  EnvGuard unset("RAPPEL_TEST_UNSET_VAR", std::nullopt);
  EnvGuard set("RAPPEL_TEST_SET_VAR", "xkeysib-4f2a9c7e");
  YAML::Node node =
      YAML::Load("type: brevo\napi_key: \"${RAPPEL_TEST_SET_VAR}${RAPPEL_TEST_UNSET_VAR}\"\n");
  ConfigMap account(node, "/etc/rappel/rappel.yaml", "providers.brevo-77");
  std::string message;
  try {
    account.secret("api_key");
  } catch (const ConfigError& e) {
    message = e.what();
  }
  CHECK(message ==
        "/etc/rappel/rappel.yaml:2:10: providers.brevo-77.api_key: environment variable "
        "RAPPEL_TEST_UNSET_VAR is not set");
  CHECK(message.find("xkeysib") == std::string::npos);

  // A set variable is expanded inside the value.
  CHECK(resolve_secret("Bearer ${RAPPEL_TEST_SET_VAR}", "x") == "Bearer xkeysib-4f2a9c7e");
}

TEST_CASE("a missing secret in the Redis URL is located", "[config]") {
  ScratchDir dir;
  EnvGuard unset("RAPPEL_TEST_UNSET_VAR", std::nullopt);
  CHECK(load_error(dir, "redis: {url: \"${RAPPEL_TEST_UNSET_VAR}\"}\n" + base_yaml()) ==
        at(dir, 1, 14) + "redis.url: environment variable RAPPEL_TEST_UNSET_VAR is not set");
}

// The file provider resolves its directory with resolve_secret() directly rather than through
// ConfigMap::secret(), which is what adds the location.
TEST_CASE("a missing secret in a provider account is located", "[config]") {
  ScratchDir dir;
  EnvGuard unset("RAPPEL_TEST_UNSET_VAR", std::nullopt);
  std::string yaml = base_yaml();
  yaml.replace(yaml.find("directory: outbox"), 17, "directory: \"${RAPPEL_TEST_UNSET_VAR}\"");
  CHECK(load_error(dir, yaml) == at(dir, 4, 35) +
                                     "providers.outbox.directory: environment variable "
                                     "RAPPEL_TEST_UNSET_VAR is not set");
}

TEST_CASE("credential:NAME needs $CREDENTIALS_DIRECTORY", "[config]") {
  EnvGuard no_credentials("CREDENTIALS_DIRECTORY", std::nullopt);
  std::string message;
  try {
    resolve_secret("credential:brevo-api-key", "providers.brevo-77.api_key");
  } catch (const ConfigError& e) {
    message = e.what();
  }
  CHECK(message.starts_with("providers.brevo-77.api_key: credential brevo-api-key requested"));
  CHECK(message.find("$CREDENTIALS_DIRECTORY is not set") != std::string::npos);
}

TEST_CASE("credential:NAME reads systemd's credential file without its trailing newline",
          "[config]") {
  ScratchDir credentials;
  credentials.write("brevo-api-key", "xkeysib-4f2a9c7e\n");
  credentials.write("sms-token", "tok-9d1e\r\n");
  EnvGuard dir("CREDENTIALS_DIRECTORY", credentials.path.string());
  CHECK(resolve_secret("credential:brevo-api-key", "x") == "xkeysib-4f2a9c7e");
  CHECK(resolve_secret("credential:sms-token", "x") == "tok-9d1e");
  // Through a ConfigMap as well, the way provider accounts read it.
  ConfigMap account(YAML::Load("api_key: credential:brevo-api-key"), "rappel.yaml", "providers.b");
  CHECK(account.secret("api_key") == "xkeysib-4f2a9c7e");
  // A credential that is not there, or a name escaping the directory, is an error.
  CHECK_THROWS_AS(resolve_secret("credential:absent", "x"), ConfigError);
  CHECK_THROWS_AS(resolve_secret("credential:../brevo-api-key", "x"), ConfigError);
  // file:PATH reads the same way.
  CHECK(resolve_secret("file:" + (credentials.path / "sms-token").string(), "x") == "tok-9d1e");
}

TEST_CASE("départements inherit sender and retry policy from default", "[config]") {
  ScratchDir dir;
  std::string yaml = base_yaml() +
                     "    retry: {base: 1m, cap: 2h, max_attempts: 5}\n"  // default, line 9
                     "  \"77\": {name: Seine-et-Marne}\n"
                     "  \"93\":\n"
                     "    name: Seine-Saint-Denis\n"
                     "    sms: {sender: CD93}\n"
                     "    retry: {max_attempts: 3}\n";
  auto config = load(dir, yaml);
  const DepartmentConfig* seine_et_marne = config->department("77");
  REQUIRE(seine_et_marne);
  CHECK(seine_et_marne->name == "Seine-et-Marne");
  REQUIRE(seine_et_marne->sms);
  CHECK(seine_et_marne->sms->provider == "journal");
  CHECK(seine_et_marne->sms->sender == "RdvSoli");
  REQUIRE(seine_et_marne->email);
  CHECK(seine_et_marne->email->provider == "outbox");
  CHECK(seine_et_marne->retry.base == std::chrono::minutes(1));
  CHECK(seine_et_marne->retry.cap == std::chrono::hours(2));
  CHECK(seine_et_marne->retry.max_attempts == 5);
  CHECK(seine_et_marne->timezone == "Europe/Paris");
  CHECK(seine_et_marne->region == "FR");

  // Overriding one field keeps the others from default.
  const DepartmentConfig* seine_saint_denis = config->department("93");
  REQUIRE(seine_saint_denis);
  REQUIRE(seine_saint_denis->sms);
  CHECK(seine_saint_denis->sms->provider == "journal");
  CHECK(seine_saint_denis->sms->sender == "CD93");
  CHECK(seine_saint_denis->retry.base == std::chrono::minutes(1));
  CHECK(seine_saint_denis->retry.max_attempts == 3);
}

TEST_CASE("overseas départements get their own time zone and region", "[config]") {
  ScratchDir dir;
  std::string yaml = base_yaml() +
                     "    timezone: Europe/Paris\n"
                     "  \"974\": {name: La Réunion}\n"
                     "  \"976\": {name: Mayotte}\n"
                     "  \"973\": {name: Guyane, timezone: America/Cayenne}\n";
  auto config = load(dir, yaml);
  const DepartmentConfig* reunion = config->department("974");
  REQUIRE(reunion);
  CHECK(reunion->timezone == "Indian/Reunion");
  CHECK(reunion->region == "RE");
  CHECK(config->department("976")->timezone == "Indian/Mayotte");
  CHECK(config->department("976")->region == "YT");
  CHECK(config->department("973")->region == "GF");
}

// Config::department() returns `defaults` for any real code not listed, so an overseas
// département left out of the YAML gets default's Europe/Paris and region FR: its reminders would
// give appointment times in Paris time.
TEST_CASE("an overseas département not listed still gets its own time zone", "[config]") {
  ScratchDir dir;
  auto config = load(dir, base_yaml());
  const DepartmentConfig* guadeloupe = config->department("971");
  REQUIRE(guadeloupe);
  CHECK(guadeloupe->timezone == "America/Guadeloupe");
  CHECK(guadeloupe->region == "GP");
}

TEST_CASE("Config::department falls back to default only for real codes", "[config]") {
  ScratchDir dir;
  auto config = load(dir, base_yaml() + "  \"77\": {name: Seine-et-Marne}\n");
  CHECK(config->department("77") != &config->defaults);
  CHECK(config->department("77")->code == "77");
  const DepartmentConfig* bouches_du_rhone = config->department("13");
  REQUIRE(bouches_du_rhone == &config->defaults);
  CHECK(bouches_du_rhone->code == "default");
  REQUIRE(bouches_du_rhone->sms);
  CHECK(bouches_du_rhone->sms->provider == "journal");
  CHECK(config->department("99") == nullptr);
  CHECK(config->department("default") == nullptr);
  CHECK(config->department("") == nullptr);
}

TEST_CASE("is_french_department_code accepts exactly the départements", "[config]") {
  auto two_digits = [](int n) { return (n < 10 ? "0" : "") + std::to_string(n); };
  for (int n = 1; n <= 95; ++n) {
    INFO(two_digits(n));
    CHECK(is_french_department_code(two_digits(n)) == (n != 20));
  }
  for (int n = 971; n <= 976; ++n) CHECK(is_french_department_code(std::to_string(n)));
  CHECK(is_french_department_code("2A"));
  CHECK(is_french_department_code("2B"));
  for (std::string_view code :
       {"00", "20", "96", "99", "970", "977", "2a", "2b", "2C", "1", "001", "9", " 77", "77 ", ""})
    CHECK_FALSE(is_french_department_code(code));
}

// Sends and HTTP clients share the descriptors; a configuration that cannot fit the
// open files limit is named, with the settings to change, by the daemon and check-config.
TEST_CASE("http.max_connections is read, and the descriptor budget is checked against a limit",
          "[config][fds]") {
  ScratchDir dir;
  auto config = load(dir, base_yaml() +
                              "dispatch: {max_in_flight: 300}\n"
                              "http: {listen: \"127.0.0.1:0\", max_connections: 100}\n");
  REQUIRE(config);
  CHECK(config->http.max_connections == 100);
  CHECK(descriptors_needed(*config) == 300 + 100 + kReservedDescriptors);
  CHECK_FALSE(descriptor_shortfall(*config, {65536, 65536}));
  CHECK_FALSE(descriptor_shortfall(*config, {464, 464}));
  auto shortfall = descriptor_shortfall(*config, {463, 4096});
  REQUIRE(shortfall);
  CHECK_THAT(*shortfall, Catch::Contains("(463)") && Catch::Contains("464") &&
                             Catch::Contains("dispatch.max_in_flight (300)") &&
                             Catch::Contains("http.max_connections (100)") &&
                             Catch::Contains("LimitNOFILE="));
  CHECK_THAT(load_error(dir, base_yaml() + "http: {max_connections: 0}\n"),
             Catch::Contains("max_connections"));
}

TEST_CASE("public.listen: the public page's own server, counted in the descriptor budget",
          "[config][public_stats]") {
  ScratchDir dir;
  auto config = load(dir, base_yaml() + "public: {listen: \":8081\", max_connections: 50}\n");
  REQUIRE(config);
  REQUIRE(config->public_http);
  CHECK(config->public_http->host == "0.0.0.0");
  CHECK(config->public_http->port == 8081);
  CHECK(descriptors_needed(*config) == std::uint64_t(config->dispatch.max_in_flight) +
                                           config->http.max_connections + 50 +
                                           kReservedDescriptors);
  CHECK_THAT(*descriptor_shortfall(*config, {100, 100}),
             Catch::Contains("public.max_connections (50)"));
  CHECK_FALSE(load(dir, base_yaml())->public_http);
  CHECK_THAT(load_error(dir, base_yaml() + "public: {listen: \"nowhere\"}\n"),
             Catch::Contains("public.listen: expected host:port"));
  CHECK_THAT(load_error(dir, base_yaml() + "public: {}\n"), Catch::Contains("listen"));
  CHECK_THAT(load_error(dir, base_yaml() + "public: {listen: \":8081\", metrics: true}\n"),
             Catch::Contains("unknown key 'public.metrics'"));
}
