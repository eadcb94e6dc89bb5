// See redis_sync.hpp.
#include "daemon/net/redis_sync.hpp"

#include <cstdlib>
#include <stdexcept>

namespace rappel {

namespace {

timeval to_timeval(std::chrono::milliseconds t) {
  return {static_cast<time_t>(t.count() / 1000), static_cast<suseconds_t>(t.count() % 1000 * 1000)};
}

// A sentinel is local to the network, or it is down.
constexpr std::chrono::milliseconds kSentinelTimeout{500};

// What one sentinel says about the master: the address, or throws with the reason.
std::pair<std::string, int> ask_sentinel(const std::string& host, int port,
                                         const SentinelSettings& settings) {
  RedisEndpoint sentinel;
  sentinel.host = host;
  sentinel.port = port;
  sentinel.username = settings.username;  // the sentinels' own credentials
  sentinel.password = settings.password;
  SyncRedis c(sentinel, kSentinelTimeout);
  Reply r = c.run({"SENTINEL", "get-master-addr-by-name", settings.master_name});
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
    throw std::runtime_error("knows no master named '" + settings.master_name + "'");
  return {reply_string(r->element[0]), std::atoi(reply_string(r->element[1]).c_str())};
}

}  // namespace

SyncRedis::SyncRedis(const RedisEndpoint& ep, std::chrono::milliseconds timeout) {
  const timeval tv = to_timeval(timeout);
  context_.reset(ep.unix_path.empty() ? redisConnectWithTimeout(ep.host.c_str(), ep.port, tv)
                                      : redisConnectUnixWithTimeout(ep.unix_path.c_str(), tv));
  if (!context_ || context_->err)
    throw std::runtime_error("cannot connect to Redis at " + ep.describe() + ": " +
                             (context_ ? context_->errstr : "out of memory"));
  redisSetTimeout(context_.get(), tv);
  if (!ep.password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!ep.username.empty()) auth.push_back(ep.username);
    auth.push_back(ep.password);
    run(auth);
  }
  if (ep.database) run({"SELECT", std::to_string(ep.database)});
}

SyncRedis SyncRedis::to_master(const RedisEndpoint& configured) {
  return SyncRedis(resolve_master(configured), std::chrono::seconds(5));
}

Reply SyncRedis::run(const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lengths;
  for (const auto& a : argv) args.push_back(a.data()), lengths.push_back(a.size());
  Reply r(static_cast<redisReply*>(redisCommandArgv(context_.get(), static_cast<int>(args.size()),
                                                    args.data(), lengths.data())));
  if (!r) throw std::runtime_error(std::string("Redis: ") + context_->errstr);
  if (r->type == REDIS_REPLY_ERROR) throw std::runtime_error("Redis: " + reply_string(r.get()));
  return r;
}

RedisEndpoint resolve_master(const RedisEndpoint& endpoint) {
  if (!endpoint.uses_sentinel()) return endpoint;
  std::string problems;
  for (const auto& [host, port] : endpoint.sentinel.addresses) {
    try {
      auto [master_host, master_port] = ask_sentinel(host, port, endpoint.sentinel);
      RedisEndpoint master = endpoint;
      master.host = master_host;
      master.port = master_port;
      master.unix_path.clear();
      return master;
    } catch (const std::exception& e) {
      problems +=
          (problems.empty() ? "" : "; ") + host + ":" + std::to_string(port) + ": " + e.what();
    }
  }
  throw std::runtime_error("no sentinel named the master '" + endpoint.sentinel.master_name +
                           "' (" + problems + ")");
}

}  // namespace rappel
