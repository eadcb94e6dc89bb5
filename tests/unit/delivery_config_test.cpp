// The configuration keys of delivery guarantees: quiet hours per département, inherited
// from `default`; a rate limit and circuit settings per provider account, next to `type`, which
// the adapter never sees. Errors point at the value in the YAML, like every configuration error.
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

struct Yaml {
  fs::path dir =
      fs::temp_directory_path() / ("rappel-delivery-" + std::to_string(std::random_device{}()));
  std::string text;
  explicit Yaml(std::string departments, std::string journal_extra = "") {
    fs::create_directories(dir);
    text = "templates: {directory: \"" RAPPEL_SOURCE_DIR
           "/templates\"}\n"
           "providers:\n"
           "  journal: {type: log, sender: RdvSoli" +
           journal_extra +
           "}\n"
           "  outbox: {type: file, directory: outbox}\n"
           "departments:\n" +
           departments;
  }
  ~Yaml() { fs::remove_all(dir); }
  std::string path() const { return (dir / "rappel.yaml").string(); }
  std::shared_ptr<Config> load() const {
    std::ofstream(path()) << text;
    boost::asio::io_context io;
    ProviderContext ctx{io, nullptr};
    return load_config(path(), ctx);
  }
  std::string error() const {
    try {
      load();
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
  // "file:line:col: " of the first occurrence of `needle` (1-based, as the errors say).
  std::string at(const std::string& needle) const {
    size_t pos = text.find(needle);
    size_t line_start = text.rfind('\n', pos);
    line_start = line_start == std::string::npos ? 0 : line_start + 1;
    int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + pos, '\n'));
    return path() + ":" + std::to_string(line) + ":" + std::to_string(pos - line_start + 1) + ": ";
  }
};

const char* kDefault =
    "  default:\n"
    "    sms: {provider: journal, sender: RdvSoli}\n"
    "    email: {provider: outbox}\n";

}  // namespace

TEST_CASE("quiet hours are off by default and inherited from default when set", "[config][quiet]") {
  Yaml plain(kDefault);
  auto off = plain.load();
  CHECK_FALSE(off->defaults.quiet_hours);
  CHECK_FALSE(off->department("77")->quiet_hours);

  Yaml yaml(std::string(kDefault) +
            "    quiet_hours: \"20:00-08:00\"\n"
            "  \"13\": {quiet_hours: \"off\"}\n"
            "  \"77\": {quiet_hours_policy: send_if_expiring}\n"
            "  \"2A\": {quiet_hours: \"21:30-07:15\"}\n");
  auto config = yaml.load();
  REQUIRE(config->department("77")->quiet_hours);
  CHECK(config->department("77")->quiet_hours->start_minute == 20 * 60);
  CHECK(config->department("77")->quiet_hours->policy == QuietHours::Policy::send_if_expiring);
  CHECK(config->department("62")->quiet_hours->policy == QuietHours::Policy::defer);
  CHECK_FALSE(config->department("13")->quiet_hours);
  CHECK(config->department("2A")->quiet_hours->end_minute == 7 * 60 + 15);
  // Unlisted overseas départements inherit them too, in their own zone.
  REQUIRE(config->department("974")->quiet_hours);
  CHECK(config->department("974")->timezone == "Indian/Reunion");
}

TEST_CASE("bad quiet hours are reported at the value", "[config][quiet]") {
  Yaml window(std::string(kDefault) + "  \"77\": {quiet_hours: \"20h-8h\"}\n");
  CHECK(window.error() == window.at("\"20h-8h\"") +
                              "departments.77.quiet_hours: expected a local time window like "
                              "\"20:00-08:00\"");
  Yaml policy(std::string(kDefault) +
              "  \"77\": {quiet_hours: \"20:00-08:00\", "
              "quiet_hours_policy: plus_tard}\n");
  CHECK(policy.error() == policy.at("plus_tard") +
                              "departments.77.quiet_hours_policy: expected defer or "
                              "send_if_expiring");
  Yaml orphan(std::string(kDefault) + "  \"77\": {quiet_hours_policy: defer}\n");
  CHECK(orphan.error() ==
        orphan.at("defer}") + "departments.77.quiet_hours_policy: set without quiet_hours");
}

TEST_CASE("an account's rate limit and circuit settings are read next to its type",
          "[config][rate][circuit]") {
  Yaml yaml(kDefault,
            ", rate_limit: \"20/s\", circuit: {failures: 3, cooldown: 200ms, max_cooldown: 2s}");
  auto config = yaml.load();
  const AccountPolicy& journal = config->account_policies.at("journal");
  REQUIRE(journal.rate_limit);
  CHECK(journal.rate_limit->interval_us() == 50'000);
  CHECK(journal.circuit.failures == 3);
  CHECK(journal.circuit.cooldown == std::chrono::milliseconds(200));
  CHECK(journal.circuit.max_cooldown == std::chrono::seconds(2));
  const AccountPolicy& outbox = config->account_policies.at("outbox");
  CHECK_FALSE(outbox.rate_limit);
  CHECK(outbox.circuit.failures == 5);
  CHECK(outbox.circuit.cooldown == std::chrono::seconds(30));
}

TEST_CASE("bad rate limits and circuit settings are reported at the value",
          "[config][rate][circuit]") {
  Yaml rate(kDefault, ", rate_limit: 20/sec");
  CHECK(rate.error() == rate.at("20/sec") +
                            "providers.journal.rate_limit: expected a rate like \"20/s\", "
                            "\"1000/min\" or \"5000/h\"");
  Yaml zero(kDefault, ", rate_limit: 0/s");
  CHECK(zero.error() ==
        zero.at("0/s") + "providers.journal.rate_limit: the count must be 1 to 1000000");
  Yaml typo(kDefault, ", circuit: {seuil: 3}");
  CHECK(typo.error() == typo.at("seuil") + "unknown key 'providers.journal.circuit.seuil'");
  Yaml cap(kDefault, ", circuit: {cooldown: 10s, max_cooldown: 1s}");
  CHECK(cap.error() ==
        cap.at("1s}") + "providers.journal.circuit.max_cooldown: must be at least cooldown");
}

TEST_CASE("event priorities: built-in defaults, the top-level events section, per département",
          "[config][priority]") {
  Yaml plain(kDefault);
  auto defaults = plain.load();
  CHECK(defaults->department("77")->priority_of("new_creneau_available") == Priority::bulk);
  CHECK(defaults->department("77")->priority_of("rdv_upcoming_reminder") == Priority::normal);
  CHECK(defaults->dispatch.lower_priority_percent == 10);

  Yaml yaml(std::string(kDefault) +
            "  \"77\": {events: {new_creneau_available: {priority: normal}}}\n");
  yaml.text =
      "events: {rdv_upcoming_reminder: {priority: high}}\n"
      "dispatch: {lower_priority_percent: 25}\n" +
      yaml.text;
  auto config = yaml.load();
  CHECK(config->dispatch.lower_priority_share() == Approx(0.25));
  CHECK(config->department("13")->priority_of("rdv_upcoming_reminder") == Priority::high);
  CHECK(config->department("13")->priority_of("new_creneau_available") == Priority::bulk);
  CHECK(config->department("77")->priority_of("rdv_upcoming_reminder") == Priority::high);
  CHECK(config->department("77")->priority_of("new_creneau_available") == Priority::normal);
  CHECK(config->department("974")->priority_of("rdv_upcoming_reminder") == Priority::high);
}

TEST_CASE("bad event priorities are reported at the value", "[config][priority]") {
  Yaml word(std::string(kDefault) + "  \"77\": {events: {rdv_created: {priority: urgent}}}\n");
  CHECK(word.error() ==
        word.at("urgent") +
            "departments.77.events.rdv_created.priority: must be high, normal or bulk");
  Yaml event(kDefault);
  event.text = "events: {rdv_upcomming_reminder: {priority: high}}\n" + event.text;
  CHECK_THAT(event.error(), Catch::Contains("unknown event 'rdv_upcomming_reminder'"));
  Yaml share(kDefault);
  share.text = "dispatch: {lower_priority_percent: 0}\n" + share.text;
  CHECK_THAT(share.error(), Catch::Contains("lower_priority_percent"));
}

TEST_CASE("low_credit and credit_poll: read next to the type; the credit call only when asked",
          "[config][credits]") {
  Yaml yaml(kDefault, ", low_credit: 500, credit_poll: 5m");
  auto config = yaml.load();
  const AccountPolicy& journal = config->account_policies.at("journal");
  CHECK(journal.low_credit == 500);
  CHECK(journal.credit_poll_every() == std::chrono::minutes(5));
  CHECK(journal.polls_credit());
  const AccountPolicy& outbox = config->account_policies.at("outbox");
  CHECK_FALSE(outbox.low_credit);
  CHECK_FALSE(outbox.polls_credit());  // it watches nothing: no credit call it did not ask for
  CHECK(outbox.credit_poll_every() == std::chrono::minutes(15));

  Yaml low_only(kDefault, ", low_credit: 20");
  CHECK(low_only.load()->account_policies.at("journal").polls_credit());
}

TEST_CASE("bad low_credit and credit_poll are reported at the value", "[config][credits]") {
  Yaml zero(kDefault, ", low_credit: 0");
  CHECK_THAT(zero.error(), Catch::StartsWith(zero.at("0}") + "providers.journal.low_credit"));
  Yaml word(kDefault, ", low_credit: beaucoup");
  CHECK_THAT(word.error(), Catch::StartsWith(word.at("beaucoup") + "providers.journal.low_credit"));
  Yaml fast(kDefault, ", credit_poll: 100ms");
  CHECK(fast.error() == fast.at("100ms") + "providers.journal.credit_poll: must be at least 1s");
}
