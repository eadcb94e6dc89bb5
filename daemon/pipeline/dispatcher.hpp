// The dispatch loop: claim what is due, render it, hand it to its provider, record the outcome.
//
// It sleeps until the earliest due time in Redis (or until intake says something earlier arrived),
// never on a fixed poll, so messages leave within milliseconds of send_at. Claims and outcomes are
// batched: one round trip claims up to `claim_batch` messages, one records many outcomes. A daemon
// never holds more than `max_in_flight` messages; everything else waits in Redis.
//
// A claimed message has a lease in Redis; a daemon that dies leaves its leases to run out, and
// the next claim (any instance's) requeues those messages. A living daemon renews the leases of
// what it holds every third of `lease`, until each outcome is recorded: a provider slower than the
// lease, an SMTP queue, or Redis unreachable for a while must not make a message look abandoned
// and go out a second time.
//
// Where each message goes (quiet hours, circuit breakers and fallback, rate limits) is decided by
// router.hpp and rate_limiter.hpp; the breakers live here, outside Config, so reloads keep them.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <unordered_set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/config/config.hpp"
#include "daemon/pipeline/circuit_breaker.hpp"
#include "daemon/pipeline/rate_limiter.hpp"
#include "daemon/pipeline/render.hpp"
#include "daemon/store/store.hpp"

namespace rappel {

class Metrics;

class Dispatcher {
 public:
  Dispatcher(boost::asio::io_context& io, Store& store, ConfigSource config);

  void start();
  void wake_at(Millis due_ms);  // something may be due at that time
  // Stops claiming; lets in-flight sends finish for up to the grace period, then aborts them (they
  // go back to the queue as retrying), records every outcome, then calls `done`.
  void stop(std::chrono::milliseconds grace, std::function<void()> done);

  void set_metrics(Metrics* metrics) { metrics_ = metrics; }  // optional; outlives the dispatcher
  // Writes this instance's circuit of every account for `rappel status --providers` (at each
  // connection to Redis; transitions are written as they happen).
  void record_circuits();
  // Told the credit an account's answer gave (SendResult::credits): the credit watch.
  using CreditListener = std::function<void(const std::string& account, double credits)>;
  void on_credits(CreditListener listener) { on_credits_ = std::move(listener); }
  int in_flight() const { return in_flight_; }
  unsigned long sent_total() const { return sent_total_; }
  const CircuitBreakers& breakers() const { return breakers_; }

 private:
  void tick();
  void arm(Millis when);
  void on_claim(Claim claim, int requested, const std::string& error);
  struct Job;  // a claimed, rendered message on its way to a provider
  void dispatch(ClaimedMessage message, const std::shared_ptr<const Config>& config);
  void route(const std::shared_ptr<Job>& job);
  void send(const std::shared_ptr<Job>& job, const std::string& account);
  void on_result(const std::shared_ptr<Job>& job, const std::string& account, SendResult result);
  void announce(const CircuitTransition& transition);
  void record_circuit(const std::string& account, CircuitState state);
  void finish(Completion completion);
  void flush();
  void maybe_finish_stop();
  void renew_leases();

  boost::asio::io_context& io_;
  Store& store_;
  ConfigSource config_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer stop_timer_;
  boost::asio::steady_timer lease_timer_;
  Millis armed_at_ = 0;  // 0: not armed
  bool claiming_ = false;
  bool rescan_ = false;    // a wake-up arrived during a claim
  bool more_due_ = false;  // the last claim was cut short by capacity
  bool stopping_ = false;
  bool flushing_ = false;
  bool flush_posted_ = false;
  int in_flight_ = 0;
  unsigned long sent_total_ = 0;
  std::deque<Completion> pending_;
  std::unordered_set<std::string> held_;  // claimed here, outcome not yet recorded: leases to renew
  std::function<void()> on_stopped_;
  std::mt19937_64 rng_;
  CircuitBreakers breakers_;
  RateLimiter limiter_;
  Metrics* metrics_ = nullptr;
  CreditListener on_credits_;
};

}  // namespace rappel
