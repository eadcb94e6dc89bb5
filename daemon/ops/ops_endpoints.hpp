// The operations endpoints of the daemon's HTTP server: /healthz, /readyz, /metrics, /stats.
//
// Each handler is a plain member taking an HttpServerRequest and a respond callback, so it can be
// called (and tested) without a server; register_ops_endpoints() puts them on one. Handlers that
// need Redis ask it asynchronously and answer within a deadline even if Redis never replies:
// a probe that hangs is worse than one that says 503.
//
// /stats is public (the départements' partnership page): it serves counters per département and
// day only, never a message id, key, recipient or provider answer.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "daemon/config/config.hpp"
#include "daemon/net/http_server.hpp"
#include "daemon/store/store.hpp"
#include "daemon/telemetry/metrics.hpp"

namespace rappel {

struct OpsContext {
  Metrics& metrics;
  Store& store;  // its connection answers readiness, queue depth and statistics
  std::function<std::shared_ptr<const Config>()> config;  // null until loaded
  // Connections whose reconnects /metrics reports, by name ("commands", "inbox").
  std::vector<std::pair<std::string, std::shared_ptr<RedisClient>>> connections;
  std::chrono::milliseconds redis_deadline{2000};
  // Called before each scrape to copy state kept elsewhere (circuit breakers) into the metrics.
  std::function<void(Metrics&)> before_scrape;
};

class OpsEndpoints {
 public:
  OpsEndpoints(boost::asio::io_context& io, OpsContext context);

  void healthz(const HttpServerRequest& request, HttpRespond respond);  // alive: 200 "ok"
  void readyz(const HttpServerRequest& request,
              HttpRespond respond);  // 200, or 503 with the reason
  void metrics(const HttpServerRequest& request, HttpRespond respond);  // Prometheus text format
  void stats(const HttpServerRequest& request, HttpRespond respond);    // JSON; ?department&from&to

  // Counts the shared queue in Redis (nullopt if Redis did not answer in time).
  void queue_depth(std::function<void(std::optional<QueueDepth>)> done);

 private:
  boost::asio::io_context& io_;
  OpsContext context_;
};

// Routes GET /healthz, /readyz, /metrics and /stats to `ops`, which must outlive the server.
void register_ops_endpoints(HttpServer& server, OpsEndpoints& ops);

}  // namespace rappel
