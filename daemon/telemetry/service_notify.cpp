// See service_notify.hpp. sd_notify() is a no-op returning 0 when NOTIFY_SOCKET is unset.
#include "daemon/telemetry/service_notify.hpp"

#include <time.h>

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

namespace rappel {

namespace {

constexpr std::chrono::seconds kStatusRefresh{1};

// STATUS= is one line: a multi-line error (or a stray newline) would end the field early.
std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

unsigned long long monotonic_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<unsigned long long>(ts.tv_sec) * 1'000'000ULL +
         static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL;
}

}  // namespace

ServiceNotifier::ServiceNotifier(boost::asio::io_context& io, FactSource facts)
    : io_(io), facts_(std::move(facts)), watchdog_timer_(io), status_timer_(io) {}

void ServiceNotifier::start(const std::string& redis_description) {
  redis_ = redis_description;
  uint64_t usec = 0;
  // WATCHDOG_PID must name us: a child started by rappel must not feed its parent's watchdog.
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_interval_ = std::chrono::microseconds(usec / 2);
    spdlog::info("systemd watchdog: pinging every {} ms", watchdog_interval_.count() / 1000);
    ping_watchdog();
  }
  send_status();
  refresh_status();
}

void ServiceNotifier::ping_watchdog() {
  if (stopped_) return;
  sd_notify(0, "WATCHDOG=1");
  watchdog_timer_.expires_after(watchdog_interval_);
  watchdog_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) ping_watchdog();
  });
}

void ServiceNotifier::refresh_status() {
  if (stopped_) return;
  status_timer_.expires_after(kStatusRefresh);
  status_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    send_status();
    refresh_status();
  });
}

std::string ServiceNotifier::status_line() const {
  Facts facts = facts_();
  std::string line;
  switch (phase_) {
    case Phase::connecting:
      line = "connecting to Redis at " + redis_;
      break;
    case Phase::dispatching:
      line = facts.redis_connected
                 ? "dispatching, " + std::to_string(facts.in_flight) + " in flight"
                 : "Redis at " + redis_ + " unreachable, reconnecting (" +
                       std::to_string(facts.in_flight) + " in flight)";
      break;
    case Phase::stopping:
      line = "draining, " + std::to_string(facts.in_flight) + " in flight";
      break;
  }
  if (!reload_problem_.empty()) line += "; reload refused: " + reload_problem_;
  return one_line(line);
}

void ServiceNotifier::send_status(const std::string& extra) {
  std::string status = status_line();
  if (status == last_status_ && extra.empty()) return;
  last_status_ = status;
  sd_notify(0, (extra + "STATUS=" + status).c_str());
}

void ServiceNotifier::ready() {
  phase_ = Phase::dispatching;
  send_status("READY=1\n");
}

void ServiceNotifier::reloading() {
  sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading the configuration",
             monotonic_usec());
  last_status_.clear();
}

// READY=1 ends the reload for systemd, but not before the first READY=1 (Redis not answered yet).
void ServiceNotifier::reloaded() {
  reload_problem_.clear();
  send_status(phase_ == Phase::dispatching ? "READY=1\n" : "");
}

void ServiceNotifier::reload_refused(const std::string& why) {
  reload_problem_ = why;
  send_status(phase_ == Phase::dispatching ? "READY=1\n" : "");
}

void ServiceNotifier::stopping() {
  phase_ = Phase::stopping;
  send_status("STOPPING=1\n");
}

void ServiceNotifier::stop() {
  stopped_ = true;
  watchdog_timer_.cancel();
  status_timer_.cancel();
}

}  // namespace rappel
