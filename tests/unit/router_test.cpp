// The routing decision alone (daemon/pipeline/router.hpp), with a configuration loaded from YAML
// as the daemon loads it and instants written out: quiet hours in the département's zone, the
// fallback while a circuit is open, a message pinned to the account of an unknown outcome, and
// never a wait that ends after expires_at.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include <boost/asio/io_context.hpp>

#include "daemon/config/config.hpp"
#include "daemon/pipeline/router.hpp"

namespace fs = std::filesystem;
using namespace rappel;

namespace {

struct Loaded {
  fs::path dir =
      fs::temp_directory_path() / ("rappel-router-" + std::to_string(std::random_device{}()));
  std::shared_ptr<Config> config;
  explicit Loaded(const std::string& departments) {
    fs::create_directories(dir);
    std::ofstream(dir / "rappel.yaml") << "templates: {directory: \"" RAPPEL_SOURCE_DIR
                                          "/templates\"}\n"
                                          "providers:\n"
                                          "  journal: {type: log, sender: RdvSoli}\n"
                                          "  backup: {type: log, sender: RdvSoli}\n"
                                          "  outbox: {type: file, directory: outbox}\n"
                                          "departments:\n"
                                       << departments;
    boost::asio::io_context io;
    ProviderContext ctx{io, nullptr};
    config = load_config((dir / "rappel.yaml").string(), ctx);
  }
  ~Loaded() { fs::remove_all(dir); }
  const DepartmentConfig& department(std::string_view code) const {
    return *config->department(code);
  }
};

const char* kRoutes =
    "  default:\n"
    "    sms: {provider: journal, fallback: backup, sender: RdvSoli}\n"
    "    email: {provider: outbox}\n"
    "  \"77\": {quiet_hours: \"20:00-08:00\"}\n"
    "  \"13\": {quiet_hours: \"20:00-08:00\", quiet_hours_policy: send_if_expiring}\n";

Millis at(const char* iso) {
  auto ms = parse_iso8601(iso);
  REQUIRE(ms);
  return *ms;
}

ClaimedMessage sms_for(std::string department) {
  ClaimedMessage m;
  m.id = "rdv-1:sms";
  m.key = "rdv-1";
  m.channel = "sms";
  m.department = std::move(department);
  m.attempt = 1;
  m.previous_status = "scheduled";
  return m;
}

void open_circuit(CircuitBreakers& breakers, const Config& config, const std::string& account,
                  Millis now) {
  breakers.record(account, config.account_policies.at(account).circuit,
                  SendResult::failure(Outcome::unavailable, "402 out of credit"), now);
}

}  // namespace

TEST_CASE("a message goes to its route's provider when nothing holds it back", "[router]") {
  Loaded y(kRoutes);
  CircuitBreakers breakers;
  // 14:00 in Paris (CET): outside the quiet hours of 77.
  RouteDecision d = decide_route(sms_for("77"), y.department("77"), *y.config, breakers,
                                 at("2026-03-10T13:00:00Z"));
  CHECK(d.kind == RouteDecision::Kind::send);
  CHECK(d.account == "journal");
  CHECK_FALSE(d.probe);
}

TEST_CASE("quiet hours defer to the window's end in the département's zone", "[router][quiet]") {
  Loaded y(kRoutes);
  CircuitBreakers breakers;
  // 22:00 in Paris: the window ends at 08:00 Paris, 07:00 UTC.
  const Millis evening = at("2026-03-10T21:00:00Z");
  RouteDecision d = decide_route(sms_for("77"), y.department("77"), *y.config, breakers, evening);
  CHECK(d.kind == RouteDecision::Kind::defer);
  CHECK(d.reason == "quiet_hours");
  CHECK(d.until == at("2026-03-11T07:00:00Z"));

  SECTION("a message that expires first is expired, never sent late") {
    ClaimedMessage m = sms_for("77");
    m.expires_at_ms = at("2026-03-11T06:00:00Z");
    RouteDecision e = decide_route(m, y.department("77"), *y.config, breakers, evening);
    CHECK(e.kind == RouteDecision::Kind::expire);
    CHECK_THAT(e.reason, Catch::Contains("quiet hours until 2026-03-11T07:00:00"));
  }
  SECTION("send_if_expiring sends it now instead") {
    ClaimedMessage m = sms_for("13");
    m.expires_at_ms = at("2026-03-11T06:00:00Z");
    RouteDecision s = decide_route(m, y.department("13"), *y.config, breakers, evening);
    CHECK(s.kind == RouteDecision::Kind::send);
    CHECK(s.account == "journal");
  }
  SECTION("a département without quiet hours sends at night") {
    RouteDecision s = decide_route(sms_for("62"), y.department("62"), *y.config, breakers, evening);
    CHECK(s.kind == RouteDecision::Kind::send);
  }
}

TEST_CASE("an open circuit sends to the fallback; both open wait for the first to reopen",
          "[router][circuit]") {
  Loaded y(kRoutes);
  CircuitBreakers breakers;
  const Millis now = at("2026-03-10T13:00:00Z");
  open_circuit(breakers, *y.config, "journal", now);
  RouteDecision d = decide_route(sms_for("62"), y.department("62"), *y.config, breakers, now);
  CHECK(d.kind == RouteDecision::Kind::send);
  CHECK(d.account == "backup");

  open_circuit(breakers, *y.config, "backup", now + 1000);
  RouteDecision w =
      decide_route(sms_for("62"), y.department("62"), *y.config, breakers, now + 2000);
  CHECK(w.kind == RouteDecision::Kind::defer);
  CHECK(w.reason == "provider_unavailable");
  // The default cool-down is 30 s: journal reopens first.
  CHECK(w.until == now + 30'000);

  SECTION("unless the message expires before") {
    ClaimedMessage m = sms_for("62");
    m.expires_at_ms = now + 10'000;
    RouteDecision e = decide_route(m, y.department("62"), *y.config, breakers, now + 2000);
    CHECK(e.kind == RouteDecision::Kind::expire);
    CHECK(e.reason == "provider unavailable until after expires_at");
  }
  SECTION("after the cool-down the first caller is the probe") {
    RouteDecision p =
        decide_route(sms_for("62"), y.department("62"), *y.config, breakers, now + 30'000);
    CHECK(p.kind == RouteDecision::Kind::send);
    CHECK(p.account == "journal");
    CHECK(p.probe);
  }
}

TEST_CASE("a message pinned by an unknown outcome only goes to that account", "[router]") {
  Loaded y(kRoutes);
  CircuitBreakers breakers;
  const Millis now = at("2026-03-10T13:00:00Z");
  ClaimedMessage m = sms_for("62");
  m.pinned_provider = "journal";
  open_circuit(breakers, *y.config, "journal", now);
  // Not the fallback: the first attempt may have gone out, a second provider would duplicate it.
  RouteDecision d = decide_route(m, y.department("62"), *y.config, breakers, now);
  CHECK(d.kind == RouteDecision::Kind::defer);
  CHECK(d.reason == "provider_unavailable");

  SECTION("an account no longer configured gives the message back to its route") {
    m.pinned_provider = "retired";
    RouteDecision r = decide_route(m, y.department("62"), *y.config, breakers, now);
    CHECK(r.kind == RouteDecision::Kind::send);
    CHECK(r.account == "backup");
  }
}

TEST_CASE("a channel without a provider fails the message with the reason", "[router]") {
  Loaded y(
      "  default:\n"
      "    sms: {provider: journal, sender: RdvSoli}\n");
  CircuitBreakers breakers;
  ClaimedMessage m = sms_for("62");
  m.channel = "email";
  RouteDecision d =
      decide_route(m, y.department("62"), *y.config, breakers, at("2026-03-10T13:00:00Z"));
  CHECK(d.kind == RouteDecision::Kind::fail);
  CHECK(d.reason == "no email provider for département 62");
}

TEST_CASE("a deferral gives the message back in its status without charging the attempt",
          "[router]") {
  ClaimedMessage m = sms_for("77");
  m.previous_status = "retrying";
  m.attempt = 3;
  Completion c = deferral(m, 12345, "quiet_hours");
  CHECK(c.status == "deferred");
  CHECK(c.not_attempted);
  CHECK(c.previous_status == "retrying");
  CHECK(c.next_attempt_ms == 12345);
  CHECK(c.deferred == "quiet_hours");
  CHECK(c.attempt == 3);
}
