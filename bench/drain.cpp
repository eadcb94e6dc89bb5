// Drain throughput (and, with --pending, the same drain with many reminders scheduled for next
// week): N SMS due now enqueued through the public contract (pipelined XADD to rappel:inbox),
// timed until every one is recorded `sent` (no inbox entry, nothing due, no lease left), then
// checked message by message. The provider is nginx answering like Brevo SMS, with keep-alive.
// Printed with the CPU time each process used during the drain, which says who limited it, and
// followed by the machine's ceilings for the same work: rappel's own HTTP layer alone and wrk
// against the same nginx endpoint, and redis-benchmark running the Redis commands of one message.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <sstream>
#include <thread>

#include "benchmarks.hpp"
#include "stack.hpp"
#include "support/bulk_redis.hpp"
#include "support/redis_fixture.hpp"

namespace rappel::bench {

namespace {

constexpr long long kWeekMs = 7LL * 24 * 3600 * 1000;

// Enqueues `count` reminders for next week in chunks and waits until intake has applied them.
void enqueue_pending(test::BulkRedis& redis, long count) {
  auto start = Clock::now();
  std::string send_at = iso_utc_ms(wall_ms() + kWeekMs);
  constexpr long kChunk = 20000;
  for (long done = 0; done < count; done += kChunk) {
    std::vector<std::string> payloads;
    for (long i = done; i < std::min(count, done + kChunk); ++i)
      payloads.push_back(reminder_payload("rdv-next-week-" + std::to_string(i), "sms", send_at));
    redis.enqueue(payloads);
  }
  while (redis.integer({"XLEN", "rappel:inbox"}) > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  double took = seconds_since(start);
  std::printf("pending: %ld reminders for next week enqueued and applied in %.1f s (%.0f/s)\n",
              count, took, count / took);
}

struct CpuSnapshot {
  double rappel, redis, nginx;
};

CpuSnapshot cpu_now(int rappel, int redis, int nginx) {
  return {cpu_seconds(rappel), cpu_seconds(redis), cpu_seconds(nginx, true)};
}

// The "N requests per second" figures of redis-benchmark's output (which redraws with \r).
std::string rates(const std::string& output) {
  std::string out;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    line = line.substr(line.rfind('\r') == std::string::npos ? 0 : line.rfind('\r') + 1);
    size_t at = line.find(" requests per second");
    if (at == std::string::npos) continue;
    size_t name_end = line.rfind(": ", at);
    size_t name_start = line.rfind(' ', name_end == std::string::npos ? 0 : name_end - 1);
    std::string name =
        name_end == std::string::npos ? "" : line.substr(name_start + 1, name_end - name_start - 1);
    out += "  " +
           (name.find("__rand_int__") != std::string::npos ? "EVALSHA (one message)" : name) +
           ": " + line.substr(name_end + 2, at - name_end - 2) + " calls/s\n";
  }
  return out;
}

// Redis' own account of the drain (INFO commandstats since CONFIG RESETSTAT): calls and time per
// message of each command (the enqueue's XADDs included). A script's time includes the commands it
// calls, which are also counted on their own lines: the calls per message say what the scripts
// cost, independently of the load.
void print_redis_commands(const std::string& info, int messages) {
  struct Row {
    std::string name;
    double calls, usec;
  };
  std::vector<Row> rows;
  std::istringstream lines(info);
  for (std::string line; std::getline(lines, line);) {
    char name[64];
    double calls = 0, usec = 0;
    if (std::sscanf(line.c_str(), "cmdstat_%63[^:]:calls=%lf,usec=%lf", name, &calls, &usec) == 3)
      rows.push_back({name, calls / messages, usec / messages});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.usec > b.usec; });
  double commands = 0;
  for (const Row& r : rows)
    if (r.name != "evalsha" && r.name != "eval") commands += r.calls;
  std::printf("Redis per message (INFO commandstats): %.1f commands; by time:", commands);
  for (const Row& r : rows)
    if (r.usec >= 0.5) std::printf(" %s %.2f calls %.1f us;", r.name.c_str(), r.calls, r.usec);
  std::printf("\n");
}

void print_ceilings(const Nginx& nginx, unsigned short redis_port, int max_in_flight) {
  print_http_floor(nginx, 100000, max_in_flight);
  std::string wrk =
      run_capture("wrk -t 1 -c 64 -d 5s -s " RAPPEL_SOURCE_DIR "/bench/wrk_post.lua " +
                  nginx.url("/v3/transactionalSMS/sms"));
  size_t at = wrk.find("Requests/sec:");
  std::printf("ceiling, provider endpoint: wrk -t 1 -c 64 -d 5s (POST, keep-alive): %s\n",
              at == std::string::npos ? "wrk failed"
                                      : wrk.substr(at + 14, wrk.find('\n', at) - at - 14).c_str());
  std::string port = std::to_string(redis_port);
  std::printf(
      "ceiling, Redis (redis-benchmark -q -n 1000000 -P 64 -r 100000 -t set,hset,zadd):\n%s",
      rates(run_capture("redis-benchmark -p " + port +
                        " -q -n 1000000 -P 64 -r 100000 -t set,hset,zadd"))
          .c_str());
  std::string sha =
      run_capture("redis-cli -p " + port +
                  " SCRIPT LOAD \"$(cat " RAPPEL_SOURCE_DIR "/bench/message_equivalent.lua)\"");
  sha = sha.substr(0, sha.find_first_of("\r\n"));
  std::printf(
      "ceiling, Redis: the 14 commands of one message in one EVALSHA "
      "(bench/message_equivalent.lua, -n 200000 -P 16):\n%s",
      rates(run_capture("redis-benchmark -p " + port + " -q -n 200000 -P 16 -r 1000000 EVALSHA " +
                        sha + " 1 bench:msg:__rand_int__"))
          .c_str());
}

}  // namespace

int drain(const DrainOptions& o) {
  std::printf("== drain: %d SMS due now, %ld pending next week; %s\n", o.messages, o.pending,
              machine_summary().c_str());
  test::RedisServer redis_server;
  Nginx nginx(o.nginx_workers);
  DaemonSettings settings;
  settings.redis_url = redis_server.url();
  settings.providers =
      "  bench-sms: {type: brevo_sms, api_key: bench-key, sender: RdvSoli, url: \"" +
      nginx.url("/v3/transactionalSMS/sms") + "\"}\n";
  settings.dispatch = "{max_in_flight: " + std::to_string(o.max_in_flight) +
                      ", claim_batch: " + std::to_string(o.claim_batch) + "}";
  Daemon daemon(settings);
  test::BulkRedis redis(redis_server.port());
  int redis_pid = child_named("redis-server");
  if (o.pending > 0) enqueue_pending(redis, o.pending);

  std::vector<std::string> payloads, ids;
  std::string run = std::to_string(wall_ms());
  for (int i = 0; i < o.messages; ++i) {
    std::string key = "rdv-" + run + "-" + std::to_string(i);
    payloads.push_back(reminder_payload(key, "sms"));
    ids.push_back(key + ":sms");
  }
  std::unique_ptr<test::ChildProcess> perf;
  if (!o.perf_output.empty()) {
    test::ChildOptions p;
    // DWARF call graphs: the optimised build has no frame pointers.
    p.argv = {"perf",         "record",
              "-e",           "cpu-clock",
              "-F",           "499",
              "--call-graph", "dwarf,16384",
              "-o",           o.perf_output,
              "-p",           std::to_string(daemon.pid()) + "," + std::to_string(redis_pid)};
    p.stdout_mode = p.stderr_mode = test::Output::discard;
    perf = std::make_unique<test::ChildProcess>(p);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  redis.string({"CONFIG", "RESETSTAT"});
  RssPeaks peaks(daemon.pid());
  CpuSnapshot before = cpu_now(daemon.pid(), redis_pid, nginx.pid());
  auto start = Clock::now();
  redis.enqueue(payloads);
  double enqueued = seconds_since(start);
  long long horizon = wall_ms() + kWeekMs / 2;  // the pending reminders are due later than this
  while (redis.unfinished(horizon) > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  double took = seconds_since(start);
  CpuSnapshot after = cpu_now(daemon.pid(), redis_pid, nginx.pid());
  std::string commandstats = redis.string({"INFO", "commandstats"});  // before our own checks
  if (perf) {
    perf->terminate(SIGINT);
    perf->wait(std::chrono::seconds(60));
  }

  auto counts = redis.count_statuses(ids);
  std::printf("enqueue: %.2f s (%.0f XADD/s, pipelined)\n", enqueued, o.messages / enqueued);
  std::printf(
      "drain: %d messages sent in %.2f s: %.0f messages/s (max_in_flight %d, claim_batch %d)\n",
      o.messages, took, o.messages / took, o.max_in_flight, o.claim_batch);
  auto per_message = [&](double a, double b) { return (b - a) / o.messages * 1e6; };
  std::printf(
      "CPU during the drain: rappel %.2f s (%.1f us/message), redis-server %.2f s (%.1f "
      "us/message), nginx %.2f s (%.1f us/message), wall %.2f s x %ld cores\n",
      after.rappel - before.rappel, per_message(before.rappel, after.rappel),
      after.redis - before.redis, per_message(before.redis, after.redis),
      after.nginx - before.nginx, per_message(before.nginx, after.nginx), took,
      sysconf(_SC_NPROCESSORS_ONLN));
  print_redis_commands(commandstats, o.messages);
  std::printf("rappel peak RSS (VmHWM): %.1f MiB; now (VmRSS) %.1f MiB\n",
              status_kib(daemon.pid(), "VmHWM") / 1024.0,
              status_kib(daemon.pid(), "VmRSS") / 1024.0);
  std::printf("rappel %s\n", peaks.summary().c_str());
  std::printf("statuses:");
  for (auto& [status, n] : counts) std::printf(" %s=%lld", status.c_str(), n);
  std::printf("\n");
  if (counts["sent"] != o.messages) {
    std::printf("FAILED: not every message was sent\n");
    return 1;
  }
  if (o.ceilings) print_ceilings(nginx, redis_server.port(), o.max_in_flight);
  return 0;
}

}  // namespace rappel::bench
