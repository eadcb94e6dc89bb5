// A provider that echoes our credentials: its words reach the events stream,
// the message hash and the log with every secret of the account masked, in clear or encoded.
#include <catch2/catch.hpp>

#include "daemon/content/mime_encoding.hpp"
#include "integration/delivery_support.hpp"

using namespace rappel::test;
using namespace rappel::test::delivery;
using namespace std::chrono_literals;

TEST_CASE("a provider echoing the token or the basic-auth string has them masked everywhere",
          "[integration][secrets]") {
  export_secrets();
  const std::string basic = rappel::mime::base64(std::string("cd77:") + kNetsizePassword);
  ProviderServer sms_factor([](const RecordedRequest&) {
    return ScriptedResponse{
        401, std::string(R"({"status":-1,"message":"Invalid token: Bearer )") + kToken + "\"}"};
  });
  ProviderServer netsize([basic](const RecordedRequest&) {
    return ScriptedResponse{
        401, R"({"responseCode":401,"responseMessage":"Bad credentials Basic )" + basic + " (" +
                 kNetsizePassword + ")\"}"};
  });
  TestConfig config;
  config.extra_providers =
      sms_factor_account("sms-factor-77", sms_factor) + netsize_account("netsize-13", netsize);
  config.departments =
      "  \"77\": {sms: {provider: sms-factor-77}}\n"
      "  \"13\": {sms: {provider: netsize-13}}\n";
  Scenario s(config);
  s.start_daemon();
  s.enqueue(reminder("rdv-token-77"));
  s.enqueue(reminder("rdv-token-13", "13"));
  // SMS Factor's 401 makes the account unavailable; Netsize's is a transient failure.
  REQUIRE(eventually([&] { return account_events(s, "provider_unavailable").size() == 1; }, 20s));
  REQUIRE(s.wait_status("rdv-token-13:sms", "retrying"));

  // The provider's words are kept, the secrets masked.
  CHECK(account_events(s, "provider_unavailable")[0]["error"] ==
        "SMS Factor: HTTP 401: status -1 Invalid token: Bearer [secret]");
  CHECK(s.message("rdv-token-13:sms")["error"] ==
        "Netsize: HTTP 401: responseCode 401 Bad credentials Basic [secret] ([secret])");
  std::string seen;
  for (const char* id : {"rdv-token-77:sms", "rdv-token-13:sms"}) seen += s.message(id)["error"];
  for (auto& e : s.redis.xrange("rappel:events")) seen += e["error"] + "\n";
  seen += s.all_logs();
  CHECK(seen.find(kToken) == std::string::npos);
  CHECK(seen.find(kNetsizePassword) == std::string::npos);
  CHECK(seen.find(basic) == std::string::npos);
}
