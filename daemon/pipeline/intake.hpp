// Intake: reads the backend's inbox stream with a consumer group and applies each entry.
//
// Entries are read by a script (Store::read_inbox) bounded in count and bytes, on the intake's
// own Redis connection, so it never delays the dispatch loop's commands; an idle intake looks
// again every 50 ms. An entry is acknowledged by the same Lua script that stores its effect, so a
// crash at any point either applied an entry fully or left it pending; entries a dead instance left
// pending are taken over with XAUTOCLAIM after `intake.reclaim_after`.
#pragma once

#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/config/config.hpp"
#include "daemon/store/store.hpp"

namespace rappel {

class Intake {
 public:
  Intake(boost::asio::io_context& io, std::shared_ptr<RedisClient> reader, Store& store,
         ConfigSource config, std::function<void(Millis)> wake);

  void start();
  void stop();
  unsigned long entries_total() const { return entries_total_; }

 private:
  void ensure_group();
  void read();
  void on_entries(const redisReply* entries);
  void apply(std::vector<IntakeOp> ops, std::function<void(bool)> done);
  void reclaim();
  void retry_later();
  void poll_later();

  boost::asio::io_context& io_;
  std::shared_ptr<RedisClient> reader_;
  Store& store_;
  ConfigSource config_;
  std::function<void(Millis)> wake_;
  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer poll_timer_;
  boost::asio::steady_timer reclaim_timer_;
  std::string next_id_ = "0";  // "0": our own pending entries first, then ">" for new ones
  bool stopped_ = true;
  bool reading_ = false;
  bool reread_pending_ = false;  // entries taken over: read our pending list again
  unsigned long entries_total_ = 0;
};

}  // namespace rappel
