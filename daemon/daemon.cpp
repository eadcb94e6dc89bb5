// See daemon.hpp. Start-up order: config (nothing runs on a bad one), Redis, consumer group,
// then intake and dispatch; READY=1 once Redis answered. SIGHUP reloads, SIGTERM drains.
#include "daemon/daemon.hpp"

#include <cstdlib>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "daemon/config_node.hpp"
#include "daemon/curl_multi.hpp"
#include "daemon/dispatcher.hpp"
#include "daemon/http_server.hpp"
#include "daemon/intake.hpp"
#include "daemon/metrics.hpp"
#include "daemon/ops_endpoints.hpp"

namespace rappel {

void setup_logging() {
  std::shared_ptr<spdlog::logger> logger;
  if (std::getenv("JOURNAL_STREAM")) {
    logger = std::make_shared<spdlog::logger>("rappel",
                                              std::make_shared<spdlog::sinks::systemd_sink_mt>());
    logger->set_pattern("%v");
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
        intake_(
            io_, reader_, store_, [this] { return config_; },
            [this](Millis due) { dispatcher_.wake_at(due); }),
        signals_(io_, SIGTERM, SIGINT, SIGHUP),
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
    if (config_->http.enabled) {
      http_ = std::make_unique<HttpServer>(
          io_, HttpServerOptions{config_->http.host, static_cast<uint16_t>(config_->http.port)});
      register_ops_endpoints(*http_, ops_);
    }
  }

  ~Daemon() {
    // Before the dispatcher and intake go: pending Redis callbacks still reach them.
    commands_->close();
    reader_->close();
  }

  int run() {
    commands_->on_connect([this] {
      if (ready_) return;
      ready_ = true;
      sd_notify(0, "READY=1\nSTATUS=dispatching");
      spdlog::info("rappel {} ready (instance {})", RAPPEL_VERSION, config_->instance);
    });
    if (http_) {
      try {
        http_->start();
      } catch (const std::runtime_error& e) {
        spdlog::critical("http: {}", e.what());
        return 1;
      }
      spdlog::info("http: listening on {}:{}", config_->http.host, http_->port());
    }
    commands_->start();
    reader_->start();
    intake_.start();
    dispatcher_.start();
    wait_for_signal();
    io_.run();
    return 0;
  }

 private:
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
    sd_notifyf(
        0, "RELOADING=1\nMONOTONIC_USEC=%llu",
        static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::microseconds>(
                                            std::chrono::steady_clock::now().time_since_epoch())
                                            .count()));
    try {
      auto fresh = load_config(options_.config_path, providers_);
      fresh->instance = config_->instance;  // the consumer name stays for the process' life
      config_ = std::move(fresh);
      spdlog::info("configuration reloaded from {}", options_.config_path);
      sd_notify(0, "READY=1\nSTATUS=dispatching (configuration reloaded)");
    } catch (const ConfigError& e) {
      spdlog::error("reload refused, keeping the running configuration: {}", e.what());
      sd_notifyf(0, "READY=1\nSTATUS=reload refused: %s", e.what());
    }
  }

  void shutdown() {
    if (stopping_) return;
    stopping_ = true;
    sd_notify(0, "STOPPING=1\nSTATUS=draining in-flight messages");
    spdlog::info("stopping: {} message(s) in flight", dispatcher_.in_flight());
    intake_.stop();
    if (http_) http_->stop();
    dispatcher_.stop(config_->dispatch.shutdown_grace, [this] {
      spdlog::info("stopped cleanly");
      signals_.cancel();
      commands_->stop();
      reader_->stop();
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
  Intake intake_;
  boost::asio::signal_set signals_;
  OpsEndpoints ops_;
  std::unique_ptr<HttpServer> http_;  // when `http:` is configured
  bool ready_ = false;
  bool stopping_ = false;
};

}  // namespace

int run_daemon(const RunOptions& options) {
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
  Daemon daemon(io, providers, std::move(config), options);
  return daemon.run();
}

}  // namespace rappel
