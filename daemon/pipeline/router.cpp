// See router.hpp.
#include "daemon/pipeline/router.hpp"

#include <spdlog/spdlog.h>

#include "daemon/pipeline/quiet_hours.hpp"

namespace rappel {

namespace {

RouteDecision expire(std::string why) {
  return {RouteDecision::Kind::expire, {}, false, 0, std::move(why)};
}

RouteDecision defer_or_expire(const ClaimedMessage& m, Millis until, std::string reason,
                              std::string expiry_error) {
  if (m.expires_at_ms > 0 && until >= m.expires_at_ms) return expire(std::move(expiry_error));
  return {RouteDecision::Kind::defer, {}, false, until, std::move(reason)};
}

// Quiet hours: nullopt when the message may go now.
std::optional<RouteDecision> quiet_decision(const ClaimedMessage& m, const DepartmentConfig& d,
                                            Millis now) {
  if (!d.quiet_hours) return std::nullopt;
  auto until = quiet_until(*d.quiet_hours, d.timezone, now);
  if (!until) return std::nullopt;
  bool expires_first = m.expires_at_ms > 0 && m.expires_at_ms <= *until;
  if (expires_first && d.quiet_hours->policy == QuietHours::Policy::send_if_expiring)
    return std::nullopt;
  return defer_or_expire(m, *until, "quiet_hours",
                         "quiet hours until " + iso_utc(*until) + " end after expires_at");
}

const AccountPolicy& policy_of(const Config& config, const std::string& account) {
  static const AccountPolicy defaults;
  auto it = config.account_policies.find(account);
  return it == config.account_policies.end() ? defaults : it->second;
}

// The accounts this message may use, in order of preference.
std::vector<std::string> candidates(const ClaimedMessage& m, const ChannelRoute& route,
                                    const Config& config) {
  if (!m.pinned_provider.empty()) {
    if (config.provider(m.pinned_provider)) return {m.pinned_provider};
    spdlog::warn(
        "message {} is pinned to provider account {}, no longer configured; using its route", m.id,
        m.pinned_provider);
  }
  std::vector<std::string> out{route.provider};
  if (!route.fallback.empty() && route.fallback != route.provider) out.push_back(route.fallback);
  return out;
}

}  // namespace

RouteDecision decide_route(const ClaimedMessage& m, const DepartmentConfig& d, const Config& config,
                           CircuitBreakers& breakers, Millis now) {
  if (auto quiet = quiet_decision(m, d, now)) return *quiet;
  const auto& route = m.channel == "sms" ? d.sms : d.email;
  if (!route || !config.provider(route->provider))
    return {RouteDecision::Kind::fail,
            {},
            false,
            0,
            "no " + m.channel + " provider for département " + m.department};
  Millis retry_at = 0;
  for (const auto& account : candidates(m, *route, config)) {
    Admission a = breakers.admit(account, policy_of(config, account).circuit, now);
    if (a.half_opened)
      spdlog::error("provider account {}: circuit open -> half-open, sending one probe", account);
    if (a.allowed) return {RouteDecision::Kind::send, account, a.probe, 0, {}};
    retry_at = retry_at == 0 ? a.retry_at : std::min(retry_at, a.retry_at);
  }
  return defer_or_expire(m, retry_at, "provider_unavailable",
                         "provider unavailable until after expires_at");
}

Completion deferral(const ClaimedMessage& m, Millis until, std::string reason) {
  Completion c = completion_of(m);
  c.status = "deferred";
  c.not_attempted = true;
  c.previous_status = m.previous_status;
  c.next_attempt_ms = until;
  c.deferred = std::move(reason);
  return c;
}

}  // namespace rappel
