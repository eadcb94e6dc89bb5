// The daemon's configuration: one YAML file, validated completely before anything runs.
//
// Loading builds everything the configuration names (provider accounts, template sets) so that a
// configuration that loads is one that works; `check-config`, start-up and reload share this path.
// A loaded Config is immutable and shared: a reload builds a new one and swaps the pointer, and
// messages in flight finish with the one they started with.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/base/department_code.hpp"
#include "daemon/base/priority.hpp"
#include "daemon/base/provider.hpp"
#include "daemon/config/delivery_settings.hpp"
#include "daemon/content/templates.hpp"
#include "daemon/net/http_server.hpp"
#include "daemon/net/redis_client.hpp"
#include "daemon/store/store.hpp"

namespace rappel {

struct RetryPolicy {
  std::chrono::milliseconds base{30'000};
  std::chrono::milliseconds cap{3'600'000};
  int max_attempts = 10;
  // Attempts whose outcome is unknown (a timeout after the request went out, an unreadable 200):
  // each may have reached the person, so after this many the message fails instead of being
  // sent again.
  int max_unknown_attempts = 2;
};

struct ChannelRoute {
  std::string provider;   // account name under `providers:`
  std::string fallback;   // account name, or empty
  std::string sender;     // SMS sender name (overrides the account's)
  std::string organizer;  // email: the calendar's ORGANIZER, "Name <address>"; empty: the From
};

struct DepartmentConfig {
  std::string code;  // "77", "2A", "974", or "default"
  std::string name;
  std::string timezone;  // IANA
  std::string region;    // libphonenumber region for national numbers
  std::vector<std::string> allowed_regions;
  std::optional<ChannelRoute> sms;
  std::optional<ChannelRoute> email;
  int max_segments = 2;
  RetryPolicy retry;
  std::optional<QuietHours> quiet_hours;  // off unless configured
  std::shared_ptr<const TemplateSet> templates;
  // `events: {<event>: {priority: high}}`, top-level or per département, over the built-in
  // defaults (new_creneau_available: bulk); an event not listed is normal.
  std::map<std::string, Priority, std::less<>> event_priorities{
      {"new_creneau_available", Priority::bulk}};

  Priority priority_of(std::string_view event) const {
    auto it = event_priorities.find(event);
    return it == event_priorities.end() ? Priority::normal : it->second;
  }
};

struct DispatchSettings {
  // Provider calls at once, per daemon. Each holds memory while in flight (libcurl's handle and
  // buffers, the rendered message; a TLS session more): 256 keeps a full drain under 32 MiB of RSS
  // and allows 2,560 messages/s at 100 ms per provider call (docs/performance.md, "Memory").
  int max_in_flight = 256;
  int claim_batch = 256;
  std::chrono::milliseconds lease{120'000};   // a claimed message returns to the queue after
  std::chrono::milliseconds max_idle{1'000};  // longest sleep without looking at the schedule
  std::chrono::milliseconds shutdown_grace{10'000};
  // The share of claims and rate-limit slots (percent) each lower priority keeps while higher
  // ones wait, so that `bulk` is slowed by a burst of reminders, never stopped (priority.hpp).
  int lower_priority_percent = 10;
  double lower_priority_share() const { return lower_priority_percent / 100.0; }
};

struct IntakeSettings {
  size_t max_payload = 64 * 1024;
  int batch = 256;
  // Bytes of entries read at once: what one read and its EVALSHA hold, whatever the inbox holds.
  size_t batch_bytes = 4 << 20;
  std::chrono::milliseconds reclaim_after{30'000};  // entries left pending by a dead instance
};

// `callbacks:` (daemon/pipeline/callbacks.hpp): final statuses POSTed to the booking backend. Off
// when url is empty.
struct CallbackSettings {
  std::string url;
  std::string bearer_token;
  int max_attempts = 10;
  std::chrono::milliseconds backoff_base{1'000};
  std::chrono::milliseconds backoff_cap{300'000};
  std::chrono::milliseconds timeout{10'000};
};

struct Config {
  std::string file;
  RedisEndpoint redis;
  StoreSettings store;
  std::string instance;  // consumer name in the inbox group
  DispatchSettings dispatch;
  IntakeSettings intake;
  std::map<std::string, std::shared_ptr<Provider>, std::less<>> providers;
  std::map<std::string, std::string, std::less<>> provider_types;      // account -> `type`
  std::map<std::string, AccountPolicy, std::less<>> account_policies;  // rate limit, circuit
  // account -> the secret of /v1/receipts/<account>, for accounts with `receipts:`
  std::map<std::string, std::string, std::less<>> receipt_secrets;
  HttpServerOptions http;  // `http: {listen, max_body, read_timeout}`
  // `public: {listen}`: a server of its own for /public/ (public_endpoint.hpp); unset: none.
  std::optional<HttpServerOptions> public_http;
  CallbackSettings callbacks;
  DepartmentConfig defaults;
  std::map<std::string, DepartmentConfig, std::less<>> departments;

  // The configured département, `default` for a real French code not listed, else nullptr.
  const DepartmentConfig* department(std::string_view code) const;
  Provider* provider(std::string_view account) const;
};

// The configuration in force: read at each use, so that a reload (SIGHUP) takes effect without
// the components holding on to the old one.
using ConfigSource = std::function<std::shared_ptr<const Config>()>;

// Throws ConfigError ("file:line:col: what"). `ctx.curl` may be null (check-config).
std::shared_ptr<Config> load_config(const std::string& path, ProviderContext& ctx);

}  // namespace rappel
