// At most `max_connections` SMTP sessions at once for one account; the sends beyond wait here, in
// order, and each goes out on the session the previous one just finished with.
//
// Why here and not in libcurl: libcurl reuses an SMTP connection only for a transfer started after
// the previous one on it finished, so N sends started together open N TLS sessions. The dispatcher
// hands an email account up to dispatch.max_in_flight (512) sends at once: bench/email opened 566
// connections for 10,000 emails (56.8 MiB of RSS, each session holding its TLS state and libcurl's
// upload buffers), and real relays limit or throttle parallel sessions per account. The daemon's
// CurlMulti deliberately puts no per-host cap (a transfer waiting inside libcurl would spend its
// timeout waiting), so the cap lives in front of it: a waiting send is not started, and its
// timeout does not run, until a session is free. A transfer that finishes returns its connection
// to the multi handle's cache before its callback runs, and the next waiting send, started from
// that callback, picks the connection up still open and authenticated.
//
// Every send gets exactly one result, later, on the loop thread. cancel_all() (SIGTERM after the
// grace period) answers every send at once: those still waiting were never sent (transient), those
// running may have been (transient, outcome unknown). A running transfer keeps its slot until
// libcurl is done with it, so the cap holds across a cancel too.
#pragma once

#include <cstddef>
#include <memory>

#include "daemon/net/smtp_client.hpp"

namespace rappel {

class SmtpSessions {
 public:
  SmtpSessions(CurlMulti& curl, SmtpSettings settings);
  ~SmtpSessions();
  SmtpSessions(const SmtpSessions&) = delete;
  SmtpSessions& operator=(const SmtpSessions&) = delete;

  // `done` runs later on the loop thread, never from inside send().
  void send(SmtpMessage message, SmtpCallback done);
  void cancel_all();

  size_t running() const;  // sends handed to libcurl and not finished
  size_t waiting() const;  // sends queued behind the cap

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with the transfers' callbacks, which may outlive us
};

}  // namespace rappel
