// Intake ordering at the edges of an attempt, against a real Redis: the real Lua scripts driven
// through the Store with explicit inbox entry ids and a clock the test sets, so that entries can
// be applied out of stream order (as two daemon instances reading one consumer group do) and an
// attempt can end exactly when the test wants (sent, failed, deferred, a lease that ran out).
#include <catch2/catch.hpp>

#include "integration/scenario.hpp"
#include "integration/scripted_store.hpp"

using namespace rappel;
using namespace rappel::test;
using namespace std::chrono_literals;
using K = rappel::IntakeOp::Kind;

namespace {

constexpr Millis kStart = 1796115600000;  // 2026-12-01T09:00:00Z

// The real scripts through the real Store (scripted_store.hpp), with inbox entries numbered in
// stream order.
struct Intake : ScriptedStore {
  explicit Intake(const std::string& config_path) : ScriptedStore(config_path) { now = kStart; }

  // Entry "<n>-0" of the inbox, i.e. the n-th in stream order.
  static IntakeOp op(K kind, int n, const std::string& key, const std::string& place = "Melun") {
    IntakeOp o;
    o.kind = kind;
    o.entry = std::to_string(n) + "-0";
    o.key = key;
    o.department = "77";
    o.event = "rdv_upcoming_reminder";
    o.channels = {"sms"};
    o.send_at_ms = kStart;
    o.content = R"({"recipient":{"phone":"+33612345678"},"data":{"place":")" + place + R"("}})";
    if (kind == K::reject) o.error = "recipient.phone: not a mobile number (landline)";
    return o;
  }
  void apply(const IntakeOp& o) { intake({o}); }
};

Completion outcome(const ClaimedMessage& m, const std::string& status) {
  Completion c = completion_of(m);
  c.status = status;
  c.provider = "journal";
  return c;
}

struct Fixture {
  Scenario s;
  Intake in{s.config_path};
  std::map<std::string, std::string> msg(const std::string& id) { return s.message(id); }
  std::map<std::string, std::string> last_event(const std::string& id) {
    std::map<std::string, std::string> last;
    for (auto& e : s.redis.xrange("rappel:events"))
      if (e["id"] == id) last = e;
    return last;
  }
  // Scheduled by entry 1, then claimed: the message is `sending`.
  ClaimedMessage sending(const std::string& key) {
    in.apply(Intake::op(K::schedule, 1, key));
    auto claimed = in.claim();
    REQUIRE(claimed.size() == 1);
    REQUIRE(s.status(claimed[0].id) == "sending");
    return claimed[0];
  }
};

}  // namespace

TEST_CASE("a cancel applied before an older schedule wins even over a rejected record",
          "[integration][intake-order]") {
  // Stream order: S1 (the SMS rejected: a landline), S2 (valid), C (cancel). One instance applies
  // C before another applies S2.
  Fixture f;
  f.in.apply(Intake::op(K::reject, 1, "rdv-8201-reminder"));
  REQUIRE(f.s.status("rdv-8201-reminder:sms") == "rejected");
  f.in.apply(Intake::op(K::cancel, 3, "rdv-8201-reminder"));
  f.in.apply(Intake::op(K::schedule, 2, "rdv-8201-reminder"));

  auto m = f.msg("rdv-8201-reminder:sms");
  CHECK(m["status"] == "cancelled");
  CHECK(m["intake_id"] == "3-0");
  CHECK(m["tombstone"] == "1");
  CHECK(f.in.claim().empty());
  CHECK(f.s.redis.integer({"ZCARD", "rappel:schedule"}) == 0);
  CHECK(f.last_event("rdv-8201-reminder:sms")["status"] == "cancelled");

  // After the cancel the key stays cancelled: a later schedule does nothing either.
  f.in.apply(Intake::op(K::schedule, 4, "rdv-8201-reminder"));
  CHECK(f.s.status("rdv-8201-reminder:sms") == "cancelled");
  CHECK(f.in.claim().empty());
}

TEST_CASE("a cancel during an attempt that ends sent came too late, and the event says so",
          "[integration][intake-order][cancel-sending]") {
  Fixture f;
  auto m = f.sending("rdv-8202-reminder");
  f.in.apply(Intake::op(K::cancel, 2, "rdv-8202-reminder"));
  CHECK(f.s.status(m.id) == "sending");
  f.in.complete(outcome(m, "sent"));

  CHECK(f.s.status(m.id) == "sent");
  CHECK(f.msg(m.id)["cancel_requested"] == "2-0");
  auto sent = f.last_event(m.id);
  CHECK(sent["status"] == "sent");
  CHECK(sent["cancel_requested"] == "2-0");
}

TEST_CASE("a cancel during an attempt whose lease runs out cancels instead of retrying",
          "[integration][intake-order][cancel-sending]") {
  Fixture f;
  auto m = f.sending("rdv-8203-reminder");
  f.in.apply(Intake::op(K::cancel, 2, "rdv-8203-reminder"));
  f.in.now += 3 * 60'000;  // past the lease: the daemon that held it is gone
  CHECK(f.in.claim().empty());

  auto h = f.msg(m.id);
  CHECK(h["status"] == "cancelled");
  CHECK(h["outcome_unknown"] == "1");  // it may still have reached the provider
  auto e = f.last_event(m.id);
  CHECK(e["status"] == "cancelled");
  CHECK(e["outcome_unknown"] == "1");
  CHECK(e["cancel_requested"] == "2-0");
  CHECK(f.s.redis.integer({"ZCARD", "rappel:schedule"}) == 0);
  CHECK(f.s.redis.integer({"ZCARD", "rappel:inflight"}) == 0);
  // The late completion of the dead attempt changes nothing.
  f.in.complete(outcome(m, "retrying"));
  CHECK(f.s.status(m.id) == "cancelled");
  CHECK(f.in.claim().empty());
}

TEST_CASE("a cancel during an attempt held back by quiet hours cancels it",
          "[integration][intake-order][cancel-sending]") {
  Fixture f;
  auto m = f.sending("rdv-8204-reminder");
  f.in.apply(Intake::op(K::cancel, 2, "rdv-8204-reminder"));
  Completion c = outcome(m, "deferred");
  c.not_attempted = true, c.previous_status = "scheduled", c.deferred = "quiet_hours";
  c.next_attempt_ms = f.in.now + 60'000;
  f.in.complete(c);

  CHECK(f.s.status(m.id) == "cancelled");
  CHECK(f.msg(m.id)["attempts"] == "0");
  f.in.now += 2 * 60'000;
  CHECK(f.in.claim().empty());
}

TEST_CASE(
    "a reschedule during an attempt held back replaces the message; one after sent is dropped",
    "[integration][intake-order][cancel-sending]") {
  Fixture f;
  SECTION("held back: the new date and content are what goes out") {
    auto m = f.sending("rdv-8205-reminder");
    auto moved = Intake::op(K::schedule, 2, "rdv-8205-reminder", "Fontainebleau");
    moved.send_at_ms = kStart + 3600'000;
    f.in.apply(moved);
    CHECK(f.s.status(m.id) == "sending");
    Completion c = outcome(m, "deferred");
    c.not_attempted = true, c.previous_status = "scheduled", c.deferred = "rate_limit";
    c.next_attempt_ms = f.in.now + 1000;
    f.in.complete(c);

    CHECK(f.s.status(m.id) == "scheduled");
    CHECK(f.msg(m.id)["intake_id"] == "2-0");
    CHECK(f.msg(m.id)["due_at"].empty());
    CHECK(f.msg(m.id).count("reschedule_requested") == 0);
    CHECK(f.last_event(m.id)["reschedule_requested"] == "2-0");
    f.in.now += 60'000;
    CHECK(f.in.claim().empty());  // not before the new time
    f.in.now = kStart + 3600'000;
    auto again = f.in.claim();
    REQUIRE(again.size() == 1);
    CHECK_THAT(again[0].content, Catch::Contains("Fontainebleau"));
    CHECK(again[0].attempt == 1);
  }
  SECTION("sent: the replacement is dropped, and the event says so") {
    auto m = f.sending("rdv-8206-reminder");
    f.in.apply(Intake::op(K::schedule, 2, "rdv-8206-reminder", "Fontainebleau"));
    f.in.complete(outcome(m, "sent"));
    CHECK(f.s.status(m.id) == "sent");
    CHECK(f.last_event(m.id)["reschedule_requested"] == "2-0");
    CHECK(f.s.redis.integer({"EXISTS", "rappel:pending:" + m.id}) == 0);
    CHECK(f.in.claim().empty());
  }
  SECTION("a lease that ran out: the replacement, with the attempt's unknown outcome") {
    auto m = f.sending("rdv-8208-reminder");
    f.in.apply(Intake::op(K::schedule, 2, "rdv-8208-reminder", "Fontainebleau"));
    f.in.now += 3 * 60'000;
    auto again = f.in.claim();  // the lease ran out: the replacement is due at once
    REQUIRE(again.size() == 1);
    CHECK_THAT(again[0].content, Catch::Contains("Fontainebleau"));
    auto h = f.msg(m.id);
    CHECK(h["intake_id"] == "2-0");
    CHECK(h["outcome_unknown"] == "1");
    CHECK(h.count("reschedule_requested") == 0);
    CHECK(f.s.status_trail(m.id) ==
          std::vector<std::string>{"scheduled", "sending", "scheduled", "sending"});
    f.in.complete(outcome(again[0], "sent"));
    CHECK(f.last_event(m.id).count("reschedule_requested") == 0);
  }
  SECTION("a cancel after the reschedule wins over it") {
    auto m = f.sending("rdv-8207-reminder");
    f.in.apply(Intake::op(K::schedule, 2, "rdv-8207-reminder", "Fontainebleau"));
    f.in.apply(Intake::op(K::cancel, 3, "rdv-8207-reminder"));
    f.in.apply(Intake::op(K::schedule, 4, "rdv-8207-reminder", "Provins"));  // stays cancelled
    Completion c = outcome(m, "retrying");
    c.next_attempt_ms = f.in.now + 1000;
    f.in.complete(c);
    CHECK(f.s.status(m.id) == "cancelled");
    CHECK(f.s.redis.integer({"EXISTS", "rappel:pending:" + m.id}) == 0);
    f.in.now += 60'000;
    CHECK(f.in.claim().empty());
  }
}
