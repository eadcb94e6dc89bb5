// A real redis-server for one test (never a mock): its own port chosen by the OS, its own
// directory, optionally with AOF so that it can be restarted without losing data. Also a small
// synchronous client for the test's own reads and writes through the public contract.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <hiredis/hiredis.h>
#include <nlohmann/json.hpp>

#include "support/process.hpp"

namespace rappel::test {

unsigned short free_tcp_port();
std::string make_temp_dir(const std::string& tag);

struct RedisReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, RedisReplyDeleter>;

class RedisServer {
 public:
  explicit RedisServer(bool append_only = false);
  ~RedisServer();

  unsigned short port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  void stop();   // SIGTERM and wait
  void start();  // on the same port and directory
  void restart() {
    stop();
    start();
  }

  // Synchronous commands from the test (a connection per call keeps it simple and robust).
  ReplyPtr command(const std::vector<std::string>& argv) const;
  std::string xadd_payload(const std::string& stream, const std::string& payload) const;
  std::map<std::string, std::string> hgetall(const std::string& key) const;
  // Every entry of a stream, as field maps in order.
  std::vector<std::map<std::string, std::string>> xrange(const std::string& stream) const;
  long long integer(const std::vector<std::string>& argv) const;

 private:
  bool append_only_;
  bool launch();  // starts redis-server on port_; false if what answers there is not it
  bool answers_as_ours() const;
  unsigned short port_;
  std::string dir_;
  std::unique_ptr<ChildProcess> process_;
};

// How many of `ids` (message ids) have `status`, in one Redis round trip (a connection per HGET
// would exhaust the ephemeral ports while polling hundreds of messages).
long long count_with_status(const RedisServer& redis, const std::vector<std::string>& ids,
                            const std::string& status);

// Polls `done` every 20 ms until it holds or `timeout` passes; returns its last value.
bool eventually(const std::function<bool()>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(15));

}  // namespace rappel::test
