// Status callbacks: every final status POSTed as JSON to the booking backend (`callbacks:`).
//
// The events stream stays the primary record; callbacks are a consumer group (`callbacks`) on
// <prefix>:events, so several daemon instances share the work, a crash loses nothing (the
// entries stay pending and are taken over by XAUTOCLAIM), and a backend outage only delays.
// Entries are handled one at a time, in stream order, so a backend sees `sent` before
// `delivered`. Each final status is POSTed with `Authorization: Bearer`, retried with capped
// exponential backoff on connection errors, 5xx and 429, and acknowledged (XACK) after success
// or after giving up (bounded attempts, or another 4xx): a log line says so, with the message id
// and status only. Delivery is at least once: an answer lost after the backend stored the status
// is sent again, so the payload carries the stream entry id (`event_id`) to deduplicate on.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "daemon/config/config.hpp"
#include "daemon/net/curl_multi.hpp"
#include "daemon/net/redis_client.hpp"

namespace rappel {

bool is_final_status(std::string_view status);

using EventFields = std::vector<std::pair<std::string, std::string>>;
// The JSON body of one callback: the event's id, key, channel, department, status, error,
// attempt, provider and `at`, its `event_id`, and the message's timestamps when known.
nlohmann::json callback_payload(const std::string& event_id, const EventFields& event,
                                const EventFields& timestamps);

class Callbacks {
 public:
  // `redis`: a connection of its own (reads block on it). `consumer`: the instance name.
  Callbacks(boost::asio::io_context& io, CurlMulti& curl, std::shared_ptr<RedisClient> redis,
            StoreSettings store, std::string consumer, CallbackSettings settings);
  void start();
  void stop();

 private:
  struct Entry {
    std::string id;
    EventFields fields;
    bool deleted = false;  // trimmed from the stream before we read it
  };
  void ensure_group();
  void read();
  void reclaim();
  void on_entries(const redisReply* entries);
  void next();
  void post(Entry entry, nlohmann::json payload, int attempt);
  void ack(const std::string& id);
  void later(std::chrono::milliseconds delay, std::function<void()> fn);
  std::chrono::milliseconds backoff(int attempt) const;

  boost::asio::io_context& io_;
  CurlMulti& curl_;
  std::shared_ptr<RedisClient> redis_;
  StoreSettings store_;
  std::string consumer_;
  CallbackSettings settings_;
  boost::asio::steady_timer timer_;
  std::deque<Entry> queue_;
  std::string next_id_ = "0";  // "0": our own pending entries first, then ">" (new ones)
  std::chrono::steady_clock::time_point last_reclaim_{};
  bool stopped_ = true;
};

}  // namespace rappel
