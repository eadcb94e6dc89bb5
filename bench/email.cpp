// Email throughput: N emails due now to a local SMTP server (the tests' aiosmtpd, STARTTLS and
// AUTH as in production, run by Debian's /usr/bin/python3), timed until every one is `sent`.
// The CPU time of both sides says which one limits: aiosmtpd is single-threaded Python and writes
// two files per message, so it is usually the bottleneck, not rappel.
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "benchmarks.hpp"
#include "stack.hpp"
#include "support/bulk_redis.hpp"
#include "support/redis_fixture.hpp"
#include "support/smtp_test_server.hpp"

namespace rappel::bench {

int email(int messages) {
  std::printf("== email: %d emails due now to aiosmtpd (STARTTLS, AUTH); %s\n", messages,
              machine_summary().c_str());
  test::SmtpTestServer smtp(test::SmtpServerTls::starttls);
  test::RedisServer redis_server;
  DaemonSettings settings;
  settings.redis_url = redis_server.url();
  settings.providers = "  bench-smtp: {type: smtp, url: \"" + smtp.url() + "\", username: \"" +
                       test::SmtpTestServer::kUser + "\", password: \"" +
                       test::SmtpTestServer::kPassword + "\", ca_file: \"" + smtp.ca_file() +
                       "\", from: \"RDV Solidarités <ne-pas-repondre@rdv-solidarites.fr>\"}\n";
  settings.providers += "  journal: {type: log}\n";
  settings.sms_provider = "journal";
  settings.email_provider = "bench-smtp";
  Daemon daemon(settings);
  test::BulkRedis redis(redis_server.port());
  int python = child_named("smtp_server.py");

  std::vector<std::string> payloads, ids;
  for (int i = 0; i < messages; ++i) {
    std::string key = "rdv-email-" + std::to_string(i);
    payloads.push_back(reminder_payload(key, "email"));
    ids.push_back(key + ":email");
  }
  RssPeaks peaks(daemon.pid());
  double rappel_before = cpu_seconds(daemon.pid()), python_before = cpu_seconds(python);
  auto start = Clock::now();
  redis.enqueue(payloads);
  long long horizon = wall_ms() + 3600 * 1000;
  while (redis.unfinished(horizon) > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  double took = seconds_since(start);
  double rappel_cpu = cpu_seconds(daemon.pid()) - rappel_before;
  double python_cpu = cpu_seconds(python) - python_before;

  auto counts = redis.count_statuses(ids);
  std::printf(
      "email: %d messages in %.2f s: %.0f messages/s over %d SMTP connection(s), at most %d open "
      "at once\n",
      messages, took, messages / took, smtp.connections(), smtp.peak_sessions());
  std::printf(
      "CPU: rappel %.2f s (%.0f%% of the wall time), aiosmtpd %.2f s (%.0f%%): the "
      "limiting side is %s\n",
      rappel_cpu, 100 * rappel_cpu / took, python_cpu, 100 * python_cpu / took,
      python_cpu > rappel_cpu ? "aiosmtpd (Python, one core)" : "rappel");
  std::printf("rappel peak RSS (VmHWM): %.1f MiB\n", status_kib(daemon.pid(), "VmHWM") / 1024.0);
  std::printf("rappel %s\n", peaks.summary().c_str());
  std::printf("statuses:");
  for (auto& [status, n] : counts) std::printf(" %s=%lld", status.c_str(), n);
  std::printf("\n");
  return counts["sent"] == messages ? 0 : 1;
}

}  // namespace rappel::bench
