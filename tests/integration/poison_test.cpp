// Inputs that once stopped the daemon, end to end through the real binary and a real Redis. Each
// was a "poison pill": the daemon died on it, and after every restart (systemd's, or another
// instance taking the entry over) it met the same input again and died again, so nothing else was
// sent. What must hold: the bad input ends in a final status with a reason, the daemon stays up,
// and the next reminder goes out.
#include <filesystem>

#include <catch2/catch.hpp>

#include "integration/scenario.hpp"
#include "integration/scripted_store.hpp"

using namespace rappel::test;
using namespace std::chrono_literals;

namespace {

// nlohmann::json writes only valid UTF-8; this is what Redis and the events must hold.
bool valid_utf8(const std::string& text) {
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

// The next reminder is sent: the daemon is still there and still working.
void check_still_sending(Scenario& s, const std::string& key) {
  s.enqueue(reminder(key));
  CHECK(s.wait_status(key + ":sms", "sent"));
  CHECK(s.daemons.back()->running());
}

}  // namespace

TEST_CASE("an inbox entry whose département is cut inside a character is rejected",
          "[integration][poison]") {
  Scenario s;
  s.start_daemon();
  // Rejected (unknown département): a name is not a code, so nothing of it is salvaged or quoted
  // (once its first 8 bytes were, and "Côte-d’Or" cut there ends inside "’").
  auto entry = reminder("rdv-cote-dor");
  entry["department"] = "Côte-d’Or";
  s.enqueue(entry);
  REQUIRE(s.wait_status("rdv-cote-dor:sms", "rejected"));
  auto m = s.message("rdv-cote-dor:sms");
  CHECK(m["error"] == "unknown département (not a département code)");
  CHECK(m["department"] == "");
  check_still_sending(s, "rdv-after-cote-dor");
}

TEST_CASE("a provider's words in Latin-1 are stored, not thrown on", "[integration][poison]") {
  // An SMTP relay or an old gateway answering in ISO-8859-1 ("Expéditeur invalide", é = 0xE9):
  // the adapters clean provider texts, and the store must not throw on one that slips through.
  // Thrown inside a Redis reply callback, it stopped the daemon once per attempt.
  RedisServer redis;
  std::string dir = make_temp_dir("poison");
  TestConfig config;
  config.redis_url = redis.url();
  config.outbox = dir + "/outbox";
  ScriptedStore s(write_config(dir, config));
  s.at("2026-12-01T09:30:00Z");
  s.intake({s.op(rappel::IntakeOp::Kind::schedule, "rdv-latin1", "77", "sms")});
  auto claimed = s.claim();
  REQUIRE(claimed.size() == 1);
  s.complete(claimed[0], "failed", 0,
             "SMTP 550 Exp\xe9"
             "diteur invalide");
  auto m = redis.hgetall("rappel:msg:rdv-latin1:sms");
  CHECK(m["status"] == "failed");
  CHECK(m["error"] ==
        "SMTP 550 Exp\xef\xbf\xbd"
        "diteur invalide");  // U+FFFD
  for (auto& e : redis.xrange("rappel:events")) CHECK(valid_utf8(e["error"]));
  std::filesystem::remove_all(dir);
}
