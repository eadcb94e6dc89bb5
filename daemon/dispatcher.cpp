// See dispatcher.hpp.
#include "daemon/dispatcher.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "daemon/metrics.hpp"
#include "daemon/render.hpp"
#include "daemon/retry_policy.hpp"

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
      rng_(std::random_device{}()) {}

void Dispatcher::start() {
  tick();
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
  store_.claim(limit, config->dispatch.lease, [this, limit](Claim claim, const std::string& error) {
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

void Dispatcher::dispatch(ClaimedMessage message, const std::shared_ptr<const Config>& config) {
  ++in_flight_;
  const DepartmentConfig* dept = config->department(message.department);
  Completion failed;
  failed.id = message.id;
  failed.attempt = message.attempt;
  failed.status = "failed";
  failed.department = message.department, failed.channel = message.channel;
  if (!dept) {
    failed.error = "département " + message.department + " is no longer configured";
    return finish(std::move(failed));
  }
  if (message.attempt > dept->retry.max_attempts) {
    failed.error = "gave up after " + std::to_string(message.attempt - 1) + " attempts";
    return finish(std::move(failed));
  }
  RenderResult rendered = render_message(message, *dept);
  if (!rendered.ok) {
    failed.error = rendered.error;
    return finish(std::move(failed));
  }
  const auto& route = message.channel == "sms" ? dept->sms : dept->email;
  Provider* provider = route ? config->provider(route->provider) : nullptr;
  if (!provider) {
    failed.error = "no " + message.channel + " provider for département " + message.department;
    return finish(std::move(failed));
  }
  int segments = 0;
  std::string encoding;
  if (rendered.outbound.channel() == Channel::sms) {
    segments = rendered.outbound.sms().segments;
    encoding = rendered.outbound.sms().encoding;
  }
  if (metrics_ && message.attempt == 1) metrics_->send_lag(now_ms() - message.send_at_ms);
  // The config stays alive until the provider answers, even if a reload replaced it meanwhile.
  provider->send(rendered.outbound,
                 [this, message = std::move(message), config, account = route->provider, segments,
                  encoding, started = std::chrono::steady_clock::now()](SendResult result) {
                   if (metrics_)
                     metrics_->provider_request(account,
                                                std::chrono::steady_clock::now() - started);
                   const DepartmentConfig* d = config->department(message.department);
                   Completion c = decide_outcome(message, result, d->retry, now_ms(), rng_);
                   c.department = message.department, c.channel = message.channel;
                   c.provider = account;
                   c.segments = segments;
                   c.encoding = encoding;
                   finish(std::move(c));
                 });
}

void Dispatcher::finish(Completion completion) {
  --in_flight_;
  if (completion.status == "sent") ++sent_total_;
  if (metrics_) metrics_->completed(completion);
  if (completion.status == "failed" || completion.status == "expired")
    spdlog::warn("message {} {}: {}", completion.id, completion.status, completion.error);
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
    if (!pending_.empty()) flush();
    maybe_finish_stop();
  });
}

void Dispatcher::stop(std::chrono::milliseconds grace, std::function<void()> done) {
  stopping_ = true;
  on_stopped_ = std::move(done);
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
  auto done = std::move(on_stopped_);
  on_stopped_ = nullptr;
  done();
}

}  // namespace rappel
