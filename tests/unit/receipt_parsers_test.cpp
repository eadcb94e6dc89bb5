// The providers' delivery-report parsers on the payloads their documentation shows
// (../shared/reference/providers.md), plus the malformed bodies the endpoint must answer with 400.
// Pure functions: no server, no Redis.
#include <catch2/catch.hpp>

#include "daemon/pipeline/receipt_endpoint.hpp"
#include "providers/brevo_sms.hpp"
#include "providers/netsize.hpp"
#include "providers/receipt_parsing.hpp"
#include "providers/sms_factor.hpp"

using namespace rappel;

TEST_CASE("SMS Factor reports: the documented example is delivered, matched by campaign_id",
          "[receipts][sms_factor]") {
  auto parsed = sms_factor::parse_receipts(
      R"({"date":"2018-01-16T11:55:12+01:00","status":3,"destination":"33612345678",)"
      R"("message_id":"rdv-4521-rappel:sms","campaign_id":"15948909","country_code":"FR"})");
  REQUIRE(parsed.error.empty());
  REQUIRE(parsed.receipts.size() == 1);
  const Receipt& r = parsed.receipts[0];
  CHECK(r.state == ReceiptState::delivered);
  CHECK(r.provider_message_id == "15948909");  // the ticket, our provider_message_id
  CHECK(r.message_id == "rdv-4521-rappel:sms");
  CHECK(r.provider_status == "3");
  CHECK(r.reason.empty());
}

TEST_CASE("SMS Factor reports: every documented status code", "[receipts][sms_factor]") {
  auto state_of = [](int status) {
    auto parsed = sms_factor::parse_receipts(R"({"status":)" + std::to_string(status) +
                                             R"(,"message_id":"k:sms","campaign_id":"1"})");
    REQUIRE(parsed.receipts.size() == 1);
    return parsed.receipts[0];
  };
  CHECK(state_of(3).state == ReceiptState::delivered);
  CHECK(state_of(1).state == ReceiptState::intermediate);
  for (int undelivered : {0, 2, 4, 5, 6, 7, 9, 11, 12})
    CHECK(state_of(undelivered).state == ReceiptState::undelivered);
  CHECK(state_of(5).reason == "SMS Factor: status 5 invalid destination");
  CHECK(state_of(12).reason == "SMS Factor: status 12 expired");
  CHECK(state_of(42).state == ReceiptState::intermediate);  // undocumented: changes nothing
}

TEST_CASE("SMS Factor reports: form-encoded fields and malformed bodies",
          "[receipts][sms_factor]") {
  auto form = sms_factor::parse_receipts("status=2&message_id=k%3Asms&campaign_id=77");
  REQUIRE(form.receipts.size() == 1);
  CHECK(form.receipts[0].message_id == "k:sms");
  CHECK(form.receipts[0].state == ReceiptState::undelivered);
  CHECK_FALSE(sms_factor::parse_receipts("{not json").error.empty());
  CHECK_FALSE(sms_factor::parse_receipts(R"({"status":3})").error.empty());
  CHECK_FALSE(sms_factor::parse_receipts(R"({"message_id":"x","status":"livré"})").error.empty());
  CHECK_FALSE(sms_factor::parse_receipts("").error.empty());
  // A status no code can have is refused, not kept: its digits could be a phone number.
  auto long_status = sms_factor::parse_receipts("status=612345678&campaign_id=77");
  CHECK_FALSE(long_status.error.empty());
  CHECK(long_status.receipts.empty());
}

TEST_CASE("Brevo SMS reports: msg_status by messageId; the webhook's own id is ignored",
          "[receipts][brevo_sms]") {
  auto parsed = brevo_sms::parse_receipts(
      R"({"id":6652,"to":"33612345678","sms_count":2,"credits_used":2.5,"messageId":1511882900176220,)"
      R"("msg_status":"delivered","date":"2024-03-05 10:30:00","reference":{"1":"abc"}})");
  REQUIRE(parsed.error.empty());
  REQUIRE(parsed.receipts.size() == 1);
  CHECK(parsed.receipts[0].provider_message_id == "1511882900176220");
  CHECK(parsed.receipts[0].state == ReceiptState::delivered);

  auto bounce = brevo_sms::parse_receipts(
      R"([{"messageId":"42","msg_status":"hard_bounce","to":"33612345678"},)"
      R"({"messageId":"43","msg_status":"soft_bounce"},{"messageId":"44","msg_status":"sent"}])");
  REQUIRE(bounce.receipts.size() == 3);
  CHECK(bounce.receipts[0].state == ReceiptState::undelivered);
  CHECK(bounce.receipts[0].reason == "Brevo SMS: hard_bounce");
  CHECK(bounce.receipts[1].state == ReceiptState::intermediate);
  CHECK(bounce.receipts[2].state == ReceiptState::intermediate);

  CHECK_FALSE(brevo_sms::parse_receipts(R"({"msg_status":"delivered"})").error.empty());
  CHECK_FALSE(brevo_sms::parse_receipts(R"({"messageId":1})").error.empty());
  CHECK_FALSE(brevo_sms::parse_receipts("[1, 2]").error.empty());
}

TEST_CASE("Brevo email events: X-Mailin-custom names our message; bounces say why, masked",
          "[receipts][smtp]") {
  auto hard = parse_brevo_email_events(
      R"({"event":"hard_bounce","email":"camille.martin@example.fr","id":1,)"
      R"("date":"2026-12-01 10:00:00","ts_epoch":1796112000000,"message-id":"<a@b>",)"
      R"("subject":"Rappel de votre rendez-vous","X-Mailin-custom":"rdv-4521-rappel:email",)"
      R"("reason":"550 5.1.1 <camille.martin@example.fr>: Recipient address rejected"})");
  REQUIRE(hard.receipts.size() == 1);
  const Receipt& r = hard.receipts[0];
  CHECK(r.message_id == "rdv-4521-rappel:email");
  CHECK(r.state == ReceiptState::undelivered);
  CHECK(r.reason.find("camille.martin") == std::string::npos);
  // provider_text's number masking also takes the SMTP codes "550 5.1.1" for a number.
  CHECK(r.reason == "Brevo: hard_bounce: <number> <c***@example.fr>: Recipient address rejected");

  auto state = [](const std::string& event) {
    auto p =
        parse_brevo_email_events(R"({"event":")" + event + R"(","X-Mailin-custom":"k:email"})");
    REQUIRE(p.receipts.size() == 1);
    return p.receipts[0].state;
  };
  CHECK(state("delivered") == ReceiptState::delivered);
  for (const char* e : {"hard_bounce", "blocked", "invalid_email", "error"})
    CHECK(state(e) == ReceiptState::undelivered);
  for (const char* e : {"request", "soft_bounce", "deferred", "opened", "click", "spam"})
    CHECK(state(e) == ReceiptState::intermediate);

  // A mail rappel did not send (no X-Mailin-custom): nothing of ours changes.
  auto foreign = parse_brevo_email_events(R"({"event":"hard_bounce","email":"x@example.fr"})");
  REQUIRE(foreign.receipts.size() == 1);
  CHECK(foreign.receipts[0].state == ReceiptState::intermediate);
  CHECK_FALSE(parse_brevo_email_events(R"({"email":"x@example.fr"})").error.empty());
}

TEST_CASE("Netsize reports follow the format the account describes", "[receipts][netsize]") {
  netsize::ReceiptFormat json_format;
  json_format.id_field = "messageId";
  json_format.status_field = "statusCode";
  json_format.reason_field = "statusText";
  json_format.delivered = {"DELIVERED"};
  json_format.undelivered = {"UNDELIVERABLE", "EXPIRED"};
  auto parsed = netsize::parse_receipts(
      json_format,
      R"([{"messageId":"5f0e2b","statusCode":"DELIVERED"},)"
      R"({"messageId":"5f0e2c","statusCode":"EXPIRED","statusText":"expired at 0612345678"},)"
      R"({"messageId":"5f0e2d","statusCode":"BUFFERED"}])");
  REQUIRE(parsed.receipts.size() == 3);
  CHECK(parsed.receipts[0].provider_message_id == "5f0e2b");
  CHECK(parsed.receipts[0].state == ReceiptState::delivered);
  CHECK(parsed.receipts[1].state == ReceiptState::undelivered);
  CHECK(parsed.receipts[1].reason == "Netsize: EXPIRED: expired at <number>");
  CHECK(parsed.receipts[2].state == ReceiptState::intermediate);
  CHECK_FALSE(netsize::parse_receipts(json_format, R"({"statusCode":"DELIVERED"})").error.empty());

  netsize::ReceiptFormat form = json_format;
  form.form = true;
  form.id_field = "MessageId";
  form.status_field = "StatusCode";
  auto from_form = netsize::parse_receipts(form, "MessageId=5f0e2b&StatusCode=DELIVERED");
  REQUIRE(from_form.receipts.size() == 1);
  CHECK(from_form.receipts[0].state == ReceiptState::delivered);
}

TEST_CASE("Receipt secrets: compared whole, from ?token= or a bearer header", "[receipts]") {
  CHECK(same_secret("jeton-cd77-0123456789", "jeton-cd77-0123456789"));
  CHECK_FALSE(same_secret("jeton-cd77-012345678", "jeton-cd77-0123456789"));
  CHECK_FALSE(same_secret("jeton-cd77-01234567890", "jeton-cd77-0123456789"));
  CHECK_FALSE(same_secret("Jeton-cd77-0123456789", "jeton-cd77-0123456789"));
  CHECK_FALSE(same_secret("", ""));
  HttpServerRequest request;
  request.query = "token=jeton%2Bcd77";
  CHECK(presented_secret(request) == "jeton+cd77");
  request.query.clear();
  request.headers["authorization"] = "Bearer jeton-cd77";
  CHECK(presented_secret(request) == "jeton-cd77");
  request.headers["authorization"] = "Basic amV0b24=";
  CHECK(presented_secret(request).empty());
}
