// The daemon's Prometheus metrics: what this process did (outcomes, provider latency, lag) and
// the state of the shared queue in Redis, served by GET /metrics (see docs/operations-metrics.md).
//
// Built on prometheus-cpp's core (Registry and TextSerializer) only: its own HTTP "pull" exposer
// would be a second server with its own threads, and our Beast server already runs on the loop.
// Every call happens on the event loop thread; the small API below is what the core calls, so
// the hooks in the dispatcher stay one line each and nothing else depends on prometheus-cpp.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/base/circuit_state.hpp"
#include "daemon/base/clock.hpp"
#include "daemon/base/priority.hpp"

namespace rappel {

struct Completion;

// The shared queue, counted in Redis at scrape time. `retrying` is a part of due + scheduled.
struct QueueDepth {
  long long due = 0;        // in the schedule, due now
  long long scheduled = 0;  // in the schedule, due later
  long long in_flight = 0;  // claimed by some daemon, lease running
  long long retrying = 0;   // waiting for another attempt after a transient failure
  // The same by priority (priority.hpp), and the age of each priority's oldest due message
  // (0 when none is due): how far behind that priority is.
  std::array<long long, kPriorities> due_by{}, scheduled_by{}, lag_ms_by{};
};

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One recorded outcome of a claimed message (sent, retrying, failed, expired; a deferral,
  // which hands the message back untouched, is not an outcome and is left out).
  void outcome(std::string_view department, std::string_view channel, std::string_view provider,
               std::string_view status);
  void sms_segments(std::string_view department, int segments);
  // Both of the above from a completion (segments only for a sent SMS).
  void completed(const Completion& completion);

  void provider_request(std::string_view account, std::chrono::steady_clock::duration took);
  // Between the message's send_at and the moment it is handed to its provider (first attempts).
  void send_lag(Priority priority, Millis lag_ms);
  // Shown as 0 closed, 1 half-open, 2 open (the order of severity, for alerts and graphs).
  void set_circuit_state(std::string_view account, CircuitState state);
  // The account's last known credit (from a send's answer or the provider's credit call).
  void set_provider_credits(std::string_view account, double credits);
  // A connection's reconnect count so far (RedisClient::reconnects()): read at scrape time.
  void set_redis_reconnects(std::string_view connection, unsigned long total);
  void set_redis_connected(bool connected);
  // nullopt: Redis did not answer, the queue series are left out rather than shown stale.
  void set_queue_depth(const std::optional<QueueDepth>& depth);

  // The Prometheus text exposition format (version 0.0.4).
  std::string serialize() const;
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rappel
