// Runs this test process out of file descriptors, as a flood of idle connections does to the
// daemon, and gives them back on destruction. The soft limit is first lowered (to at most 2048)
// so that filling it is quick whatever limit CI runs with; the previous limit is restored.
// Tests that use it must not run other work in threads that open descriptors meanwhile.
#pragma once

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <vector>

namespace rappel::test {

class DescriptorExhaustion {
 public:
  DescriptorExhaustion() {
    if (getrlimit(RLIMIT_NOFILE, &saved_) != 0) throw std::runtime_error("getrlimit failed");
    rlimit lowered = saved_;
    lowered.rlim_cur = std::min<rlim_t>(saved_.rlim_cur, 2048);
    if (setrlimit(RLIMIT_NOFILE, &lowered) != 0) throw std::runtime_error("setrlimit failed");
    for (;;) {
      int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        if (errno != EMFILE) throw std::runtime_error("open /dev/null failed");
        break;
      }
      held_.push_back(fd);
    }
  }
  ~DescriptorExhaustion() { release(); }
  DescriptorExhaustion(const DescriptorExhaustion&) = delete;
  DescriptorExhaustion& operator=(const DescriptorExhaustion&) = delete;

  // Frees `n` descriptors (for the test's own sockets) and keeps the rest taken.
  void spare(size_t n) {
    for (; n > 0 && !held_.empty(); --n) {
      ::close(held_.back());
      held_.pop_back();
    }
  }
  void release() {
    for (int fd : held_) ::close(fd);
    held_.clear();
    setrlimit(RLIMIT_NOFILE, &saved_);
  }

 private:
  rlimit saved_{};
  std::vector<int> held_;
};

}  // namespace rappel::test
