// The public Redis contract end to end: the real daemon, a real redis-server, the log and file
// providers. Each test states one promise of docs/contract.md.
#include <csignal>
#include <filesystem>
#include <thread>

#include <catch2/catch.hpp>

#include "integration/scenario.hpp"

using namespace rappel::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

size_t count_files(const std::string& dir) {
  if (!std::filesystem::exists(dir)) return 0;
  size_t n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".eml") ++n;
  return n;
}

}  // namespace

TEST_CASE("a due reminder is sent with the full status trail on the events stream",
          "[integration][core]") {
  Scenario s;
  s.start_daemon();
  s.enqueue(reminder("rdv-1-reminder", "77", {"sms", "email"}));
  REQUIRE(s.wait_status("rdv-1-reminder:sms", "sent"));
  REQUIRE(s.wait_status("rdv-1-reminder:email", "sent"));

  auto sms = s.message("rdv-1-reminder:sms");
  CHECK(sms["key"] == "rdv-1-reminder");
  CHECK(sms["channel"] == "sms");
  CHECK(sms["department"] == "77");
  CHECK(sms["event"] == "rdv_upcoming_reminder");
  CHECK(sms["attempts"] == "1");
  CHECK(sms["provider"] == "journal");
  CHECK_FALSE(sms["provider_message_id"].empty());
  CHECK(sms["error"].empty());
  CHECK(sms["send_at"].back() == 'Z');
  CHECK(sms["updated_at"].back() == 'Z');
  CHECK(sms["encoding"] == "gsm7");
  CHECK(std::stoi(sms["segments"]) >= 1);
  CHECK(s.status_trail("rdv-1-reminder:sms") ==
        std::vector<std::string>{"scheduled", "sending", "sent"});
  CHECK(count_files(s.dir + "/outbox") == 1);
  // The inbox entry was acknowledged and trimmed once applied.
  CHECK(s.redis.integer({"XLEN", "rappel:inbox"}) == 0);

  auto events = s.redis.xrange("rappel:events");
  auto sent = std::find_if(events.begin(), events.end(), [](auto& e) {
    return e["status"] == "sent" && e["channel"] == "email";
  });
  REQUIRE(sent != events.end());
  for (const char* field :
       {"id", "key", "channel", "department", "status", "attempt", "provider", "error", "at"})
    CHECK(sent->count(field) == 1);
}

TEST_CASE("a reschedule moves the time of a message not yet sent", "[integration][core]") {
  Scenario s;
  s.start_daemon();
  json first = reminder("rdv-2-reminder");
  first["send_at"] = iso_in(1h);
  s.enqueue(first);
  REQUIRE(s.wait_status("rdv-2-reminder:sms", "scheduled"));
  std::string first_send_at = s.message("rdv-2-reminder:sms")["send_at"];

  json second = reminder("rdv-2-reminder");
  second["send_at"] = iso_in(500ms);
  s.enqueue(second);
  REQUIRE(s.wait_status("rdv-2-reminder:sms", "sent"));
  CHECK(s.message("rdv-2-reminder:sms")["send_at"] != first_send_at);
  CHECK(s.message("rdv-2-reminder:sms")["attempts"] == "1");
}

TEST_CASE("a cancel before the time cancels every channel and nothing is sent",
          "[integration][core]") {
  Scenario s;
  s.start_daemon();
  json later = reminder("rdv-3-reminder", "77", {"sms", "email"});
  later["send_at"] = iso_in(3s);
  s.enqueue(later);
  REQUIRE(s.wait_status("rdv-3-reminder:email", "scheduled"));
  s.enqueue({{"op", "cancel"}, {"key", "rdv-3-reminder"}});
  REQUIRE(s.wait_status("rdv-3-reminder:sms", "cancelled"));
  REQUIRE(s.wait_status("rdv-3-reminder:email", "cancelled"));
  std::this_thread::sleep_for(4s);  // past the original send_at
  CHECK(s.status("rdv-3-reminder:sms") == "cancelled");
  CHECK(count_files(s.dir + "/outbox") == 0);
  CHECK(s.message("rdv-3-reminder:sms")["attempts"] == "0");
}

TEST_CASE("scheduling a key that was already sent does not send it again", "[integration][core]") {
  Scenario s;
  s.start_daemon();
  s.enqueue(reminder("rdv-4-reminder", "77", {"email"}));
  REQUIRE(s.wait_status("rdv-4-reminder:email", "sent"));
  s.enqueue(reminder("rdv-4-reminder", "77", {"email"}));
  s.enqueue(reminder("rdv-4-other", "77", {"email"}));  // processed after the duplicate
  REQUIRE(s.wait_status("rdv-4-other:email", "sent"));
  CHECK(s.status("rdv-4-reminder:email") == "sent");
  CHECK(s.message("rdv-4-reminder:email")["attempts"] == "1");
  CHECK(count_files(s.dir + "/outbox") == 2);
}

TEST_CASE("a message whose expiry has passed is expired, not sent", "[integration][core]") {
  Scenario s;
  s.start_daemon();
  json stale = reminder("rdv-5-reminder");
  stale["send_at"] = iso_in(-2h);
  stale["expires_at"] = iso_in(-1h);
  s.enqueue(stale);
  REQUIRE(s.wait_status("rdv-5-reminder:sms", "expired"));
  CHECK(s.message("rdv-5-reminder:sms")["attempts"] == "0");
  CHECK(s.status_trail("rdv-5-reminder:sms") == std::vector<std::string>{"scheduled", "expired"});
}

TEST_CASE("malformed entries are rejected with a reason and valid ones around them go out",
          "[integration][core]") {
  Scenario s;
  s.start_daemon();
  s.enqueue(reminder("ok-before"));
  s.redis.xadd_payload("rappel:inbox", "{not json");
  s.redis.command({"XADD", "rappel:inbox", "*", "other", "x"});
  json missing = reminder("bad-missing");
  missing.erase("event");
  s.enqueue(missing);
  json wrong_type = reminder("bad-type");
  wrong_type["channels"] = "sms";
  s.enqueue(wrong_type);
  s.enqueue(reminder("bad-department", "99"));
  json unknown_event = reminder("bad-event");
  unknown_event["event"] = "rdv_teleported";
  s.enqueue(unknown_event);
  json oversized = reminder("bad-size");
  oversized["data"]["place"] = std::string(70 * 1024, 'x');
  s.enqueue(oversized);
  json bad_time = reminder("bad-time");
  bad_time["send_at"] = "demain 10h";
  s.enqueue(bad_time);
  json landline = reminder("bad-phone");
  landline["recipient"]["phone"] = "01 64 00 00 00";
  s.enqueue(landline);
  s.enqueue(reminder("ok-after"));

  REQUIRE(s.wait_status("ok-after:sms", "sent"));
  REQUIRE(s.wait_status("ok-before:sms", "sent"));
  auto reason = [&](const std::string& key) { return s.message(key + ":sms")["error"]; };
  CHECK(s.status("bad-missing:sms") == "rejected");
  CHECK_THAT(reason("bad-missing"), Catch::Contains("missing field 'event'"));
  // No usable channel list: no message record to attach it to, so the events stream says it.
  auto events_for = [&](const std::string& key) {
    std::string errors;
    for (auto& e : s.redis.xrange("rappel:events"))
      if (e["key"] == key && e["status"] == "rejected") errors += e["error"] + "\n";
    return errors;
  };
  CHECK_THAT(events_for("bad-type"), Catch::Contains("field 'channels' must be a non-empty list"));
  CHECK_THAT(reason("bad-department"), Catch::Contains("unknown département '99'"));
  CHECK_THAT(reason("bad-event"), Catch::Contains("unknown event"));
  CHECK_THAT(reason("bad-time"), Catch::Contains("send_at"));
  CHECK_THAT(reason("bad-phone"), Catch::Contains("not a mobile number"));

  // Entries without a usable key are reported on the events stream with their entry id.
  auto events = s.redis.xrange("rappel:events");
  std::vector<std::string> keyless;
  for (auto& e : events)
    if (e["status"] == "rejected" && e["id"].empty()) keyless.push_back(e["error"]);
  CHECK(std::find(keyless.begin(), keyless.end(), "payload is not valid JSON") != keyless.end());
  CHECK(std::find(keyless.begin(), keyless.end(), "the entry has no 'payload' field") !=
        keyless.end());
  CHECK(std::any_of(keyless.begin(), keyless.end(),
                    [](auto& e) { return e.find("payload too large") != std::string::npos; }));
  CHECK(s.daemons.front()->running());
  CHECK(s.redis.integer({"XLEN", "rappel:inbox"}) == 0);
}

TEST_CASE("two daemons on one Redis send each message once", "[integration][core]") {
  TestConfig config;
  config.dispatch = "{claim_batch: 16}";
  Scenario s(config);
  s.start_daemon("a");
  s.start_daemon("b");
  const int n = 400;
  for (int i = 0; i < n; ++i) s.enqueue(reminder("twice-" + std::to_string(i)));
  REQUIRE(eventually(
      [&] {
        return s.redis.integer({"ZCARD", "rappel:schedule"}) == 0 &&
               s.redis.integer({"ZCARD", "rappel:inflight"}) == 0 &&
               s.redis.integer({"XLEN", "rappel:inbox"}) == 0;
      },
      30s));
  std::map<std::string, int> sending;
  for (auto& e : s.redis.xrange("rappel:events"))
    if (e["status"] == "sending") ++sending[e["id"]];
  CHECK(sending.size() == n);
  for (auto& [id, count] : sending) CHECK(count == 1);
  for (int i = 0; i < n; i += 37) CHECK(s.status("twice-" + std::to_string(i) + ":sms") == "sent");
  // Both instances took part.
  std::string log_a = s.daemons[0]->log(), log_b = s.daemons[1]->log();
  CHECK(log_a.find("log provider") != std::string::npos);
  CHECK(log_b.find("log provider") != std::string::npos);
}

TEST_CASE("a daemon killed with SIGKILL loses nothing: a restarted one sends the rest",
          "[integration][core]") {
  TestConfig config;
  config.dispatch = "{lease: 2s, claim_batch: 8, max_in_flight: 8}";
  config.intake = "{reclaim_after: 1s}";
  Scenario s(config);
  const int n = 3000;
  for (int i = 0; i < n; ++i) s.enqueue(reminder("kill-" + std::to_string(i)));
  auto& first = s.start_daemon("victim");
  REQUIRE(eventually([&] { return s.redis.integer({"ZCARD", "rappel:inflight"}) > 0; }, 10s));
  first.signal(SIGKILL);
  first.wait(5s);
  s.start_daemon("survivor");
  REQUIRE(eventually(
      [&] {
        for (int i = 0; i < n; i += 1) {
          if (s.status("kill-" + std::to_string(i) + ":sms") != "sent") return false;
        }
        return true;
      },
      60s));
  CHECK(s.redis.integer({"XLEN", "rappel:inbox"}) == 0);
}

TEST_CASE("a Redis restart while the daemon runs: it reconnects and carries on",
          "[integration][core]") {
  Scenario s({}, /*append_only=*/true);
  auto& daemon = s.start_daemon();
  s.enqueue(reminder("before-restart"));
  REQUIRE(s.wait_status("before-restart:sms", "sent"));
  s.redis.restart();
  s.enqueue(reminder("after-restart"));
  REQUIRE(s.wait_status("after-restart:sms", "sent", 30s));
  CHECK(s.status("before-restart:sms") == "sent");
  CHECK(daemon.running());
  CHECK_THAT(daemon.log(), Catch::Contains("connection to"));
}

TEST_CASE("SIGTERM stops cleanly with nothing lost", "[integration][core]") {
  TestConfig config;
  config.dispatch = "{claim_batch: 4, max_in_flight: 4}";
  Scenario s(config);
  const int n = 2000;
  for (int i = 0; i < n; ++i) s.enqueue(reminder("term-" + std::to_string(i), "77", {"email"}));
  auto& daemon = s.start_daemon();
  REQUIRE(eventually([&] { return s.redis.integer({"ZCARD", "rappel:schedule"}) < n; }, 10s));
  daemon.signal(SIGTERM);
  auto code = daemon.wait(15s);
  REQUIRE(code);
  CHECK(*code == 0);
  CHECK(s.redis.integer({"ZCARD", "rappel:inflight"}) == 0);  // nothing left half-sent
  s.start_daemon("second");
  REQUIRE(eventually(
      [&] {
        return s.redis.integer({"ZCARD", "rappel:schedule"}) == 0 &&
               s.redis.integer({"ZCARD", "rappel:inflight"}) == 0 &&
               s.redis.integer({"XLEN", "rappel:inbox"}) == 0;
      },
      60s));
  for (int i = 0; i < n; i += 97) CHECK(s.status("term-" + std::to_string(i) + ":email") == "sent");
}

TEST_CASE("no phone number, email address or name reaches the logs",
          "[integration][core][privacy]") {
  Scenario s;
  s.start_daemon();
  s.enqueue(reminder("privacy-1", "77", {"sms", "email"}));
  json bad = reminder("privacy-2", "77", {"sms"});
  bad["recipient"]["phone"] = "0164000000";
  s.enqueue(bad);
  REQUIRE(s.wait_status("privacy-1:sms", "sent"));
  REQUIRE(s.wait_status("privacy-1:email", "sent"));
  REQUIRE(s.wait_status("privacy-2:sms", "rejected"));
  std::string logs = s.all_logs();
  for (const char* secret : {"612345678", "0612345678", "camille.martin", "Camille", "Martin",
                             "0164000000", "rue de la Paix"})
    CHECK(logs.find(secret) == std::string::npos);
}

TEST_CASE("an older valid schedule taken over from a dead instance wins over a newer rejected one",
          "[integration][core]") {
  TestConfig config;
  config.intake = "{reclaim_after: 1s}";
  Scenario s(config);
  s.redis.command({"XGROUP", "CREATE", "rappel:inbox", "rappel", "0", "MKSTREAM"});
  s.enqueue(reminder("rdv-7001-reminder"));
  // A consumer that read the valid entry and died before applying it.
  s.redis.command({"XREADGROUP", "GROUP", "rappel", "dead-instance", "COUNT", "1", "STREAMS",
                   "rappel:inbox", ">"});
  json landline = reminder("rdv-7001-reminder");
  landline["recipient"]["phone"] = "01 64 00 00 00";
  s.enqueue(landline);
  s.start_daemon();
  REQUIRE(s.wait_status("rdv-7001-reminder:sms", "sent", 20s));
  CHECK(s.redis.integer({"XLEN", "rappel:inbox"}) == 0);
}
