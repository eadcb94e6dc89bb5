// See fd_limit.hpp.
#include "daemon/ops/fd_limit.hpp"

#include <sys/resource.h>

#include "daemon/config/config.hpp"

namespace rappel {

OpenFilesLimit current_open_files_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return {};
  return {limit.rlim_cur, limit.rlim_max};
}

OpenFilesLimit raise_open_files_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return {};
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return {limit.rlim_cur, limit.rlim_max};
}

namespace {
std::uint64_t public_connections(const Config& config) {
  return config.public_http ? config.public_http->max_connections : 0;
}
}  // namespace

std::uint64_t descriptors_needed(const Config& config) {
  return std::uint64_t(config.dispatch.max_in_flight) + config.http.max_connections +
         public_connections(config) + kReservedDescriptors;
}

std::optional<std::string> descriptor_shortfall(const Config& config, OpenFilesLimit limit) {
  std::uint64_t needed = descriptors_needed(config);
  if (limit.soft == 0 || needed <= limit.soft) return std::nullopt;
  return "the open files limit (" + std::to_string(limit.soft) + ") cannot hold " +
         std::to_string(needed) + " descriptors: dispatch.max_in_flight (" +
         std::to_string(config.dispatch.max_in_flight) + ") + http.max_connections (" +
         std::to_string(config.http.max_connections) + ") + " +
         (config.public_http
              ? "public.max_connections (" + std::to_string(public_connections(config)) + ") + "
              : std::string()) +
         std::to_string(kReservedDescriptors) +
         " reserved; sends would fail for lack of sockets. Raise LimitNOFILE= in the unit (or "
         "`ulimit -n`), or lower those settings";
}

}  // namespace rappel
