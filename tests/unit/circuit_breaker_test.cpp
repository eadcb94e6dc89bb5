// Circuit breakers with an injected clock: instants are plain numbers, so every transition of
// circuit_breaker.hpp's diagram is checked at the exact millisecond it may happen.
#include <catch2/catch.hpp>

#include "daemon/pipeline/circuit_breaker.hpp"
#include "daemon/pipeline/rate_limiter.hpp"

using namespace rappel;
using std::chrono::milliseconds;

namespace {

constexpr Millis kT0 = 1796117400000;  // 2026-12-01T09:30:00Z

CircuitSettings settings(int failures, long cooldown_ms, long max_ms) {
  CircuitSettings s;
  s.failures = failures;
  s.cooldown = milliseconds(cooldown_ms);
  s.max_cooldown = milliseconds(max_ms);
  return s;
}

SendResult ok() {
  return SendResult::accepted("14672468");
}
SendResult http_503() {
  return SendResult::failure(Outcome::transient, "SMS Factor: HTTP 503");
}
SendResult out_of_credit() {
  return SendResult::failure(Outcome::unavailable, "SMS Factor: HTTP 402: insufficient credits");
}

}  // namespace

TEST_CASE("consecutive transient failures open the circuit; a success in between resets",
          "[circuit]") {
  CircuitBreakers b;
  auto s = settings(3, 1000, 8000);
  CHECK_FALSE(b.record("sms-factor-77", s, http_503(), kT0));
  CHECK_FALSE(b.record("sms-factor-77", s, http_503(), kT0));
  CHECK_FALSE(b.record("sms-factor-77", s, ok(), kT0));  // resets the count
  CHECK_FALSE(b.record("sms-factor-77", s, http_503(), kT0));
  CHECK_FALSE(b.record("sms-factor-77", s, http_503(), kT0));
  auto t = b.record("sms-factor-77", s, http_503(), kT0 + 5);
  REQUIRE(t);
  CHECK(t->from == CircuitState::closed);
  CHECK(t->to == CircuitState::open);
  CHECK(t->cooldown == milliseconds(1000));
  CHECK(t->reason == "SMS Factor: HTTP 503");
  Admission a = b.admit("sms-factor-77", s, kT0 + 500);
  CHECK_FALSE(a.allowed);
  CHECK(a.retry_at == kT0 + 1005);
  CHECK(b.is_open("sms-factor-77", kT0 + 1004));
  // Another account is not affected.
  CHECK(b.admit("netsize-13", s, kT0 + 500).allowed);
}

TEST_CASE("one unavailable answer opens at once; half-open lets one probe; success closes",
          "[circuit]") {
  CircuitBreakers b;
  auto s = settings(5, 1000, 8000);
  auto t = b.record("sms-factor-77", s, out_of_credit(), kT0);
  REQUIRE(t);
  CHECK(t->to == CircuitState::open);
  CHECK_FALSE(b.admit("sms-factor-77", s, kT0 + 999).allowed);
  Admission probe = b.admit("sms-factor-77", s, kT0 + 1000);
  CHECK(probe.allowed);
  CHECK(probe.probe);
  CHECK(b.states().at("sms-factor-77").state == CircuitState::half_open);
  Admission second = b.admit("sms-factor-77", s, kT0 + 1001);
  CHECK_FALSE(second.allowed);  // only one probe at a time
  CHECK(second.retry_at == kT0 + 2001);
  t = b.record("sms-factor-77", s, ok(), kT0 + 1100);
  REQUIRE(t);
  CHECK(t->from == CircuitState::half_open);
  CHECK(t->to == CircuitState::closed);
  CHECK(b.admit("sms-factor-77", s, kT0 + 1101).allowed);
  CHECK(b.states().at("sms-factor-77").opened_total == 1);
}

TEST_CASE("a failed probe re-opens with a cool-down that doubles up to the cap", "[circuit]") {
  CircuitBreakers b;
  auto s = settings(1, 1000, 3000);
  Millis now = kT0;
  REQUIRE(b.record("netsize-13", s, http_503(), now));
  std::vector<long> cooldowns;
  for (int i = 0; i < 4; ++i) {
    now = b.states().at("netsize-13").open_until;
    REQUIRE(b.admit("netsize-13", s, now).probe);
    auto t = b.record("netsize-13", s, http_503(), now + 10);
    REQUIRE(t);
    CHECK(t->from == CircuitState::half_open);
    cooldowns.push_back(static_cast<long>(t->cooldown.count()));
    now += 10;
  }
  CHECK(cooldowns == std::vector<long>{2000, 3000, 3000, 3000});
  // Recovery, then a new opening starts again from the base cool-down.
  now = b.states().at("netsize-13").open_until;
  REQUIRE(b.admit("netsize-13", s, now).probe);
  REQUIRE(b.record("netsize-13", s, ok(), now));
  auto t = b.record("netsize-13", s, http_503(), now + 1);
  REQUIRE(t);
  CHECK(t->cooldown == milliseconds(1000));
}

TEST_CASE("a permanent failure is an answer: it closes a half-open circuit", "[circuit]") {
  CircuitBreakers b;
  auto s = settings(2, 1000, 8000);
  REQUIRE(b.record("netsize-13", s, out_of_credit(), kT0));
  // Answers of sends started before the opening change nothing more.
  CHECK_FALSE(b.record("netsize-13", s, out_of_credit(), kT0 + 1));
  CHECK_FALSE(b.record("netsize-13", s, http_503(), kT0 + 2));
  REQUIRE(b.admit("netsize-13", s, kT0 + 1000).probe);
  auto invalid_number = SendResult::failure(Outcome::permanent, "Invalid destination address.");
  auto t = b.record("netsize-13", s, invalid_number, kT0 + 1001);
  REQUIRE(t);
  CHECK(t->to == CircuitState::closed);
}

// Out of descriptors here, every send fails at once: were that counted against the provider, a
// connection flood on our HTTP endpoint would open every circuit.
TEST_CASE("a failure for lack of a local resource neither opens nor keeps a probe", "[circuit]") {
  CircuitBreakers b;
  auto s = settings(2, 1000, 8000);
  SendResult no_socket = SendResult::failure(
      Outcome::transient, "SMS Factor: not sent (cannot open a socket: Too many open files)");
  no_socket.local_failure = true;
  for (int i = 0; i < 10; ++i) CHECK_FALSE(b.record("sms-factor-77", s, no_socket, kT0 + i));
  CHECK(b.admit("sms-factor-77", s, kT0 + 20).allowed);
  CHECK(b.states().at("sms-factor-77").state == CircuitState::closed);
  // Two provider failures still open it: the local ones did not hide them or count for them.
  CHECK_FALSE(b.record("sms-factor-77", s, http_503(), kT0 + 21));
  REQUIRE(b.record("sms-factor-77", s, http_503(), kT0 + 22));
  // A half-open probe that could not leave is given back: the next send probes.
  REQUIRE(b.admit("sms-factor-77", s, kT0 + 1022).probe);
  CHECK_FALSE(b.record("sms-factor-77", s, no_socket, kT0 + 1023));
  Admission again = b.admit("sms-factor-77", s, kT0 + 1024);
  CHECK(again.allowed);
  CHECK(again.probe);
}

TEST_CASE("how much waits locally for a rate limit: about one second's worth", "[rate]") {
  CHECK(local_capacity(parse_rate_limit("20/s")) == 20);
  CHECK(local_capacity(parse_rate_limit("1000/min")) == 16);
  CHECK(local_capacity(parse_rate_limit("1/min")) == 1);
  CHECK(local_capacity(parse_rate_limit("100000/s")) == 10000);
}

TEST_CASE("a probe held back by the rate limit is released for the next message", "[circuit]") {
  CircuitBreakers b;
  auto s = settings(1, 1000, 8000);
  REQUIRE(b.record("sms-factor-77", s, out_of_credit(), kT0));
  REQUIRE(b.admit("sms-factor-77", s, kT0 + 1000).probe);
  CHECK_FALSE(b.admit("sms-factor-77", s, kT0 + 1001).allowed);
  b.release_probe("sms-factor-77");
  CHECK(b.admit("sms-factor-77", s, kT0 + 1002).probe);
}

TEST_CASE("the move to half-open is reported once, to the caller that takes the probe",
          "[circuit]") {
  CircuitBreakers b;
  auto s = settings(1, 1000, 8000);
  REQUIRE(b.record("netsize-13", s, http_503(), kT0));
  Admission first = b.admit("netsize-13", s, kT0 + 1000);
  CHECK(first.half_opened);
  b.release_probe("netsize-13");
  Admission again = b.admit("netsize-13", s, kT0 + 1001);
  CHECK(again.probe);
  CHECK_FALSE(again.half_opened);
}
