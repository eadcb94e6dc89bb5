// `log`: an SMS provider that writes each SMS to the daemon's log instead of sending it.
// For development, demos and départements not yet set up. The number is masked and the text is not
// written (message text is personal data); only its shape (encoding, segments, length) is.
#include <atomic>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "daemon/content/redact.hpp"
#include "providers/registry.hpp"

namespace rappel {
namespace {

class LogProvider final : public Provider {
 public:
  LogProvider(ProviderContext& ctx, std::string account, std::string sender)
      : io_(ctx.io), account_(std::move(account)), sender_(std::move(sender)) {}

  Channel channel() const override { return Channel::sms; }

  void send(const Outbound& message, SendCallback done) override {
    const SmsContent& sms = message.sms();
    std::string provider_id = account_ + "-" + std::to_string(++sequence_);
    spdlog::info("log provider {}: SMS {} to {} from {} ({}, {} segment(s), {} bytes) as {}",
                 account_, message.id, mask_phone(sms.to),
                 sms.sender.empty() ? sender_ : sms.sender, sms.encoding, sms.segments,
                 sms.text.size(), provider_id);
    boost::asio::post(io_, [done = std::move(done), provider_id, parts = sms.segments] {
      done(SendResult::accepted(provider_id, parts));
    });
  }

 private:
  boost::asio::io_context& io_;
  std::string account_;
  std::string sender_;
  std::atomic<unsigned long> sequence_{0};
};

}  // namespace

std::unique_ptr<Provider> make_log_provider(ConfigMap& account, ProviderContext& ctx) {
  std::string name = account_name(account);
  std::string sender = account.string_or("sender", "");
  return std::make_unique<LogProvider>(ctx, name, sender);
}

}  // namespace rappel
