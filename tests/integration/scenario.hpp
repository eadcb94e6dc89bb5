// A running rappel for one integration test: a real redis-server, the real daemon binary, a
// configuration written for the test, and helpers to speak the public contract.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "support/daemon_fixture.hpp"
#include "support/redis_fixture.hpp"

namespace rappel::test {

inline std::string iso_in(std::chrono::milliseconds offset) {
  auto t = std::chrono::system_clock::now() + offset;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  time_t seconds = ms / 1000;
  char buf[40];
  tm utc{};
  gmtime_r(&seconds, &utc);
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  char out[64];
  snprintf(out, sizeof out, "%s.%03lldZ", buf, static_cast<long long>(ms % 1000));
  return out;
}

// How many times `what` occurs in `text` (log lines, a page's elements).
inline size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

inline nlohmann::json reminder(const std::string& key, const std::string& department = "77",
                               nlohmann::json channels = {"sms"}) {
  return {{"op", "schedule"},
          {"key", key},
          {"department", department},
          {"event", "rdv_upcoming_reminder"},
          {"channels", channels},
          {"recipient",
           {{"phone", "+33612345678"},
            {"email", "camille.martin@example.fr"},
            {"name", "Camille Martin"}}},
          {"data",
           {{"starts_at", "2026-12-03T10:30:00+01:00"},
            {"service", "PMI"},
            {"place", "12 rue de la Paix, Melun"},
            {"phone", "0164000000"},
            {"url", "https://www.rdv-solidarites.fr/r/4521/abc"}}}};
}

class Scenario {
 public:
  explicit Scenario(TestConfig config = {}, bool append_only = false)
      : redis(append_only), dir(make_temp_dir("scenario")) {
    config.redis_url = redis.url();
    config.outbox = dir + "/outbox";
    config_path = write_config(dir, config);
  }
  ~Scenario() {
    daemons.clear();
    std::filesystem::remove_all(dir);
  }

  DaemonProcess& start_daemon(const std::string& instance = "test-a") {
    std::string log = dir + "/daemon-" + instance + "-" + std::to_string(daemons.size()) + ".log";
    daemons.push_back(std::make_unique<DaemonProcess>(config_path, instance, log));
    if (!daemons.back()->wait_ready())
      throw std::runtime_error("daemon not ready:\n" + daemons.back()->log());
    return *daemons.back();
  }

  std::string enqueue(const nlohmann::json& payload) {
    return redis.xadd_payload("rappel:inbox", payload.dump());
  }
  std::map<std::string, std::string> message(const std::string& id) {
    return redis.hgetall("rappel:msg:" + id);
  }
  std::string status(const std::string& id) { return message(id)["status"]; }
  bool wait_status(const std::string& id, const std::string& wanted,
                   std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    return eventually([&] { return status(id) == wanted; }, timeout);
  }
  std::vector<std::string> status_trail(const std::string& id) {
    std::vector<std::string> trail;
    for (auto& e : redis.xrange("rappel:events"))
      if (e["id"] == id) trail.push_back(e["status"]);
    return trail;
  }
  std::string all_logs() {
    std::string all;
    for (auto& d : daemons) all += d->log();
    return all;
  }

  RedisServer redis;
  std::string dir;
  std::string config_path;
  std::vector<std::unique_ptr<DaemonProcess>> daemons;
};

}  // namespace rappel::test
