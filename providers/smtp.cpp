// `smtp`: emails through an SMTP relay (Brevo's smtp-relay.brevo.com:587 in production).
//
// The message is built by daemon/content/mime.hpp's build_email, the same bytes the `file` provider
// writes, with our message id in X-Mailin-custom: Brevo's email events carry that header back,
// which is how delivery events find their message. The provider message id is the RFC Message-ID.
// Sending goes through daemon/net/smtp_client.hpp on the shared CurlMulti, which keeps the
// authenticated session open between messages, at most `max_connections` sessions at once
// (daemon/net/smtp_sessions.hpp).
//
// Delivery reports are Brevo's email event webhooks (an smtp account relaying through Brevo):
// delivered -> delivered; hard_bounce, blocked, invalid_email, error -> undelivered with the
// event and Brevo's reason; soft_bounce and deferred -> intermediate (Brevo keeps trying);
// request (= sent), opens, clicks, unsubscriptions, complaints -> nothing. Matched by
// X-Mailin-custom, our message id: the RFC Message-ID match is unconfirmed.
#include <boost/asio/post.hpp>

#include "daemon/content/email_address.hpp"
#include "daemon/content/mime.hpp"
#include "daemon/net/curl_multi.hpp"
#include "daemon/net/http_server.hpp"
#include "daemon/net/smtp_sessions.hpp"
#include "providers/http_sms.hpp"
#include "providers/receipt_parsing.hpp"
#include "providers/registry.hpp"
#include "providers/smtp_account.hpp"

namespace rappel {
namespace {

class SmtpProvider final : public Provider {
 public:
  SmtpProvider(ProviderContext& ctx, std::string account, SmtpSettings smtp, std::string from)
      : io_(ctx.io),
        account_(std::move(account)),
        from_(std::move(from)),
        envelope_from_(envelope_address(from_)) {
    if (ctx.curl) sessions_ = std::make_unique<SmtpSessions>(*ctx.curl, std::move(smtp));
  }

  Channel channel() const override { return Channel::email; }
  bool supports_receipts() const override { return true; }
  ReceiptParse parse_receipts(const HttpServerRequest& request) const override {
    return parse_brevo_email_events(request.body);
  }

  void cancel_all() override {
    if (sessions_) sessions_->cancel_all();
  }

  void send(const Outbound& message, SendCallback done) override {
    if (!sessions_) return fail_later(std::move(done), "provider built for check-config only");
    MimeOptions options;
    options.from = from_;
    options.date = std::chrono::system_clock::now();
    options.extra_headers.emplace_back("X-Mailin-custom", message.id);
    SmtpMessage mail{envelope_from_, {message.email().to}, build_email(message, options)};
    std::string provider_id = message_id_for(message.id, from_);
    sessions_->send(std::move(mail), [provider_id, done = std::move(done)](SmtpResult r) {
      SendResult result = to_send_result(r);
      // A failure is logged by the core, once its words went through the account's secret mask.
      if (result.outcome == Outcome::accepted) result.provider_message_id = provider_id;
      done(std::move(result));
    });
  }

 private:
  void fail_later(SendCallback done, std::string why) {
    boost::asio::post(io_, [done = std::move(done), why = std::move(why)] {
      done(SendResult::failure(Outcome::unavailable, why));
    });
  }

  boost::asio::io_context& io_;
  std::string account_;
  std::string from_;
  std::string envelope_from_;
  std::unique_ptr<SmtpSessions> sessions_;  // null in check-config
};

std::string read_email_event(const nlohmann::json& event, Receipt& r) {
  std::string name = json_text(event, "event");
  if (name.empty()) return "an event without its name";
  r.message_id = json_text(event, "X-Mailin-custom");
  r.provider_status = receipt_reason(name);
  if (name == "delivered") {
    r.state = ReceiptState::delivered;
  } else if (name == "hard_bounce" || name == "blocked" || name == "invalid_email" ||
             name == "error") {
    r.state = ReceiptState::undelivered;
    std::string why = json_text(event, "reason");
    r.reason = "Brevo: " + r.provider_status + (why.empty() ? "" : ": " + receipt_reason(why));
  } else {
    r.state = ReceiptState::intermediate;  // soft_bounce, deferred, request, opened, click...
  }
  // An event of a mail rappel did not send (no X-Mailin-custom) concerns nothing of ours.
  if (r.message_id.empty()) r.state = ReceiptState::intermediate;
  return {};
}

}  // namespace

ReceiptParse parse_brevo_email_events(std::string_view body) {
  return parse_json_reports(body, read_email_event);
}

std::unique_ptr<Provider> make_smtp_provider(ConfigMap& account, ProviderContext& ctx) {
  std::string name = account_name(account);
  SmtpSettings smtp = read_smtp_settings(account);
  std::string from = account.string("from");
  if (!is_valid_email_address(envelope_address(from)))
    account.fail("from", "expected \"Name <address>\" or an address");
  return std::make_unique<SmtpProvider>(ctx, name, std::move(smtp), std::move(from));
}

}  // namespace rappel
