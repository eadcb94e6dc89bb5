// See ops_endpoints.hpp.
#include "daemon/ops/ops_endpoints.hpp"

#include <boost/asio/steady_timer.hpp>

#include "daemon/base/deadline.hpp"
#include "daemon/store/stats.hpp"

namespace rappel {

namespace {

long long integer_of(const std::vector<std::string>& reply) {
  return reply.empty() ? 0 : std::atoll(reply.front().c_str());
}

HttpServerResponse json_error(int status, const std::string& error) {
  return HttpServerResponse::json(status, nlohmann::json{{"error", error}}.dump());
}

}  // namespace

OpsEndpoints::OpsEndpoints(boost::asio::io_context& io, OpsContext context)
    : io_(io), context_(std::move(context)) {}

void OpsEndpoints::healthz(const HttpServerRequest&, HttpRespond respond) {
  respond(HttpServerResponse::text(200, "ok\n"));
}

void OpsEndpoints::readyz(const HttpServerRequest&, HttpRespond respond) {
  if (!context_.config || !context_.config())
    return respond(HttpServerResponse::text(503, "not ready: configuration not loaded\n"));
  using Answer = std::string;  // "" when Redis said PONG, else why not
  auto d = deadline<Answer>(
      io_, context_.redis_deadline,
      [respond = std::move(respond),
       ms = context_.redis_deadline.count()](std::optional<Answer> error) {
        if (!error)
          return respond(HttpServerResponse::text(
              503, "not ready: Redis did not answer within " + std::to_string(ms) + " ms\n"));
        if (!error->empty())
          return respond(HttpServerResponse::text(503, "not ready: Redis: " + *error + "\n"));
        respond(HttpServerResponse::text(200, "ready\n"));
      });
  context_.store.redis().command(
      {"PING"}, [d](const redisReply*, const std::string& error) { d->give(error); });
}

void OpsEndpoints::queue_depth(std::function<void(std::optional<QueueDepth>)> done) {
  const StoreSettings& s = context_.store.settings();
  Millis now_value = now_ms();
  std::string now = std::to_string(now_value);
  RedisBatch commands{{"ZCARD", s.inflight()}, {"SCARD", s.retrying()}};
  for (int p = 0; p < kPriorities; ++p) {  // three commands per priority, from 2
    std::string lane = s.schedule(static_cast<Priority>(p));
    commands.push_back({"ZCOUNT", lane, "-inf", now});
    commands.push_back({"ZCOUNT", lane, "(" + now, "+inf"});
    commands.push_back({"ZRANGE", lane, "0", "0", "WITHSCORES"});
  }
  auto d = deadline<QueueDepth>(io_, context_.redis_deadline, std::move(done));
  async_batch_runner(context_.store.redis())(
      commands, [d, now_value, n = commands.size()](BatchReplies replies, std::string error) {
        if (!error.empty() || replies.size() != n) return d->give(std::nullopt);
        QueueDepth q;
        q.in_flight = integer_of(replies[0]);
        q.retrying = integer_of(replies[1]);
        for (int p = 0; p < kPriorities; ++p) {
          const auto* r = &replies[2 + 3 * p];
          q.due_by[p] = integer_of(r[0]);
          q.scheduled_by[p] = integer_of(r[1]);
          if (q.due_by[p] > 0 && r[2].size() == 2)
            q.lag_ms_by[p] = std::max<Millis>(0, now_value - std::atoll(r[2][1].c_str()));
          q.due += q.due_by[p];
          q.scheduled += q.scheduled_by[p];
        }
        d->give(q);
      });
}

void OpsEndpoints::metrics(const HttpServerRequest&, HttpRespond respond) {
  Metrics& m = context_.metrics;
  for (const auto& [name, client] : context_.connections)
    m.set_redis_reconnects(name, client->reconnects());
  m.set_redis_connected(context_.store.redis().connected());
  if (context_.before_scrape) context_.before_scrape(m);
  queue_depth([&m, respond = std::move(respond)](std::optional<QueueDepth> depth) {
    m.set_queue_depth(depth);
    HttpServerResponse response = HttpServerResponse::text(200, m.serialize());
    response.content_type = Metrics::kContentType;
    respond(std::move(response));
  });
}

void OpsEndpoints::stats(const HttpServerRequest& request, HttpRespond respond) {
  StatsQuery query{request.query_param("department"), request.query_param("from"),
                   request.query_param("to")};
  std::string error = normalize_stats_query(query, now_ms(), context_.store.settings().stats_zone,
                                            kMaxPublicStatsDays);
  if (!error.empty()) return respond(json_error(400, error));
  using Rows = std::vector<StatsRow>;
  auto d = deadline<Rows>(io_, context_.redis_deadline,
                          [query, respond = std::move(respond)](std::optional<Rows> rows) {
                            if (!rows) return respond(json_error(503, "statistics unavailable"));
                            HttpServerResponse response =
                                HttpServerResponse::json(200, stats_json(*rows, query).dump());
                            // A public page: any site may show it, a minute old at most.
                            response.headers.emplace_back("Access-Control-Allow-Origin", "*");
                            response.headers.emplace_back("Cache-Control", "public, max-age=60");
                            respond(std::move(response));
                          });
  fetch_stats(query, context_.store.settings().prefix, async_batch_runner(context_.store.redis()),
              [d](Rows rows, std::string error) {
                if (!error.empty()) return d->give(std::nullopt);
                d->give(std::move(rows));
              });
}

void register_ops_endpoints(HttpServer& server, OpsEndpoints& ops) {
  using namespace std::placeholders;
  server.route("GET", "/healthz", std::bind(&OpsEndpoints::healthz, &ops, _1, _2));
  server.route("GET", "/readyz", std::bind(&OpsEndpoints::readyz, &ops, _1, _2));
  server.route("GET", "/metrics", std::bind(&OpsEndpoints::metrics, &ops, _1, _2));
  server.route("GET", "/stats", std::bind(&OpsEndpoints::stats, &ops, _1, _2));
}

}  // namespace rappel
