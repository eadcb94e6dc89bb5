// The administration commands: enqueue, cancel, status, check-config, render, stats. They talk to
// Redis synchronously (they run once and exit) through the same public contract as the backend.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace rappel {

struct EnqueueOptions {
  std::string config_path;
  std::string file;  // a JSON payload to add as is, or empty to build one from the fields below
  std::string key, department, event;
  std::vector<std::string> channels;
  std::string phone, email, name;
  std::string send_at, expires_at;
  std::string data_file;
};

int enqueue_command(const EnqueueOptions& options);
int cancel_command(const std::string& config_path, const std::string& key);
int status_command(const std::string& config_path, const std::string& key, bool json);
// `rappel status --providers`: each account's credit, circuits and rate (admin_providers.cpp).
int providers_status_command(const std::string& config_path, bool json);
int check_config_command(const std::string& config_path);
struct SendTestOptions {
  std::string config_path, department, to, channel = "sms";
  bool simulate = false;
};
int send_test_command(const SendTestOptions& options);

// `rappel stats`: figures per département and day; exit 2 on a bad filter.
struct StatsOptions {
  std::string config_path, department, from, to;
  bool json = false, csv = false;
};
int stats_command(const StatsOptions& options);

// `rappel scripts`: the Redis scripts' names, SHA1 and files; with a directory, writes each
// one's whole text there (admin_scripts.cpp).
int scripts_command(const std::string& write_dir);

int render_command(const std::string& config_path, const std::string& department,
                   const std::string& event, const std::string& data_file,
                   const std::string& channel);

}  // namespace rappel
