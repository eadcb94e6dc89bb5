// See receipts.hpp.
#include "daemon/pipeline/receipt_endpoint.hpp"

#include <algorithm>
#include <cctype>

#include <spdlog/spdlog.h>

#include "daemon/config/config.hpp"

namespace rappel {

namespace {

constexpr std::string_view kPrefix = "/v1/receipts/";

HttpServerResponse unauthorized() {
  auto r = HttpServerResponse::text(401, "missing or wrong token\n");
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

}  // namespace

bool same_secret(std::string_view given, std::string_view expected) {
  size_t n = std::max(given.size(), expected.size());
  unsigned diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned char a = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    unsigned char b = i < expected.size() ? static_cast<unsigned char>(expected[i]) : 0;
    diff |= a ^ b;
  }
  return diff == 0 && !expected.empty();
}

std::string presented_secret(const HttpServerRequest& request) {
  std::string token = request.query_param("token");
  if (!token.empty()) return token;
  std::string auth = request.header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.size() > kBearer.size() &&
      std::equal(kBearer.begin(), kBearer.end(), auth.begin(),
                 [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
    return auth.substr(kBearer.size());
  return {};
}

ReceiptEndpoint::ReceiptEndpoint(Store& store, ConfigSource config)
    : store_(store), config_(std::move(config)) {}

void ReceiptEndpoint::add_routes(HttpServer& server) {
  server.route("POST", std::string(kPrefix),
               [this](const HttpServerRequest& request, HttpRespond respond) {
                 handle(request, std::move(respond));
               });
}

void ReceiptEndpoint::handle(const HttpServerRequest& request, HttpRespond respond) {
  std::string account = request.path.substr(kPrefix.size());
  auto config = config_();
  auto secret = config->receipt_secrets.find(account);
  Provider* provider = config->provider(account);
  if (secret == config->receipt_secrets.end() || !provider)
    return respond(HttpServerResponse::text(404, "no delivery reports for this account\n"));
  if (!same_secret(presented_secret(request), secret->second)) {
    spdlog::warn("receipts {}: refused a request without the account's token", account);
    return respond(unauthorized());
  }
  ReceiptParse parsed = provider->parse_receipts(request);
  if (!parsed.error.empty()) {
    spdlog::warn("receipts {}: unreadable report: {}", account, parsed.error);
    return respond(HttpServerResponse::text(400, parsed.error + "\n"));
  }
  std::vector<Receipt> finals;
  for (auto& r : parsed.receipts)
    if (r.state != ReceiptState::intermediate) finals.push_back(std::move(r));
  if (finals.empty()) return respond(HttpServerResponse::text(200, "ok\n"));
  store_.apply_receipts(
      account, finals,
      [account, respond](std::vector<std::string> results, const std::string& error) {
        if (!error.empty()) {
          spdlog::warn("receipts {}: not stored, the provider will retry: {}", account, error);
          return respond(HttpServerResponse::text(503, "try again later\n"));
        }
        auto count = [&](std::string_view what) {
          return std::count(results.begin(), results.end(), what);
        };
        spdlog::debug("receipts {}: {} applied, {} ignored, {} parked, {} unknown", account,
                      count("applied"), count("ignored"), count("parked"), count("unknown"));
        respond(HttpServerResponse::text(200, "ok\n"));
      });
}

}  // namespace rappel
