// See secret_mask.hpp. A decorator (the adapter stays unaware of it), and a plain search: the
// texts are short (provider errors are cut to a few hundred bytes) and an account has a handful
// of secrets, so nothing faster is needed.
#include "daemon/config/secret_mask.hpp"

#include <algorithm>

#include "daemon/content/mime_encoding.hpp"

namespace rappel {

constexpr std::size_t kShortestMasked = 4;
constexpr std::string_view kMasked = "[secret]";

std::vector<std::string> secret_forms(const ConfigMap& account) {
  std::vector<std::string> forms;
  for (const auto& secret : account.secrets_read()) {
    forms.push_back(secret);
    forms.push_back(mime::base64(secret));
    for (const auto& other : account.strings_read()) {
      if (other == secret) continue;
      forms.push_back(mime::base64(other + ":" + secret));  // HTTP basic auth
      forms.push_back(
          mime::base64(std::string(1, '\0') + other + '\0' + secret));  // SMTP AUTH PLAIN
    }
  }
  return forms;
}

SecretMask::SecretMask(std::vector<std::string> forms) : forms_(std::move(forms)) {
  std::erase_if(forms_, [](const std::string& f) { return f.size() < kShortestMasked; });
  std::sort(forms_.begin(), forms_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  forms_.erase(std::unique(forms_.begin(), forms_.end()), forms_.end());
}

std::string SecretMask::apply(std::string_view text) const {
  std::string out(text);
  for (const auto& form : forms_) {
    for (std::size_t at = out.find(form); at != std::string::npos;
         at = out.find(form, at + kMasked.size()))
      out.replace(at, form.size(), kMasked);
  }
  return out;
}

namespace {

class MaskedProvider final : public Provider {
 public:
  MaskedProvider(std::unique_ptr<Provider> inner, SecretMask mask)
      : inner_(std::move(inner)), mask_(std::make_shared<SecretMask>(std::move(mask))) {}

  Channel channel() const override { return inner_->channel(); }

  void send(const Outbound& message, SendCallback done) override {
    inner_->send(message, [mask = mask_, done = std::move(done)](SendResult result) {
      result.error = mask->apply(result.error);
      done(std::move(result));
    });
  }

  std::optional<std::string> check_sender(std::string_view sender) const override {
    return inner_->check_sender(sender);
  }
  void cancel_all() override { inner_->cancel_all(); }
  bool supports_receipts() const override { return inner_->supports_receipts(); }

  ReceiptParse parse_receipts(const HttpServerRequest& request) const override {
    ReceiptParse parse = inner_->parse_receipts(request);
    parse.error = mask_->apply(parse.error);
    for (auto& r : parse.receipts) {
      r.reason = mask_->apply(r.reason);
      r.provider_status = mask_->apply(r.provider_status);
    }
    return parse;
  }

  bool polls_credits() const override { return inner_->polls_credits(); }
  void poll_credits(CreditCallback done) override {
    inner_->poll_credits(
        [mask = mask_, done = std::move(done)](std::optional<double> credits, std::string error) {
          done(credits, mask->apply(error));
        });
  }

 private:
  std::unique_ptr<Provider> inner_;
  std::shared_ptr<const SecretMask> mask_;  // shared with callbacks that may outlive a send
};

}  // namespace

std::unique_ptr<Provider> with_secrets_masked(std::unique_ptr<Provider> provider, SecretMask mask) {
  if (mask.empty()) return provider;
  return std::make_unique<MaskedProvider>(std::move(provider), std::move(mask));
}

}  // namespace rappel
