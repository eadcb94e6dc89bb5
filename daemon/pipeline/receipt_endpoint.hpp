// The delivery-report endpoint: POST /v1/receipts/<account>.
//
// Providers post their reports here (docs/receipts.md has each provider's URL). The order of the
// checks is the point: an unknown account (or one without `receipts:`) is 404, a request without
// the account's secret is 401 before its body is even parsed, so that nothing an unauthenticated
// client sends reaches the parser or Redis; then the account's adapter reads the body (400 with
// the reason when it cannot), and all the reports of one request go to Redis in one script
// (Store::apply_receipts). The provider is told 200 only once Redis has them: on a Redis error it
// gets 503 and sends the report again later, which is harmless since reports only move forward.
#pragma once

#include <memory>
#include <string_view>

#include "daemon/config/config.hpp"
#include "daemon/net/http_server.hpp"
#include "daemon/store/store.hpp"

namespace rappel {

// Equal in a time that does not depend on where the first difference is.
bool same_secret(std::string_view given, std::string_view expected);

// The secret a request presents: `?token=` or `Authorization: Bearer`.
std::string presented_secret(const HttpServerRequest& request);

class ReceiptEndpoint {
 public:
  ReceiptEndpoint(Store& store, ConfigSource config);
  void add_routes(HttpServer& server);

 private:
  void handle(const HttpServerRequest& request, HttpRespond respond);

  Store& store_;
  ConfigSource config_;
};

}  // namespace rappel
