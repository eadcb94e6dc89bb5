// See credit_watch.hpp.
#include "daemon/pipeline/credit_watch.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "daemon/telemetry/metrics.hpp"

namespace rappel {

namespace {
using SteadyClock = std::chrono::steady_clock;
// Longest sleep between two looks at the accounts: an account added by a reload is polled
// within it.
constexpr std::chrono::seconds kLookAgain{60};

std::optional<long> low_credit_of(const Config& config, std::string_view account) {
  auto it = config.account_policies.find(account);
  return it == config.account_policies.end() ? std::nullopt : it->second.low_credit;
}
}  // namespace

CreditWatch::Level CreditWatch::level_of(double credits, std::optional<long> low) {
  return low && credits < static_cast<double>(*low) ? Level::low : Level::ok;
}

CreditWatch::CreditWatch(boost::asio::io_context& io, Store& store, ConfigSource config)
    : store_(store), config_(std::move(config)), timer_(io) {}

CreditWatch::~CreditWatch() {
  timer_.cancel();
}

void CreditWatch::start() {
  stopped_ = false;
  poll_due();
}

void CreditWatch::stop() {
  stopped_ = true;
  timer_.cancel();
}

void CreditWatch::take(const std::string& account, double credits, bool told_by_poll) {
  if (metrics_) metrics_->set_provider_credits(account, credits);
  Account& a = accounts_[account];
  if (a.recording) {
    a.waiting = credits;
    return;
  }
  Level level = level_of(credits, low_credit_of(*config_(), account));
  bool stale = a.recorded != credits && SteadyClock::now() - a.recorded_at >= kRecordEvery;
  if (told_by_poll || a.level == Level::unknown || level != a.level || stale)
    record(account, credits);
}

void CreditWatch::record(const std::string& account, double credits) {
  auto low = low_credit_of(*config_(), account);
  Level level = level_of(credits, low);
  accounts_[account].recording = true;
  std::weak_ptr<bool> alive = alive_;
  store_.record_credit(
      account, credits, low,
      [this, alive, account, credits, low, level](Store::CreditCrossing crossing,
                                                  const std::string& error) {
        if (alive.expired()) return;
        Account& a = accounts_[account];
        a.recording = false;
        if (!error.empty()) {
          spdlog::warn("credit of provider account {} not recorded: {}", account, error);
          a.level = Level::unknown;  // the next value tries again
        } else {
          a.recorded = credits;
          a.recorded_at = SteadyClock::now();
          a.level = level;
          if (crossing == Store::CreditCrossing::went_low)
            spdlog::warn(
                "provider account {} credit {} below low_credit {}: buy credit before "
                "its sends are refused",
                account, credit_text(credits), *low);
          else if (crossing == Store::CreditCrossing::came_back)
            spdlog::info("provider account {} credit back to {} (low_credit {})", account,
                         credit_text(credits), low ? *low : 0);
        }
        if (auto next = std::exchange(a.waiting, std::nullopt)) take(account, *next, false);
      });
}

void CreditWatch::poll_due() {
  if (stopped_) return;
  auto config = config_();
  auto now = SteadyClock::now();
  auto next = now + kLookAgain;
  std::weak_ptr<bool> alive = alive_;
  for (const auto& [name, provider] : config->providers) {
    auto policy = config->account_policies.find(name);
    if (!provider->polls_credits() || policy == config->account_policies.end() ||
        !policy->second.polls_credit())
      continue;
    Account& a = accounts_[name];
    if (!a.polling && a.next_poll <= now) {
      a.next_poll = now + policy->second.credit_poll_every();
      a.polling = true;
      // `config` rides along: the provider stays alive until it answers, whatever reloads do.
      provider->poll_credits(
          [this, alive, config, account = name](std::optional<double> credits, std::string error) {
            if (alive.expired()) return;
            accounts_[account].polling = false;
            if (credits)
              take(account, *credits, true);
            else
              spdlog::warn("credit call of provider account {} failed: {}", account, error);
          });
    }
    next = std::min(next, a.next_poll);
  }
  arm(next);
}

void CreditWatch::arm(SteadyClock::time_point when) {
  timer_.expires_at(when);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) poll_due();
  });
}

}  // namespace rappel
