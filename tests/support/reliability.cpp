// See reliability.hpp.
#include "support/reliability.hpp"

#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace rappel::test {

ReliabilityProvider::ReliabilityProvider(std::function<Answer(size_t)> fault)
    : fault_(std::move(fault)), server_([this](const RecordedRequest& request) {
        std::lock_guard lock(mutex_);
        Answer answer = fault_ ? fault_(total_) : Answer::ok;
        ++total_;
        auto id = request.query.find("gsmsmsid");
        std::string message = id == request.query.end() ? "" : id->second;
        ++per_message_[message];
        last_[message] = answer;
        if (answer == Answer::server_error)
          return ScriptedResponse{503, R"({"status":-99,"message":"Service indisponible"})"};
        if (answer == Answer::too_slow) {
          timed_out_.insert(message);
          return ScriptedResponse{200, kSmsFactorOk, {}, std::chrono::seconds(3)};
        }
        return ScriptedResponse{200, kSmsFactorOk};
      }) {}

std::string ReliabilityProvider::account(const std::string& name,
                                         const std::string& settings) const {
  return "  " + name + ": {type: sms_factor, token: reliability-token, url: \"" +
         server_.url("/send") + "\"" + (settings.empty() ? "" : ", " + settings) + "}\n";
}

size_t ReliabilityProvider::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

std::map<std::string, int> ReliabilityProvider::per_message() const {
  std::lock_guard lock(mutex_);
  return per_message_;
}

std::set<std::string> ReliabilityProvider::timed_out() const {
  std::lock_guard lock(mutex_);
  return timed_out_;
}

std::map<std::string, Answer> ReliabilityProvider::last_answer() const {
  std::lock_guard lock(mutex_);
  return last_;
}

Batch reminders(const std::string& prefix, int n, int first) {
  Batch batch;
  for (int i = first; i < first + n; ++i) {
    std::string key = prefix + "-" + std::to_string(i);
    batch.payloads.push_back(reminder(key).dump());
    batch.ids.push_back(key + ":sms");
  }
  return batch;
}

namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}
}  // namespace

int daemon_pid(const std::string& instance) {
  std::string needle = std::string("--instance") + '\0' + instance + '\0';
  for (auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::istringstream children(slurp(task.path().string() + "/children"));
    int pid;
    while (children >> pid) {
      std::string cmdline = slurp("/proc/" + std::to_string(pid) + "/cmdline");
      if (cmdline.find(needle) != std::string::npos) return pid;
    }
  }
  return -1;
}

long daemon_kib(int pid, const char* field) {
  std::istringstream status(slurp("/proc/" + std::to_string(pid) + "/status"));
  std::string prefix = std::string(field) + ":";
  for (std::string line; std::getline(status, line);)
    if (line.rfind(prefix, 0) == 0) return std::stol(line.substr(prefix.size()));
  return -1;
}

bool all_final(BulkRedis& redis, const std::vector<std::string>& ids) {
  auto counts = redis.count_statuses(ids);
  return counts["sent"] + counts["failed"] + counts["expired"] ==
         static_cast<long long>(ids.size());
}

namespace {

// Where the inbox stands: its length, the group (last delivered id, lag) and the pending entries.
constexpr const char* kInboxState = R"LUA(
local t = redis.call('TIME')
local out = {'now_ms=' .. (t[1] * 1000 + math.floor(t[2] / 1000)),
             'inbox_len=' .. redis.call('XLEN', KEYS[1]),
             'schedule=' .. redis.call('ZCARD', KEYS[2]),
             'inflight=' .. redis.call('ZCARD', KEYS[3])}
if redis.call('EXISTS', KEYS[1]) == 1 then
  out[#out + 1] = 'groups=' .. cjson.encode(redis.call('XINFO', 'GROUPS', KEYS[1]))
  local ok, pending = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1], '-', '+', 5)
  if ok then out[#out + 1] = 'pending(first 5)=' .. cjson.encode(pending) end
end
return table.concat(out, ' ')
)LUA";

// One message: its state hash (no personal data: that is in content:<id>), its scores in the
// schedule and inflight zsets, and its trail on the events stream.
constexpr const char* kMessageState = R"LUA(
local id = ARGV[1]
local out = {'hash=' .. cjson.encode(redis.call('HGETALL', KEYS[1])),
             'schedule=' .. tostring(redis.call('ZSCORE', KEYS[2], id)),
             'inflight=' .. tostring(redis.call('ZSCORE', KEYS[3], id))}
local trail = {}
for _, e in ipairs(redis.call('XRANGE', KEYS[4], '-', '+')) do
  local f = {}
  for i = 1, #e[2], 2 do f[e[2][i]] = e[2][i + 1] end
  if f.id == id then trail[#trail + 1] = f.status .. '@' .. f.at .. '#' .. f.attempt end
end
out[#out + 1] = 'events=' .. table.concat(trail, ',')
return table.concat(out, ' ')
)LUA";

bool is_final(const std::string& status) {
  return status == "sent" || status == "failed" || status == "expired";
}

// The lines of `log` that contain one of `needles` ("" matches every line), the last `limit`.
std::string lines_with(const std::string& log, const std::vector<std::string>& needles,
                       size_t limit) {
  std::deque<std::string> kept;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    for (const auto& needle : needles) {
      if (line.find(needle) == std::string::npos) continue;
      kept.push_back(line);
      if (kept.size() > limit) kept.pop_front();
      break;
    }
  }
  std::string out;
  for (const auto& line : kept) out += "    " + line + "\n";
  return out;
}

}  // namespace

std::string unfinished_report(BulkRedis& redis, const std::vector<std::string>& ids, Scenario& s,
                              size_t shown) {
  std::string daemon_log = s.all_logs();
  std::ostringstream out;
  out << "statuses:";
  for (const auto& [status, n] : redis.count_statuses(ids))
    out << " " << (status.empty() ? "(none)" : status) << "=" << n;
  out << "\n"
      << redis.string({"EVAL", kInboxState, "3", "rappel:inbox", "rappel:schedule",
                       "rappel:inflight", "rappel"})
      << "\n";
  auto statuses = redis.field_of(ids, "status");
  size_t listed = 0;
  for (size_t i = 0; i < ids.size() && listed < shown; ++i) {
    if (is_final(statuses[i])) continue;
    ++listed;
    out << ids[i] << ": "
        << redis.string({"EVAL", kMessageState, "4", "rappel:msg:" + ids[i], "rappel:schedule",
                         "rappel:inflight", "rappel:events", ids[i]})
        << "\n"
        << lines_with(daemon_log, {ids[i]}, 20);
  }
  for (size_t i = 0; i < s.daemons.size(); ++i) {
    auto status = s.daemons[i]->wait(std::chrono::milliseconds(0));
    out << "daemon " << i << ": "
        << (status
                ? "exited with status " + std::to_string(*status) + " (128 + N: killed by signal N)"
                : std::string("running"))
        << "\n";
  }
  out << "daemon warnings and errors (last 40):\n"
      << lines_with(daemon_log, {" warning ", " error ", " critical "}, 40)
      << "daemon log (last 30 lines):\n"
      << lines_with(daemon_log, {""}, 30);
  return out.str();
}

}  // namespace rappel::test
