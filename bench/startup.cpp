// Start-up: from exec to READY=1, as systemd sees it. A datagram socket stands in for systemd's
// notification socket (NOTIFY_SOCKET); the clock starts just before the process is spawned and
// stops when "READY=1" arrives. Redis is up and the configuration is the benchmarks' (templates,
// a provider account), so the figure includes loading and checking the configuration.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <poll.h>
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "benchmarks.hpp"
#include "stack.hpp"
#include "support/redis_fixture.hpp"

namespace rappel::bench {

namespace {

// Waits for a datagram containing READY=1; false after `timeout_ms`.
bool wait_ready(int fd, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    if (n > 0 && std::string(buf, static_cast<size_t>(n)).find("READY=1") != std::string::npos)
      return true;
  }
  return false;
}

}  // namespace

int startup(int runs) {
  std::printf("== start-up: exec to READY=1, %d runs; %s\n", runs, machine_summary().c_str());
  test::RedisServer redis_server;
  std::string dir = test::make_temp_dir("bench-startup");
  DaemonSettings settings;
  settings.redis_url = redis_server.url();
  settings.providers = "  bench-sms: {type: log}\n";
  std::string config = write_daemon_config(dir, settings);
  std::string socket_path = dir + "/notify";
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path.c_str());
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("bind");
    return 1;
  }
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    test::ChildOptions options;
    options.argv = {RAPPEL_BINARY, "run", "--config", config};
    options.env = {{"NOTIFY_SOCKET", socket_path}, {"RAPPEL_LOG_LEVEL", "warn"}};
    options.stdout_mode = options.stderr_mode = test::Output::discard;
    auto start = Clock::now();
    test::ChildProcess daemon(options);
    if (!wait_ready(fd, 20000)) {
      std::printf("run %d: no READY=1 within 20 s\n", i);
      return 1;
    }
    times.push_back(seconds_since(start) * 1000);
    daemon.terminate(SIGTERM);
    daemon.wait(std::chrono::seconds(10));
  }
  close(fd);
  std::filesystem::remove_all(dir);
  std::sort(times.begin(), times.end());
  std::printf("exec -> READY=1: min %.1f ms, median %.1f ms, max %.1f ms\n", times.front(),
              times[times.size() / 2], times.back());
  return 0;
}

}  // namespace rappel::bench
