// `rappel run`: wires the event loop, Redis, intake, dispatch and signals together.
#pragma once

#include <string>

namespace rappel {

struct RunOptions {
  std::string config_path;
  std::string instance;  // overrides the config's instance name when set
};

// Runs until SIGTERM/SIGINT; returns the process exit code.
int run_daemon(const RunOptions& options);

// Logging: journald when started by systemd (JOURNAL_STREAM), stderr otherwise.
void setup_logging();

}  // namespace rappel
