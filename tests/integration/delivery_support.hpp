// Shared by the delivery-guarantee tests: provider stand-ins that misbehave on cue,
// their accounts in the YAML, and reading a message's history from the events stream.
#pragma once

#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "integration/scenario.hpp"
#include "support/provider_server.hpp"

namespace rappel::test::delivery {

constexpr const char* kToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.cd77-delivery";
constexpr const char* kNetsizePassword = "mot-de-passe-cd77";
constexpr const char* kSmsFactorOk =
    R"({"status":1,"message":"OK","ticket":"14672468","cost":1,"credits":642,"total":1,"sent":1})";
constexpr const char* kSmsFactorNoCredit =
    R"({"status":-3,"message":"Error","details":"Insufficient credits"})";
constexpr const char* kNetsizeOk =
    R"({"responseCode":0,"responseMessage":"Success.","traceId":"8f1c2a","messageIds":["5f0e2b"]})";

inline void export_secrets() {
  setenv("RAPPEL_DELIVERY_SMSFACTOR_TOKEN", kToken, 1);
  setenv("RAPPEL_DELIVERY_NETSIZE_PASSWORD", kNetsizePassword, 1);
}

// `extra`: more keys of the account, e.g. ", rate_limit: \"20/s\"".
inline std::string sms_factor_account(const std::string& name, const ProviderServer& server,
                                      const std::string& extra = "") {
  return "  " + name +
         R"(: {type: sms_factor, token: "${RAPPEL_DELIVERY_SMSFACTOR_TOKEN}", url: ")" +
         server.url("/send") + "\"" + extra + "}\n";
}

inline std::string netsize_account(const std::string& name, const ProviderServer& server,
                                   const std::string& extra = "") {
  return "  " + name +
         R"(: {type: netsize, login: cd77, password: "${RAPPEL_DELIVERY_NETSIZE_PASSWORD}", )"
         "sender: RdvSoli, url: \"" +
         server.url("/restapi/v1/sms/send") + "\"" + extra + "}\n";
}

// A stand-in whose answer depends on the request's number (0-based) and on a switch the test
// flips; it notes when each request arrived and for which message.
struct Script {
  std::mutex mutex;
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  std::vector<std::string> ids;  // SMS Factor's gsmsmsid / Netsize's userData... when present
  std::function<ScriptedResponse(size_t)> answer;
  ProviderServer::Handler handler() {
    return [this](const RecordedRequest& r) {
      std::lock_guard lock(mutex);
      arrivals.push_back(std::chrono::steady_clock::now());
      auto id = r.query.find("gsmsmsid");
      ids.push_back(id == r.query.end() ? "" : id->second);
      return answer(arrivals.size() - 1);
    };
  }
  size_t count() {
    std::lock_guard lock(mutex);
    return arrivals.size();
  }
  size_t count_for(const std::string& id) {
    std::lock_guard lock(mutex);
    return std::count(ids.begin(), ids.end(), id);
  }
};

// Every event of one message, in order.
inline std::vector<std::map<std::string, std::string>> events_of(Scenario& s,
                                                                 const std::string& id) {
  std::vector<std::map<std::string, std::string>> out;
  for (auto& e : s.redis.xrange("rappel:events"))
    if (e["id"] == id) out.push_back(e);
  return out;
}

// Events about provider accounts (empty id) with this status.
inline std::vector<std::map<std::string, std::string>> account_events(Scenario& s,
                                                                      const std::string& status) {
  std::vector<std::map<std::string, std::string>> out;
  for (auto& e : s.redis.xrange("rappel:events"))
    if (e["id"].empty() && e["status"] == status) out.push_back(e);
  return out;
}

// How many of `ids` are in one of `statuses`, and the sum of their attempts (one round trip).
inline std::pair<long long, long long> tally(Scenario& s, const std::vector<std::string>& ids,
                                             const std::vector<std::string>& statuses) {
  std::string lua =
      "local n, a = 0, 0 for i = 1, #KEYS do local m = redis.call('HMGET', KEYS[i], 'status', "
      "'attempts') for j = 1, #ARGV do if m[1] == ARGV[j] then n = n + 1 end end "
      "a = a + tonumber(m[2] or '0') end return {n, a}";
  std::vector<std::string> argv{"EVAL", lua, std::to_string(ids.size())};
  for (const auto& id : ids) argv.push_back("rappel:msg:" + id);
  for (const auto& st : statuses) argv.push_back(st);
  auto reply = s.redis.command(argv);
  return {reply->element[0]->integer, reply->element[1]->integer};
}

}  // namespace rappel::test::delivery
