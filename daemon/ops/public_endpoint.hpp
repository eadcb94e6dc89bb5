// GET /public/stats (the HTML page) and GET /public/stats.csv (open data): public_stats.hpp's
// renderings, served on the `http.listen` server and, when `public.listen` is set, on a server
// of their own that can face the Internet without the ops endpoints.
//
// Anyone may ask, so Redis must not feel it: each answer is cached for a minute by its normalized
// query (a crawler asking the same page again costs nothing), requests for a query being fetched
// wait for that one fetch, and fetches of new queries are budgeted (kFetchBurst, then one per
// kFetchEvery); beyond the budget the answer is 503 with Retry-After. Ranges are bounded
// (kMaxPublicStatsDays), so one fetch is bounded too.
#pragma once

#include <chrono>
#include <list>
#include <map>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "daemon/config/config.hpp"
#include "daemon/net/http_server.hpp"
#include "daemon/store/store.hpp"

namespace rappel {

class PublicStatsEndpoint {
 public:
  static constexpr std::chrono::seconds kCacheFor{60};
  static constexpr size_t kCacheEntries = 256;
  static constexpr int kFetchBurst = 10;
  static constexpr std::chrono::milliseconds kFetchEvery{1000};

  PublicStatsEndpoint(boost::asio::io_context& io, Store& store, ConfigSource config,
                      std::chrono::milliseconds redis_deadline = std::chrono::milliseconds(5000));

  void add_routes(HttpServer& server);
  void page(const HttpServerRequest& request, HttpRespond respond);
  void csv(const HttpServerRequest& request, HttpRespond respond);

 private:
  struct Answer {
    int status = 200;
    std::string content_type, body;
    std::chrono::steady_clock::time_point at;
  };
  void serve(const HttpServerRequest& request, HttpRespond respond, bool as_csv);
  void fetch(const std::string& key, const struct PublicStatsQuery& query, bool as_csv);
  bool take_fetch_token();
  void remember(const std::string& key, Answer answer);
  static HttpServerResponse response_of(const Answer& answer);

  boost::asio::io_context& io_;
  Store& store_;
  ConfigSource config_;
  std::chrono::milliseconds redis_deadline_;
  std::map<std::string, Answer> cache_;
  std::list<std::string> cache_order_;                       // oldest first
  std::map<std::string, std::vector<HttpRespond>> waiting_;  // query being fetched -> askers
  double tokens_ = kFetchBurst;
  std::chrono::steady_clock::time_point tokens_at_ = std::chrono::steady_clock::now();
};

}  // namespace rappel
