// A stand-in for systemd's notification socket: the AF_UNIX datagram socket that NOTIFY_SOCKET
// names, so that tests can read what the daemon tells its service manager (READY=1, STATUS=...,
// WATCHDOG=1, RELOADING=1, STOPPING=1) without a running systemd. Each datagram is one message of
// newline-separated KEY=VALUE assignments, exactly as sd_notify(3) sends them.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rappel::test {

using NotifyMessage = std::map<std::string, std::string>;  // KEY -> VALUE of one datagram

class NotifyListener {
 public:
  NotifyListener();  // binds a socket in a fresh temporary directory
  ~NotifyListener();
  NotifyListener(const NotifyListener&) = delete;
  NotifyListener& operator=(const NotifyListener&) = delete;

  const std::string& path() const { return path_; }  // the value for NOTIFY_SOCKET

  // Every message received so far, oldest first (a thread reads the socket all the time).
  std::vector<NotifyMessage> messages();
  // Waits until a message received at index >= `from` satisfies `match`; returns its index or -1.
  int wait_for(const std::function<bool(const NotifyMessage&)>& match, size_t from = 0,
               std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Shorthand: the first message from `from` on that has KEY, or KEY=VALUE when value is given.
  int wait_for_key(const std::string& key, size_t from = 0, const std::string& value = "",
                   std::chrono::milliseconds timeout = std::chrono::seconds(20));
  size_t count_key(const std::string& key);

 private:
  void read_until_stopped();
  void drain();
  int fd_ = -1;
  std::string dir_;
  std::string path_;
  std::mutex lock_;
  std::vector<NotifyMessage> messages_;  // guarded by lock_
  std::atomic<bool> stop_{false};
  std::thread reader_;
};

}  // namespace rappel::test
