// `sfr_mail2sms`: SMS through SFR's email-to-SMS gateway (Pas-de-Calais, Hauts-de-Seine).
//
// Each SMS is a plain-text email, through the département's own SMTP account, to its gateway
// address at @mailtosms.dmc.sfr-sh.fr, from a sender address SFR whitelisted: Subject = the
// national number (0611223344), body = the SMS text. SFR refuses HTML, which is why this cannot go
// through Brevo (Brevo turns plain text into HTML). build_email with no html and no ics gives
// exactly one text/plain part. The gateway reports nothing back: an email the relay accepted is
// all we ever know, so the result carries no provider id.
#include <boost/asio/post.hpp>

#include "daemon/content/email_address.hpp"
#include "daemon/content/mime.hpp"
#include "daemon/content/phone.hpp"
#include "daemon/net/curl_multi.hpp"
#include "daemon/net/smtp_sessions.hpp"
#include "providers/registry.hpp"
#include "providers/smtp_account.hpp"

namespace rappel {
namespace {

class SfrMail2SmsProvider final : public Provider {
 public:
  SfrMail2SmsProvider(ProviderContext& ctx, std::string account, SmtpSettings smtp,
                      std::string from, std::string gateway)
      : io_(ctx.io),
        account_(std::move(account)),
        from_(std::move(from)),
        gateway_(std::move(gateway)) {
    if (ctx.curl) sessions_ = std::make_unique<SmtpSessions>(*ctx.curl, std::move(smtp));
  }

  Channel channel() const override { return Channel::sms; }
  void cancel_all() override {
    if (sessions_) sessions_->cancel_all();
  }

  void send(const Outbound& message, SendCallback done) override {
    if (!sessions_) {
      boost::asio::post(io_, [done = std::move(done)] {
        done(SendResult::failure(Outcome::unavailable, "provider built for check-config only"));
      });
      return;
    }
    SmtpMessage mail{envelope_address(from_), {gateway_}, gateway_email(message)};
    sessions_->send(std::move(mail),
                    // A failure is logged by the core, after the account's secret mask.
                    [done = std::move(done)](SmtpResult r) { done(to_send_result(r)); });
  }

 private:
  std::string gateway_email(const Outbound& message) const {
    EmailContent email;
    email.to = gateway_;
    email.subject = national_number(message.sms().to);
    email.text = message.sms().text;
    Outbound as_email{message.id, message.department, message.attempt, std::move(email)};
    MimeOptions options;
    options.from = from_;
    options.date = std::chrono::system_clock::now();
    return build_email(as_email, options);
  }

  boost::asio::io_context& io_;
  std::string account_;
  std::string from_;
  std::string gateway_;
  std::unique_ptr<SmtpSessions> sessions_;  // null in check-config
};

}  // namespace

std::unique_ptr<Provider> make_sfr_mail2sms_provider(ConfigMap& account, ProviderContext& ctx) {
  std::string name = account_name(account);
  SmtpSettings smtp = read_smtp_settings(account);
  std::string gateway = account.string("gateway");
  if (!is_valid_email_address(gateway))
    account.fail("gateway", "expected the département's address at mailtosms.dmc.sfr-sh.fr");
  std::string from = account.string("from");
  if (!is_valid_email_address(envelope_address(from)))
    account.fail("from", "expected the sender address SFR whitelisted");
  return std::make_unique<SfrMail2SmsProvider>(ctx, name, std::move(smtp), std::move(from),
                                               std::move(gateway));
}

}  // namespace rappel
