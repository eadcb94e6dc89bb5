// See metrics.hpp. Families are registered once; series are added on first use (prometheus-cpp's
// Family::Add returns the existing series for labels already seen).
#include "daemon/telemetry/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "daemon/store/store.hpp"

namespace rappel {

using prometheus::Counter;
using prometheus::Gauge;
using prometheus::Histogram;

struct Metrics::Impl {
  prometheus::Registry registry;
  prometheus::Family<Counter>& messages =
      prometheus::BuildCounter()
          .Name("rappel_messages_total")
          .Help(
              "Outcomes recorded by this daemon, by département, channel, provider account and "
              "status (sent, retrying, failed, expired)")
          .Register(registry);
  prometheus::Family<Counter>& segments =
      prometheus::BuildCounter()
          .Name("rappel_sms_segments_total")
          .Help("SMS segments of the SMS this daemon sent, by département")
          .Register(registry);
  prometheus::Family<Histogram>& provider_seconds =
      prometheus::BuildHistogram()
          .Name("rappel_provider_request_duration_seconds")
          .Help("Time from handing a message to a provider account to its answer")
          .Register(registry);
  prometheus::Family<Histogram>& lag_seconds =
      prometheus::BuildHistogram()
          .Name("rappel_send_lag_seconds")
          .Help("Time from a message's send_at to its first hand-over to a provider, by priority")
          .Register(registry);
  prometheus::Family<Gauge>& circuit =
      prometheus::BuildGauge()
          .Name("rappel_circuit_state")
          .Help("Circuit breaker per provider account: 0 closed, 1 half-open, 2 open")
          .Register(registry);
  prometheus::Family<Counter>& reconnects =
      prometheus::BuildCounter()
          .Name("rappel_redis_reconnects_total")
          .Help("Redis connections lost and re-established, by connection")
          .Register(registry);
  prometheus::Family<Gauge>& redis_up = prometheus::BuildGauge()
                                            .Name("rappel_redis_connected")
                                            .Help("1 when the daemon's Redis connection is up")
                                            .Register(registry);
  prometheus::Family<Gauge>& queue =
      prometheus::BuildGauge()
          .Name("rappel_queue_messages")
          .Help(
              "Messages in the shared Redis queue by state (due, scheduled, in_flight, "
              "retrying; retrying is part of due and scheduled)")
          .Register(registry);
  prometheus::Family<Gauge>& queue_by_priority =
      prometheus::BuildGauge()
          .Name("rappel_queue_priority_messages")
          .Help("Messages in the shared Redis schedule by priority and state (due, scheduled)")
          .Register(registry);
  prometheus::Family<Gauge>& queue_lag =
      prometheus::BuildGauge()
          .Name("rappel_queue_lag_seconds")
          .Help("Age of the oldest due message of each priority (0: none is due)")
          .Register(registry);
  prometheus::Family<Gauge>& credits =
      prometheus::BuildGauge()
          .Name("rappel_provider_credits")
          .Help("Last known credit of a provider account, as the provider reports it")
          .Register(registry);
  prometheus::Family<Gauge>& build = prometheus::BuildGauge()
                                         .Name("rappel_build_info")
                                         .Help("rappel's version")
                                         .Register(registry);

  Gauge& connected = redis_up.Add({});

  Impl() { build.Add({{"version", RAPPEL_VERSION}}).Set(1); }
};

namespace {

std::string label(std::string_view value) {
  return value.empty() ? std::string("none") : std::string(value);
}

// From 10 ms (a provider on the same network) to 30 s (past every adapter's timeout).
const Histogram::BucketBoundaries& provider_buckets() {
  static const Histogram::BucketBoundaries b{0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                             1,    2.5,   5,    10,  20,   30};
  return b;
}

// From on time to an hour late: a reminder an hour late may already be useless.
const Histogram::BucketBoundaries& lag_buckets() {
  static const Histogram::BucketBoundaries b{0.01, 0.05, 0.1, 0.25, 0.5, 1,   2.5,
                                             5,    10,   30,  60,   300, 900, 3600};
  return b;
}

}  // namespace

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::outcome(std::string_view department, std::string_view channel,
                      std::string_view provider, std::string_view status) {
  impl_->messages
      .Add({{"department", label(department)},
            {"channel", label(channel)},
            {"provider", label(provider)},
            {"status", label(status)}})
      .Increment();
}

void Metrics::sms_segments(std::string_view department, int segments) {
  if (segments > 0) impl_->segments.Add({{"department", label(department)}}).Increment(segments);
}

void Metrics::completed(const Completion& c) {
  if (c.status == "deferred") return;
  outcome(c.department, c.channel, c.provider, c.status);
  if (c.status == "sent" && c.channel == "sms") sms_segments(c.department, c.segments);
}

void Metrics::provider_request(std::string_view account, std::chrono::steady_clock::duration took) {
  double seconds = std::chrono::duration<double>(took).count();
  impl_->provider_seconds.Add({{"provider", label(account)}}, provider_buckets()).Observe(seconds);
}

void Metrics::send_lag(Priority priority, Millis lag_ms) {
  impl_->lag_seconds.Add({{"priority", std::string(to_string(priority))}}, lag_buckets())
      .Observe(std::max<Millis>(0, lag_ms) / 1000.0);
}

void Metrics::set_provider_credits(std::string_view account, double credits) {
  impl_->credits.Add({{"account", label(account)}}).Set(credits);
}

void Metrics::set_circuit_state(std::string_view account, CircuitState state) {
  double value = state == CircuitState::open ? 2 : state == CircuitState::half_open ? 1 : 0;
  impl_->circuit.Add({{"provider", label(account)}}).Set(value);
}

void Metrics::set_redis_reconnects(std::string_view connection, unsigned long total) {
  Counter& counter = impl_->reconnects.Add({{"connection", label(connection)}});
  double missing = static_cast<double>(total) - counter.Value();
  if (missing > 0) counter.Increment(missing);
}

void Metrics::set_redis_connected(bool connected) {
  impl_->connected.Set(connected ? 1 : 0);
}

void Metrics::set_queue_depth(const std::optional<QueueDepth>& depth) {
  const std::pair<const char*, long long QueueDepth::*> states[] = {
      {"due", &QueueDepth::due},
      {"scheduled", &QueueDepth::scheduled},
      {"in_flight", &QueueDepth::in_flight},
      {"retrying", &QueueDepth::retrying}};
  for (const auto& [state, field] : states) {
    Gauge& gauge = impl_->queue.Add({{"state", state}});
    if (depth)
      gauge.Set(static_cast<double>((*depth).*field));
    else
      impl_->queue.Remove(&gauge);
  }
  for (int p = 0; p < kPriorities; ++p) {
    std::string priority(to_string(static_cast<Priority>(p)));
    Gauge& due = impl_->queue_by_priority.Add({{"priority", priority}, {"state", "due"}});
    Gauge& later = impl_->queue_by_priority.Add({{"priority", priority}, {"state", "scheduled"}});
    Gauge& lag = impl_->queue_lag.Add({{"priority", priority}});
    if (!depth) {
      impl_->queue_by_priority.Remove(&due);
      impl_->queue_by_priority.Remove(&later);
      impl_->queue_lag.Remove(&lag);
      continue;
    }
    due.Set(static_cast<double>(depth->due_by[p]));
    later.Set(static_cast<double>(depth->scheduled_by[p]));
    lag.Set(static_cast<double>(depth->lag_ms_by[p]) / 1000.0);
  }
}

std::string Metrics::serialize() const {
  return prometheus::TextSerializer().Serialize(impl_->registry.Collect());
}

}  // namespace rappel
