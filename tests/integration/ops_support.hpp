// Shared by the operations tests (service manager, reload, shutdown, Sentinel, AUTH): the daemon
// started the way systemd starts it (NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID naming the
// daemon itself), and an SMS Factor stand-in that counts what it receives per message id, so that
// "none lost, none doubled" is checked where it matters: at the provider.
#pragma once

#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "integration/scenario.hpp"
#include "support/notify_listener.hpp"
#include "support/process.hpp"
#include "support/provider_server.hpp"

namespace rappel::test {

inline constexpr const char* kOpsToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.ops-77";
inline constexpr const char* kOpsSmsFactorOk =
    R"({"status":1,"message":"OK","ticket":"14672468","cost":1,"credits":642,"total":1,"sent":1,)"
    R"("blacklisted":0,"invalid":0,"invalid_numbers":[],"npai":0,"not_allowed":0,"flood":0,)"
    R"("country_limit":0,"duplicated":0})";

// An SMS Factor stand-in answering every request after `delay`.
struct CountingProvider {
  explicit CountingProvider(std::chrono::milliseconds delay = std::chrono::milliseconds(0))
      : server([delay](const RecordedRequest&) {
          return ScriptedResponse{200, kOpsSmsFactorOk, {}, delay};
        }) {
    setenv("RAPPEL_OPS_SMSFACTOR_TOKEN", kOpsToken, 1);
  }

  // The `providers:` line for the daemon's configuration.
  std::string account(const std::string& name) const {
    return "  " + name + R"(: {type: sms_factor, token: "${RAPPEL_OPS_SMSFACTOR_TOKEN}", url: ")" +
           server.url("/send") + "\"}\n";
  }
  // Requests received per message id (SMS Factor's gsmsmsid is rappel's message id).
  std::map<std::string, int> per_message() const {
    std::map<std::string, int> seen;
    for (const auto& r : server.requests()) ++seen[r.query.at("gsmsmsid")];
    return seen;
  }
  // The sender of the last request for `id` ("" if none).
  std::string sender_of(const std::string& id) const {
    std::string sender;
    for (const auto& r : server.requests())
      if (r.query.at("gsmsmsid") == id && r.query.count("sender")) sender = r.query.at("sender");
    return sender;
  }

  ProviderServer server;
};

// The real daemon as systemd would start it. WATCHDOG_PID must be the daemon's own pid, which is
// only known once it runs: a shell sets it to its own pid and then execs the daemon in its place.
class ManagedDaemon {
 public:
  ManagedDaemon(const std::string& config_path, const std::string& instance,
                const std::string& log_file, const NotifyListener& notify,
                std::chrono::microseconds watchdog = std::chrono::seconds(1))
      : log_file_(log_file) {
    ChildOptions options;
    options.argv = {
        "/bin/sh",     "-c",         "WATCHDOG_PID=$$; export WATCHDOG_PID; exec \"$0\" \"$@\"",
        RAPPEL_BINARY, "run",        "--config",
        config_path,   "--instance", instance};
    options.stdout_mode = Output::file;
    options.stdout_file = log_file;
    options.stderr_mode = Output::file;
    options.stderr_file = log_file;
    options.env = {{"RAPPEL_LOG_LEVEL", "debug"},
                   {"NOTIFY_SOCKET", notify.path()},
                   {"WATCHDOG_USEC", std::to_string(watchdog.count())}};
    process_ = std::make_unique<ChildProcess>(options);
  }

  ChildProcess& process() { return *process_; }
  std::string log() const { return read_text_file(log_file_); }

 private:
  std::string log_file_;
  std::unique_ptr<ChildProcess> process_;
};

// "sent: 590, retrying: 10": what to print when a wait for all of `ids` fails.
inline std::string status_summary(const RedisServer& redis, const std::vector<std::string>& ids) {
  std::map<std::string, int> counts;
  for (const char* status : {"scheduled", "sending", "sent", "retrying", "failed", "expired"})
    if (long long n = count_with_status(redis, ids, status)) counts[status] = int(n);
  std::string out;
  for (const auto& [status, n] : counts)
    out += (out.empty() ? "" : ", ") + status + ": " + std::to_string(n);
  return out;
}

inline std::string tail(const std::string& text, size_t n = 20000) {
  return text.size() > n ? text.substr(text.size() - n) : text;
}

}  // namespace rappel::test
