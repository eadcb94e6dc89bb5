// See daemon.hpp. Start-up order: config (nothing runs on a bad one), Redis, consumer group,
// then intake and dispatch; READY=1 once Redis answered. SIGHUP reloads, SIGTERM drains.
// The HTTP endpoint (receipts, and whatever add_routes() registers) listens from the start: a
// port that cannot be bound is a start-up error, like a bad configuration.
#include "daemon/daemon.hpp"

#include <cstdlib>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "daemon/base/config_node.hpp"
#include "daemon/net/curl_multi.hpp"
#include "daemon/net/http_server.hpp"
#include "daemon/ops/fd_limit.hpp"
#include "daemon/ops/ops_endpoints.hpp"
#include "daemon/ops/public_endpoint.hpp"
#include "daemon/pipeline/callbacks.hpp"
#include "daemon/pipeline/credit_watch.hpp"
#include "daemon/pipeline/dispatcher.hpp"
#include "daemon/pipeline/intake.hpp"
#include "daemon/pipeline/receipt_endpoint.hpp"
#include "daemon/telemetry/journal_fields.hpp"
#include "daemon/telemetry/metrics.hpp"
#include "daemon/telemetry/service_notify.hpp"

namespace rappel {

void setup_logging() {
  std::shared_ptr<spdlog::logger> logger;
  if (std::getenv("JOURNAL_STREAM")) {
    logger = std::make_shared<spdlog::logger>("rappel",
                                              std::make_shared<spdlog::sinks::systemd_sink_mt>());
    logger->set_pattern("%v");
    use_journal_fields(true);
  } else {
    logger = std::make_shared<spdlog::logger>(
        "rappel", std::make_shared<spdlog::sinks::stderr_color_sink_mt>(spdlog::color_mode::never));
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
  if (const char* level = std::getenv("RAPPEL_LOG_LEVEL"))
    logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

namespace {

class Daemon {
 public:
  Daemon(boost::asio::io_context& io, ProviderContext& providers,
         std::shared_ptr<const Config> config, const RunOptions& options)
      : io_(io),
        providers_(providers),
        options_(options),
        config_(std::move(config)),
        commands_(std::make_shared<RedisClient>(io_, config_->redis, "commands")),
        reader_(std::make_shared<RedisClient>(io_, config_->redis, "inbox")),
        store_(commands_, config_->store),
        dispatcher_(io_, store_, [this] { return config_; }),
        credits_(io_, store_, [this] { return config_; }),
        intake_(
            io_, reader_, store_, [this] { return config_; },
            [this](Millis due) { dispatcher_.wake_at(due); }),
        http_(io_, config_->http),
        receipts_(store_, [this] { return config_; }),
        public_stats_(io_, store_, [this] { return config_; }),
        signals_(io_, SIGTERM, SIGINT, SIGHUP),
        notifier_(io_,
                  [this] {
                    return ServiceNotifier::Facts{commands_->connected(), dispatcher_.in_flight()};
                  }),
        ops_(io_, OpsContext{metrics_,
                             store_,
                             [this] { return config_; },
                             {{"commands", commands_}, {"inbox", reader_}},
                             std::chrono::milliseconds(2000),
                             [this](Metrics& m) {
                               for (const auto& [account, c] : dispatcher_.breakers().states())
                                 m.set_circuit_state(account, c.state);
                             }}) {
    dispatcher_.set_metrics(&metrics_);
    credits_.set_metrics(&metrics_);
    dispatcher_.on_credits(
        [this](const std::string& account, double credits) { credits_.observe(account, credits); });
    // Callbacks read the events stream with blocking reads: a connection of their own.
    if (!config_->callbacks.url.empty()) {
      callbacks_reader_ = std::make_shared<RedisClient>(io_, config_->redis, "callbacks");
      callbacks_ =
          std::make_unique<Callbacks>(io_, *providers_.curl, callbacks_reader_, config_->store,
                                      config_->instance, config_->callbacks);
    }
  }

  ~Daemon() {
    // Before the dispatcher and intake go: pending Redis callbacks still reach them.
    commands_->close();
    reader_->close();
    if (callbacks_reader_) callbacks_reader_->close();
  }

  int run() {
    // Ready once Redis has answered a command (on_connect comes after PING, or ROLE with
    // Sentinel), so AUTH and SELECT went through: not merely once a TCP connection exists.
    add_routes();
    try {
      http_.start();
    } catch (const std::runtime_error& e) {
      spdlog::critical("http: {}", e.what());
      return 1;
    }
    spdlog::info("http listening on {}:{}", config_->http.host, http_.port());
    if (config_->public_http) {
      public_http_ = std::make_unique<HttpServer>(io_, *config_->public_http);
      public_stats_.add_routes(*public_http_);
      try {
        public_http_->start();
      } catch (const std::runtime_error& e) {
        spdlog::critical("public: {}", e.what());
        return 1;
      }
      spdlog::info("public statistics page on http://{}:{}/public/stats",
                   config_->public_http->host, public_http_->port());
    }
    commands_->on_connect([this] {
      dispatcher_.record_circuits();  // again after a Redis restart: its data may be gone
      if (ready_) return;
      ready_ = true;
      credits_.start();  // once Redis answers: a credit told now can be recorded
      notifier_.ready();
      spdlog::info("rappel {} ready (instance {})", RAPPEL_VERSION, config_->instance);
    });
    notifier_.start(config_->redis.describe());
    commands_->start();
    reader_->start();
    intake_.start();
    dispatcher_.start();
    if (callbacks_) {
      callbacks_reader_->start();
      callbacks_->start();
    }
    wait_for_signal();
    io_.run();
    return 0;
  }

 private:
  // Every route of the HTTP endpoint; the listen address is read once, at start (not on reload).
  void add_routes() {
    receipts_.add_routes(http_);
    public_stats_.add_routes(http_);
    register_ops_endpoints(http_, ops_);
  }

  void wait_for_signal() {
    signals_.async_wait([this](boost::system::error_code ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        reload();
        return wait_for_signal();
      }
      shutdown();
    });
  }

  void reload() {
    notifier_.reloading();
    try {
      auto fresh = load_config(options_.config_path, providers_);
      fresh->instance = config_->instance;  // the consumer name stays for the process' life
      // The connections and the key names stay as they are until a restart.
      if (fresh->redis.describe() != config_->redis.describe() ||
          fresh->store.prefix != config_->store.prefix ||
          fresh->store.group != config_->store.group)
        spdlog::warn("the redis section changed: it takes effect at the next restart");
      fresh->redis = config_->redis;
      fresh->store = config_->store;
      config_ = std::move(fresh);
      spdlog::info("configuration reloaded from {}", options_.config_path);
      notifier_.reloaded();
    } catch (const ConfigError& e) {
      spdlog::error("reload refused, keeping the running configuration: {}", e.what());
      notifier_.reload_refused(e.what());
    } catch (const std::exception& e) {  // anything else a provider's constructor may throw
      spdlog::error("reload refused, keeping the running configuration: {}", e.what());
      notifier_.reload_refused(e.what());
    }
  }

  void shutdown() {
    if (stopping_) return;
    stopping_ = true;
    notifier_.stopping();
    spdlog::info("stopping: {} message(s) in flight", dispatcher_.in_flight());
    intake_.stop();
    credits_.stop();
    http_.stop();
    if (public_http_) public_http_->stop();
    if (callbacks_) callbacks_->stop();
    dispatcher_.stop(config_->dispatch.shutdown_grace, [this] {
      spdlog::info("stopped cleanly");
      signals_.cancel();
      notifier_.stop();
      commands_->stop();
      reader_->stop();
      if (callbacks_reader_) callbacks_reader_->stop();
      io_.stop();
    });
  }

  boost::asio::io_context& io_;
  ProviderContext& providers_;
  RunOptions options_;
  std::shared_ptr<const Config> config_;
  Metrics metrics_;  // before the dispatcher, which records into it
  std::shared_ptr<RedisClient> commands_;
  std::shared_ptr<RedisClient> reader_;
  Store store_;
  Dispatcher dispatcher_;
  CreditWatch credits_;
  Intake intake_;
  HttpServer http_;
  ReceiptEndpoint receipts_;
  PublicStatsEndpoint public_stats_;
  std::unique_ptr<HttpServer> public_http_;  // `public.listen`, when set
  std::shared_ptr<RedisClient> callbacks_reader_;
  std::unique_ptr<Callbacks> callbacks_;
  boost::asio::signal_set signals_;
  ServiceNotifier notifier_;
  OpsEndpoints ops_;
  bool ready_ = false;
  bool stopping_ = false;
};

}  // namespace

int run_daemon(const RunOptions& options) {
  // Before any connection opens; a refusal (systemd's filter) leaves LimitNOFILE= in force.
  OpenFilesLimit files = raise_open_files_limit();
  boost::asio::io_context io;
  // As many connections per provider host as the daemon has sends in flight: a transfer queued
  // inside libcurl would spend its timeout waiting for a connection (dispatch.max_in_flight is
  // the bound, and per-account rate limits belong in the dispatcher, not in a connection cap).
  CurlMultiOptions curl_options;
  curl_options.max_host_connections = 100000;
  curl_options.max_cached_connections = 1024;
  CurlMulti curl(io, curl_options);
  ProviderContext providers{io, &curl};
  std::shared_ptr<Config> config;
  try {
    config = load_config(options.config_path, providers);
  } catch (const ConfigError& e) {
    spdlog::critical("configuration error: {}", e.what());
    return 1;
  }
  if (!options.instance.empty()) config->instance = options.instance;
  spdlog::info("open files limit {} (hard {})", files.soft, files.hard);
  if (auto shortfall = descriptor_shortfall(*config, files)) spdlog::warn("{}", *shortfall);
  Daemon daemon(io, providers, std::move(config), options);
  return daemon.run();
}

}  // namespace rappel
