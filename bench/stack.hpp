// What a benchmark runs against, all on loopback: redis-server (the tests' fixture, no
// persistence), nginx as a provider endpoint, and the real rappel binary (a Release build). Also
// what the benchmarks read about those processes from /proc: CPU time (who limits the run) and
// peak RSS.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/process.hpp"

namespace rappel::bench {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start);
long long wall_ms();  // milliseconds since the epoch (send_at is wall-clock time)
std::string iso_utc_ms(long long epoch_ms);

// CPU seconds (user + system) used so far by `pid` and, when `with_children`, its live children.
double cpu_seconds(int pid, bool with_children = false);
long status_kib(int pid, const std::string& field);  // "VmHWM", "VmRSS" of /proc/<pid>/status
std::vector<int> children_of(int pid);

// What VmHWM does not say: how the peak splits between anonymous memory (the heap, what rappel
// allocates) and file-backed pages (the code and data of the binary and its shared libraries,
// shared with other processes but counted in each one's RSS), and the most threads seen (glibc
// gives each thread that allocates its own malloc arena). The kernel keeps only the total's peak,
// so a thread samples /proc/<pid>/status while the object lives.
class RssPeaks {
 public:
  explicit RssPeaks(int pid);
  ~RssPeaks();
  RssPeaks(const RssPeaks&) = delete;
  RssPeaks& operator=(const RssPeaks&) = delete;
  std::string summary() const;  // call after the measured work, while the process still runs

 private:
  void sample_until_stopped();

  int pid_;
  std::atomic<bool> stop_{false};
  std::atomic<long> anon_{0}, file_{0}, threads_{0};
  std::thread sampler_;
};
int child_named(const std::string& needle);  // a child of this process whose cmdline has it

class Nginx {
 public:
  explicit Nginx(int workers = 1);
  ~Nginx();
  unsigned short port() const { return port_; }
  int pid() const { return process_->pid(); }
  std::string url(const std::string& path) const;

 private:
  std::string dir_;
  unsigned short port_;
  std::unique_ptr<test::ChildProcess> process_;
};

// bench/http_floor.cpp: rappel's HTTP layer alone against `nginx` (a drain ceiling).
void print_http_floor(const Nginx& nginx, int requests, int in_flight);

struct DaemonSettings {
  std::string redis_url;
  std::string providers;  // YAML lines under `providers:` (indented by 2)
  std::string sms_provider = "bench-sms";
  std::string email_provider;  // an account that sends email; empty: no email route
  std::string dispatch = "{}";
  std::string log_level = "info";
  std::vector<std::pair<std::string, std::string>> env;
};

class Daemon {
 public:
  Daemon(const DaemonSettings& settings, const std::string& instance = "bench");
  ~Daemon();
  int pid() const { return process_->pid(); }
  const std::string& config_path() const { return config_; }
  std::string log() const;
  void stop();  // SIGTERM, wait

 private:
  std::string dir_, config_, log_;
  std::unique_ptr<test::ChildProcess> process_;
};

std::string write_daemon_config(const std::string& dir, const DaemonSettings& settings);

// A reminder for `key` as the backend writes it (docs/contract.md), French data, one channel.
std::string reminder_payload(const std::string& key, const std::string& channel,
                             const std::string& send_at = "");

// "model name" of the CPU, the core count and the load average: what the figures depend on.
std::string machine_summary();

// Runs a shell command and returns its stdout (for wrk and redis-benchmark).
std::string run_capture(const std::string& command);

}  // namespace rappel::bench
