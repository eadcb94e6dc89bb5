// A pipelined Redis client for load: the benchmarks and the reliability suite enqueue tens of
// thousands of entries and count the statuses of as many messages, which a connection per command
// (RedisServer::command) cannot do in reasonable time. One connection, commands sent in batches,
// status counts done by a Lua script inside Redis (one round trip per few thousand messages).
#pragma once

#include <hiredis/hiredis.h>

#include <map>
#include <string>
#include <vector>

namespace rappel::test {

class BulkRedis {
 public:
  explicit BulkRedis(unsigned short port, std::string prefix = "rappel");
  ~BulkRedis();
  BulkRedis(const BulkRedis&) = delete;
  BulkRedis& operator=(const BulkRedis&) = delete;

  // XADD <prefix>:inbox * payload <p> for each payload, pipelined; returns the entry ids.
  std::vector<std::string> enqueue(const std::vector<std::string>& payloads);
  // Status -> how many of the messages `ids` ("<key>:<channel>") have it ("" for no record).
  std::map<std::string, long long> count_statuses(const std::vector<std::string>& ids);
  // One hash field of each message, in the order of `ids` (e.g. "attempts").
  std::vector<std::string> field_of(const std::vector<std::string>& ids, const std::string& field);
  // Work not finished yet: inbox entries, schedule entries due before `due_before_ms`, leases.
  long long unfinished(long long due_before_ms);
  long long integer(const std::vector<std::string>& argv);
  std::string string(const std::vector<std::string>& argv);  // a bulk or status reply's text
  // Reconnects (after a Redis restart); returns false if Redis does not answer.
  bool reconnect();

 private:
  redisReply* run(const std::vector<std::string>& argv);
  void append(const std::vector<std::string>& argv);
  redisReply* next_reply();

  unsigned short port_;
  std::string prefix_;
  redisContext* context_ = nullptr;
};

}  // namespace rappel::test
