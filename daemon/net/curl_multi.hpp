// libcurl's multi interface driven by the daemon's Boost.Asio event loop.
//
// Every outgoing HTTP request and SMTP session of the daemon is one libcurl easy handle added here;
// hundreds can be in flight on the one event loop thread, and nothing here ever blocks. libcurl
// tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to wake it up
// (CURLMOPT_TIMERFUNCTION); we watch with async_wait and call curl_multi_socket_action.
//
// libcurl owns its sockets. Asio only borrows each one through a stream_descriptor that is
// release()d (never closed) when libcurl closes it (a connection) or says CURL_POLL_REMOVE (any
// other socket; a connection idle in the cache stays registered, see on_socket). The classic asio
// example (asiohiper.cpp) was withdrawn for exactly these bugs: Asio closing libcurl's sockets,
// stale wait handlers firing after a socket was removed (or its number reused), and handlers
// running after the owner was gone. Here every wait handler holds its socket record by
// shared_ptr and checks that the record is still current before touching libcurl.
//
// Connections stay open in the multi handle's connection cache between transfers, so consecutive
// requests to one provider (HTTP keep-alive, SMTP sessions) reuse them.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <curl/curl.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace rappel {

struct CurlMultiOptions {
  long max_host_connections = 64;     // parallel connections to one host; more transfers queue
  long max_cached_connections = 256;  // idle connections kept for reuse
};

// errno values that say this machine, not the peer, is short of something: a transfer that fails
// for one of them must not be held against the provider (no circuit opens for it).
bool is_local_shortage(int error_number);
// "local resource shortage: Too many open files (EMFILE), not a provider failure".
std::string local_shortage_text(int error_number);

class CurlMulti {
 public:
  // local_errno: the errno of a socket() that libcurl could not open for this transfer for lack
  // of local resources (see is_local_shortage), else 0.
  using Done = std::function<void(CURLcode, int local_errno)>;

  explicit CurlMulti(boost::asio::io_context& io, CurlMultiOptions options = {});
  // Pending transfers are detached and their callbacks destroyed without being called. Must run
  // before the io_context is destroyed, on the loop thread.
  ~CurlMulti();
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;

  // Starts `easy` (fully configured by the caller, who owns it and must keep it alive until
  // `done`). `done` runs later on the loop thread, never from inside start(), with the transfer's
  // result; the handle is already out of the multi handle by then, so `done` may free or reuse it,
  // and may start or cancel transfers, but must not destroy this CurlMulti. start() installs its
  // own CURLOPT_CLOSESOCKETFUNCTION and CURLOPT_OPENSOCKETFUNCTION on `easy` (see the ownership
  // note above; the second tells a local shortage from a provider that does not answer).
  void start(CURL* easy, Done done);
  size_t in_flight() const { return transfers_.size(); }
  // Stops every pending transfer; their callbacks run, from inside this call, with
  // CURLE_ABORTED_BY_CALLBACK.
  void cancel_all();

  boost::asio::io_context& io() { return io_; }

 private:
  struct Socket;

  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* socketp);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);
  static int on_close_socket(void* self, curl_socket_t fd);
  static curl_socket_t on_open_socket(void* pending, curlsocktype, curl_sockaddr* address);
  using Clock = boost::asio::steady_timer::clock_type;

  void post_timeout();
  void expect_timeout_at(Clock::time_point deadline);
  void arm_timer(Clock::time_point at);

  void watch(curl_socket_t fd, int what);
  void unwant(curl_socket_t fd);
  void forget(curl_socket_t fd);
  void arm(const std::shared_ptr<Socket>& socket);
  void on_ready(const std::shared_ptr<Socket>& socket, int direction, bool error);
  void on_timeout();
  void act(curl_socket_t fd, int event_mask);
  void collect_finished();

  boost::asio::io_context& io_;
  CURLM* multi_;
  boost::asio::steady_timer timer_;
  std::optional<Clock::time_point> deadline_;  // libcurl's latest deadline, if it wants one
  bool timer_armed_ = false;                   // a wait on timer_ is pending
  bool timeout_posted_ = false;                // an on_timeout() is posted to the loop
  std::unordered_map<curl_socket_t, std::shared_ptr<Socket>> sockets_;
  std::unordered_set<curl_socket_t> connections_;  // opened by on_open_socket, not yet closed
  struct Pending {
    Done done;
    int local_errno = 0;  // written by on_open_socket; nodes of the map never move
    CurlMulti* owner = nullptr;
  };
  std::unordered_map<CURL*, Pending> transfers_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // timer handlers check it
};

}  // namespace rappel
