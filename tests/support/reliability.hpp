// Shared by the reliability suite: a provider stand-in that counts what reached it per message
// (SMS Factor's API, whose `gsmsmsid` parameter carries rappel's message id, so that duplicates
// and attempts can be counted on the provider's side), bulk enqueueing through the contract, and
// the daemon's memory as the kernel sees it.
//
// The scenarios break things on purpose (SIGKILL, Redis restarts, failing providers, garbage in
// the inbox) and then assert figures: how many messages ended in which status, how many requests
// the provider saw, how those add up. Heavy variants (tag [.heavy]) run production sizes (hundreds of
// thousands of messages) and are hidden by default: `scripts/test --heavy` runs them.
#pragma once

#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "integration/scenario.hpp"
#include "support/bulk_redis.hpp"
#include "support/provider_server.hpp"

namespace rappel::test {

// SMS Factor's answer to a successful /send (one SMS, one number).
inline constexpr const char* kSmsFactorOk =
    R"({"status":1,"message":"OK","ticket":"14672468","cost":1,"credits":642,"total":1,"sent":1,)"
    R"("blacklisted":0,"invalid":0,"invalid_numbers":[],"npai":0,"not_allowed":0,"flood":0,)"
    R"("country_limit":0,"duplicated":0})";

// What the stand-in does with one request.
enum class Answer { ok, server_error, too_slow };

class ReliabilityProvider {
 public:
  // `fault(n)` decides the answer to the n-th request (0-based); by default every one is accepted.
  explicit ReliabilityProvider(std::function<Answer(size_t)> fault = {});

  std::string account(const std::string& name, const std::string& settings = "") const;
  size_t total() const;
  std::map<std::string, int> per_message() const;  // message id -> requests received
  std::set<std::string> timed_out() const;         // ids that got at least one too_slow answer
  std::map<std::string, Answer> last_answer() const;

 private:
  mutable std::mutex mutex_;
  std::function<Answer(size_t)> fault_;
  size_t total_ = 0;
  std::map<std::string, int> per_message_;
  std::set<std::string> timed_out_;
  std::map<std::string, Answer> last_;
  ProviderServer server_;
};

// Keys "<prefix>-<i>" for i in [0, n): reminders due now (French data) and their SMS message ids.
struct Batch {
  std::vector<std::string> payloads, ids;
};
Batch reminders(const std::string& prefix, int n, int first = 0);

// The pid of the running rappel child of this test process started with `--instance instance`.
int daemon_pid(const std::string& instance);
long daemon_kib(int pid, const char* field);  // "VmRSS", "VmHWM"

// True when every message of `ids` has a final status (the daemon has nothing left of them).
bool all_final(BulkRedis& redis, const std::vector<std::string>& ids);

// For a failure message when `ids` did not all become final: the status counts, the inbox (length,
// entries pending in the group), the schedule and inflight sizes, and for the first `shown`
// unfinished messages their state hash, zset scores and event trail with the daemon log lines
// that name them; then whether each daemon still runs (or how it ended) and the end of its log.
// Ids and state only: the personal data lives in content:<id>, which is not read, and the daemon
// never logs it.
std::string unfinished_report(BulkRedis& redis, const std::vector<std::string>& ids, Scenario& s,
                              size_t shown = 8);

}  // namespace rappel::test
