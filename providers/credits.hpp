// Reading a provider account's credit, for the core's credit watch: from the answers to sends, and,
// for providers that have one, from a credit call made on the daemon's schedule.
//
// The credit call is a decorator around the account's Provider rather than a part of the generic
// HTTP provider, so that an adapter adds it in its factory without the send path changing.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "daemon/base/provider.hpp"
#include "daemon/net/http_client.hpp"

namespace rappel {

// A member that holds a credit: a number, or a numeric string ("642", "9.5"); nullopt otherwise.
std::optional<double> json_credit(const nlohmann::json& object, std::string_view key);

// What a credit call is: its request, and reading its answer (a credit, or why not).
struct CreditCall {
  std::function<HttpRequest()> request;
  std::function<std::optional<double>(const HttpResponse&, std::string& error)> read;
};

// `inner` with polls_credits() / poll_credits() through `call` on the shared CurlMulti.
std::unique_ptr<Provider> with_credit_call(std::unique_ptr<Provider> inner, ProviderContext& ctx,
                                           CreditCall call);

}  // namespace rappel
