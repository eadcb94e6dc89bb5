// Faults from outside: a provider that fails 30% of the time with 5xx and times out 10% of the
// time, and an inbox where half the entries are garbage. Every message must end where the policy
// says, the counts on both sides must add up, and the daemon must stay up.
#include <cstdio>
#include <mutex>
#include <random>

#include <catch2/catch.hpp>

#include "support/reliability.hpp"

using namespace rappel::test;
using namespace std::chrono_literals;
using nlohmann::json;

TEST_CASE("a provider failing 30% with 5xx and 10% with timeouts: attempts add up",
          "[reliability][provider-faults]") {
  constexpr int kMessages = 1000;
  constexpr int kMaxAttempts = 4;
  std::mt19937 rng(20260315);  // fixed: the same faults every run
  std::mutex rng_mutex;
  ReliabilityProvider provider([&](size_t) {
    std::lock_guard lock(rng_mutex);
    int roll = static_cast<int>(rng() % 100);
    return roll < 30 ? Answer::server_error : roll < 40 ? Answer::too_slow : Answer::ok;
  });
  TestConfig config;
  // The circuit opens on runs of failures, as in production, but cools down in a moment here:
  // the test is about attempts adding up, not about waiting out a cool-down.
  config.extra_providers = provider.account(
      "sms-factor-77",
      "connect_timeout: 500ms, timeout: 1s, circuit: {failures: 5, cooldown: 200ms, "
      "max_cooldown: 1s}");
  config.departments =
      "  \"77\": {sms: {provider: sms-factor-77}, retry: {base: 1s, cap: 2s, "
      "max_attempts: " +
      std::to_string(kMaxAttempts) + "}}\n";
  config.dispatch = "{max_in_flight: 256}";
  Scenario s(config);
  BulkRedis redis(s.redis.port());
  s.start_daemon();
  Batch batch = reminders("rdv-faults", kMessages);
  redis.enqueue(batch.payloads);
  REQUIRE(eventually([&] { return all_final(redis, batch.ids); }, 150s));

  auto counts = redis.count_statuses(batch.ids);
  CHECK(counts["sent"] + counts["failed"] == kMessages);
  auto attempts = redis.field_of(batch.ids, "attempts");
  auto statuses = redis.field_of(batch.ids, "status");
  auto unknown = redis.field_of(batch.ids, "outcome_unknown");
  auto errors = redis.field_of(batch.ids, "error");
  auto per_message = provider.per_message();
  auto last = provider.last_answer();
  auto timed_out = provider.timed_out();
  long total_attempts = 0;
  for (size_t i = 0; i < batch.ids.size(); ++i) {
    const std::string& id = batch.ids[i];
    int n = std::stoi(attempts[i]);
    total_attempts += n;
    INFO(id << " " << statuses[i] << " after " << n << " attempt(s)");
    CHECK(per_message[id] == n);  // each attempt is one request the provider saw
    if (statuses[i] == "sent") CHECK(last[id] == Answer::ok);
    if (statuses[i] == "failed") {
      // Only transient failures here: it gave up after all attempts, or after the second whose
      // outcome was unknown (retry.max_unknown_attempts), since each may have reached the person.
      if (errors[i].starts_with("outcome unknown after 2 attempts"))
        CHECK((timed_out.count(id) && unknown[i] == "1"));
      else
        CHECK(n == kMaxAttempts);
      CHECK(last[id] != Answer::ok);
    }
    if (timed_out.count(id)) CHECK(unknown[i] == "1");  // it may have gone out: the backend is told
  }
  CHECK(total_attempts == static_cast<long>(provider.total()));
  std::printf(
      "[reliability] faulty provider: %lld sent, %lld failed, %ld requests for %d messages\n",
      counts["sent"], counts["failed"], total_attempts, kMessages);
}

namespace {

// One malformed entry of each kind the contract lists, by number; `keyed` says the contract
// promises the rejection on the message record (a channel-only rejection: a landline for an SMS);
// the others are on the record when rappel could read a key and channels, otherwise on the events
// stream.
std::pair<std::string, bool> malformed(int i) {
  std::string key = "rdv-bad-" + std::to_string(i);
  json entry = reminder(key);
  switch (i % 10) {
    case 0:
      return {"{\"op\": \"schedule\", \"key\": \"" + key + "\"", false};  // not JSON
    case 1:
      return {"[\"schedule\"]", false};  // not an object
    case 2:
      entry.erase("event");
      return {entry.dump(), false};
    case 3:
      entry["channels"] = "sms";
      return {entry.dump(), false};
    case 4:
      entry["department"] = "99";
      return {entry.dump(), false};
    case 5:
      entry["event"] = "rdv_teleporte";
      return {entry.dump(), false};
    case 6:
      entry["recipient"]["phone"] = "01 64 00 00 00";
      return {entry.dump(), true};
    case 7:
      entry["send_at"] = "demain à 10h";
      return {entry.dump(), false};
    case 8:
      entry["key"] = "rdv bad " + std::to_string(i);
      return {entry.dump(), false};
    default:
      entry["rappel"] = "oui";
      return {entry.dump(), false};  // unknown field
  }
}

}  // namespace

TEST_CASE(
    "1,000 malformed entries among 1,000 valid ones: all rejected with a reason, all valid sent",
    "[reliability][malformed]") {
  Scenario s;
  BulkRedis redis(s.redis.port());
  auto& daemon = s.start_daemon();
  std::vector<std::string> payloads, valid_ids, bad_keys;
  std::vector<bool> keyed;
  for (int i = 0; i < 1000; ++i) {
    payloads.push_back(reminder("rdv-ok-" + std::to_string(i)).dump());
    valid_ids.push_back("rdv-ok-" + std::to_string(i) + ":sms");
    auto [payload, is_keyed] = malformed(i);
    payloads.push_back(payload);
    keyed.push_back(is_keyed);
  }
  auto entries = redis.enqueue(payloads);
  REQUIRE(eventually([&] { return redis.integer({"XLEN", "rappel:inbox"}) == 0; }, 60s));
  REQUIRE(eventually([&] { return all_final(redis, valid_ids); }, 60s));
  CHECK(redis.count_statuses(valid_ids)["sent"] == 1000);
  CHECK(daemon.running());

  // Each malformed entry: rejected on its message record, or on the events stream by entry id.
  std::map<std::string, std::string> rejected_entries;  // entry id -> error
  for (auto& e : s.redis.xrange("rappel:events"))
    if (e["status"] == "rejected") rejected_entries[e["entry"]] = e["error"];
  int on_record = 0, on_stream = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string& entry = entries[2 * i + 1];
    INFO("malformed entry " << i << ": " << payloads[2 * i + 1].substr(0, 80));
    auto m = s.message("rdv-bad-" + std::to_string(i) + ":sms");
    if (m["status"] == "rejected" && m["entry"] == entry) {
      CHECK_FALSE(m["error"].empty());
      ++on_record;
    } else {
      CHECK_FALSE(keyed[i]);
      REQUIRE(rejected_entries.count(entry) == 1);
      CHECK_FALSE(rejected_entries[entry].empty());
      ++on_stream;
    }
    CHECK(m["status"] != "sent");
  }
  CHECK(on_record + on_stream == 1000);
  CHECK(on_record >= 100);  // at least the landlines
  std::printf("[reliability] 1000 malformed: %d rejected on their record, %d on the stream\n",
              on_record, on_stream);
}
