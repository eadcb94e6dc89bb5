// rappel_bench: the benchmarks of docs/performance.md, one subcommand each. Built by the CMake
// target `bench` (not part of `all`, so CI never builds or runs it); the scripts bench/drain,
// bench/precision, bench/pending, bench/email and bench/startup build a Release tree and run one.
#include <CLI/CLI.hpp>

#include "benchmarks.hpp"

int main(int argc, char** argv) {
  using namespace rappel::bench;
  CLI::App app{"rappel benchmarks: each starts its own Redis, provider stand-in and daemon"};
  app.require_subcommand(1);

  DrainOptions drain_options;
  auto* d = app.add_subcommand("drain", "N SMS due now, timed until all are sent");
  d->add_option("--messages", drain_options.messages, "messages to drain");
  d->add_option("--pending", drain_options.pending, "reminders scheduled next week, added first");
  d->add_option("--max-in-flight", drain_options.max_in_flight, "dispatch.max_in_flight");
  d->add_option("--claim-batch", drain_options.claim_batch, "dispatch.claim_batch");
  d->add_option("--nginx-workers", drain_options.nginx_workers, "nginx worker processes");
  d->add_flag("!--no-ceilings", drain_options.ceilings, "skip wrk and redis-benchmark");
  d->add_option("--perf", drain_options.perf_output, "perf record rappel and Redis into FILE");

  int precision_messages = 10000, spread = 20;
  auto* p = app.add_subcommand("precision", "lag between send_at and the provider's receipt");
  p->add_option("--messages", precision_messages);
  p->add_option("--spread", spread, "seconds over which send_at are spread");

  int email_messages = 10000;
  auto* e = app.add_subcommand("email", "N emails to a local SMTP server");
  e->add_option("--messages", email_messages);

  int runs = 20;
  auto* s = app.add_subcommand("startup", "exec to READY=1");
  s->add_option("--runs", runs);

  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (d->parsed()) return drain(drain_options);
  if (p->parsed()) return precision(precision_messages, spread);
  if (e->parsed()) return email(email_messages);
  return startup(runs);
}
