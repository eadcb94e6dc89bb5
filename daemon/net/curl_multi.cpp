// See curl_multi.hpp for the design; the comments here are about the traps.
#include "daemon/net/curl_multi.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

namespace rappel {

namespace asio = boost::asio;

// One socket libcurl asked us to watch. Wait handlers hold it by shared_ptr, so it outlives the
// map entry; `current` turns false when libcurl removes the socket, and a handler that finds it
// false does nothing (the same descriptor number may already belong to a new socket).
struct CurlMulti::Socket {
  Socket(asio::io_context& io, curl_socket_t socket_fd, CurlMulti* multi)
      : descriptor(io), fd(socket_fd), owner(multi) {}

  asio::posix::stream_descriptor descriptor;
  curl_socket_t fd;
  CurlMulti* owner;
  int wanted = 0;        // CURL_POLL_IN / CURL_POLL_OUT bits libcurl asked for
  bool reading = false;  // a wait_read is pending
  bool writing = false;  // a wait_write is pending
  bool current = true;

  // Gives the descriptor back to libcurl: Asio must never close it. Pending waits complete with
  // operation_aborted (and find current == false).
  void detach() {
    current = false;
    if (descriptor.is_open()) descriptor.release();
  }
};

namespace {

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw std::runtime_error("curl_global_init failed");
  });
}

}  // namespace

CurlMulti::CurlMulti(asio::io_context& io, CurlMultiOptions options)
    : io_(io), multi_((global_init_once(), curl_multi_init())), timer_(io) {
  if (!multi_) throw std::runtime_error("curl_multi_init failed");
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlMulti::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlMulti::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, options.max_host_connections);
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, options.max_cached_connections);
}

CurlMulti::~CurlMulti() {
  alive_.reset();
  for (const auto& [easy, done] : transfers_) curl_multi_remove_handle(multi_, easy);
  // The callbacks may own the easy handles: destroy them only once the handles are detached.
  auto abandoned = std::move(transfers_);
  transfers_.clear();
  abandoned.clear();
  // Closes the cached connections; libcurl may still call on_socket / on_close_socket meanwhile.
  curl_multi_cleanup(multi_);
  for (auto& [fd, socket] : sockets_) socket->detach();
  sockets_.clear();
  timer_.cancel();
}

bool is_local_shortage(int error_number) {
  return error_number == EMFILE || error_number == ENFILE || error_number == ENOMEM ||
         error_number == ENOBUFS;
}

std::string local_shortage_text(int error_number) {
  const char* name = error_number == EMFILE   ? "EMFILE"
                     : error_number == ENFILE ? "ENFILE"
                     : error_number == ENOMEM ? "ENOMEM"
                                              : "ENOBUFS";
  return std::string("local resource shortage: ") + std::strerror(error_number) + " (" + name +
         "), not a provider failure";
}

void CurlMulti::start(CURL* easy, Done done) {
  auto [entry, inserted] = transfers_.insert_or_assign(easy, Pending{std::move(done), 0});
  // Make sure no socket of this transfer is closed behind a descriptor we still hold.
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &CurlMulti::on_close_socket);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &CurlMulti::on_open_socket);
  entry->second.owner = this;
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, &entry->second);
  CURLMcode code = curl_multi_add_handle(multi_, easy);
  if (code != CURLM_OK) {
    spdlog::error("curl_multi_add_handle: {}", curl_multi_strerror(code));
    asio::post(io_, [done = std::move(entry->second.done)] { done(CURLE_FAILED_INIT, 0); });
    transfers_.erase(entry);
  }
  // libcurl starts the transfer from its timer callback (timeout 0), on the loop: never here.
}

// libcurl's own socket() call, but its errno kept: out of descriptors, libcurl only says
// "Couldn't connect to server", which reads as the provider being down.
curl_socket_t CurlMulti::on_open_socket(void* pending, curlsocktype, curl_sockaddr* address) {
  auto* p = static_cast<Pending*>(pending);
  curl_socket_t fd = ::socket(address->family, address->socktype, address->protocol);
  if (fd == CURL_SOCKET_BAD && is_local_shortage(errno)) p->local_errno = errno;
  if (fd != CURL_SOCKET_BAD) p->owner->connections_.insert(fd);
  return fd;
}

void CurlMulti::cancel_all() {
  std::vector<std::pair<CURL*, Pending>> pending(transfers_.begin(), transfers_.end());
  transfers_.clear();
  for (const auto& [easy, p] : pending) curl_multi_remove_handle(multi_, easy);
  for (auto& [easy, p] : pending) p.done(CURLE_ABORTED_BY_CALLBACK, 0);
}

// A connection going back to the cache is only "unwanted": its descriptor stays registered with
// the reactor until libcurl closes it, so that the next request on it costs no epoll_ctl (three
// per request before: ADD, MOD for writing, DEL). Sockets libcurl opens otherwise (the threaded
// resolver's socketpair) are closed behind our back, so they are forgotten at once: a number
// reused by a new socket must never find a stale registration.
int CurlMulti::on_socket(CURL*, curl_socket_t fd, int what, void* self, void*) {
  auto* multi = static_cast<CurlMulti*>(self);
  if (what != CURL_POLL_REMOVE)
    multi->watch(fd, what);
  else if (multi->connections_.count(fd))
    multi->unwant(fd);
  else
    multi->forget(fd);
  return 0;
}

int CurlMulti::on_close_socket(void* self, curl_socket_t fd) {
  auto* multi = static_cast<CurlMulti*>(self);
  multi->forget(fd);
  multi->connections_.erase(fd);
  return ::close(fd);
}

// libcurl asks for a new deadline on nearly every call into it, most often "now" (0 ms). Re-arming
// the Asio timer each time costs a timerfd_settime system call per request, which was an eighth of
// the daemon's CPU in a drain. So a 0 ms deadline posts one socket action (at most one pending),
// and the timer is only re-armed when the new deadline is earlier than the armed one; a timer that
// fires before libcurl's latest deadline re-arms itself, because libcurl does not repeat a
// deadline it already gave.
int CurlMulti::on_timer(CURLM*, long timeout_ms, void* self) {
  auto* multi = static_cast<CurlMulti*>(self);
  // Even a 0 timeout goes through the loop: libcurl must not be re-entered from its callback.
  if (timeout_ms < 0)
    multi->deadline_.reset();
  else if (timeout_ms == 0)
    multi->post_timeout();
  else
    multi->expect_timeout_at(Clock::now() + std::chrono::milliseconds(timeout_ms));
  return 0;
}

void CurlMulti::post_timeout() {
  deadline_ = Clock::now();
  if (timeout_posted_) return;
  timeout_posted_ = true;
  asio::post(io_, [this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.expired()) return;
    timeout_posted_ = false;
    on_timeout();
  });
}

void CurlMulti::expect_timeout_at(Clock::time_point deadline) {
  deadline_ = deadline;
  if (timer_armed_ && timer_.expiry() <= deadline) return;  // it fires first, then re-arms
  arm_timer(deadline);
}

void CurlMulti::arm_timer(Clock::time_point at) {
  timer_armed_ = true;
  timer_.expires_at(at);  // a wait pending on the old expiry completes with operation_aborted
  timer_.async_wait([this, alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted || alive.expired()) return;
    timer_armed_ = false;
    if (!deadline_) return;  // libcurl withdrew its deadline meanwhile
    if (*deadline_ > Clock::now())
      arm_timer(*deadline_);
    else
      on_timeout();
  });
}

void CurlMulti::watch(curl_socket_t fd, int what) {
  auto it = sockets_.find(fd);
  if (it == sockets_.end()) {
    auto socket = std::make_shared<Socket>(io_, fd, this);
    boost::system::error_code ec;
    socket->descriptor.assign(fd, ec);
    if (ec) {
      // Without a watch the transfer would only end by its timeout; say so loudly.
      spdlog::error("cannot watch libcurl socket {}: {}", fd, ec.message());
      return;
    }
    it = sockets_.emplace(fd, std::move(socket)).first;
  }
  it->second->wanted = what;
  arm(it->second);
}

// A pending wait stays: if it fires (the peer closed the idle connection), on_ready drops it.
void CurlMulti::unwant(curl_socket_t fd) {
  auto it = sockets_.find(fd);
  if (it != sockets_.end()) it->second->wanted = 0;
}

void CurlMulti::forget(curl_socket_t fd) {
  auto it = sockets_.find(fd);
  if (it == sockets_.end()) return;
  it->second->detach();
  sockets_.erase(it);
}

// Starts the waits libcurl wants that are not already pending. A pending wait libcurl no longer
// wants is left alone: when it fires, on_ready sees it is unwanted and drops it.
void CurlMulti::arm(const std::shared_ptr<Socket>& socket) {
  if ((socket->wanted & CURL_POLL_IN) && !socket->reading) {
    socket->reading = true;
    socket->descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                                  [socket](boost::system::error_code ec) {
                                    socket->reading = false;
                                    if (!socket->current || ec == asio::error::operation_aborted)
                                      return;
                                    socket->owner->on_ready(socket, CURL_CSELECT_IN, bool(ec));
                                  });
  }
  if ((socket->wanted & CURL_POLL_OUT) && !socket->writing) {
    socket->writing = true;
    socket->descriptor.async_wait(asio::posix::stream_descriptor::wait_write,
                                  [socket](boost::system::error_code ec) {
                                    socket->writing = false;
                                    if (!socket->current || ec == asio::error::operation_aborted)
                                      return;
                                    socket->owner->on_ready(socket, CURL_CSELECT_OUT, bool(ec));
                                  });
  }
}

void CurlMulti::on_ready(const std::shared_ptr<Socket>& socket, int direction, bool error) {
  int wanted_bit = direction == CURL_CSELECT_IN ? CURL_POLL_IN : CURL_POLL_OUT;
  // Stale: libcurl changed its mind, or the connection is idle in the cache.
  if (socket->wanted == 0 || (!error && !(socket->wanted & wanted_bit))) return;
  act(socket->fd, error ? CURL_CSELECT_ERR : direction);
  // libcurl may have removed the socket (and a new one may have its number) meanwhile.
  if (socket->current) arm(socket);
}

void CurlMulti::on_timeout() {
  act(CURL_SOCKET_TIMEOUT, 0);
}

void CurlMulti::act(curl_socket_t fd, int event_mask) {
  int running = 0;
  CURLMcode code = curl_multi_socket_action(multi_, fd, event_mask, &running);
  if (code != CURLM_OK) spdlog::error("curl_multi_socket_action: {}", curl_multi_strerror(code));
  collect_finished();
}

void CurlMulti::collect_finished() {
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
    if (message->msg != CURLMSG_DONE) continue;
    CURL* easy = message->easy_handle;  // `message` is invalid once the handle is removed
    CURLcode result = message->data.result;
    curl_multi_remove_handle(multi_, easy);
    auto it = transfers_.find(easy);
    if (it == transfers_.end()) continue;
    Pending finished = std::move(it->second);
    transfers_.erase(it);
    // May start or cancel transfers: both are safe here.
    finished.done(result, result == CURLE_OK ? 0 : finished.local_errno);
  }
}

}  // namespace rappel
