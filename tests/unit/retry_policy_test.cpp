// Retry policy: what a provider's answer does to a message (sent, retrying, failed, expired), and
// the backoff between attempts (exponential ceiling, full jitter, one second floor).
//
// The jitter is random, so properties are checked over many draws of a seeded generator: every
// delay within its bounds, and the draws actually spread (not all equal, reaching both halves of
// the range). No clock is read: `now` is a fixed instant.
#include <catch2/catch.hpp>

#include <set>

#include "daemon/pipeline/retry_policy.hpp"

using namespace rappel;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr Millis kNow = 1796117400000;  // 2026-12-01T09:30:00Z

ClaimedMessage sms_reminder(int attempt, Millis expires_at_ms = 0) {
  ClaimedMessage m;
  m.id = "rdv-48213:reminder-48h:sms";
  m.key = "rdv-48213:reminder-48h";
  m.channel = "sms";
  m.department = "77";
  m.event = "rdv_upcoming_reminder";
  m.attempt = attempt;
  m.send_at_ms = kNow - 60'000;
  m.expires_at_ms = expires_at_ms;
  return m;
}

RetryPolicy policy(milliseconds base, milliseconds cap, int max_attempts) {
  RetryPolicy p;
  p.base = base;
  p.cap = cap;
  p.max_attempts = max_attempts;
  return p;
}

SendResult transient(std::string error = "HTTP 503 Service Unavailable") {
  return SendResult::failure(Outcome::transient, std::move(error));
}

}  // namespace

TEST_CASE("an accepted message is sent, with the provider's id and parts", "[retry]") {
  std::mt19937_64 rng(1);
  Completion c =
      decide_outcome(sms_reminder(2), SendResult::accepted("smsf-9f8e7d", 2), {}, kNow, rng);
  CHECK(c.status == "sent");
  CHECK(c.id == "rdv-48213:reminder-48h:sms");
  CHECK(c.attempt == 2);
  CHECK(c.provider_message_id == "smsf-9f8e7d");
  CHECK(c.parts == 2);
  CHECK(c.error.empty());
  CHECK(c.next_attempt_ms == 0);
}

TEST_CASE("a permanent failure fails at once, whatever the attempt", "[retry]") {
  std::mt19937_64 rng(2);
  Completion c = decide_outcome(
      sms_reminder(1), SendResult::failure(Outcome::permanent, "invalid destination number"), {},
      kNow, rng);
  CHECK(c.status == "failed");
  CHECK(c.error == "invalid destination number");
  CHECK(c.next_attempt_ms == 0);
}

TEST_CASE("a transient failure is retried within the backoff window", "[retry]") {
  std::mt19937_64 rng(3);
  RetryPolicy p = policy(seconds(30), std::chrono::hours(1), 10);
  for (int i = 0; i < 1000; ++i) {
    SendResult r = transient();
    r.outcome_unknown = true;
    Completion c = decide_outcome(sms_reminder(1), r, p, kNow, rng);
    REQUIRE(c.status == "retrying");
    CHECK(c.error == "HTTP 503 Service Unavailable");
    CHECK(c.outcome_unknown);
    CHECK(c.next_attempt_ms >= kNow + 1000);
    CHECK(c.next_attempt_ms <= kNow + 30'000);
  }
}

TEST_CASE("the backoff ceiling doubles per attempt and is capped", "[retry]") {
  std::mt19937_64 rng(4);
  RetryPolicy p = policy(seconds(30), std::chrono::minutes(10), 10);
  // Attempt n waits at most base * 2^(n-1), capped at 10 minutes.
  const std::vector<long long> ceilings = {30'000,  60'000,  120'000, 240'000,
                                           480'000, 600'000, 600'000, 600'000};
  for (int attempt = 1; attempt <= 8; ++attempt) {
    long long ceiling = ceilings[attempt - 1];
    INFO("attempt " << attempt);
    long long lowest = ceiling, highest = 0;
    std::set<long long> distinct;
    for (int i = 0; i < 1000; ++i) {
      long long d = backoff_delay(p, attempt, rng).count();
      REQUIRE(d >= 1000);
      REQUIRE(d <= ceiling);
      lowest = std::min(lowest, d);
      highest = std::max(highest, d);
      distinct.insert(d);
    }
    // Full jitter: the draws cover the window, they do not cluster at the ceiling.
    CHECK(distinct.size() > 900);
    CHECK(lowest < ceiling / 4);
    CHECK(highest > ceiling * 3 / 4);
  }
}

TEST_CASE("a large attempt number stays at the cap", "[retry]") {
  std::mt19937_64 rng(5);
  RetryPolicy p = policy(seconds(30), std::chrono::hours(1), 100);
  long long highest = 0;
  for (int i = 0; i < 1000; ++i) {
    long long d = backoff_delay(p, 100, rng).count();
    REQUIRE(d >= 1000);
    REQUIRE(d <= 3'600'000);
    highest = std::max(highest, d);
  }
  CHECK(highest > 3'000'000);
}

TEST_CASE("a base below one second still waits one second", "[retry]") {
  std::mt19937_64 rng(6);
  RetryPolicy p = policy(milliseconds(250), milliseconds(250), 10);
  for (int i = 0; i < 100; ++i) CHECK(backoff_delay(p, 1, rng) == seconds(1));
}

TEST_CASE("the last attempt gives up", "[retry]") {
  std::mt19937_64 rng(7);
  RetryPolicy p = policy(seconds(30), std::chrono::hours(1), 5);
  CHECK(decide_outcome(sms_reminder(4), transient(), p, kNow, rng).status == "retrying");
  Completion c = decide_outcome(sms_reminder(5), transient("timeout after 30s"), p, kNow, rng);
  CHECK(c.status == "failed");
  CHECK(c.error == "gave up after 5 attempts: timeout after 30s");
  CHECK(c.next_attempt_ms == 0);
}

TEST_CASE("Retry-After is a floor on the delay", "[retry]") {
  std::mt19937_64 rng(8);
  RetryPolicy p = policy(seconds(30), std::chrono::hours(1), 10);
  SendResult throttled = SendResult::failure(Outcome::transient, "HTTP 429 Too Many Requests");
  throttled.retry_after = seconds(120);
  for (int i = 0; i < 200; ++i) {
    Completion c = decide_outcome(sms_reminder(1), throttled, p, kNow, rng);
    REQUIRE(c.status == "retrying");
    CHECK(c.next_attempt_ms == kNow + 120'000);  // the backoff (<= 30s) is always shorter
  }
  // A Retry-After shorter than the backoff does not shorten it.
  throttled.retry_after = seconds(1);
  bool longer_than_floor = false;
  for (int i = 0; i < 200; ++i) {
    Completion c = decide_outcome(sms_reminder(1), throttled, p, kNow, rng);
    CHECK(c.next_attempt_ms >= kNow + 1000);
    longer_than_floor |= c.next_attempt_ms > kNow + 5000;
  }
  CHECK(longer_than_floor);
}

TEST_CASE("a retry that would land after the expiry expires the message", "[retry]") {
  std::mt19937_64 rng(9);
  RetryPolicy p = policy(seconds(30), std::chrono::hours(1), 10);
  SendResult throttled = transient();
  throttled.retry_after = seconds(600);
  // Expires exactly at the next attempt: too late.
  Completion c = decide_outcome(sms_reminder(1, kNow + 600'000), throttled, p, kNow, rng);
  CHECK(c.status == "expired");
  CHECK(c.error ==
        "would expire before the next attempt; last error: HTTP 503 Service Unavailable");
  // Expires one millisecond later: still worth it.
  c = decide_outcome(sms_reminder(1, kNow + 600'001), throttled, p, kNow, rng);
  CHECK(c.status == "retrying");
  CHECK(c.next_attempt_ms == kNow + 600'000);
  // Already expired.
  c = decide_outcome(sms_reminder(1, kNow - 1), transient(), p, kNow, rng);
  CHECK(c.status == "expired");
}

// The dispatcher never hands decide_outcome an "unavailable" answer: it opens the account's circuit
// and re-routes the message first (router.hpp). Alone, decide_outcome stays total.
TEST_CASE("decide_outcome alone treats an unavailable account like a transient failure",
          "[retry]") {
  std::mt19937_64 rng(10);
  RetryPolicy p = policy(seconds(30), std::chrono::hours(1), 3);
  SendResult out_of_credit = SendResult::failure(Outcome::unavailable, "insufficient credit");
  Completion c = decide_outcome(sms_reminder(1), out_of_credit, p, kNow, rng);
  CHECK(c.status == "retrying");
  CHECK(c.next_attempt_ms >= kNow + 1000);
  CHECK(c.next_attempt_ms <= kNow + 30'000);
  c = decide_outcome(sms_reminder(3), out_of_credit, p, kNow, rng);
  CHECK(c.status == "failed");
  CHECK(c.error == "gave up after 3 attempts: insufficient credit");
}

TEST_CASE("an unknown outcome is retried only up to max_unknown_attempts", "[retry][unknown]") {
  std::mt19937_64 rng(7);
  RetryPolicy p = policy(seconds(30), std::chrono::hours(1), 10);
  p.max_unknown_attempts = 2;
  SendResult garbled = transient("unreadable answer (HTTP 200)");
  garbled.outcome_unknown = true;

  ClaimedMessage first = sms_reminder(1);
  CHECK(decide_outcome(first, garbled, p, kNow, rng).status == "retrying");

  ClaimedMessage second = sms_reminder(2);
  second.unknown_attempts = 1;
  Completion c = decide_outcome(second, garbled, p, kNow, rng);
  CHECK(c.status == "failed");
  CHECK(c.outcome_unknown);
  CHECK(c.error ==
        "outcome unknown after 2 attempts, not tried again (the person may have received it): "
        "unreadable answer (HTTP 200)");

  // A known failure after an unknown one is retried as any other: it did not reach the person.
  CHECK(decide_outcome(second, transient(), p, kNow, rng).status == "retrying");
}
