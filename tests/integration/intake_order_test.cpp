// Intake ordering at the edges of an attempt, against a real Redis: the real Lua scripts driven
// through the Store with explicit inbox entry ids and a clock the test sets, so that entries can
// be applied out of stream order (as two daemon instances reading one consumer group do) and an
// attempt can end exactly when the test wants (sent, failed, deferred, a lease that ran out).
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "daemon/config.hpp"
#include "daemon/store.hpp"
#include "integration/scenario.hpp"

using namespace rappel;
using namespace rappel::test;
using namespace std::chrono_literals;
using K = rappel::IntakeOp::Kind;

namespace {

constexpr Millis kStart = 1796115600000;  // 2026-12-01T09:00:00Z

// The real scripts through the real Store; every call runs to its end.
struct Intake {
  boost::asio::io_context io;
  std::shared_ptr<RedisClient> redis;
  std::unique_ptr<Store> store;
  Millis now = kStart;

  explicit Intake(const std::string& config_path) {
    ProviderContext ctx{io, nullptr};
    auto config = load_config(config_path, ctx);
    redis = std::make_shared<RedisClient>(io, config->redis, "test");
    redis->start();
    store = std::make_unique<Store>(redis, config->store, [this] { return now; });
    run([&](auto done) { store->ensure_group(done); });
  }
  ~Intake() { redis->close(); }

  void run(const std::function<void(Store::Done)>& call) {
    bool finished = false;
    std::string error;
    call([&](const std::string& e) { error = e, finished = true; });
    io.restart();
    while (!finished) io.run_one();
    REQUIRE(error == "");
  }

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
  void apply(const IntakeOp& o) {
    run([&](auto done) { store->apply_intake({o}, done); });
  }
  std::vector<ClaimedMessage> claim(std::chrono::milliseconds lease = 2min) {
    bool finished = false;
    Claim claimed;
    store->claim(100, lease, [&](Claim c, const std::string& error) {
      REQUIRE(error == "");
      claimed = std::move(c), finished = true;
    });
    io.restart();
    while (!finished) io.run_one();
    return claimed.messages;
  }
  void complete(Completion c) {
    run([&](auto done) { store->complete({c}, done); });
  }
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
