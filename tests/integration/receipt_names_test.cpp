// A bounce reason that quotes the person's name: mail servers write the
// display name into their refusals, and the adapters cannot know it. The receipts script masks
// it from the message's own content before the reason is stored or sent on the events stream.
#include <catch2/catch.hpp>

#include "integration/scenario.hpp"
#include "integration/scripted_store.hpp"

using namespace rappel;
using namespace rappel::test;

TEST_CASE("a bounce reason naming the recipient is stored with the name masked",
          "[integration][receipts][personal]") {
  RedisServer redis;
  std::string dir = make_temp_dir("receipt-names");
  TestConfig config;
  config.redis_url = redis.url();
  config.outbox = dir + "/outbox";
  ScriptedStore s(write_config(dir, config));
  s.at("2026-12-01T09:30:00Z");
  IntakeOp op = s.op(IntakeOp::Kind::schedule, "rdv-bounce", "77", "email");
  op.content =
      R"({"recipient":{"email":"camille.martin@example.fr","name":"Camille Martin-Durand"},)"
      R"("data":{}})";
  s.intake({op});
  auto claimed = s.claim();
  REQUIRE(claimed.size() == 1);
  s.complete(claimed[0], "sent");

  Receipt bounce;
  bounce.message_id = "rdv-bounce:email";
  bounce.state = ReceiptState::undelivered;
  bounce.provider_status = "hard_bounce";
  bounce.reason =
      "Brevo: hard_bounce: 550 5.1.1 \"CAMILLE MARTIN-DURAND\" <c***@example.fr>: mailbox of "
      "Camille unknown, Martin-Durand left";
  bool finished = false;
  s.store->apply_receipts("journal", {bounce},
                          [&](std::vector<std::string> results, const std::string& error) {
                            CHECK(error.empty());
                            CHECK(results == std::vector<std::string>{"applied"});
                            finished = true;
                          });
  s.io.restart();
  while (!finished) s.io.run_one();

  const std::string expected =
      "Brevo: hard_bounce: 550 5.1.1 \"[name]\" <c***@example.fr>: mailbox of [name] unknown, "
      "[name] left";
  auto m = redis.hgetall("rappel:msg:rdv-bounce:email");
  CHECK(m["status"] == "undelivered");
  CHECK(m["error"] == expected);
  auto events = redis.xrange("rappel:events");
  REQUIRE_FALSE(events.empty());
  CHECK(events.back()["error"] == expected);
}
