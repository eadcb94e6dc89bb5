// The real rappel binary under test: a configuration written for the test, the daemon started as
// a child process, its log kept in a file that the test can read (and check for personal data).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "support/process.hpp"
#include "support/redis_fixture.hpp"

namespace rappel::test {

struct TestConfig {
  std::string redis_url;
  std::string outbox;                              // directory of the `outbox` file provider
  std::string dispatch = "{}";                     // YAML mapping for `dispatch:`
  std::string intake = "{}";                       // YAML mapping for `intake:`
  std::string http = "{listen: \"127.0.0.1:0\"}";  // `http:`; port 0: see http_port()
  std::string extra;            // YAML lines at the top level (e.g. `callbacks:`, `retention:`)
  std::string extra_providers;  // YAML lines under `providers:` (indented by 2)
  std::string departments;      // YAML lines under `departments:` after `default`
  std::string default_department =
      "{timezone: Europe/Paris, sms: {provider: journal, sender: RdvSoli}, email: {provider: "
      "outbox}}";
};

// Writes <dir>/rappel.yaml and returns its path.
std::string write_config(const std::string& dir, const TestConfig& config);

class DaemonProcess {
 public:
  DaemonProcess(const std::string& config_path, const std::string& instance,
                const std::string& log_file);
  ~DaemonProcess();

  bool wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void signal(int sig) { process_->terminate(sig); }
  std::optional<int> wait(std::chrono::milliseconds timeout) { return process_->wait(timeout); }
  bool running() { return process_->running(); }
  pid_t pid() const { return process_->pid(); }
  std::string log() const;
  // The port of the daemon's HTTP endpoint, from its "http listening on" log line (0 if absent).
  unsigned short http_port() const;

 private:
  std::string log_file_;
  std::unique_ptr<ChildProcess> process_;
};

// Runs the rappel binary to completion with `args`; returns {exit code, stdout+stderr}.
std::pair<int, std::string> run_rappel(
    const std::vector<std::string>& args,
    const std::vector<std::pair<std::string, std::string>>& env = {});

std::string read_text_file(const std::string& path);

}  // namespace rappel::test
