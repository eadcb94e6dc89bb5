// Redis from the event loop: hiredis' asynchronous API driven by Boost.Asio.
//
// One RedisClient is one connection. It reconnects by itself with capped backoff when Redis goes
// away; a command issued while disconnected fails at once with an error, and its caller decides
// when to try again (all of rappel's state lives in Redis, so nothing is lost by failing fast).
// Lua scripts go through EVALSHA and fall back to EVAL on NOSCRIPT, so a Redis that restarted or
// failed over (empty script cache) needs no special handling.
//
// With Sentinel, each (re)connection first asks the sentinels, in turn, where the master of the
// configured name is (SENTINEL get-master-addr-by-name), then checks with ROLE that the server
// reached really is a master: a sentinel may lag behind a failover. A READONLY error (the master
// was demoted under us) or a ROLE that is not "master" drops the connection, and the next attempt
// asks the sentinels again. The sentinel query is synchronous with short timeouts: it happens only
// on (re)connection, and keeps this class one state machine instead of two.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <hiredis/hiredis.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/net/lua_script.hpp"
#include "daemon/net/redis_endpoint.hpp"
#include "daemon/net/redis_reply.hpp"

struct redisAsyncContext;

namespace rappel {

// A reply is only valid during the callback. `error` is empty on success; it holds Redis' error
// text for an error reply, or the connection problem when the command could not complete.
using RedisCallback = std::function<void(const redisReply* reply, const std::string& error)>;

class RedisClient : public std::enable_shared_from_this<RedisClient> {
 public:
  RedisClient(boost::asio::io_context& io, RedisEndpoint endpoint, std::string name);
  ~RedisClient();

  void start();  // connects, and keeps reconnecting until stop()
  void stop();
  // Drops the connection now: pending callbacks run, from inside this call, with an error. For the
  // end of the process, while the objects those callbacks reach are still alive.
  void close();
  bool connected() const { return connected_; }
  unsigned long reconnects() const { return reconnects_; }
  // Called (on the loop) each time a connection is established: it answered PING after AUTH and
  // SELECT (with Sentinel: ROLE said master).
  void on_connect(std::function<void()> fn) { on_connect_ = std::move(fn); }

  // Lets pending replies arrive, then disconnects and reconnects (asking the sentinels again).
  void drop_connection(const std::string& why);

  void command(const std::vector<std::string>& argv, RedisCallback done);
  void eval(const LuaScript& script, const std::vector<std::string>& keys,
            const std::vector<std::string>& args, RedisCallback done);

 private:
  struct Watcher;
  void connect();
  void verify();
  void established();
  void schedule_reconnect();
  void handle_disconnect(const std::string& why);
  static void connect_callback(const redisAsyncContext* ac, int status);
  static void disconnect_callback(const redisAsyncContext* ac, int status);

  boost::asio::io_context& io_;
  RedisEndpoint endpoint_;
  std::string name_;
  std::string address_;  // where the current connection goes (the master's, with Sentinel)
  redisAsyncContext* context_ = nullptr;
  std::shared_ptr<Watcher> watcher_;
  boost::asio::steady_timer reconnect_timer_;
  std::chrono::milliseconds backoff_{100};
  bool connected_ = false;
  bool stopped_ = true;
  unsigned long reconnects_ = 0;
  std::function<void()> on_connect_;
};
}  // namespace rappel
