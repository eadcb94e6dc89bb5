// `rappel status --providers`: each provider account's credit, circuit and rate, as the running
// daemons recorded them in Redis (Store::record_credit, Store::record_circuit) and as the rate
// limiter's key books it. The command reads only: what it shows is what ops need when a
// département says its reminders are late (an open circuit, a credit gone, a rate saturated).
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "daemon/ops/admin.hpp"
#include "daemon/ops/admin_support.hpp"
#include "daemon/store/store.hpp"

namespace rappel {
namespace {

using nlohmann::json;

std::string rate_text(const RateLimit& r) {
  auto ms = r.period.count();
  std::string unit = ms == 1000       ? "s"
                     : ms == 60'000   ? "min"
                     : ms == 3600'000 ? "h"
                                      : std::to_string(ms) + "ms";
  return std::to_string(r.count) + "/" + unit;
}

std::map<std::string, std::string> hash_of(SyncRedis& redis, const std::string& key) {
  std::map<std::string, std::string> fields;
  Reply r = redis.run({"HGETALL", key});
  for (size_t i = 0; i + 1 < r->elements; i += 2)
    fields[reply_string(r->element[i])] = reply_string(r->element[i + 1]);
  return fields;
}

// Microseconds on Redis' own clock, the one the rate limiter books slots on.
long long redis_now_us(SyncRedis& redis) {
  Reply t = redis.run({"TIME"});
  return std::stoll(reply_string(t->element[0])) * 1'000'000 +
         std::stoll(reply_string(t->element[1]));
}

json account_status(SyncRedis& redis, const Config& config, const std::string& account,
                    long long now_us) {
  const StoreSettings& keys = config.store;
  json a{{"account", account}, {"type", config.provider_types.at(account)}};
  auto recorded = hash_of(redis, keys.account(account));
  if (recorded.count("credits")) {
    a["credits"] = std::stod(recorded["credits"]);
    a["credits_at"] = recorded["credits_at"];
  }
  const AccountPolicy* policy = nullptr;
  if (auto it = config.account_policies.find(account); it != config.account_policies.end())
    policy = &it->second;
  if (policy && policy->low_credit) {
    a["low_credit"] = *policy->low_credit;
    Reply low = redis.run({"EXISTS", keys.credit_low(account)});
    a["below_low_credit"] = low->integer == 1;
  }
  if (policy && policy->rate_limit) {
    a["rate_limit"] = rate_text(*policy->rate_limit);
    Reply tat = redis.run({"GET", keys.rate(account)});
    long long booked = tat->type == REDIS_REPLY_STRING ? std::stoll(reply_string(tat.get())) : 0;
    a["booked_ahead_ms"] = std::max(0LL, booked - now_us) / 1000;
  }
  json circuits = json::object();
  for (const auto& [field, value] : recorded) {
    if (field.rfind("circuit:", 0) != 0) continue;
    auto space = value.find(' ');
    circuits[field.substr(8)] = {
        {"state", value.substr(0, space)},
        {"since", space == std::string::npos ? "" : value.substr(space + 1)}};
  }
  a["circuits"] = circuits;
  return a;
}

std::string credit_column(const json& a) {
  if (!a.contains("credits")) return "-";
  std::string text = credit_text(a["credits"].get<double>());
  if (a.value("below_low_credit", false)) text += " LOW";
  return text;
}

void print_table(const json& accounts) {
  std::cout << std::left << std::setw(22) << "ACCOUNT" << std::setw(24) << "TYPE" << std::setw(14)
            << "CREDIT" << std::setw(11) << "LOW_CREDIT" << std::setw(22) << "CREDIT_AT"
            << std::setw(10) << "RATE" << std::setw(14) << "BOOKED_AHEAD"
            << "CIRCUITS\n";
  for (const auto& a : accounts) {
    std::ostringstream circuits;
    for (const auto& [instance, c] : a["circuits"].items())
      circuits << (circuits.tellp() ? ", " : "") << instance << " " << c["state"].get<std::string>()
               << " since " << c["since"].get<std::string>();
    std::cout << std::setw(22) << a["account"].get<std::string>() << std::setw(24)
              << a["type"].get<std::string>() << std::setw(14) << credit_column(a) << std::setw(11)
              << (a.contains("low_credit") ? std::to_string(a["low_credit"].get<long>()) : "-")
              << std::setw(22) << a.value("credits_at", "-") << std::setw(10)
              << a.value("rate_limit", "-") << std::setw(14)
              << (a.contains("booked_ahead_ms")
                      ? std::to_string(a["booked_ahead_ms"].get<long long>()) + " ms"
                      : "-")
              << (circuits.tellp() ? circuits.str() : "none recorded") << "\n";
  }
}

}  // namespace

int providers_status_command(const std::string& config_path, bool as_json) {
  return guarded([&] {
    boost::asio::io_context io;
    auto config = load_for_admin(config_path, io);
    SyncRedis redis = SyncRedis::to_master(config->redis);
    long long now_us = redis_now_us(redis);
    json accounts = json::array();
    for (const auto& [account, provider] : config->providers)
      accounts.push_back(account_status(redis, *config, account, now_us));
    if (as_json)
      std::cout << accounts.dump(2) << "\n";
    else
      print_table(accounts);
    return 0;
  });
}

}  // namespace rappel
