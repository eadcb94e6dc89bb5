// The contract between the core and every provider adapter.
//
// A provider account (one entry under `providers:` in the YAML) becomes one Provider object. The
// core hands it a fully rendered message and gets back exactly one SendResult, asynchronously, on
// the event loop thread. The result vocabulary is deliberately small (fluent-bit's OK / RETRY /
// ERROR, plus "the account itself is unusable") so that retry, circuit and failover policy live in
// the core and adapters only translate their provider's answers.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace rappel {

enum class Channel { sms, email };
std::string_view to_string(Channel c);
std::optional<Channel> channel_from_string(std::string_view s);

enum class Outcome {
  accepted,     // the provider took the message; provider_message_id / parts when it says them
  transient,    // worth retrying later: timeout, connection error, 5xx, throttling
  permanent,    // this message will never go through this provider: invalid number, bad content
  unavailable,  // the account is unusable: bad credentials, out of credit, account expired
};
std::string_view to_string(Outcome o);

struct SendResult {
  Outcome outcome = Outcome::transient;
  std::string provider_message_id;
  int parts = 0;      // parts billed when the provider reports it, else 0
  std::string error;  // the provider's own words on failure (never personal data)
  std::optional<std::chrono::seconds> retry_after;
  bool outcome_unknown = false;  // e.g. a timeout after the request was sent: it may have gone out
  // A transient failure for lack of a resource of this machine (file descriptors, memory): retried
  // like any transient one, but never counted against the provider's circuit.
  bool local_failure = false;
  // The account's remaining credit when the answer says it (Brevo's remainingCredits, SMS
  // Factor's credits): the core's credit watch (daemon/pipeline/credit_watch.hpp) follows it.
  std::optional<double> credits;

  static SendResult accepted(std::string id, int parts = 0) {
    return {Outcome::accepted, std::move(id), parts, {}, {}, false, false};
  }
  static SendResult failure(Outcome o, std::string error) {
    return {o, {}, 0, std::move(error), {}, false, false};
  }
};

struct SmsContent {
  std::string to;      // E.164 with '+', e.g. +33612345678 (already validated)
  std::string sender;  // sender name, validated against the provider at config load
  std::string text;    // normalised to GSM 03.38 unless encoding is "ucs2"
  std::string encoding = "gsm7";
  int segments = 1;
};

struct EmailContent {
  std::string to;          // bare address, validated
  std::string to_name;     // display name, may be empty; never contains CR/LF
  std::string subject;     // never contains CR/LF
  std::string text;        // text/plain body
  std::string html;        // text/html body, may be empty
  std::string ics;         // iCalendar object, may be empty
  std::string ics_method;  // PUBLISH or CANCEL when ics is set
  // The calendar's ORGANIZER ("Name <address>" or an address): the département's email.organizer;
  // empty: the email's From (build_email adds it).
  std::string ics_organizer;
};

struct Outbound {
  std::string id;  // <key>:<channel>, stable across attempts
  std::string department;
  int attempt = 1;
  std::variant<SmsContent, EmailContent> content;

  Channel channel() const { return content.index() == 0 ? Channel::sms : Channel::email; }
  const SmsContent& sms() const { return std::get<SmsContent>(content); }
  const EmailContent& email() const { return std::get<EmailContent>(content); }
};

using SendCallback = std::function<void(SendResult)>;
// The answer of a provider's credit call: the credit, or nullopt and why not.
using CreditCallback = std::function<void(std::optional<double> credits, std::string error)>;

struct HttpServerRequest;  // daemon/net/http_server.hpp

// One delivery report, in the core's words (providers/receipt_parsing.hpp has the parsers'
// helpers).
enum class ReceiptState { delivered, undelivered, intermediate };
struct Receipt {
  std::string provider_message_id;  // matched through the index written at send time
  std::string message_id;           // our id, when the provider echoes it back instead
  ReceiptState state = ReceiptState::intermediate;
  std::string provider_status;  // the provider's own status word or code, e.g. "hard_bounce"
  std::string reason;           // its words when undelivered, without personal data
};
struct ReceiptParse {
  std::vector<Receipt> receipts;
  std::string error;  // set when the body cannot be read: the endpoint answers 400 with it
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual Channel channel() const = 0;
  // Must call `done` exactly once, from the event loop thread, never from inside send() itself
  // (post it), so the caller's bookkeeping is never re-entered.
  virtual void send(const Outbound& message, SendCallback done) = 0;
  // Why this sender name cannot be used with this provider, or nullopt when it can.
  virtual std::optional<std::string> check_sender(std::string_view sender) const {
    (void)sender;
    return std::nullopt;
  }
  // Stops in-flight work: pending callbacks are called with a transient, outcome-unknown result.
  virtual void cancel_all() {}
  // Delivery reports posted to /v1/receipts/<account>: whether this account can read them, and
  // reading one request (authentication is the endpoint's job, before this is called).
  virtual bool supports_receipts() const { return false; }
  virtual ReceiptParse parse_receipts(const HttpServerRequest& request) const {
    (void)request;
    return {{}, "this provider has no delivery reports"};
  }
  // Whether the provider has a call that tells the account's credit (SMS Factor's GET /credits),
  // and making it; `done` is called once, from the event loop, never from inside the call.
  virtual bool polls_credits() const { return false; }
  virtual void poll_credits(CreditCallback done) { done(std::nullopt, "no credit call"); }
};

class CurlMulti;  // daemon/net/curl_multi.hpp: the shared libcurl multi handle on the event loop

// What an adapter may use at run time. Creating a provider must not open connections: the same
// path serves `check-config`, where nothing runs.
struct ProviderContext {
  boost::asio::io_context& io;
  CurlMulti* curl = nullptr;  // null in `check-config`
  // `send-test --simulate`: adapters whose provider has a simulation endpoint use it (SMS Factor's
  // /send/simulate); send-test refuses --simulate for any other account type.
  bool simulate = false;
};

}  // namespace rappel
