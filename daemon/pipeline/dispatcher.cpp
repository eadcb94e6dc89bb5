// See dispatcher.hpp.
#include "daemon/pipeline/dispatcher.hpp"

#include "daemon/telemetry/journal_fields.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "daemon/pipeline/retry_policy.hpp"
#include "daemon/pipeline/router.hpp"
#include "daemon/store/stats.hpp"
#include "daemon/telemetry/metrics.hpp"

namespace rappel {

namespace {
constexpr size_t kCompletionBatch = 512;
constexpr Millis kRetryAfterRedisError = 500;
}  // namespace

Dispatcher::Dispatcher(boost::asio::io_context& io, Store& store, ConfigSource config)
    : io_(io),
      store_(store),
      config_(std::move(config)),
      timer_(io),
      stop_timer_(io),
      lease_timer_(io),
      rng_(std::random_device{}()),
      limiter_(io, store.redis_ptr(), store.settings().prefix) {}

void Dispatcher::start() {
  tick();
  renew_leases();
}

void Dispatcher::renew_leases() {
  lease_timer_.expires_after(config_()->dispatch.lease / 3);
  lease_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // stopped
    if (!held_.empty())
      store_.renew_leases({held_.begin(), held_.end()}, config_()->dispatch.lease,
                          [](const std::string& error) {
                            if (!error.empty()) spdlog::warn("renewing leases failed: {}", error);
                          });
    renew_leases();
  });
}

void Dispatcher::wake_at(Millis due_ms) {
  if (stopping_) return;
  if (claiming_) {
    rescan_ = true;
    return;
  }
  arm(due_ms);
}

void Dispatcher::arm(Millis when) {
  if (stopping_) return;
  if (armed_at_ != 0 && armed_at_ <= when) return;
  armed_at_ = when;
  Millis delay = std::max<Millis>(0, when - now_ms());
  timer_.expires_after(std::chrono::milliseconds(delay));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // re-armed earlier, or stopping
    armed_at_ = 0;
    tick();
  });
}

void Dispatcher::tick() {
  if (stopping_ || claiming_) return;
  auto config = config_();
  int free = config->dispatch.max_in_flight - in_flight_;
  if (free <= 0) {
    more_due_ = true;  // a finishing send will tick again
    return;
  }
  int limit = std::min(free, config->dispatch.claim_batch);
  claiming_ = true;
  rescan_ = false;
  store_.claim(limit, config->dispatch.lease, config->dispatch.lower_priority_share(),
               [this, limit](Claim claim, const std::string& error) {
                 on_claim(std::move(claim), limit, error);
               });
}

void Dispatcher::on_claim(Claim claim, int requested, const std::string& error) {
  claiming_ = false;
  if (!error.empty()) {
    spdlog::warn("claim failed: {}; retrying", error);
    if (stopping_) return maybe_finish_stop();
    arm(now_ms() + kRetryAfterRedisError);
    return;
  }
  auto config = config_();
  int claimed = static_cast<int>(claim.messages.size());
  for (auto& message : claim.messages) dispatch(std::move(message), config);
  if (stopping_) return maybe_finish_stop();
  more_due_ = claimed == requested;
  if (more_due_ || rescan_) {
    boost::asio::post(io_, [this] { tick(); });
    return;
  }
  Millis next = now_ms() + config->dispatch.max_idle.count();
  if (claim.next_due_ms) next = std::min(next, claim.next_due_ms);
  if (claim.next_lease_ms) next = std::min(next, claim.next_lease_ms + 1);
  arm(next);
}

struct Dispatcher::Job {
  ClaimedMessage message;
  std::shared_ptr<const Config> config;  // kept alive until the provider answers, across reloads
  const DepartmentConfig* department = nullptr;
  RenderResult rendered;
};

void Dispatcher::dispatch(ClaimedMessage message, const std::shared_ptr<const Config>& config) {
  ++in_flight_;
  held_.insert(message.id);
  const DepartmentConfig* dept = config->department(message.department);
  Completion failed = completion_of(message);
  failed.status = "failed";
  if (!dept) {
    failed.error = "département " + message.department + " is no longer configured";
    return finish(std::move(failed));
  }
  if (message.attempt > dept->retry.max_attempts) {
    failed.error = "gave up after " + std::to_string(message.attempt - 1) + " attempts";
    return finish(std::move(failed));
  }
  auto job = std::make_shared<Job>(Job{std::move(message), config, dept, {}});
  job->rendered = render_message(job->message, *dept);
  if (!job->rendered.ok) {
    failed.error = job->rendered.error;
    return finish(std::move(failed));
  }
  route(job);
}

// Also called again when an account answered "unavailable": the message is re-routed at once,
// its attempt not charged (the fallback's send is the same attempt).
void Dispatcher::route(const std::shared_ptr<Job>& job) {
  const ClaimedMessage& m = job->message;
  RouteDecision d = decide_route(m, *job->department, *job->config, breakers_, now_ms());
  switch (d.kind) {
    case RouteDecision::Kind::defer:
      return finish(deferral(m, d.until, d.reason));
    case RouteDecision::Kind::expire:
    case RouteDecision::Kind::fail: {
      Completion c = completion_of(m);
      c.status = d.kind == RouteDecision::Kind::expire ? "expired" : "failed";
      c.error = d.reason;
      c.not_attempted = true;
      c.department = m.department, c.channel = m.channel;
      return finish(std::move(c));
    }
    case RouteDecision::Kind::send:
      break;
  }
  auto policy = job->config->account_policies.find(d.account);
  if (policy == job->config->account_policies.end() || !policy->second.rate_limit)
    return send(job, d.account);
  limiter_.acquire(
      d.account, *policy->second.rate_limit, m.priority,
      job->config->dispatch.lower_priority_share(),
      [this, job, account = d.account] { send(job, account); },
      [this, job, account = d.account, probe = d.probe](Millis when) {
        if (probe) breakers_.release_probe(account);
        finish(deferral(job->message, when, "rate_limit"));
      });
}

void Dispatcher::send(const std::shared_ptr<Job>& job, const std::string& account) {
  if (metrics_ && job->message.attempt == 1)
    metrics_->send_lag(job->message.priority, now_ms() - job->message.send_at_ms);
  job->config->provider(account)->send(
      job->rendered.outbound,
      [this, job, account, started = std::chrono::steady_clock::now()](SendResult result) {
        if (metrics_)
          metrics_->provider_request(account, std::chrono::steady_clock::now() - started);
        on_result(job, account, std::move(result));
      });
}

void Dispatcher::on_result(const std::shared_ptr<Job>& job, const std::string& account,
                           SendResult result) {
  if (result.credits && on_credits_) on_credits_(account, *result.credits);
  auto policy = job->config->account_policies.find(account);
  CircuitSettings circuit =
      policy == job->config->account_policies.end() ? CircuitSettings{} : policy->second.circuit;
  if (auto transition = breakers_.record(account, circuit, result, now_ms())) announce(*transition);
  if (result.outcome == Outcome::unavailable) return route(job);
  Completion c = decide_outcome(job->message, result, job->department->retry, now_ms(), rng_);
  c.department = job->message.department, c.channel = job->message.channel;
  c.provider = account;
  c.on_time = c.status == "sent" && now_ms() - job->message.send_at_ms <= kOnTimeMs;
  if (job->rendered.outbound.channel() == Channel::sms) {
    c.segments = job->rendered.outbound.sms().segments;
    c.encoding = job->rendered.outbound.sms().encoding;
  }
  finish(std::move(c));
}

// Loud on purpose: one error line and one event per transition (an account name and the
// provider's words, never personal data).
void Dispatcher::announce(const CircuitTransition& t) {
  if (t.to == CircuitState::open) {
    spdlog::error("provider account {} unavailable: circuit {} -> open for {} ms: {}", t.account,
                  to_string(t.from), t.cooldown.count(), t.reason);
  } else {
    spdlog::error("provider account {} available again: circuit {} -> closed", t.account,
                  to_string(t.from));
  }
  // A probe that failed again re-opens without a new event: the backend already knows.
  if (t.to == CircuitState::open && t.from == CircuitState::half_open) return;
  record_circuit(t.account, t.to);
  std::string status = t.to == CircuitState::open ? "provider_unavailable" : "provider_available";
  store_.account_event(status, t.account, t.reason, [status, account = t.account](auto& error) {
    if (!error.empty()) spdlog::warn("event {} of {} not recorded: {}", status, account, error);
  });
}

void Dispatcher::record_circuits() {
  auto config = config_();
  auto states = breakers_.states();
  for (const auto& [account, provider] : config->providers) {
    auto state = states.find(account);
    record_circuit(account, state == states.end() ? CircuitState::closed : state->second.state);
  }
}

void Dispatcher::record_circuit(const std::string& account, CircuitState state) {
  store_.record_circuit(account, config_()->instance, to_string(state), [account](auto& error) {
    if (!error.empty()) spdlog::debug("circuit of {} not recorded: {}", account, error);
  });
}

void Dispatcher::finish(Completion completion) {
  --in_flight_;
  if (completion.status == "sent") ++sent_total_;
  if (metrics_) metrics_->completed(completion);
  bool bad = completion.status == "failed" || completion.status == "expired";
  auto level = bad ? spdlog::level::warn : spdlog::level::debug;
  if (spdlog::should_log(level))  // the line is built only when it is logged (hot path)
    log_message_event(level, {completion.id, completion.department, completion.provider},
                      "message " + completion.id + " " + completion.status +
                          (completion.error.empty() ? "" : ": " + completion.error));
  pending_.push_back(std::move(completion));
  if (pending_.size() >= kCompletionBatch) {
    flush();
  } else if (!flush_posted_) {
    flush_posted_ = true;
    boost::asio::post(io_, [this] {
      flush_posted_ = false;
      flush();
    });
  }
  if (more_due_ && !stopping_) {
    auto config = config_();
    int free = config->dispatch.max_in_flight - in_flight_;
    if (free >= std::min(config->dispatch.claim_batch, config->dispatch.max_in_flight / 2) ||
        in_flight_ == 0)
      tick();
  }
  maybe_finish_stop();
}

void Dispatcher::flush() {
  if (flushing_ || pending_.empty()) return;
  flushing_ = true;
  size_t n = std::min(pending_.size(), kCompletionBatch);
  auto batch = std::make_shared<std::vector<Completion>>(pending_.begin(), pending_.begin() + n);
  pending_.erase(pending_.begin(), pending_.begin() + n);
  store_.complete(*batch, [this, batch](const std::string& error) {
    flushing_ = false;
    if (!error.empty()) {
      // Outcomes are kept until Redis has them: a disconnect delays them, never drops them.
      spdlog::warn("recording {} outcome(s) failed: {}; retrying", batch->size(), error);
      pending_.insert(pending_.begin(), batch->begin(), batch->end());
      auto retry = std::make_shared<boost::asio::steady_timer>(
          io_, std::chrono::milliseconds(kRetryAfterRedisError));
      retry->async_wait([this, retry](boost::system::error_code) { flush(); });
      return;
    }
    for (const auto& c : *batch) held_.erase(c.id);
    if (!pending_.empty()) flush();
    maybe_finish_stop();
  });
}

void Dispatcher::stop(std::chrono::milliseconds grace, std::function<void()> done) {
  stopping_ = true;
  on_stopped_ = std::move(done);
  limiter_.stop();
  timer_.cancel();
  stop_timer_.expires_after(grace);
  stop_timer_.async_wait([this, grace](boost::system::error_code ec) {
    if (ec || !on_stopped_) return;
    spdlog::warn("{} send(s) still in flight after the grace period; aborting them", in_flight_);
    for (auto& [name, provider] : config_()->providers) provider->cancel_all();
    // If Redis cannot take the outcomes either, leave: the leases bring those messages back.
    stop_timer_.expires_after(grace);
    stop_timer_.async_wait([this](boost::system::error_code ec2) {
      if (ec2 || !on_stopped_) return;
      spdlog::error("stopping with {} outcome(s) unrecorded; their leases will requeue them",
                    pending_.size() + in_flight_);
      lease_timer_.cancel();
      auto done = std::move(on_stopped_);
      on_stopped_ = nullptr;
      done();
    });
  });
  boost::asio::post(io_, [this] { maybe_finish_stop(); });
}

void Dispatcher::maybe_finish_stop() {
  if (!stopping_ || !on_stopped_ || in_flight_ > 0 || claiming_ || flushing_ || !pending_.empty())
    return;
  stop_timer_.cancel();
  lease_timer_.cancel();
  auto done = std::move(on_stopped_);
  on_stopped_ = nullptr;
  done();
}

}  // namespace rappel
