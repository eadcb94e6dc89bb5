// What rappel tells its service manager (sd_notify): READY, RELOADING, STOPPING, STATUS and the
// watchdog pings.
//
// Everything here runs on the daemon's event loop. The watchdog pings come from a timer on that
// loop on purpose: if the loop is stuck (a blocking call, a busy callback), the pings stop and
// systemd restarts the service, which is the point of a watchdog. Without NOTIFY_SOCKET (not run
// by systemd) every call is a cheap no-op, so the daemon code does not need to care.
//
// STATUS= is rebuilt from a few facts (phase, Redis reachable, messages in flight, the last refused
// reload) and sent only when it changes, so `systemctl status rappel` always says what rappel does.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace rappel {

class ServiceNotifier {
 public:
  struct Facts {
    bool redis_connected = false;
    int in_flight = 0;
  };
  using FactSource = std::function<Facts()>;

  ServiceNotifier(boost::asio::io_context& io, FactSource facts);

  // Starts the watchdog (if WATCHDOG_USEC asks for it) and the status refresh.
  void start(const std::string& redis_description);
  void ready();                                 // READY=1 (once Redis answered)
  void reloading();                             // RELOADING=1 with MONOTONIC_USEC
  void reloaded();                              // READY=1, the reload took effect
  void reload_refused(const std::string& why);  // READY=1, STATUS says why
  void stopping();                              // STOPPING=1
  void stop();                                  // cancels the timers

  // The interval between watchdog pings (half of WATCHDOG_USEC), zero when disabled.
  std::chrono::microseconds watchdog_interval() const { return watchdog_interval_; }

 private:
  enum class Phase { connecting, dispatching, stopping };
  void ping_watchdog();
  void refresh_status();
  std::string status_line() const;
  void send_status(const std::string& extra = "");

  boost::asio::io_context& io_;
  FactSource facts_;
  boost::asio::steady_timer watchdog_timer_;
  boost::asio::steady_timer status_timer_;
  std::chrono::microseconds watchdog_interval_{0};
  Phase phase_ = Phase::connecting;
  std::string redis_;
  std::string reload_problem_;  // the last refused reload, until one succeeds
  std::string last_status_;
  bool stopped_ = false;
};

}  // namespace rappel
