// See smtp_sessions.hpp. The state is shared with each running transfer's callback, so a transfer
// finishing after cancel_all(), after a reload dropped the provider, or after this object is gone
// only frees its slot.
#include "daemon/net/smtp_sessions.hpp"

#include <deque>
#include <map>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>

#include "daemon/net/curl_multi.hpp"

namespace rappel {

namespace {

SmtpResult cancelled(bool started) {
  SmtpResult r;
  r.curl_code = CURLE_ABORTED_BY_CALLBACK;
  r.transport_error = started ? "cancelled while sending (stopping)"
                              : "cancelled before sending (stopping): not sent";
  r.maybe_delivered = started;  // the message may already be with the relay
  return r;
}

}  // namespace

struct SmtpSessions::State : std::enable_shared_from_this<State> {
  struct Waiting {
    SmtpMessage message;
    SmtpCallback done;
  };

  State(CurlMulti& c, SmtpSettings s) : curl(c), settings(std::move(s)) {}

  bool has_free_session() const { return running.size() < size_t(settings.max_connections); }

  // Hands one send to libcurl.
  void start(SmtpMessage message, SmtpCallback done) {
    unsigned long seq = ++next;
    running.emplace(seq, std::move(done));
    smtp_send(curl, settings, std::move(message), [self = shared_from_this(), seq](SmtpResult r) {
      self->finished(seq, std::move(r));
    });
  }

  // Frees the slot, starts the next waiting send (on the connection libcurl has just put back in
  // its cache), then answers.
  void finished(unsigned long seq, SmtpResult result) {
    auto it = running.find(seq);
    if (it == running.end()) return;
    SmtpCallback answer = std::move(it->second);
    running.erase(it);
    start_waiting();
    if (answer) answer(std::move(result));  // empty when cancel_all() answered already
  }

  void start_waiting() {
    while (!waiting.empty() && has_free_session()) {
      Waiting next_send = std::move(waiting.front());
      waiting.pop_front();
      start(std::move(next_send.message), std::move(next_send.done));
    }
  }

  CurlMulti& curl;
  SmtpSettings settings;
  std::deque<Waiting> waiting;
  // Running transfers by sequence number; one cancelled stays counted (with no callback) until
  // libcurl finishes it, since its session is still open.
  std::map<unsigned long, SmtpCallback> running;
  unsigned long next = 0;
};

SmtpSessions::SmtpSessions(CurlMulti& curl, SmtpSettings settings)
    : state_(std::make_shared<State>(curl, std::move(settings))) {}

// Sends still waiting are dropped unanswered, so that a transfer finishing later starts nothing.
// Only a daemon being torn down gets here with some: a waiting send's callback keeps the
// configuration, hence this provider, alive until it is answered.
SmtpSessions::~SmtpSessions() {
  state_->waiting.clear();
}

void SmtpSessions::send(SmtpMessage message, SmtpCallback done) {
  // FIFO: a new send never overtakes one already waiting.
  if (state_->waiting.empty() && state_->has_free_session())
    return state_->start(std::move(message), std::move(done));
  state_->waiting.push_back({std::move(message), std::move(done)});
}

void SmtpSessions::cancel_all() {
  std::vector<std::pair<SmtpCallback, SmtpResult>> answers;
  for (auto& w : state_->waiting) answers.emplace_back(std::move(w.done), cancelled(false));
  state_->waiting.clear();
  for (auto& [seq, done] : state_->running)
    if (done) answers.emplace_back(std::exchange(done, nullptr), cancelled(true));
  // Answered later, on the loop: the caller may be iterating over its own bookkeeping.
  for (auto& [done, result] : answers)
    boost::asio::post(state_->curl.io(),
                      [done = std::move(done), result = std::move(result)] { done(result); });
}

size_t SmtpSessions::running() const {
  return state_->running.size();
}

size_t SmtpSessions::waiting() const {
  return state_->waiting.size();
}

}  // namespace rappel
