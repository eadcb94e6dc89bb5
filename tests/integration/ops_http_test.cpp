// The operations endpoints end to end: the real daemon with its HTTP server, a real Redis, a
// known scenario, then /metrics (checked by promtool), /stats, /healthz and /readyz over HTTP.
#include <fstream>

#include <catch2/catch.hpp>

#include "daemon/store/stats.hpp"
#include "integration/scenario.hpp"
#include "support/http_get.hpp"
#include "support/prometheus_text.hpp"

using namespace rappel::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// A scenario whose daemon serves HTTP on a free port.
struct HttpScenario : Scenario {
  unsigned short port = free_tcp_port();
  HttpScenario() {
    // The fixture's config listens on port 0; this scenario needs its port before the start.
    std::string text;
    {
      std::ifstream in(config_path);
      text.assign(std::istreambuf_iterator<char>(in), {});
    }
    const std::string any_port = "127.0.0.1:0\"";
    auto at = text.find(any_port);
    REQUIRE(at != std::string::npos);
    text.replace(at, any_port.size(), "127.0.0.1:" + std::to_string(port) + "\"");
    std::ofstream(config_path, std::ios::trunc) << text;
  }
  HttpAnswer get(const std::string& target) { return http_get(port, target); }
};

}  // namespace

TEST_CASE("/metrics and /stats after a known scenario", "[integration][ops]") {
  HttpScenario s;
  s.start_daemon();
  CHECK(s.get("/healthz").body == "ok\n");
  s.enqueue(reminder("rdv-401", "77", {"sms", "email"}));
  s.enqueue(reminder("rdv-402", "77"));
  s.enqueue(reminder("rdv-403", "974"));
  json later = reminder("rdv-404", "77");
  later["send_at"] = iso_in(1h);
  s.enqueue(later);
  for (const char* id : {"rdv-401:sms", "rdv-401:email", "rdv-402:sms", "rdv-403:sms"})
    REQUIRE(s.wait_status(id, "sent"));
  REQUIRE(s.wait_status("rdv-404:sms", "scheduled"));
  int segments_77 = std::stoi(s.message("rdv-401:sms")["segments"]) +
                    std::stoi(s.message("rdv-402:sms")["segments"]);

  HttpAnswer metrics;
  // Outcomes are counted when the daemon records them, a moment after the status is visible.
  REQUIRE(eventually([&] {
    metrics = s.get("/metrics");
    return sample_value(parse_samples(metrics.body),
                        "rappel_provider_request_duration_seconds_count") == 4;
  }));
  CHECK(metrics.status == 200);
  CHECK(metrics.content_type == "text/plain; version=0.0.4; charset=utf-8");
  auto [code, complaints] = promtool_check_metrics(metrics.body);
  CHECK(complaints == "");
  CHECK(code == 0);
  auto samples = parse_samples(metrics.body);
  CHECK(sample_value(samples, "rappel_messages_total",
                     {{"department", "77"},
                      {"channel", "sms"},
                      {"provider", "journal"},
                      {"status", "sent"}}) == 2);
  CHECK(sample_value(samples, "rappel_messages_total",
                     {{"department", "77"}, {"channel", "email"}, {"provider", "outbox"}}) == 1);
  CHECK(sample_value(samples, "rappel_messages_total", {{"department", "974"}}) == 1);
  CHECK(sample_value(samples, "rappel_sms_segments_total", {{"department", "77"}}) == segments_77);
  CHECK(sample_value(samples, "rappel_provider_request_duration_seconds_count",
                     {{"provider", "journal"}}) == 3);
  CHECK(sample_value(samples, "rappel_send_lag_seconds_count") == 4);
  CHECK(sample_value(samples, "rappel_queue_messages", {{"state", "due"}}) == 0);
  CHECK(sample_value(samples, "rappel_queue_messages", {{"state", "scheduled"}}) == 1);
  CHECK(sample_value(samples, "rappel_queue_messages", {{"state", "in_flight"}}) == 0);
  CHECK(sample_value(samples, "rappel_queue_messages", {{"state", "retrying"}}) == 0);
  CHECK(sample_value(samples, "rappel_redis_connected") == 1);
  CHECK(metrics.body.find("rdv-") == std::string::npos);
  CHECK(metrics.body.find("+336") == std::string::npos);

  // Each département counts on its own local day: from 20:00 UTC, Réunion's is already tomorrow
  // in Paris, so the range ends on Réunion's day.
  std::string today = rappel::local_day("Indian/Reunion", rappel::now_ms());
  std::string yesterday = rappel::local_day("Europe/Paris", rappel::now_ms() - 86400'000);
  HttpAnswer stats = s.get("/stats?from=" + yesterday + "&to=" + today);
  REQUIRE(stats.status == 200);
  CHECK(stats.header("Access-Control-Allow-Origin") == "*");
  json j = json::parse(stats.body);
  CHECK(j["totals"]["77"]["sms"]["sent"] == 2);
  CHECK(j["totals"]["77"]["sms"]["segments"] == segments_77);
  CHECK(j["totals"]["77"]["email"]["sent"] == 1);
  CHECK(j["totals"]["974"]["sms"]["sent"] == 1);
  CHECK(stats.body.find("rdv-") == std::string::npos);
  CHECK(stats.body.find("+336") == std::string::npos);

  HttpAnswer filtered = s.get("/stats?department=974&from=" + yesterday + "&to=" + today);
  REQUIRE(filtered.status == 200);
  CHECK(json::parse(filtered.body)["totals"].size() == 1);
  CHECK(s.get("/stats?from=2020-01-01&to=2026-01-01").status == 400);
  CHECK(s.get("/stats?department=%2B33612345678").status == 400);
}

TEST_CASE("/readyz goes 503 while Redis is stopped and 200 when it is back", "[integration][ops]") {
  HttpScenario s;
  s.start_daemon();
  REQUIRE(s.get("/readyz").status == 200);
  s.redis.stop();
  REQUIRE(eventually([&] { return s.get("/readyz").status == 503; }));
  CHECK_THAT(s.get("/readyz").body, Catch::StartsWith("not ready: Redis"));
  CHECK(s.get("/healthz").status == 200);
  s.redis.start();
  REQUIRE(eventually([&] { return s.get("/readyz").status == 200; }, 30s));
  auto samples = parse_samples(s.get("/metrics").body);
  CHECK(sample_value(samples, "rappel_redis_reconnects_total", {{"connection", "commands"}}) >= 1);
  CHECK(sample_value(samples, "rappel_redis_connected") == 1);
}
