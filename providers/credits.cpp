// See credits.hpp.
#include "providers/credits.hpp"

#include <cmath>

#include <boost/asio/post.hpp>

namespace rappel {

std::optional<double> json_credit(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(std::string(key));
  if (it == object.end()) return std::nullopt;
  double value = 0;
  if (it->is_number()) {
    value = it->get<double>();
  } else if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    size_t used = 0;
    try {
      value = std::stod(s, &used);
    } catch (const std::exception&) {
      return std::nullopt;
    }
    if (used != s.size()) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

namespace {

class CreditPolling final : public Provider {
 public:
  CreditPolling(std::unique_ptr<Provider> inner, ProviderContext& ctx, CreditCall call)
      : inner_(std::move(inner)), io_(ctx.io), curl_(ctx.curl), call_(std::move(call)) {}

  Channel channel() const override { return inner_->channel(); }
  void send(const Outbound& message, SendCallback done) override {
    inner_->send(message, std::move(done));
  }
  std::optional<std::string> check_sender(std::string_view sender) const override {
    return inner_->check_sender(sender);
  }
  void cancel_all() override { inner_->cancel_all(); }
  bool supports_receipts() const override { return inner_->supports_receipts(); }
  ReceiptParse parse_receipts(const HttpServerRequest& request) const override {
    return inner_->parse_receipts(request);
  }

  bool polls_credits() const override { return curl_ != nullptr; }
  void poll_credits(CreditCallback done) override {
    if (!curl_) {
      boost::asio::post(io_, [done = std::move(done)] { done(std::nullopt, "no HTTP client"); });
      return;
    }
    http_request(*curl_, call_.request(),
                 [read = call_.read, io = &io_, done = std::move(done)](HttpResponse response) {
                   std::string error;
                   auto credits = read(response, error);
                   // Posted: never called back from inside poll_credits(), whatever the client.
                   boost::asio::post(*io, [done, credits, error] {
                     done(credits, credits ? std::string() : error);
                   });
                 });
  }

 private:
  std::unique_ptr<Provider> inner_;
  boost::asio::io_context& io_;
  CurlMulti* curl_;
  CreditCall call_;
};

}  // namespace

std::unique_ptr<Provider> with_credit_call(std::unique_ptr<Provider> inner, ProviderContext& ctx,
                                           CreditCall call) {
  return std::make_unique<CreditPolling>(std::move(inner), ctx, std::move(call));
}

}  // namespace rappel
