// Reading a provider's HTTP answer: what every HTTP SMS adapter's `classify` shares.
//
// Error texts are built here: they carry the provider's own message (it is what an operator
// needs) but pass it through provider_text() (daemon/content/redact.hpp), which masks anything
// that looks like a phone number and bounds the length, because providers do echo numbers back
// ("Invalid number 0612345678"). The functions are pure, so each provider's table of codes is
// unit-testable.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "daemon/base/provider.hpp"
#include "daemon/net/http_client.hpp"

namespace rappel {

// The default meaning of an HTTP status: 2xx accepted; 408, 429, 5xx transient; 401, 402 (out of
// credit), 403 and 3xx (a wrong `url`) unavailable; other 4xx permanent.
Outcome outcome_of_status(int status);
// 500, 502 and 504 answer a request the provider (or its gateway) received and may have acted on:
// a transient failure with one of them is outcome_unknown. 503 and 429 are refusals.
bool leaves_outcome_unknown(int status);

// "Retry-After: 120" or "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT" (RFC 9110), relative to now.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

// A failure: "<label>: HTTP <status>: <provider's words>" with Retry-After applied, and
// outcome_unknown when transient with a status of leaves_outcome_unknown().
SendResult http_failure(Outcome outcome, std::string_view label, const HttpResponse& response,
                        std::string_view provider_words);
// No HTTP response at all: transient, with outcome_unknown when the request may have gone out.
SendResult transport_failure(std::string_view label, const HttpResponse& response);
// The default classification, for responses the adapter's own table does not recognise.
SendResult classify_by_status(std::string_view label, const HttpResponse& response,
                              std::string_view provider_words = {});
// A body the adapter cannot read. With a 2xx the provider may well have taken the message:
// transient but outcome_unknown, so the core knows a retry may duplicate it.
SendResult unreadable_body(std::string_view label, const HttpResponse& response);
// A readable answer without the field that says whether the provider took the message (`field`,
// e.g. SMS Factor's "status"): after a 2xx it is as unreadable as garbage ({"error": ...} or {}
// from a proxy: the message may or may not have been taken), so transient with outcome_unknown,
// never accepted; with another status, classified by status with the provider's words.
SendResult missing_verdict(std::string_view label, const HttpResponse& response,
                           std::string_view field, std::string_view provider_words);

// JSON that never throws: nullopt for malformed bodies.
std::optional<nlohmann::json> parse_json(std::string_view body);
// A member as text whether the provider sent a string or a number; "" otherwise.
std::string json_text(const nlohmann::json& object, std::string_view key);
// A member as an integer whether sent as a number or a numeric string.
std::optional<long long> json_integer(const nlohmann::json& object, std::string_view key);

// The first steps of a JSON provider's classify: no answer at all is a transport failure, and a
// body that is not a JSON object is unreadable; either is returned settled. Otherwise `body` holds
// the object and the answer is nullopt.
std::optional<SendResult> read_json_answer(std::string_view label, const HttpResponse& response,
                                           nlohmann::json& body);

}  // namespace rappel
