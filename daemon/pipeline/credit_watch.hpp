// The credit watch: each provider account's last known credit, and an alert before it runs out.
//
// Seine-et-Marne's account ran dry every few months: a 402, and every SMS blocked until credit
// was bought. Providers tell the credit in two ways, and both are followed here: in the answer to
// each send (Brevo's remainingCredits, SMS Factor's credits: SendResult::credits), and through a
// credit call (SMS Factor's GET /credits, Provider::poll_credits), made at start and every
// `credit_poll` of the account, so that a quiet account is watched too. The call is made only for
// accounts that watch their credit (`low_credit`) or ask for it (`credit_poll`): an account that
// did not ask sees no request it did not send.
//
// Each value is the `rappel_provider_credits{account}` gauge at once. Redis hears of it less
// often: when it crosses the account's `low_credit` either way, when a credit call told it, and
// otherwise at most every kRecordEvery, so that a drain does not pay one more script per message.
// The store's script keeps the crossing fleet-wide (one `provider_low_credit` event per crossing,
// whichever instance saw it first); the instance that adds the event logs the warning.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/config/config.hpp"
#include "daemon/store/store.hpp"

namespace rappel {

class Metrics;

class CreditWatch {
 public:
  static constexpr std::chrono::seconds kRecordEvery{10};

  CreditWatch(boost::asio::io_context& io, Store& store, ConfigSource config);
  ~CreditWatch();

  void set_metrics(Metrics* metrics) { metrics_ = metrics; }  // optional; outlives this
  void start();  // the credit calls: at once, then each account at its credit_poll
  void stop();

  // A credit told by the account's answer to a send.
  void observe(const std::string& account, double credits) { take(account, credits, false); }

 private:
  enum class Level { unknown, ok, low };
  struct Account {
    std::optional<double> recorded;  // last value written to Redis
    std::chrono::steady_clock::time_point recorded_at{};
    Level level = Level::unknown;   // as last recorded
    bool recording = false;         // a script is on its way
    std::optional<double> waiting;  // a value that came meanwhile and must still be written
    std::chrono::steady_clock::time_point next_poll{};  // epoch: at once
    bool polling = false;
  };

  static Level level_of(double credits, std::optional<long> low);
  void take(const std::string& account, double credits, bool told_by_poll);
  void record(const std::string& account, double credits);
  void poll_due();
  void arm(std::chrono::steady_clock::time_point when);

  Store& store_;
  ConfigSource config_;
  boost::asio::steady_timer timer_;
  std::map<std::string, Account, std::less<>> accounts_;
  Metrics* metrics_ = nullptr;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for callbacks that outlive us
};

}  // namespace rappel
