// See reliability.hpp.
#include "reliability/reliability.hpp"

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

}  // namespace rappel::test
