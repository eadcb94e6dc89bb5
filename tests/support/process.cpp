// See process.hpp. posix_spawn rather than fork: the test binary has threads (provider servers),
// and after fork only async-signal-safe calls are allowed in the child anyway.
#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace rappel::test {

namespace {

std::vector<std::string> merged_environment(
    const std::vector<std::pair<std::string, std::string>>& additions) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    size_t eq = entry.find('=');
    if (eq != std::string::npos) vars[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [name, value] : additions) vars[name] = value;
  std::vector<std::string> out;
  for (const auto& [name, value] : vars) out.push_back(name + "=" + value);
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Points descriptor `target` of the child at what `mode` says; `pipe_write` is the write end of
// the stdout pipe when mode is Output::pipe.
void redirect(posix_spawn_file_actions_t& actions, int target, Output mode, const std::string& path,
              int pipe_write) {
  switch (mode) {
    case Output::inherit:
      break;
    case Output::pipe:
      posix_spawn_file_actions_adddup2(&actions, pipe_write, target);
      break;
    case Output::file:
      posix_spawn_file_actions_addopen(&actions, target, path.c_str(),
                                       O_WRONLY | O_CREAT | O_APPEND, 0644);
      break;
    case Output::discard:
      posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0);
      break;
  }
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

ChildProcess::ChildProcess(ChildOptions options) {
  if (options.argv.empty()) throw std::runtime_error("ChildProcess: empty argv");
  if (options.stderr_mode == Output::pipe)
    throw std::runtime_error("ChildProcess: only stdout can be a pipe");
  int pipe_fds[2] = {-1, -1};
  if (options.stdout_mode == Output::pipe && pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  redirect(actions, 1, options.stdout_mode, options.stdout_file, pipe_fds[1]);
  redirect(actions, 2, options.stderr_mode, options.stderr_file, pipe_fds[1]);
  if (!options.working_dir.empty())
    posix_spawn_file_actions_addchdir_np(&actions, options.working_dir.c_str());

  std::vector<std::string> env = merged_environment(options.env);
  std::vector<char*> envp = pointers(env);
  std::vector<char*> argv = pointers(options.argv);
  int rc = posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (pipe_fds[1] >= 0) close(pipe_fds[1]);
  if (rc != 0) {
    if (pipe_fds[0] >= 0) close(pipe_fds[0]);
    throw std::runtime_error("cannot start " + options.argv[0] + ": " + std::strerror(rc));
  }
  stdout_fd_ = pipe_fds[0];
}

ChildProcess::~ChildProcess() {
  if (running()) {
    terminate(SIGTERM);
    if (!wait(std::chrono::seconds(5))) {
      terminate(SIGKILL);
      wait(std::chrono::seconds(5));
    }
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

bool ChildProcess::running() {
  return !wait(std::chrono::milliseconds(0)).has_value();
}

void ChildProcess::terminate(int signal) {
  if (!status_) ::kill(pid_, signal);
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!status_) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = decode_status(status);
      break;
    }
    if (r < 0 && errno != EINTR) {
      status_ = -1;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status_;
}

std::optional<std::string> ChildProcess::read_line(std::chrono::milliseconds timeout) {
  if (stdout_fd_ < 0) throw std::logic_error("ChildProcess: stdout is not a pipe");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{stdout_fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, int(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    char chunk[4096];
    ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;  // end of file: the child closed its stdout
    buffer_.append(chunk, size_t(n));
  }
}

std::pair<int, std::string> run_program(ChildOptions options, std::chrono::milliseconds timeout) {
  char path[] = "/tmp/rappel-run-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) throw std::runtime_error(std::string("mkstemp: ") + std::strerror(errno));
  close(fd);
  options.stdout_mode = options.stderr_mode = Output::file;
  options.stdout_file = options.stderr_file = path;
  std::optional<int> code;
  {
    ChildProcess process(options);
    code = process.wait(timeout);
  }
  std::ifstream in(path, std::ios::binary);
  std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  unlink(path);
  return {code.value_or(-1), output};
}

}  // namespace rappel::test
