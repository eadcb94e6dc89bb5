// See admin_support.hpp.
#include "daemon/ops/admin_support.hpp"

#include <stdexcept>

namespace rappel {

SyncRedis::SyncRedis(const RedisEndpoint& configured) {
  RedisEndpoint ep = resolve_master(configured);  // with Sentinel, the current master
  timeval timeout{5, 0};
  context_.reset(ep.unix_path.empty() ? redisConnectWithTimeout(ep.host.c_str(), ep.port, timeout)
                                      : redisConnectUnixWithTimeout(ep.unix_path.c_str(), timeout));
  if (!context_ || context_->err)
    throw std::runtime_error("cannot connect to Redis at " + ep.describe() + ": " +
                             (context_ ? context_->errstr : "out of memory"));
  if (!ep.password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!ep.username.empty()) auth.push_back(ep.username);
    auth.push_back(ep.password);
    run(auth);
  }
  if (ep.database) run({"SELECT", std::to_string(ep.database)});
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

std::shared_ptr<Config> load_for_admin(const std::string& path, boost::asio::io_context& io) {
  ProviderContext ctx{io, nullptr};
  return load_config(path, ctx);
}

}  // namespace rappel
