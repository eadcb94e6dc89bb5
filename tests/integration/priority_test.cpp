// Priorities against a real Redis: the claim script takes due messages higher
// priority first with a guaranteed share for lower ones, never early, and keeps each message in
// its priority's schedule through reschedules, deferrals, leases and cancels (the real scripts,
// on a clock the test sets); then the daemon end to end: a reminder does not wait behind a
// campaign of the same rate-limited account.
#include <iostream>

#include <catch2/catch.hpp>

#include "integration/delivery_support.hpp"
#include "integration/scripted_store.hpp"
#include "support/bulk_redis.hpp"

using namespace rappel;
using namespace rappel::test;
using namespace rappel::test::delivery;
using namespace std::chrono_literals;
using K = rappel::IntakeOp::Kind;

namespace {

constexpr Millis kStart = 1796115600000;  // 2026-12-01T09:00:00Z

struct Lanes {
  Scenario s;
  ScriptedStore store{s.config_path};
  int entry = 0;
  Lanes() { store.now = kStart; }

  void schedule(const std::string& key, Priority p, Millis due = kStart) {
    IntakeOp o = store.op(K::schedule, key, "77", "sms");
    o.entry = std::to_string(kStart) + "-" + std::to_string(++entry);
    o.priority = p;
    o.send_at_ms = due;
    store.intake({o});
  }
  void schedule_many(const std::string& prefix, int n, Priority p) {
    for (int i = 0; i < n; ++i) schedule(prefix + std::to_string(i), p);
  }
  // The schedule zsets that hold `id` ("high", "normal", "bulk").
  std::vector<std::string> lanes_of(const std::string& id) {
    std::vector<std::string> found;
    for (Priority p : {Priority::high, Priority::normal, Priority::bulk})
      if (auto r = s.redis.command({"ZSCORE", schedule_key("rappel", p), id});
          r && r->type == REDIS_REPLY_STRING)
        found.emplace_back(to_string(p));
    return found;
  }
};

std::map<Priority, int> by_priority(const std::vector<ClaimedMessage>& claimed) {
  std::map<Priority, int> n;
  for (const auto& m : claimed) ++n[m.priority];
  return n;
}

}  // namespace

TEST_CASE("due messages are claimed higher priority first, and never early",
          "[integration][priority]") {
  Lanes f;
  f.schedule_many("bulk-", 5, Priority::bulk);
  f.schedule_many("normal-", 5, Priority::normal);
  f.schedule_many("high-", 5, Priority::high);
  f.schedule("high-later", Priority::high, kStart + 3600'000);

  auto first = f.store.claim(6, /*lower_share=*/0);
  REQUIRE(first.size() == 6);
  for (int i = 0; i < 5; ++i) CHECK(first[i].priority == Priority::high);
  CHECK(first[5].priority == Priority::normal);
  auto rest = f.store.claim(100, 0);
  CHECK(by_priority(rest) == std::map<Priority, int>{{Priority::normal, 4}, {Priority::bulk, 5}});
  for (const auto& m : rest) CHECK(m.id != "high-later:sms");  // not due: priority is no hurry
  CHECK(f.store.claim(100, 0).empty());
  CHECK(f.lanes_of("high-later:sms") == std::vector<std::string>{"high"});
}

TEST_CASE("each lower priority keeps its share of a claim while higher ones wait",
          "[integration][priority]") {
  Lanes f;
  f.schedule_many("high-", 40, Priority::high);
  f.schedule_many("normal-", 40, Priority::normal);
  f.schedule_many("bulk-", 40, Priority::bulk);
  // 20% of 10 is 2 whatever the random rounding: 2 normal, 2 bulk, 6 high.
  CHECK(by_priority(f.store.claim(10, 0.2)) ==
        std::map<Priority, int>{{Priority::high, 6}, {Priority::normal, 2}, {Priority::bulk, 2}});
  // A share of a batch of one is a chance: over many claims, about the share.
  std::map<Priority, int> ones;
  for (int i = 0; i < 60; ++i)
    for (const auto& m : f.store.claim(1, 0.2)) ++ones[m.priority];
  CHECK(ones[Priority::high] + ones[Priority::normal] + ones[Priority::bulk] == 60);
  CHECK(ones[Priority::bulk] >= 3);  // expected 12; fewer than 3 has odds below 1e-3
  CHECK(ones[Priority::high] > ones[Priority::bulk]);
}

TEST_CASE("a message stays in its priority's schedule: reschedule, deferral, lease, cancel",
          "[integration][priority]") {
  Lanes f;
  f.schedule("rdv-1", Priority::bulk);
  CHECK(f.lanes_of("rdv-1:sms") == std::vector<std::string>{"bulk"});
  CHECK(f.s.message("rdv-1:sms")["priority"] == "bulk");
  f.schedule("rdv-1", Priority::high);  // a newer entry, another priority
  CHECK(f.lanes_of("rdv-1:sms") == std::vector<std::string>{"high"});

  auto claimed = f.store.claim();
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].priority == Priority::high);
  Completion deferred = completion_of(claimed[0]);
  deferred.status = "deferred", deferred.deferred = "rate_limit";
  deferred.previous_status = "scheduled", deferred.not_attempted = true;
  deferred.next_attempt_ms = kStart + 1000;
  f.store.complete(deferred);
  CHECK(f.lanes_of("rdv-1:sms") == std::vector<std::string>{"high"});

  f.store.now = kStart + 1000;
  REQUIRE(f.store.claim().size() == 1);
  // Its lease runs out while another high message, due earlier, waits: the claim of one takes
  // that one and puts rdv-1 back in its own schedule.
  f.schedule("rdv-2", Priority::high);
  f.store.now += 3 * 60'000;
  auto next = f.store.claim(1);
  REQUIRE(next.size() == 1);
  CHECK(next[0].id == "rdv-2:sms");
  CHECK(f.s.status("rdv-1:sms") == "retrying");
  CHECK(f.lanes_of("rdv-1:sms") == std::vector<std::string>{"high"});

  IntakeOp cancel = f.store.op(K::cancel, "rdv-1", "77", "sms");
  cancel.entry = std::to_string(kStart + 900'000) + "-1";
  f.store.intake({cancel});
  CHECK(f.s.status("rdv-1:sms") == "cancelled");
  CHECK(f.lanes_of("rdv-1:sms").empty());
}

// The promise of priorities, as ordering: the reminders of 77 must not wait behind the campaign
// of 77.
TEST_CASE("20 reminders go out ahead of a campaign of 2,000 on the same rate-limited account",
          "[integration][priority][rate]") {
  export_secrets();
  Script script;
  script.answer = [](size_t) { return ScriptedResponse{200, kSmsFactorOk}; };
  ProviderServer server(script.handler());
  TestConfig config;
  config.extra_providers = sms_factor_account("sms-factor-77", server, ", rate_limit: \"20/s\"");
  config.departments = "  \"77\": {sms: {provider: sms-factor-77}}\n";
  Scenario s(config);
  BulkRedis bulk(s.redis.port());
  std::vector<std::string> campaign;
  for (int i = 0; i < 2000; ++i) {
    auto payload = reminder("creneau-" + std::to_string(i));
    payload["event"] = "new_creneau_available";  // bulk by default
    campaign.push_back(payload.dump());
  }
  bulk.enqueue(campaign);
  s.start_daemon();
  REQUIRE(eventually([&] { return script.count() >= 40; }, 30s));  // the campaign is moving

  for (int i = 0; i < 20; ++i) s.enqueue(reminder("rdv-prio-" + std::to_string(i)));
  // Counted from when all 20 are in the store, so that a slow intake (a sanitizer build on a
  // loaded machine) is not taken for a slow claim.
  REQUIRE(eventually(
      [&] {
        for (int i = 0; i < 20; ++i)
          if (s.status("rdv-prio-" + std::to_string(i) + ":sms").empty()) return false;
        return true;
      },
      30s));
  size_t due_at = script.count();
  auto became_due = std::chrono::steady_clock::now();
  auto is_reminder = [](const std::string& id) { return id.starts_with("rdv-prio-"); };
  REQUIRE(eventually(
      [&] {
        std::lock_guard lock(script.mutex);
        return std::count_if(script.ids.begin(), script.ids.end(), is_reminder) == 20;
      },
      60s));

  std::lock_guard lock(script.mutex);
  size_t first = script.ids.size(), last = 0;
  for (size_t i = 0; i < script.ids.size(); ++i)
    if (is_reminder(script.ids[i])) first = std::min(first, i), last = i;
  // Campaign requests after the reminders were due, and between the first and the last reminder.
  auto campaign_between = [&](size_t from, size_t to) {
    return std::count_if(script.ids.begin() + std::min(from, to), script.ids.begin() + to + 1,
                         [&](const std::string& id) { return !is_reminder(id); });
  };
  auto bulk_before = campaign_between(due_at, last);
  auto bulk_among = campaign_between(first, last);
  double seconds = std::chrono::duration<double>(script.arrivals[last] - became_due).count();
  std::cout << "20 reminders behind a campaign of 2,000 (20/s): all sent " << seconds
            << " s after they were due, " << bulk_before << " campaign SMS meanwhile\n";
  // At 20/s, 60 requests are 3 s: the slots already reserved (1 s) and the campaign's share.
  // Without priorities the reminders queue behind the whole campaign (about 100 s of it).
  CHECK(bulk_before <= 60);
  CHECK(bulk_among >= 1);  // the campaign keeps moving meanwhile
}
