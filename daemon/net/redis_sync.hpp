// Synchronous Redis, for what runs once and may block: the administration commands (they run
// and exit) and the Sentinel lookup that precedes each connection of the daemon's client (a few
// short calls with short timeouts, on reconnection only). The daemon's own traffic never uses it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <hiredis/hiredis.h>

#include "daemon/net/redis_endpoint.hpp"
#include "daemon/net/redis_reply.hpp"

namespace rappel {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

class SyncRedis {
 public:
  // Connected to `address` itself (never through Sentinel: see to_master), authenticated with its
  // username and password and on its database; throws std::runtime_error with the reason.
  SyncRedis(const RedisEndpoint& address, std::chrono::milliseconds timeout);
  // The configured Redis: through Sentinel to the current master, where configured.
  static SyncRedis to_master(const RedisEndpoint& configured);

  // Throws std::runtime_error on an error reply ("Redis: <its text>") or a lost connection.
  Reply run(const std::vector<std::string>& argv);

 private:
  struct ContextDeleter {
    void operator()(redisContext* c) const { redisFree(c); }
  };
  std::unique_ptr<redisContext, ContextDeleter> context_;
};

// With Sentinel: `endpoint` with host/port set to the current master's, as the first sentinel that
// answers says. Throws std::runtime_error with what each sentinel said. Without: `endpoint`.
RedisEndpoint resolve_master(const RedisEndpoint& endpoint);

}  // namespace rappel
