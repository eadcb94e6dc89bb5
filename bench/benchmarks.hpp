// The benchmarks of rappel_bench, one function each (see main.cpp for the command line and
// docs/performance.md for what each measures and the figures on the reference machine). Each
// returns the process exit code: non-zero when the run did not do what it measured (a message
// not sent), so that a figure is never printed for a broken run.
#pragma once

#include <string>

namespace rappel::bench {

struct DrainOptions {
  int messages = 100000;
  long pending = 0;         // other reminders scheduled next week, enqueued before the drain
  int max_in_flight = 256;  // the daemon's defaults
  int claim_batch = 256;
  int nginx_workers = 1;
  bool ceilings = true;     // wrk and redis-benchmark after the drain
  std::string perf_output;  // non-empty: perf record the daemon and Redis during the drain
};

int drain(const DrainOptions& options);
int precision(int messages, int spread_seconds);
int email(int messages);
int startup(int runs);

}  // namespace rappel::bench
