// See config.hpp. Reading order follows the file: redis, daemon settings, providers, départements.
#include "daemon/config/config.hpp"

#include <unistd.h>
#include <algorithm>
#include <filesystem>

#include "daemon/base/config_node.hpp"
#include "daemon/config/delivery_settings.hpp"
#include "daemon/config/secret_mask.hpp"
#include "daemon/content/email_address.hpp"
#include "daemon/content/french_dates.hpp"
#include "daemon/content/mime.hpp"
#include "daemon/content/phone.hpp"
#include "providers/registry.hpp"

namespace rappel {

const DepartmentConfig* Config::department(std::string_view code) const {
  auto it = departments.find(code);
  if (it != departments.end()) return &it->second;
  return is_french_department_code(code) ? &defaults : nullptr;
}

Provider* Config::provider(std::string_view account) const {
  auto it = providers.find(account);
  return it == providers.end() ? nullptr : it->second.get();
}

namespace {

namespace fs = std::filesystem;

std::string default_timezone_of(std::string_view code) {
  if (code == "971") return "America/Guadeloupe";
  if (code == "972") return "America/Martinique";
  if (code == "973") return "America/Cayenne";
  if (code == "974") return "Indian/Reunion";
  if (code == "975") return "America/Miquelon";
  if (code == "976") return "Indian/Mayotte";
  return "";
}

// An overseas département speaks its own time (unless configured) and its own numbering region.
void apply_overseas_defaults(
    DepartmentConfig& d, bool regions_configured) {  // sms.allowed_regions, read later, still wins
  if (!regions_configured && d.region != "FR" &&
      std::find(d.allowed_regions.begin(), d.allowed_regions.end(), d.region) ==
          d.allowed_regions.end())
    d.allowed_regions.push_back(d.region);
}

// A real overseas département absent from the file: `default`, in its own zone and region.
DepartmentConfig unlisted_overseas(const DepartmentConfig& defaults, const std::string& code) {
  DepartmentConfig d = defaults;
  d.code = code;
  d.timezone = default_timezone_of(code);
  d.region = region_of_department(code);
  apply_overseas_defaults(d, false);
  return d;
}

fs::path relative_to(const std::string& config_file, const std::string& path) {
  fs::path p(path);
  if (p.is_absolute()) return p;
  return fs::path(config_file).parent_path() / p;
}

// Sentinel: `sentinels` (host:port list) and `master_name` instead of a URL's host; the database
// and the master's credentials then come from `database`, `username` and `password`.
void read_sentinels(ConfigMap& section, Config& config) {
  if (section.has("url")) section.fail("sentinels", "give either 'url' or 'sentinels', not both");
  for (const auto& address : section.string_list_or("sentinels", {})) {
    try {
      config.redis.sentinel.addresses.push_back(parse_host_port(address));
    } catch (const std::invalid_argument& e) {
      section.fail("sentinels", "'" + address + "': " + e.what());
    }
  }
  if (config.redis.sentinel.addresses.empty())
    section.fail("sentinels", "must list at least one host:port");
  config.redis.sentinel.master_name = section.string("master_name");
  config.redis.database = section.integer_or("database", 0, 0, 100000);
  config.redis.sentinel.username = section.string_or("sentinel_username", "");
  config.redis.sentinel.password = section.optional_secret("sentinel_password").value_or("");
}

void read_redis(ConfigMap& root, Config& config) {
  auto section = root.optional_map("redis");
  std::string url = "redis://127.0.0.1:6379/0";
  if (section && section->has("sentinels")) {
    read_sentinels(*section, config);
  } else if (section) {
    url = section->optional_secret("url").value_or(url);
    try {
      config.redis = parse_redis_url(url);
    } catch (const std::invalid_argument& e) {
      section->fail("url", e.what());
    }
  }
  if (section) {
    config.store.prefix = section->string_or("prefix", "rappel");
    if (config.store.prefix.empty()) section->fail("prefix", "must not be empty");
    config.store.group = section->string_or("group", "rappel");
    if (auto user = section->optional_string("username")) config.redis.username = *user;
    if (auto password = section->optional_secret("password")) config.redis.password = *password;
    config.store.events_maxlen = section->integer_or("events_maxlen", 1'000'000, 1000, 1L << 40);
    section->reject_unknown_keys();
  } else {
    config.redis = parse_redis_url(url);
  }
}

void read_daemon_settings(ConfigMap& root, Config& config) {
  char host[256] = "rappel";
  gethostname(host, sizeof host - 1);
  config.instance = root.string_or("instance", std::string(host) + ":" + std::to_string(getpid()));
  if (auto d = root.optional_map("dispatch")) {
    config.dispatch.max_in_flight =
        d->integer_or("max_in_flight", config.dispatch.max_in_flight, 1, 100000);
    config.dispatch.claim_batch = d->integer_or("claim_batch", 256, 1, 10000);
    config.dispatch.lease = d->duration_or("lease", config.dispatch.lease);
    config.dispatch.max_idle = d->duration_or("max_idle", config.dispatch.max_idle);
    config.dispatch.shutdown_grace =
        d->duration_or("shutdown_grace", config.dispatch.shutdown_grace);
    config.dispatch.lower_priority_percent =
        d->integer_or("lower_priority_percent", config.dispatch.lower_priority_percent, 1, 50);
    if (config.dispatch.lease < std::chrono::seconds(1)) d->fail("lease", "must be at least 1s");
    d->reject_unknown_keys();
  }
  if (auto i = root.optional_map("intake")) {
    config.intake.max_payload = i->integer_or("max_payload", 64 * 1024, 1024, 16 << 20);
    config.intake.batch = i->integer_or("batch", 256, 1, 10000);
    config.intake.batch_bytes = i->integer_or("batch_bytes", 4 << 20, 64 << 10, 64 << 20);
    config.intake.reclaim_after = i->duration_or("reclaim_after", config.intake.reclaim_after);
    i->reject_unknown_keys();
  }
  if (auto r = root.optional_map("retention")) {
    using std::chrono::duration_cast;
    using std::chrono::seconds;
    config.store.content_ttl =
        duration_cast<seconds>(r->duration_or("content", config.store.content_ttl));
    config.store.status_ttl =
        duration_cast<seconds>(r->duration_or("status", config.store.status_ttl));
    config.store.receipt_index_ttl =
        duration_cast<seconds>(r->duration_or("receipt_index", config.store.receipt_index_ttl));
    config.store.parked_receipt_ttl =
        duration_cast<seconds>(r->duration_or("parked_receipts", config.store.parked_receipt_ttl));
    for (const char* key : {"content", "status", "receipt_index", "parked_receipts"})
      if (r->has(key) && r->duration_or(key, {}) < std::chrono::seconds(1))
        r->fail(key, "must be at least 1s");
    config.store.stats_ttl =
        duration_cast<seconds>(r->duration_or("stats", config.store.stats_ttl));
    if (config.store.stats_ttl < std::chrono::hours(24)) r->fail("stats", "must be at least 1d");
    r->reject_unknown_keys();
  }
}

// `listen` of a server's section: "127.0.0.1:8080", "[::1]:8080", or ":8080" (all addresses).
void read_listen(ConfigMap& section, const std::string& fallback, HttpServerOptions& options) {
  std::string listen = section.string_or("listen", fallback);
  size_t colon = listen.rfind(':');
  long port = -1;
  if (colon != std::string::npos) {
    try {
      size_t used = 0;
      port = std::stol(listen.substr(colon + 1), &used);
      if (used != listen.size() - colon - 1) port = -1;
    } catch (const std::exception&) {
      port = -1;
    }
  }
  if (port < 0 || port > 65535) section.fail("listen", "expected host:port, e.g. 127.0.0.1:8080");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  options.host = host.empty() ? "0.0.0.0" : host;
  options.port = static_cast<uint16_t>(port);
}

void read_http(ConfigMap& root, Config& config) {
  auto h = root.optional_map("http");
  if (!h) return;
  read_listen(*h, "127.0.0.1:8080", config.http);
  config.http.max_body = h->integer_or("max_body", 64 * 1024, 1024, 16 << 20);
  config.http.read_timeout = std::chrono::duration_cast<std::chrono::seconds>(
      h->duration_or("read_timeout", config.http.read_timeout));
  if (config.http.read_timeout.count() < 1) h->fail("read_timeout", "must be at least 1s");
  config.http.max_connections = h->integer_or("max_connections", 256, 1, 100000);
  h->reject_unknown_keys();
}

// `public: {listen: ...}`: the public statistics page on a server of its own (it answers GETs of
// /public/ only, so it can face the Internet without the ops and receipt endpoints).
void read_public(ConfigMap& root, Config& config) {
  auto p = root.optional_map("public");
  if (!p) return;
  HttpServerOptions options;
  options.max_body = 1024;  // GETs only
  if (!p->has("listen")) p->fail("listen", "required: the public page's own address");
  read_listen(*p, "", options);
  options.max_connections = p->integer_or("max_connections", 256, 1, 100000);
  p->reject_unknown_keys();
  config.public_http = options;
}

void read_callbacks(ConfigMap& root, Config& config) {
  auto c = root.optional_map("callbacks");
  if (!c) return;
  CallbackSettings& s = config.callbacks;
  s.url = c->string("url");
  if (!s.url.starts_with("https://") && !s.url.starts_with("http://"))
    c->fail("url", "expected an http:// or https:// URL");
  s.bearer_token = c->secret("bearer_token");
  s.max_attempts = c->integer_or("max_attempts", s.max_attempts, 1, 1000);
  s.backoff_base = c->duration_or("backoff_base", s.backoff_base);
  s.backoff_cap = c->duration_or("backoff_cap", s.backoff_cap);
  s.timeout = c->duration_or("timeout", s.timeout);
  if (s.backoff_base.count() <= 0) c->fail("backoff_base", "must be positive");
  c->reject_unknown_keys();
}

// `receipts: {secret: ...}` is the core's key, taken out before the adapter reads the account.
std::optional<std::string> read_receipt_secret(ConfigMap& account) {
  auto r = account.optional_map("receipts");
  if (!r) return std::nullopt;
  std::string secret = r->secret("secret");
  if (secret.size() < 16) r->fail("secret", "too short: at least 16 characters");
  r->reject_unknown_keys();
  return secret;
}

void read_providers(ConfigMap& root, Config& config, ProviderContext& ctx) {
  auto section = root.map("providers");
  for (const auto& name : section.keys()) {
    ConfigMap account = section.map(name);
    std::string type = account.string("type");
    const ProviderType* factory = find_provider_type(type);
    if (!factory) account.fail("type", "unknown provider type '" + type + "'");
    // Read before the adapter, which rejects keys it does not know.
    config.account_policies[name] = read_account_policy(account);
    auto receipt_secret = read_receipt_secret(account);
    auto provider = factory->create(account, ctx);
    config.providers[name] =
        with_secrets_masked(std::move(provider), SecretMask(secret_forms(account)));
    config.provider_types[name] = type;
    if (receipt_secret) {
      if (!config.providers[name]->supports_receipts())
        account.fail("receipts", "this account takes no delivery reports (" + type +
                                     (type == "netsize" ? ": set receipt_format" : "") + ")");
      config.receipt_secrets[name] = *receipt_secret;
    }
    account.reject_unknown_keys();
  }
  section.reject_unknown_keys();
}

RetryPolicy read_retry(ConfigMap& dept, RetryPolicy policy) {
  if (auto r = dept.optional_map("retry")) {
    policy.base = r->duration_or("base", policy.base);
    policy.cap = r->duration_or("cap", policy.cap);
    policy.max_attempts = r->integer_or("max_attempts", policy.max_attempts, 1, 100);
    policy.max_unknown_attempts =
        r->integer_or("max_unknown_attempts", policy.max_unknown_attempts, 1, 100);
    if (policy.base.count() <= 0) r->fail("base", "must be positive");
    r->reject_unknown_keys();
  }
  return policy;
}

void check_route(ConfigMap& section, const Config& config, Channel channel,
                 const ChannelRoute& route, bool inherited_provider) {
  for (const std::string* account : {&route.provider, &route.fallback}) {
    if (account->empty()) continue;
    Provider* p = config.provider(*account);
    std::string key = account == &route.provider ? "provider" : "fallback";
    if (!p) section.fail(key, "no provider account named '" + *account + "'");
    if (p->channel() != channel)
      section.fail(key, "provider account '" + *account + "' does not send " +
                            std::string(to_string(channel)));
    if (channel == Channel::sms && !route.sender.empty())
      if (auto why = p->check_sender(route.sender))
        section.fail(section.has("sender") ? "sender" : key, *why);
  }
  (void)inherited_provider;
}

std::optional<ChannelRoute> read_route(ConfigMap& dept, const Config& config, Channel channel,
                                       std::optional<ChannelRoute> inherited, DepartmentConfig& d) {
  auto section = dept.optional_map(to_string(channel));
  if (!section) return inherited;
  ChannelRoute route = inherited.value_or(ChannelRoute{});
  bool had_provider = section->has("provider");
  route.provider = section->string_or("provider", route.provider);
  route.fallback = section->string_or("fallback", had_provider ? "" : route.fallback);
  if (route.provider.empty()) section->fail_here("missing required key 'provider'");
  if (channel == Channel::sms) {
    route.sender = section->string_or("sender", route.sender);
    d.max_segments = section->integer_or("max_segments", d.max_segments, 1, 10);
    d.allowed_regions = section->string_list_or("allowed_regions", d.allowed_regions);
  } else {
    route.organizer = section->string_or("organizer", route.organizer);
    if (!route.organizer.empty() && !is_valid_email_address(envelope_address(route.organizer)))
      section->fail("organizer", "expected \"Name <address>\" or an address");
  }
  check_route(*section, config, channel, route, !had_provider);
  section->reject_unknown_keys();
  return route;
}

// `events: {<event>: {priority: high|normal|bulk}}` over `priorities` (inherited). The event must
// be one the templates know: a misspelt name would silently leave its messages at normal.
void read_event_priorities(ConfigMap& parent, const TemplateSet& templates,
                           std::map<std::string, Priority, std::less<>>& priorities) {
  auto events = parent.optional_map("events");
  if (!events) return;
  for (const auto& event : events->keys()) {
    ConfigMap e = events->map(event);
    if (!templates.has_event(event))
      e.fail_here("unknown event '" + event + "' (no such template)");
    std::string name = e.string("priority");
    auto priority = priority_from_string(name);
    if (!priority) e.fail("priority", "must be high, normal or bulk");
    priorities[event] = *priority;
    e.reject_unknown_keys();
  }
  events->reject_unknown_keys();
}

DepartmentConfig read_department(ConfigMap& dept, const std::string& code, const Config& config,
                                 const DepartmentConfig& base,
                                 const std::string& default_templates) {
  DepartmentConfig d = base;
  d.code = code;
  d.name = dept.string_or("name", code == "default" ? "" : base.name);
  std::string tz_fallback = default_timezone_of(code);
  d.timezone = dept.string_or("timezone", tz_fallback.empty() ? base.timezone : tz_fallback);
  if (!is_valid_timezone(d.timezone))
    dept.fail(dept.has("timezone") ? "timezone" : "name", "unknown time zone '" + d.timezone + "'");
  d.region = dept.string_or("region", region_of_department(code));
  apply_overseas_defaults(d, false);
  d.sms = read_route(dept, config, Channel::sms, base.sms, d);
  d.email = read_route(dept, config, Channel::email, base.email, d);
  d.retry = read_retry(dept, base.retry);
  d.quiet_hours = read_quiet_hours(dept, base.quiet_hours);
  if (auto dir = dept.optional_string("templates")) {
    fs::path override_dir = relative_to(config.file, *dir);
    if (!fs::is_directory(override_dir))
      dept.fail("templates", "no such directory: " + override_dir.string());
    d.templates = TemplateSet::load(default_templates, override_dir);
  }
  read_event_priorities(dept, *d.templates, d.event_priorities);
  dept.reject_unknown_keys();
  return d;
}

void read_departments(ConfigMap& root, Config& config, const std::string& default_templates) {
  auto section = root.map("departments");
  DepartmentConfig base;
  base.timezone = "Europe/Paris";
  base.region = "FR";
  base.allowed_regions = default_allowed_regions();
  base.templates = TemplateSet::load(default_templates);
  read_event_priorities(root, *base.templates, base.event_priorities);
  if (section.has("default")) {
    ConfigMap dflt = section.map("default");
    config.defaults = read_department(dflt, "default", config, base, default_templates);
  } else {
    config.defaults = base;
    config.defaults.code = "default";
  }
  for (const auto& code : section.keys()) {
    if (code == "default") continue;
    // section.fail, not node()[code]: a key that is not a scalar (`[a, b]: {}`) reads as "", and
    // looking "" up again finds no node to locate (found by fuzz/config_fuzz).
    if (!is_french_department_code(code)) section.fail(code, "not a French département code");
    ConfigMap dept = section.map(code);
    config.departments[code] =
        read_department(dept, code, config, config.defaults, default_templates);
  }
  for (const char* code : {"971", "972", "973", "974", "975", "976"})
    if (!config.departments.count(code))
      config.departments[code] = unlisted_overseas(config.defaults, code);
  // Statistics count each département's figures on its own local day (stats.hpp).
  config.store.stats_zone = config.defaults.timezone;
  for (const auto& [code, d] : config.departments)
    if (d.timezone != config.defaults.timezone) config.store.stats_zones[code] = d.timezone;
  section.reject_unknown_keys();
}

}  // namespace

std::shared_ptr<Config> load_config(const std::string& path, ProviderContext& ctx) {
  YAML::Node document;
  try {
    document = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw ConfigError(path + ": cannot read the file");
  } catch (const YAML::Exception& e) {
    throw ConfigError(located(path, e.mark, e.msg));
  }
  auto config = std::make_shared<Config>();
  config->file = path;
  ConfigMap root(document, path, "");
  read_redis(root, *config);
  read_daemon_settings(root, *config);
  read_http(root, *config);
  read_public(root, *config);
  read_callbacks(root, *config);
  std::string templates = RAPPEL_DEFAULT_TEMPLATES;
  if (auto t = root.optional_map("templates")) {
    templates = relative_to(path, t->string("directory")).string();
    t->reject_unknown_keys();
  }
  if (!fs::is_directory(templates))
    throw ConfigError(path + ": template directory not found: " + templates);
  read_providers(root, *config, ctx);
  read_departments(root, *config, templates);
  root.reject_unknown_keys();
  return config;
}

}  // namespace rappel
