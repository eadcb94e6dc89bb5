// See notify_listener.hpp. A thread reads the socket all the time, as systemd does: a datagram
// socket that nobody reads fills after a few messages (net.unix.max_dgram_qlen), and then the
// daemon's next sd_notify (a watchdog ping every 500 ms) blocks its event loop, which stalled
// tests that waited on Redis for longer than that without looking at the notifications.
#include "support/notify_listener.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "support/redis_fixture.hpp"

namespace rappel::test {

NotifyListener::NotifyListener() : dir_(make_temp_dir("notify")), path_(dir_ + "/notify.sock") {
  fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (fd_ < 0 || path_.size() >= sizeof addr.sun_path)
    throw std::runtime_error("cannot create the notification socket");
  std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("cannot bind the notification socket");
  reader_ = std::thread([this] { read_until_stopped(); });
}

NotifyListener::~NotifyListener() {
  stop_ = true;
  reader_.join();
  if (fd_ >= 0) close(fd_);
  std::filesystem::remove_all(dir_);
}

void NotifyListener::read_until_stopped() {
  while (!stop_) {
    pollfd ready{fd_, POLLIN, 0};
    if (poll(&ready, 1, 50) > 0) drain();
  }
}

void NotifyListener::drain() {
  char buffer[4096];
  for (;;) {
    ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) return;
    NotifyMessage message;
    std::string text(buffer, size_t(n));
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(start, end - start);
      size_t eq = line.find('=');
      if (eq != std::string::npos) message[line.substr(0, eq)] = line.substr(eq + 1);
      start = end + 1;
    }
    std::lock_guard<std::mutex> hold(lock_);
    messages_.push_back(std::move(message));
  }
}

std::vector<NotifyMessage> NotifyListener::messages() {
  std::lock_guard<std::mutex> hold(lock_);
  return messages_;
}

int NotifyListener::wait_for(const std::function<bool(const NotifyMessage&)>& match, size_t from,
                             std::chrono::milliseconds timeout) {
  int found = -1;
  eventually(
      [&] {
        const auto all = messages();
        for (size_t i = from; i < all.size(); ++i)
          if (match(all[i])) {
            found = int(i);
            return true;
          }
        return false;
      },
      timeout);
  return found;
}

int NotifyListener::wait_for_key(const std::string& key, size_t from, const std::string& value,
                                 std::chrono::milliseconds timeout) {
  return wait_for(
      [&](const NotifyMessage& m) {
        auto it = m.find(key);
        return it != m.end() && (value.empty() || it->second == value);
      },
      from, timeout);
}

size_t NotifyListener::count_key(const std::string& key) {
  size_t n = 0;
  for (const auto& m : messages()) n += m.count(key);
  return n;
}

}  // namespace rappel::test
