// What the administration commands share (admin.cpp, admin_providers.cpp): a synchronous Redis
// connection, the configuration read without the daemon's HTTP client, and one way of turning
// an exception into a message and an exit code. The commands run once and exit, so blocking calls
// are the simple and right tool here; the daemon itself never uses them.
#pragma once

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <hiredis/hiredis.h>
#include <boost/asio/io_context.hpp>

#include "daemon/base/config_node.hpp"
#include "daemon/config/config.hpp"
#include "daemon/net/redis_client.hpp"

namespace rappel {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};

// Connected (through Sentinel to the current master, where configured), authenticated and on the
// configured database; run() throws on a Redis error.
class SyncRedis {
 public:
  explicit SyncRedis(const RedisEndpoint& configured);
  Reply run(const std::vector<std::string>& argv);

 private:
  std::unique_ptr<redisContext, ContextDeleter> context_;
};

// The configuration as the commands need it: providers built without an HTTP client.
std::shared_ptr<Config> load_for_admin(const std::string& path, boost::asio::io_context& io);

// Runs a command's body: its exit code, or 1 with the error on stderr.
template <typename F>
int guarded(F&& body) {
  try {
    return body();
  } catch (const ConfigError& e) {
    std::cerr << "configuration error: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
  }
  return 1;
}

}  // namespace rappel
