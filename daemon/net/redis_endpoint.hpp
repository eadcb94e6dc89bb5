// Where Redis is: one server by address or unix socket, or the master that Sentinel names. Read
// from the configuration's `redis:` section (redis.url, redis.sentinel); used by the daemon's
// asynchronous client and by the synchronous one of the administration commands alike.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rappel {

struct SentinelSettings {
  std::vector<std::pair<std::string, int>> addresses;  // host, port
  std::string master_name;
  std::string username;  // for sentinels that require AUTH (their own, not the master's)
  std::string password;
};

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string unix_path;  // when set, host/port are ignored
  std::string username;
  std::string password;
  int database = 0;
  SentinelSettings sentinel;  // when it has addresses, host/port come from the sentinels
  bool uses_sentinel() const { return !sentinel.addresses.empty(); }
  std::string describe() const;  // for logs: never the password
};

// "host:port" (or "[v6]:port") to a pair; throws std::invalid_argument.
std::pair<std::string, int> parse_host_port(std::string_view text);

// redis://[[user]:password@]host[:port][/db] or unix:///path/to/socket[?db=N]. Throws
// std::invalid_argument with the reason.
RedisEndpoint parse_redis_url(std::string_view url);

}  // namespace rappel
