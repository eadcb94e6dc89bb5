// The real Lua scripts through the real Store against a real Redis, on a clock the test sets:
// for tests that drive intake, claim and completion step by step, without a daemon (statistics
// across days, inputs the scripts must survive).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "daemon/config/config.hpp"
#include "daemon/store/store.hpp"

namespace rappel::test {

// The real scripts through the real Store, on a clock the test sets.
struct ScriptedStore {
  boost::asio::io_context io;
  std::shared_ptr<Config> config;
  std::shared_ptr<RedisClient> redis;
  Millis now = 0;
  std::unique_ptr<Store> store;
  int entry = 0;

  explicit ScriptedStore(const std::string& config_path) {
    ProviderContext ctx{io, nullptr};
    config = load_config(config_path, ctx);
    redis = std::make_shared<RedisClient>(io, config->redis, "test");
    redis->start();
    store = std::make_unique<Store>(redis, config->store, [this] { return now; });
    run([&](auto done) { store->ensure_group(done); });
  }
  ~ScriptedStore() { redis->close(); }

  void at(const std::string& iso) { now = *parse_iso8601(iso); }

  // Runs one asynchronous store call to its end; fails the test on a Redis error.
  void run(const std::function<void(Store::Done)>& call) {
    bool finished = false;
    std::string error;
    call([&](const std::string& e) { error = e, finished = true; });
    io.restart();
    while (!finished) io.run_one();
    REQUIRE(error == "");
  }

  IntakeOp op(IntakeOp::Kind kind, const std::string& key, const std::string& department,
              const std::string& channel) {
    IntakeOp o;
    o.kind = kind;
    o.entry = std::to_string(now) + "-" + std::to_string(++entry);
    o.key = key;
    o.department = department;
    o.event = "rdv_upcoming_reminder";
    o.channels = {channel};
    o.send_at_ms = now;
    o.content = R"({"recipient":{"phone":"+33612345678","email":"camille@example.fr"},"data":{}})";
    o.error = kind == IntakeOp::Kind::reject ? "recipient.phone: invalid number" : "";
    return o;
  }
  void intake(std::vector<IntakeOp> ops) {
    run([&](auto done) { store->apply_intake(ops, done); });
  }
  std::vector<ClaimedMessage> claim(int limit = 100, double lower_share = 0.1) {
    bool finished = false;
    Claim claimed;
    store->claim(limit, std::chrono::minutes(2), lower_share,
                 [&](Claim c, const std::string& error) {
                   REQUIRE(error == "");
                   claimed = std::move(c), finished = true;
                 });
    io.restart();
    while (!finished) io.run_one();
    return claimed.messages;
  }
  void complete(const Completion& c) {
    run([&](auto done) { store->complete({c}, done); });
  }
  void complete(const ClaimedMessage& m, const std::string& status, int segments = 0,
                const std::string& error = "") {
    Completion c;
    c.id = m.id, c.attempt = m.attempt, c.status = status, c.provider = "journal";
    c.segments = segments;
    c.error = error;
    if (status == "retrying") c.next_attempt_ms = now + 3600'000;
    complete(c);
  }
  void complete_all(std::map<std::string, std::pair<std::string, int>> outcomes) {
    auto claimed = claim();
    REQUIRE(claimed.size() == outcomes.size());
    for (const auto& m : claimed) complete(m, outcomes.at(m.id).first, outcomes.at(m.id).second);
  }
};

}  // namespace rappel::test
