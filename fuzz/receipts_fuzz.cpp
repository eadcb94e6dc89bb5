// libFuzzer target: every delivery-report parser, the code that reads what anyone on the Internet
// may post to /v1/receipts/<account> once they hold the account's secret (or a provider sends
// something its documentation does not show). One target for all of them: the first byte of the
// input chooses the parser ('0'..'5', any byte modulo 6), the rest is the request body, so one
// corpus (fuzz/corpus/receipts/) holds every provider's documented examples and the fuzzer can move
// a body from one parser to another.
//
//   '0' SMS Factor (JSON or form)   '1' Brevo SMS   '2' Brevo email events (smtp accounts)
//   '3' Netsize, JSON format        '4' Netsize, form format
//   '5' the endpoint's own reading of the secret: ?token= or Authorization: Bearer
//
// Beyond "no crash", it checks what the endpoint and Redis rely on: a body is either refused with a
// reason or gives reports; every report names a message; an undelivered report says why; the
// provider's words kept in Redis have no control characters, a bounded length, no address or phone
// number in clear.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/content/utf8.hpp"
#include "daemon/net/http_server.hpp"
#include "daemon/pipeline/receipt_endpoint.hpp"
#include "providers/brevo_sms.hpp"
#include "providers/netsize.hpp"
#include "providers/receipt_parsing.hpp"
#include "providers/sms_factor.hpp"

namespace {

// The format docs/receipts.md shows for a Netsize account (its field names are per account).
rappel::netsize::ReceiptFormat netsize_format(bool form) {
  rappel::netsize::ReceiptFormat f;
  f.form = form;
  f.id_field = "messageId";
  f.status_field = "statusCode";
  f.reason_field = "statusText";
  f.delivered = {"DELIVERED"};
  f.undelivered = {"UNDELIVERABLE", "EXPIRED", "REJECTED"};
  return f;
}

// Text that reaches Redis and the logs: one line, bounded (provider_text cuts at 200 bytes; masked
// e-mail addresses may grow a little, a prefix names the provider), and without personal data:
// every address masked ("c***@example.fr"), no run of 6 digits or more (a phone number), counted
// the way provider_text counts them (digits, with spaces, dots and dashes between them).
bool safe_text(const std::string& text) {
  if (text.size() > 1024) return false;
  for (size_t i = 0; i < text.size(); i += rappel::utf8_length(text, i))
    if (rappel::utf8_length(text, i) == 0) return false;  // Redis, JSON and logs need UTF-8
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f) return false;
  for (size_t at = text.find('@'); at != std::string::npos; at = text.find('@', at + 1))
    if (at < 3 || text.compare(at - 3, 3, "***") != 0) return false;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  for (size_t i = 0; i < text.size(); ++i) {
    if (!digit(text[i])) continue;
    size_t j = i, digits = 0;
    while (j < text.size() &&
           (digit(text[j]) || text[j] == ' ' || text[j] == '.' || text[j] == '-'))
      digits += digit(text[j++]);
    if (digits >= 6) return false;
    i = j;
  }
  return true;
}

void check(const rappel::ReceiptParse& parsed) {
  if (!parsed.error.empty() && !parsed.receipts.empty())
    std::abort();  // refused means nothing kept
  for (const rappel::Receipt& r : parsed.receipts) {
    if (r.provider_message_id.empty() && r.message_id.empty() &&
        r.state != rappel::ReceiptState::intermediate)
      std::abort();  // a report that changes something must say which message
    if (r.state == rappel::ReceiptState::undelivered && r.reason.empty()) std::abort();
    if (!safe_text(r.reason) || !safe_text(r.provider_status)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      check(rappel::sms_factor::parse_receipts(body));
      break;
    case 1:
      check(rappel::brevo_sms::parse_receipts(body));
      break;
    case 2:
      check(rappel::parse_brevo_email_events(body));
      break;
    case 3:
      check(rappel::netsize::parse_receipts(netsize_format(false), body));
      break;
    case 4:
      check(rappel::netsize::parse_receipts(netsize_format(true), body));
      break;
    default: {
      // The query string, then after a newline the Authorization header's value.
      size_t newline = body.find('\n');
      rappel::HttpServerRequest request;
      request.query = std::string(body.substr(0, newline));
      if (newline != std::string_view::npos)
        request.headers["authorization"] = std::string(body.substr(newline + 1));
      std::string secret = rappel::presented_secret(request);
      // An empty secret never matches, whatever the account's (same_secret refuses "").
      if (rappel::same_secret(secret, "") || rappel::same_secret("", secret)) std::abort();
      if (!secret.empty() && !rappel::same_secret(secret, secret)) std::abort();
      break;
    }
  }
  return 0;
}
