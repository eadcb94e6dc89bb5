// The operations handlers called directly (no HTTP server): readiness following a real Redis,
// queue depth counted in Redis, the metrics exposition, /stats filters.
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "daemon/ops/ops_endpoints.hpp"
#include "support/prometheus_text.hpp"
#include "support/redis_fixture.hpp"

using namespace rappel;
using namespace rappel::test;
using namespace std::chrono_literals;

namespace {

struct Ops {
  RedisServer redis;
  boost::asio::io_context io;
  std::shared_ptr<RedisClient> client;
  std::unique_ptr<Store> store;
  Metrics metrics;
  std::shared_ptr<const Config> config = std::make_shared<Config>();
  std::unique_ptr<OpsEndpoints> ops;

  Ops() {
    client = std::make_shared<RedisClient>(io, parse_redis_url(redis.url()), "commands");
    client->start();
    store = std::make_unique<Store>(client, StoreSettings{});
    ops = std::make_unique<OpsEndpoints>(
        io, OpsContext{metrics, *store, [this] { return config; }, {{"commands", client}}, 500ms});
    REQUIRE(eventually([&] { return io.poll(), client->connected(); }));
  }
  ~Ops() { client->close(); }

  HttpServerResponse call(void (OpsEndpoints::*handler)(const HttpServerRequest&, HttpRespond),
                          HttpServerRequest request = {}) {
    std::optional<HttpServerResponse> answer;
    (ops.get()->*handler)(request, [&](HttpServerResponse r) { answer = std::move(r); });
    io.restart();
    while (!answer) io.run_one();
    return *answer;
  }
  void run(const std::function<void(Store::Done)>& call) {
    bool finished = false;
    call([&](const std::string& error) {
      REQUIRE(error == "");
      finished = true;
    });
    io.restart();
    while (!finished) io.run_one();
  }
};

IntakeOp schedule(const std::string& key, Millis send_at, int entry,
                  Priority priority = Priority::normal) {
  IntakeOp op;
  op.priority = priority;
  op.kind = IntakeOp::Kind::schedule;
  op.entry = "1-" + std::to_string(entry);
  op.key = key;
  op.department = "77";
  op.event = "rdv_upcoming_reminder";
  op.channels = {"sms"};
  op.send_at_ms = send_at;
  op.content = R"({"recipient":{"phone":"+33612345678"},"data":{}})";
  return op;
}

}  // namespace

TEST_CASE("readyz says 503 with the reason while Redis is down, 200 once it is back",
          "[integration][ops]") {
  Ops o;
  CHECK(o.call(&OpsEndpoints::healthz).status == 200);
  auto ready = o.call(&OpsEndpoints::readyz);
  CHECK(ready.status == 200);
  CHECK(ready.body == "ready\n");

  o.redis.stop();
  REQUIRE(eventually([&] { return o.call(&OpsEndpoints::readyz).status == 503; }));
  auto down = o.call(&OpsEndpoints::readyz);
  CHECK_THAT(down.body, Catch::StartsWith("not ready: Redis"));
  CHECK(o.call(&OpsEndpoints::healthz).status == 200);  // alive all along

  o.redis.start();
  REQUIRE(eventually([&] { return o.call(&OpsEndpoints::readyz).status == 200; }, 20s));
  auto metrics = parse_samples(o.call(&OpsEndpoints::metrics).body);
  CHECK(sample_value(metrics, "rappel_redis_reconnects_total", {{"connection", "commands"}}) == 1);
}

TEST_CASE("readyz is 503 without a configuration", "[integration][ops]") {
  Ops o;
  o.config = nullptr;
  auto answer = o.call(&OpsEndpoints::readyz);
  CHECK(answer.status == 503);
  CHECK(answer.body == "not ready: configuration not loaded\n");
}

TEST_CASE("metrics count the shared queue in Redis at scrape time", "[integration][ops]") {
  Ops o;
  Millis now = now_ms();
  o.run([&](auto done) {
    o.store->apply_intake({schedule("rdv-1", now - 60'000, 1), schedule("rdv-2", now - 1000, 2),
                           schedule("rdv-3", now + 3600'000, 3)},
                          done);
  });
  auto before = parse_samples(o.call(&OpsEndpoints::metrics).body);
  CHECK(sample_value(before, "rappel_queue_messages", {{"state", "due"}}) == 2);
  CHECK(sample_value(before, "rappel_queue_messages", {{"state", "scheduled"}}) == 1);
  CHECK(sample_value(before, "rappel_queue_messages", {{"state", "in_flight"}}) == 0);

  // One claimed, and its provider says "try later": retrying, due again in an hour.
  std::vector<ClaimedMessage> claimed;
  bool finished = false;
  o.store->claim(1, 2min, 0.1, [&](Claim c, const std::string&) {
    claimed = c.messages;
    finished = true;
  });
  while (!finished) o.io.run_one();
  REQUIRE(claimed.size() == 1);
  auto during = parse_samples(o.call(&OpsEndpoints::metrics).body);
  CHECK(sample_value(during, "rappel_queue_messages", {{"state", "due"}}) == 1);
  CHECK(sample_value(during, "rappel_queue_messages", {{"state", "in_flight"}}) == 1);
  Completion retry;
  retry.id = claimed[0].id, retry.attempt = 1, retry.status = "retrying";
  retry.next_attempt_ms = now + 3600'000;
  o.run([&](auto done) { o.store->complete({retry}, done); });

  auto answer = o.call(&OpsEndpoints::metrics);
  CHECK(answer.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(promtool_check_metrics(answer.body).first == 0);
  auto after = parse_samples(answer.body);
  CHECK(sample_value(after, "rappel_queue_messages", {{"state", "due"}}) == 1);
  CHECK(sample_value(after, "rappel_queue_messages", {{"state", "scheduled"}}) == 2);
  CHECK(sample_value(after, "rappel_queue_messages", {{"state", "in_flight"}}) == 0);
  CHECK(sample_value(after, "rappel_queue_messages", {{"state", "retrying"}}) == 1);
  CHECK(sample_value(after, "rappel_redis_connected") == 1);
}

TEST_CASE("metrics count the queue and its lag per priority", "[integration][ops][priority]") {
  Ops o;
  Millis now = now_ms();
  o.run([&](auto done) {
    o.store->apply_intake(
        {schedule("rdv-1", now - 60'000, 1, Priority::bulk),
         schedule("rdv-2", now - 1000, 2, Priority::bulk),
         schedule("rdv-3", now + 3600'000, 3, Priority::high), schedule("rdv-4", now - 5000, 4)},
        done);
  });
  auto answer = o.call(&OpsEndpoints::metrics);
  CHECK(promtool_check_metrics(answer.body).first == 0);
  auto m = parse_samples(answer.body);
  auto depth = [&](const char* priority, const char* state) {
    return sample_value(m, "rappel_queue_priority_messages",
                        {{"priority", priority}, {"state", state}});
  };
  CHECK(depth("bulk", "due") == 2);
  CHECK(depth("normal", "due") == 1);
  CHECK(depth("high", "due") == 0);
  CHECK(depth("high", "scheduled") == 1);
  CHECK(sample_value(m, "rappel_queue_messages", {{"state", "due"}}) == 3);
  CHECK(sample_value(m, "rappel_queue_lag_seconds", {{"priority", "bulk"}}) >= 60);
  CHECK(sample_value(m, "rappel_queue_lag_seconds", {{"priority", "normal"}}) >= 5);
  CHECK(sample_value(m, "rappel_queue_lag_seconds", {{"priority", "normal"}}) < 60);
  CHECK(sample_value(m, "rappel_queue_lag_seconds", {{"priority", "high"}}) == 0);
}

TEST_CASE("metrics without Redis still answer, without the queue", "[integration][ops]") {
  Ops o;
  o.redis.stop();
  REQUIRE(eventually([&] { return o.io.poll(), !o.client->connected(); }));
  auto answer = o.call(&OpsEndpoints::metrics);
  CHECK(answer.status == 200);
  auto samples = parse_samples(answer.body);
  CHECK(sample_value(samples, "rappel_queue_messages") == -1);
  CHECK(sample_value(samples, "rappel_redis_connected") == 0);
}

TEST_CASE("stats refuses bad filters with 400", "[integration][ops]") {
  Ops o;
  HttpServerRequest bad;
  bad.method = "GET", bad.path = "/stats", bad.query = "department=0612345678";
  auto answer = o.call(&OpsEndpoints::stats, bad);
  CHECK(answer.status == 400);
  CHECK(nlohmann::json::parse(answer.body)["error"] == "department: not a French département code");
  HttpServerRequest backwards = bad;
  backwards.query = "from=2026-03-16&to=2026-03-14";
  CHECK(o.call(&OpsEndpoints::stats, backwards).status == 400);
  HttpServerRequest good = bad;
  good.query = "department=2A&from=2026-03-14&to=2026-03-16";
  auto ok = o.call(&OpsEndpoints::stats, good);
  CHECK(ok.status == 200);
  auto j = nlohmann::json::parse(ok.body);
  CHECK(j["department"] == "2A");
  CHECK(j["days"].empty());
}
