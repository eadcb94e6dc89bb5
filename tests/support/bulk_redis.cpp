// See bulk_redis.hpp.
#include "support/bulk_redis.hpp"

#include <stdexcept>

namespace rappel::test {

namespace {

constexpr size_t kPipelineDepth = 1000;
constexpr size_t kKeysPerScript = 5000;

std::string text(const redisReply* r) {
  if (!r) return {};
  if (r->type == REDIS_REPLY_INTEGER) return std::to_string(r->integer);
  return r->str ? std::string(r->str, r->len) : std::string();
}

// Returns {status, count, status, count, ...} for the hashes in KEYS.
constexpr const char* kCountStatuses = R"LUA(
local counts = {}
for i = 1, #KEYS do
  local s = redis.call('HGET', KEYS[i], 'status') or ''
  counts[s] = (counts[s] or 0) + 1
end
local out = {}
for s, n in pairs(counts) do out[#out + 1] = s; out[#out + 1] = n end
return out
)LUA";

constexpr const char* kFieldOf = R"LUA(
local out = {}
for i = 1, #KEYS do out[i] = redis.call('HGET', KEYS[i], ARGV[1]) or '' end
return out
)LUA";

}  // namespace

BulkRedis::BulkRedis(unsigned short port, std::string prefix)
    : port_(port), prefix_(std::move(prefix)) {
  if (!reconnect()) throw std::runtime_error("BulkRedis: cannot connect");
}

BulkRedis::~BulkRedis() {
  if (context_) redisFree(context_);
}

bool BulkRedis::reconnect() {
  if (context_) redisFree(context_);
  timeval timeout{10, 0};
  context_ = redisConnectWithTimeout("127.0.0.1", port_, timeout);
  if (!context_ || context_->err) return false;
  redisSetTimeout(context_, timeout);
  return true;
}

void BulkRedis::append(const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lengths;
  for (const auto& a : argv) args.push_back(a.data()), lengths.push_back(a.size());
  redisAppendCommandArgv(context_, static_cast<int>(args.size()), args.data(), lengths.data());
}

redisReply* BulkRedis::next_reply() {
  void* reply = nullptr;
  if (redisGetReply(context_, &reply) != REDIS_OK || !reply)
    throw std::runtime_error("BulkRedis: connection lost");
  auto* r = static_cast<redisReply*>(reply);
  if (r->type == REDIS_REPLY_ERROR) {
    std::string error = text(r);
    freeReplyObject(r);
    throw std::runtime_error("Redis: " + error);
  }
  return r;
}

redisReply* BulkRedis::run(const std::vector<std::string>& argv) {
  append(argv);
  return next_reply();
}

std::vector<std::string> BulkRedis::enqueue(const std::vector<std::string>& payloads) {
  std::vector<std::string> ids;
  ids.reserve(payloads.size());
  std::string inbox = prefix_ + ":inbox";
  for (size_t start = 0; start < payloads.size(); start += kPipelineDepth) {
    size_t end = std::min(payloads.size(), start + kPipelineDepth);
    for (size_t i = start; i < end; ++i) append({"XADD", inbox, "*", "payload", payloads[i]});
    for (size_t i = start; i < end; ++i) {
      redisReply* r = next_reply();
      ids.push_back(text(r));
      freeReplyObject(r);
    }
  }
  return ids;
}

std::map<std::string, long long> BulkRedis::count_statuses(const std::vector<std::string>& ids) {
  std::map<std::string, long long> counts;
  for (size_t start = 0; start < ids.size(); start += kKeysPerScript) {
    size_t end = std::min(ids.size(), start + kKeysPerScript);
    std::vector<std::string> argv{"EVAL", kCountStatuses, std::to_string(end - start)};
    for (size_t i = start; i < end; ++i) argv.push_back(prefix_ + ":msg:" + ids[i]);
    redisReply* r = run(argv);
    for (size_t i = 0; i + 1 < r->elements; i += 2)
      counts[text(r->element[i])] += r->element[i + 1]->integer;
    freeReplyObject(r);
  }
  return counts;
}

std::vector<std::string> BulkRedis::field_of(const std::vector<std::string>& ids,
                                             const std::string& field) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (size_t start = 0; start < ids.size(); start += kKeysPerScript) {
    size_t end = std::min(ids.size(), start + kKeysPerScript);
    std::vector<std::string> argv{"EVAL", kFieldOf, std::to_string(end - start)};
    for (size_t i = start; i < end; ++i) argv.push_back(prefix_ + ":msg:" + ids[i]);
    argv.push_back(field);
    redisReply* r = run(argv);
    for (size_t i = 0; i < r->elements; ++i) out.push_back(text(r->element[i]));
    freeReplyObject(r);
  }
  return out;
}

long long BulkRedis::unfinished(long long due_before_ms) {
  append({"XLEN", prefix_ + ":inbox"});
  append({"ZCOUNT", prefix_ + ":schedule", "-inf", std::to_string(due_before_ms)});
  append({"ZCARD", prefix_ + ":inflight"});
  long long total = 0;
  for (int i = 0; i < 3; ++i) {
    redisReply* r = next_reply();
    total += r->integer;
    freeReplyObject(r);
  }
  return total;
}

long long BulkRedis::integer(const std::vector<std::string>& argv) {
  redisReply* r = run(argv);
  long long value = r->type == REDIS_REPLY_INTEGER ? r->integer : std::atoll(text(r).c_str());
  freeReplyObject(r);
  return value;
}

std::string BulkRedis::string(const std::vector<std::string>& argv) {
  redisReply* r = run(argv);
  std::string value = text(r);
  freeReplyObject(r);
  return value;
}

}  // namespace rappel::test
