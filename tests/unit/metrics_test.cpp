// The metrics exposition: valid for Prometheus' own checker, and the values the core recorded.
#include <catch2/catch.hpp>

#include "daemon/store/store.hpp"
#include "daemon/telemetry/metrics.hpp"
#include "support/prometheus_text.hpp"

using namespace rappel;
using namespace rappel::test;

namespace {

Completion completion(const std::string& department, const std::string& channel,
                      const std::string& status, int segments) {
  Completion c;
  c.id = "rdv-1:" + channel;
  c.department = department, c.channel = channel, c.status = status;
  c.provider = channel == "sms" ? "sms_factor_77" : "brevo";
  c.segments = segments;
  return c;
}

}  // namespace

TEST_CASE("the metrics pass promtool and say what the core recorded", "[metrics]") {
  Metrics m;
  m.completed(completion("77", "sms", "sent", 2));
  m.completed(completion("77", "sms", "sent", 1));
  m.completed(completion("974", "sms", "retrying", 1));  // no segments: not sent
  m.completed(completion("974", "email", "sent", 0));
  m.provider_request("sms_factor_77", std::chrono::milliseconds(120));
  m.provider_request("sms_factor_77", std::chrono::milliseconds(3000));
  m.send_lag(Priority::high, 1500);
  m.send_lag(Priority::normal, -20);  // a clock a little ahead: counted as on time
  m.set_circuit_state("sms_factor_77", CircuitState::open);
  m.set_circuit_state("brevo", CircuitState::half_open);
  m.completed([] {
    auto c = completion("77", "sms", "deferred", 2);  // quiet hours: not an outcome
    return c;
  }());
  m.set_redis_reconnects("commands", 2);
  m.set_redis_reconnects("commands", 3);
  m.set_redis_connected(true);
  m.set_queue_depth(QueueDepth{4, 10, 2, 1});

  std::string text = m.serialize();
  auto [code, complaints] = promtool_check_metrics(text);
  INFO(text);
  CHECK(complaints == "");
  REQUIRE(code == 0);

  auto samples = parse_samples(text);
  CHECK(sample_value(samples, "rappel_messages_total",
                     {{"department", "77"}, {"channel", "sms"}, {"status", "sent"}}) == 2);
  CHECK(sample_value(
            samples, "rappel_messages_total",
            {{"department", "974"}, {"provider", "sms_factor_77"}, {"status", "retrying"}}) == 1);
  CHECK(sample_value(samples, "rappel_messages_total", {{"channel", "email"}}) == 1);
  CHECK(sample_value(samples, "rappel_sms_segments_total", {{"department", "77"}}) == 3);
  CHECK(sample_value(samples, "rappel_sms_segments_total", {{"department", "974"}}) == -1);
  CHECK(sample_value(samples, "rappel_provider_request_duration_seconds_count",
                     {{"provider", "sms_factor_77"}}) == 2);
  CHECK(sample_value(samples, "rappel_provider_request_duration_seconds_bucket",
                     {{"provider", "sms_factor_77"}, {"le", "0.25"}}) == 1);
  CHECK(sample_value(samples, "rappel_provider_request_duration_seconds_sum") == Approx(3.12));
  CHECK(sample_value(samples, "rappel_send_lag_seconds_count") == 2);
  CHECK(sample_value(samples, "rappel_send_lag_seconds_sum") == Approx(1.5));
  CHECK(sample_value(samples, "rappel_circuit_state", {{"provider", "sms_factor_77"}}) == 2);
  CHECK(sample_value(samples, "rappel_circuit_state", {{"provider", "brevo"}}) == 1);
  CHECK(sample_value(samples, "rappel_messages_total", {{"status", "deferred"}}) == -1);
  CHECK(sample_value(samples, "rappel_redis_reconnects_total", {{"connection", "commands"}}) == 3);
  CHECK(sample_value(samples, "rappel_redis_connected") == 1);
  CHECK(sample_value(samples, "rappel_queue_messages", {{"state", "due"}}) == 4);
  CHECK(sample_value(samples, "rappel_queue_messages", {{"state", "scheduled"}}) == 10);
  CHECK(sample_value(samples, "rappel_queue_messages", {{"state", "in_flight"}}) == 2);
  CHECK(sample_value(samples, "rappel_queue_messages", {{"state", "retrying"}}) == 1);
  CHECK(sample_value(samples, "rappel_build_info") == 1);
}

TEST_CASE("without Redis the queue series are left out, not shown stale", "[metrics]") {
  Metrics m;
  m.set_queue_depth(QueueDepth{4, 10, 2, 1});
  m.set_redis_connected(false);
  m.set_queue_depth(std::nullopt);
  std::string text = m.serialize();
  CHECK(promtool_check_metrics(text).first == 0);
  auto samples = parse_samples(text);
  CHECK(sample_value(samples, "rappel_queue_messages") == -1);
  CHECK(sample_value(samples, "rappel_redis_connected") == 0);
  m.set_queue_depth(QueueDepth{1, 0, 0, 0});
  CHECK(sample_value(parse_samples(m.serialize()), "rappel_queue_messages", {{"state", "due"}}) ==
        1);
}
