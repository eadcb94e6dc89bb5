// See http_sms.hpp. An account's HTTP settings, then the generic provider.
#include "providers/http_sms.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "daemon/net/form_encoding.hpp"

namespace rappel {

HttpSettings read_http_settings(ConfigMap& account, std::string_view default_url) {
  HttpSettings s;
  s.url = account.string_or("url", std::string(default_url));
  if (!s.url.starts_with("https://") && !s.url.starts_with("http://"))
    account.fail("url", "expected an http:// or https:// URL");
  s.connect_timeout = account.duration_or("connect_timeout", s.connect_timeout);
  s.timeout = account.duration_or("timeout", s.timeout);
  if (s.connect_timeout.count() <= 0) account.fail("connect_timeout", "must be positive");
  if (s.timeout < s.connect_timeout) account.fail("timeout", "must be at least connect_timeout");
  return s;
}

HttpRequest base_request(const HttpSettings& settings, std::string method) {
  HttpRequest r;
  r.method = std::move(method);
  r.url = settings.url;
  r.connect_timeout = settings.connect_timeout;
  r.total_timeout = settings.timeout;
  return r;
}

void append_query(HttpRequest& request,
                  const std::vector<std::pair<std::string, std::string>>& fields) {
  request.url += request.url.find('?') == std::string::npos ? '?' : '&';
  request.url += form_encode(fields);
}

// ---- the generic provider ----

// In-flight sends by sequence number. Shared with the HTTP callbacks, so a callback arriving after
// cancel_all() (or after the provider is gone) finds nothing and does nothing.
struct HttpSmsProvider::Pending {
  std::map<unsigned long, SendCallback> callbacks;
  unsigned long next = 0;
  bool inside_send = false;
};

HttpSmsProvider::HttpSmsProvider(ProviderContext& ctx, std::string account, HttpAdapter adapter)
    : io_(ctx.io),
      curl_(ctx.curl),
      account_(std::move(account)),
      adapter_(std::make_shared<const HttpAdapter>(std::move(adapter))),
      pending_(std::make_shared<Pending>()) {}

void HttpSmsProvider::finish_later(SendCallback done, SendResult result) {
  boost::asio::post(io_, [done = std::move(done), result = std::move(result)]() mutable {
    done(std::move(result));
  });
}

void HttpSmsProvider::send(const Outbound& message, SendCallback done) {
  if (message.channel() != Channel::sms)
    return finish_later(std::move(done),
                        SendResult::failure(Outcome::permanent, adapter_->label + ": not an SMS"));
  if (!curl_)
    return finish_later(std::move(done),
                        SendResult::failure(Outcome::transient,
                                            adapter_->label + ": no HTTP client (check-config)"));
  HttpRequest request;
  try {
    request = adapter_->build(message);
  } catch (const std::exception& e) {
    return finish_later(std::move(done),
                        SendResult::failure(Outcome::permanent, adapter_->label + ": " + e.what()));
  }
  unsigned long seq = ++pending_->next;
  pending_->callbacks.emplace(seq, std::move(done));
  spdlog::debug("{}: sending {}", account_, message.id);  // no number, no text: personal data

  auto on_response = [pending = pending_, adapter = adapter_, seq, message, account = account_,
                      io = &io_](HttpResponse response) {
    auto it = pending->callbacks.find(seq);
    if (it == pending->callbacks.end()) return;  // cancelled meanwhile
    SendCallback cb = std::move(it->second);
    pending->callbacks.erase(it);
    SendResult result = adapter->classify(response, message);
    // Outcome only: the provider's words are logged by the core, after the secret mask.
    spdlog::debug("{}: {} -> outcome {}", account, message.id, to_string(result.outcome));
    if (pending->inside_send)  // the contract: never call back from inside send()
      boost::asio::post(*io, [cb = std::move(cb), result = std::move(result)]() mutable {
        cb(std::move(result));
      });
    else
      cb(std::move(result));
  };
  pending_->inside_send = true;
  http_request(*curl_, std::move(request), std::move(on_response));
  pending_->inside_send = false;
}

std::optional<std::string> HttpSmsProvider::check_sender(std::string_view sender) const {
  return adapter_->check_sender ? adapter_->check_sender(sender) : std::nullopt;
}

void HttpSmsProvider::cancel_all() {
  auto callbacks = std::move(pending_->callbacks);
  pending_->callbacks.clear();
  for (auto& [seq, done] : callbacks) {
    SendResult r = SendResult::failure(Outcome::transient, adapter_->label + ": cancelled");
    r.outcome_unknown = true;  // the request may already have reached the provider
    finish_later(std::move(done), std::move(r));
  }
}

ReceiptParse HttpSmsProvider::parse_receipts(const HttpServerRequest& request) const {
  if (!adapter_->receipts) return Provider::parse_receipts(request);
  return adapter_->receipts(request);
}

}  // namespace rappel
