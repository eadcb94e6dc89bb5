// The generic HTTP SMS provider, so that each HTTP adapter is only three things: reading its
// settings, building one HttpRequest from one Outbound, and classifying one HttpResponse.
//
// The pattern follows fluent-bit's output plugins and Envoy's filters: the adapter's functions are
// pure (no I/O, no clock, no logging), which makes the provider's tables of codes unit-testable,
// and one generic Provider (HttpSmsProvider) does the glue: the HTTP call on the shared CurlMulti,
// exactly one callback per send, cancellation, and masked debug logging. An adapter's factory is
// one call of make_http_sms_provider (at the end of this file).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/base/config_node.hpp"
#include "daemon/base/provider.hpp"
#include "daemon/content/phone.hpp"
#include "daemon/net/http_client.hpp"
#include "daemon/net/http_server.hpp"
#include "providers/http_answers.hpp"
#include "providers/registry.hpp"
#include "providers/sender_names.hpp"

namespace rappel {

// `url`, `connect_timeout`, `timeout`: the settings every HTTP adapter accepts.
struct HttpSettings {
  std::string url;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{15000};
};
HttpSettings read_http_settings(ConfigMap& account, std::string_view default_url);

// A request to settings.url with the account's timeouts.
HttpRequest base_request(const HttpSettings& settings, std::string method);
// Appends "?a=b&c=d" (or "&..." when the URL already has a query) to a GET request's URL.
void append_query(HttpRequest& request,
                  const std::vector<std::pair<std::string, std::string>>& fields);

// What the generic provider needs from one adapter. `classify` also sees the message, for the rare
// provider whose code means different things depending on the destination.
struct HttpAdapter {
  std::string label;  // "Netsize", used in error texts and logs
  std::function<HttpRequest(const Outbound&)> build;
  std::function<SendResult(const HttpResponse&, const Outbound&)> classify;
  std::function<std::optional<std::string>(std::string_view)> check_sender;
  // Delivery reports; empty when the provider (or this account) has none.
  std::function<ReceiptParse(const HttpServerRequest&)> receipts;
};

class HttpSmsProvider final : public Provider {
 public:
  HttpSmsProvider(ProviderContext& ctx, std::string account, HttpAdapter adapter);
  Channel channel() const override { return Channel::sms; }
  void send(const Outbound& message, SendCallback done) override;
  std::optional<std::string> check_sender(std::string_view sender) const override;
  void cancel_all() override;
  bool supports_receipts() const override { return static_cast<bool>(adapter_->receipts); }
  ReceiptParse parse_receipts(const HttpServerRequest& request) const override;

 private:
  struct Pending;
  void finish_later(SendCallback done, SendResult result);

  boost::asio::io_context& io_;
  CurlMulti* curl_;
  std::string account_;
  std::shared_ptr<const HttpAdapter> adapter_;
  std::shared_ptr<Pending> pending_;
};

// The whole factory of an HTTP SMS adapter, whose namespace defines, for its own Settings (the
// functions are found by argument-dependent lookup):
//   Settings::label                           the provider's name in error texts and logs
//   build_request(const Settings&, const Outbound&) -> HttpRequest
//   classify(const Settings&, const HttpResponse&, const Outbound&) -> SendResult
// and, when it has them:
//   Settings::sender_rules                    else the generic SenderRules
//   parse_receipts(const Settings&, std::string_view body) -> ReceiptParse
//   receives_receipts(const Settings&) -> bool  whether this account takes them (default: yes)
template <class Settings>
std::unique_ptr<Provider> make_http_sms_provider(const ConfigMap& account, ProviderContext& ctx,
                                                 Settings settings) {
  auto s = std::make_shared<const Settings>(std::move(settings));
  HttpAdapter adapter{
      std::string(Settings::label),
      [s](const Outbound& m) { return build_request(*s, m); },
      [s](const HttpResponse& r, const Outbound& m) { return classify(*s, r, m); },
      [s](std::string_view sender) {
        if constexpr (requires { s->sender_rules; })
          return check_sender_name(sender, s->sender_rules);
        else
          return check_sender_name(sender, SenderRules{});
      },
      {},
  };
  if constexpr (requires(std::string_view body) { parse_receipts(*s, body); }) {
    bool receives = true;
    if constexpr (requires { receives_receipts(*s); }) receives = receives_receipts(*s);
    if (receives)
      adapter.receipts = [s](const HttpServerRequest& r) { return parse_receipts(*s, r.body); };
  }
  return std::make_unique<HttpSmsProvider>(ctx, account_name(account), std::move(adapter));
}

}  // namespace rappel
