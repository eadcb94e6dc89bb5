// What the adapters' delivery-report parsers share. Each adapter reads its provider's format in
// its own file (sms_factor.cpp, brevo_sms.cpp, netsize.cpp, smtp.cpp for Brevo's email events);
// these are the pieces common to them. Every parser is a pure function of the body, so that it
// can be unit-tested on the documented payloads and fuzzed.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "daemon/base/provider.hpp"
#include "daemon/net/form_encoding.hpp"

namespace rappel {

// Reads a JSON body holding one report object or an array of them (webhooks batch sometimes).
// `read_one` fills a Receipt from one object, or returns why it cannot (then the whole body is
// refused: a provider must not be told "200" for reports that were dropped).
using JsonReportReader = std::function<std::string(const nlohmann::json& report, Receipt& out)>;
ReceiptParse parse_json_reports(std::string_view body, const JsonReportReader& read_one);

// The provider's reason, safe for Redis and logs: numbers masked and length bounded
// (provider_text), and any e-mail address masked (bounce texts quote the recipient).
std::string receipt_reason(std::string_view text);

// Brevo's transactional email events (the smtp account type when it relays through Brevo):
// matched by X-Mailin-custom, our message id. Defined in smtp.cpp.
ReceiptParse parse_brevo_email_events(std::string_view body);

}  // namespace rappel
