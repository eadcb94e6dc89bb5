// A child process for tests: the Python SMTP server, redis-server, the daemon itself.
//
// Tests need real servers, and real servers are other programs: this spawns one (posix_spawn),
// lets the test read its stdout line by line (e.g. the port it chose), and makes sure it is gone
// when the test ends, whichever way it ends (SIGTERM, then SIGKILL, in the destructor).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rappel::test {

enum class Output {
  inherit,  // the test's own stdout/stderr
  pipe,     // readable through ChildProcess::read_line (stdout only)
  file,     // appended to the given path
  discard,  // /dev/null
};

struct ChildOptions {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::vector<std::pair<std::string, std::string>> env;  // added to (or replacing) the test's
  std::string working_dir;                               // empty: the test's
  Output stdout_mode = Output::pipe;
  std::string stdout_file;
  Output stderr_mode = Output::inherit;
  std::string stderr_file;
};

class ChildProcess {
 public:
  explicit ChildProcess(ChildOptions options);  // throws std::runtime_error if it cannot start
  ~ChildProcess();                              // terminate(SIGTERM), then SIGKILL after 5 s
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // The next line of stdout without its newline; nullopt at end of file or after `timeout`.
  std::optional<std::string> read_line(
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void terminate(int signal = SIGTERM);
  // The exit code (or 128 + signal number) once it has exited; nullopt if still running after
  // `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
  std::optional<int> status_;
};

// Runs `options.argv` to completion (at most `timeout`); returns {exit code, stdout+stderr}, -1
// when it did not end in time. The output modes of `options` are replaced.
std::pair<int, std::string> run_program(
    ChildOptions options, std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace rappel::test
