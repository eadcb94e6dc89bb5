// File descriptors: the daemon's budget of them, and the soft limit raised to fit it.
//
// Every send in flight holds a socket, every HTTP client of the endpoint one more, and Redis,
// journald and the event loop a few. At the usual soft limit of 1024, a flood of idle HTTP
// clients once took the descriptors that provider connections needed: sends failed as if the
// providers were down. So the soft limit is raised to the hard one at start (outside systemd;
// the unit sets LimitNOFILE= since its system call filter forbids setrlimit), and the budget is
// checked against the limit in force, by the daemon at start and by `rappel check-config`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace rappel {

struct Config;

struct OpenFilesLimit {
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

// Descriptors kept beyond the sends and HTTP connections: Redis connections, log and journal
// sockets, timers, the SMTP relays, configuration and template files being read.
inline constexpr std::uint64_t kReservedDescriptors = 64;

OpenFilesLimit current_open_files_limit();
// Raises the soft limit to the hard one; returns the limit in force afterwards (unchanged when
// setrlimit is refused, as under the unit's system call filter).
OpenFilesLimit raise_open_files_limit();
// dispatch.max_in_flight + http.max_connections + kReservedDescriptors.
std::uint64_t descriptors_needed(const Config& config);
// A warning when the configuration cannot fit `limit`, saying which settings to lower or raise.
std::optional<std::string> descriptor_shortfall(const Config& config, OpenFilesLimit limit);

}  // namespace rappel
