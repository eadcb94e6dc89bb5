// Statistics per département and day against a real Redis: the real Lua scripts driven through
// the Store with a chosen clock (two days, and a time where Paris and La Réunion are on different
// days, without sleeping across midnight), then read back with `rappel stats` in every format.
#include <sstream>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "daemon/config/config.hpp"
#include "daemon/store/stats.hpp"
#include "daemon/store/store.hpp"
#include "integration/scenario.hpp"
#include "integration/scripted_store.hpp"

using namespace rappel;
using namespace rappel::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// The known scenario: two départements (Seine-et-Marne, La Réunion), three local days.
void play_scenario(ScriptedStore& s, RedisServer& redis) {
  using K = IntakeOp::Kind;
  s.at("2026-03-14T09:00:00Z");  // 10:00 in Paris, 13:00 in La Réunion: both on the 14th
  s.intake({s.op(K::schedule, "rdv-101", "77", "sms"), s.op(K::schedule, "rdv-101", "77", "email"),
            s.op(K::schedule, "rdv-102", "974", "sms"), s.op(K::schedule, "rdv-103", "77", "sms"),
            s.op(K::reject, "rdv-104", "77", "sms")});
  s.complete_all({{"rdv-101:sms", {"sent", 2}},
                  {"rdv-101:email", {"sent", 0}},
                  {"rdv-102:sms", {"failed", 0}},
                  {"rdv-103:sms", {"retrying", 0}}});
  CHECK(redis.integer({"SCARD", "rappel:retrying"}) == 1);
  auto later = s.op(K::schedule, "rdv-105", "77", "sms");
  later.send_at_ms = s.now + 86400'000;
  s.intake({later, s.op(K::cancel, "rdv-105", "", "")});

  s.at("2026-03-15T21:30:00Z");  // 22:30 on the 15th in Paris, 01:30 on the 16th in La Réunion
  s.intake({s.op(K::schedule, "rdv-201", "974", "sms")});
  s.complete_all({{"rdv-103:sms", {"sent", 1}}, {"rdv-201:sms", {"sent", 3}}});
  CHECK(redis.integer({"SCARD", "rappel:retrying"}) == 0);
  auto reunion_email = s.op(K::schedule, "rdv-202", "974", "email");
  reunion_email.send_at_ms = s.now + 86400'000;
  s.intake({reunion_email, s.op(K::cancel, "rdv-202", "", "")});
}

std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> cells;
    std::istringstream cols(line);
    std::string cell;
    while (std::getline(cols, cell, ',')) cells.push_back(cell);
    if (line.back() == ',') cells.push_back("");
    rows.push_back(cells);
  }
  return rows;
}

const std::string kReunion =
    "  \"974\": {name: La Réunion, sms: {provider: journal, sender: RdvSoli}}\n";

}  // namespace

TEST_CASE("rappel stats counts final statuses per département and local day",
          "[integration][stats]") {
  TestConfig config;
  config.departments = kReunion;
  Scenario s(config);
  {
    ScriptedStore store(s.config_path);
    play_scenario(store, s.redis);
  }
  auto stats = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"stats", "--config", s.config_path});
    return run_rappel(args);
  };

  SECTION("CSV: one row per day, département and channel") {
    auto [code, out] = stats({"--from", "2026-03-13", "--to", "2026-03-16", "--csv"});
    REQUIRE(code == 0);
    auto rows = parse_csv(out);
    REQUIRE(rows.size() == 7);
    CHECK(rows[0] == std::vector<std::string>{"date", "department", "channel", "sent", "delivered",
                                              "undelivered", "failed", "expired", "cancelled",
                                              "rejected", "sms_segments", "sent_on_time"});
    CHECK(rows[1] == std::vector<std::string>{"2026-03-14", "77", "sms", "1", "0", "0", "0", "0",
                                              "1", "1", "2", "0"});
    CHECK(rows[2] == std::vector<std::string>{"2026-03-14", "77", "email", "1", "0", "0", "0", "0",
                                              "0", "0", "", "0"});
    CHECK(rows[3] == std::vector<std::string>{"2026-03-14", "974", "sms", "0", "0", "0", "1", "0",
                                              "0", "0", "0", "0"});
    CHECK(rows[4] == std::vector<std::string>{"2026-03-15", "77", "sms", "1", "0", "0", "0", "0",
                                              "0", "0", "1", "0"});
    // 21:30 UTC on the 15th is already the 16th in La Réunion.
    CHECK(rows[5] == std::vector<std::string>{"2026-03-16", "974", "sms", "1", "0", "0", "0", "0",
                                              "0", "0", "3", "0"});
    CHECK(rows[6] == std::vector<std::string>{"2026-03-16", "974", "email", "0", "0", "0", "0", "0",
                                              "1", "0", "", "0"});
  }

  SECTION("JSON: days and totals, filtered by département") {
    auto [code, out] =
        stats({"--department", "974", "--from", "2026-03-14", "--to", "2026-03-16", "--json"});
    REQUIRE(code == 0);
    json j = json::parse(out);
    CHECK(j["department"] == "974");
    REQUIRE(j["days"].size() == 2);
    CHECK(j["days"][0]["date"] == "2026-03-14");
    CHECK(j["days"][0]["sms"]["failed"] == 1);
    CHECK(j["days"][1]["date"] == "2026-03-16");
    CHECK(j["days"][1]["sms"]["sent"] == 1);
    CHECK(j["days"][1]["sms"]["segments"] == 3);
    CHECK(j["days"][1]["email"]["cancelled"] == 1);
    CHECK(j["totals"]["974"]["sms"]["sent"] == 1);
    CHECK(j["totals"]["974"]["sms"]["failed"] == 1);
    CHECK(j["totals"].size() == 1);
    // Counters only: no key, no message id, no recipient.
    CHECK(out.find("rdv-") == std::string::npos);
    CHECK(out.find("+336") == std::string::npos);
  }

  SECTION("the date filters keep only the days asked for") {
    auto [code, out] = stats({"--from", "2026-03-15", "--to", "2026-03-15", "--json"});
    REQUIRE(code == 0);
    json j = json::parse(out);
    REQUIRE(j["days"].size() == 1);
    CHECK(j["days"][0]["department"] == "77");
    CHECK(j["totals"]["77"]["sms"]["sent"] == 1);
    CHECK(j["totals"]["77"]["sms"]["segments"] == 1);
  }

  SECTION("the table is the default") {
    auto [code, out] = stats({"--department", "77", "--from", "2026-03-14", "--to", "2026-03-15"});
    REQUIRE(code == 0);
    CHECK_THAT(out, Catch::StartsWith("DATE") && Catch::Contains("SEGMENTS") &&
                        Catch::Contains("2026-03-15  77"));
  }

  SECTION("bad filters are usage errors") {
    CHECK(stats({"--from", "14/03/2026"}).first == 2);
    CHECK(stats({"--from", "2026-03-16", "--to", "2026-03-14"}).first == 2);
    CHECK(stats({"--department", "+33612345678"}).first == 2);
    CHECK(stats({"--csv", "--json"}).first == 2);
  }

  SECTION("the figures expire after the retention") {
    long long ttl = s.redis.integer({"TTL", "rappel:stats:2026-03-14:77"});
    CHECK(ttl > 399 * 86400);
    CHECK(ttl <= 400 * 86400);
    CHECK(s.redis.integer({"TTL", "rappel:stats:2026-03-14"}) > 399 * 86400);
  }
}

TEST_CASE("the daemon counts today's figures as it sends", "[integration][stats]") {
  Scenario s;
  s.start_daemon();
  s.enqueue(reminder("rdv-301", "77", {"sms", "email"}));
  json bad = reminder("rdv-302", "77");
  bad["recipient"]["phone"] = "0164000000";  // a landline: rejected
  s.enqueue(bad);
  REQUIRE(s.wait_status("rdv-301:sms", "sent"));
  REQUIRE(s.wait_status("rdv-301:email", "sent"));
  REQUIRE(s.wait_status("rdv-302:sms", "rejected"));
  std::string today = local_day("Europe/Paris", now_ms());
  // Around midnight the daemon's day and this one may differ: ask for both.
  std::string yesterday = local_day("Europe/Paris", now_ms() - 3600'000);
  auto [code, out] = run_rappel(
      {"stats", "--config", s.config_path, "--from", yesterday, "--to", today, "--json"});
  REQUIRE(code == 0);
  json totals = json::parse(out)["totals"]["77"];
  CHECK(totals["sms"]["sent"] == 1);
  CHECK(totals["sms"]["rejected"] == 1);
  CHECK(totals["sms"]["segments"] >= 1);
  CHECK(totals["email"]["sent"] == 1);
}
