// See public_endpoint.hpp.
#include "daemon/ops/public_endpoint.hpp"

#include <algorithm>

#include "daemon/base/clock.hpp"
#include "daemon/base/deadline.hpp"
#include "daemon/content/french_dates.hpp"
#include "daemon/ops/department_names.hpp"
#include "daemon/ops/public_stats.hpp"

namespace rappel {

namespace {

constexpr const char* kHtml = "text/html; charset=utf-8";
constexpr const char* kCsv = "text/csv; charset=utf-8";

// The configured name first (a département's `name:`), then INSEE's.
DepartmentNamer namer(std::shared_ptr<const Config> config) {
  return [config](const std::string& code) -> std::string {
    if (code == "unknown") return "Département non précisé";
    if (config)
      if (auto it = config->departments.find(code);
          it != config->departments.end() && !it->second.name.empty())
        return it->second.name;
    return department_name(code);
  };
}

std::string generated_at(Millis now, const std::string& zone) {
  auto words = french_date_variables(iso_utc(now), zone);
  return words ? (*words)["date_long"].get<std::string>() : iso_utc(now);
}

}  // namespace

PublicStatsEndpoint::PublicStatsEndpoint(boost::asio::io_context& io, Store& store,
                                         ConfigSource config,
                                         std::chrono::milliseconds redis_deadline)
    : io_(io), store_(store), config_(std::move(config)), redis_deadline_(redis_deadline) {}

void PublicStatsEndpoint::add_routes(HttpServer& server) {
  server.route("GET", "/public/stats",
               [this](const HttpServerRequest& r, HttpRespond respond) { page(r, respond); });
  server.route("GET", "/public/stats.csv",
               [this](const HttpServerRequest& r, HttpRespond respond) { csv(r, respond); });
}

void PublicStatsEndpoint::page(const HttpServerRequest& request, HttpRespond respond) {
  serve(request, std::move(respond), false);
}

void PublicStatsEndpoint::csv(const HttpServerRequest& request, HttpRespond respond) {
  serve(request, std::move(respond), true);
}

HttpServerResponse PublicStatsEndpoint::response_of(const Answer& answer) {
  HttpServerResponse r;
  r.status = answer.status;
  r.content_type = answer.content_type;
  r.body = answer.body;
  if (answer.status == 200) {
    r.headers.emplace_back("Cache-Control", "public, max-age=60");
    r.headers.emplace_back("Access-Control-Allow-Origin", "*");
  } else if (answer.status == 503) {
    r.headers.emplace_back("Retry-After", "5");
  }
  // Nothing on the page comes from elsewhere, and nothing may run in it.
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                         "form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

void PublicStatsEndpoint::serve(const HttpServerRequest& request, HttpRespond respond,
                                bool as_csv) {
  const std::string& zone = store_.settings().stats_zone;
  PublicStatsQuery query;
  std::string error = read_public_query(request.query_param("department"),
                                        request.query_param("from"), request.query_param("to"),
                                        request.query_param("par"), now_ms(), zone, query);
  if (!error.empty()) {
    Answer bad{400,
               as_csv ? "text/plain; charset=utf-8" : kHtml,
               as_csv ? error + "\n" : public_stats_error_html(error),
               {}};
    return respond(response_of(bad));
  }
  std::string key = std::string(as_csv ? "csv|" : "html|") + query.range.department + "|" +
                    query.range.from + "|" + query.range.to + "|" + (query.by_month ? "m" : "d");
  if (auto hit = cache_.find(key);
      hit != cache_.end() && std::chrono::steady_clock::now() - hit->second.at < kCacheFor)
    return respond(response_of(hit->second));
  if (auto fetching = waiting_.find(key); fetching != waiting_.end()) {
    fetching->second.push_back(std::move(respond));
    return;
  }
  if (!take_fetch_token()) {
    Answer busy{503,
                "text/plain; charset=utf-8",
                "Trop de demandes différentes à la fois : réessayez dans quelques secondes.\n",
                {}};
    return respond(response_of(busy));
  }
  waiting_[key].push_back(std::move(respond));
  fetch(key, query, as_csv);
}

void PublicStatsEndpoint::fetch(const std::string& key, const PublicStatsQuery& query,
                                bool as_csv) {
  using Rows = std::vector<StatsRow>;
  auto config = config_();
  std::string zone = store_.settings().stats_zone;
  auto d = deadline<Rows>(
      io_, redis_deadline_, [this, key, query, as_csv, config, zone](std::optional<Rows> rows) {
        Answer answer;
        if (!rows) {
          answer = {
              503,
              "text/plain; charset=utf-8",
              "Statistiques indisponibles pour le moment : réessayez dans quelques secondes.\n",
              {}};
        } else {
          answer = {
              200, as_csv ? kCsv : kHtml,
              as_csv ? public_stats_csv(*rows)
                     : public_stats_html(*rows, query, namer(config), generated_at(now_ms(), zone)),
              std::chrono::steady_clock::now()};
          remember(key, answer);
        }
        auto askers = std::move(waiting_[key]);
        waiting_.erase(key);
        for (auto& respond : askers) respond(response_of(answer));
      });
  fetch_stats(query.range, store_.settings().prefix, async_batch_runner(store_.redis()),
              [d](Rows rows, std::string error) {
                if (!error.empty()) return d->give(std::nullopt);
                d->give(std::move(rows));
              });
}

bool PublicStatsEndpoint::take_fetch_token() {
  auto now = std::chrono::steady_clock::now();
  double earned =
      std::chrono::duration<double>(now - tokens_at_) / std::chrono::duration<double>(kFetchEvery);
  tokens_ = std::min<double>(kFetchBurst, tokens_ + earned);
  tokens_at_ = now;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

void PublicStatsEndpoint::remember(const std::string& key, Answer answer) {
  if (cache_.count(key) == 0) {
    cache_order_.push_back(key);
    if (cache_order_.size() > kCacheEntries) {
      cache_.erase(cache_order_.front());
      cache_order_.pop_front();
    }
  }
  cache_[key] = std::move(answer);
}

}  // namespace rappel
