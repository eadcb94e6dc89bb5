// See daemon_fixture.hpp.
#include "support/daemon_fixture.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace rappel::test {

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string write_config(const std::string& dir, const TestConfig& c) {
  std::string path = dir + "/rappel.yaml";
  std::ofstream out(path);
  out << "redis: {url: \"" << c.redis_url << "\", prefix: rappel}\n"
      << "templates: {directory: \"" << RAPPEL_SOURCE_DIR << "/templates\"}\n"
      << "dispatch: " << c.dispatch << "\n"
      << "intake: " << c.intake << "\n"
      << "http: " << c.http << "\n"
      << c.extra << "providers:\n"
      << "  journal: {type: log}\n"
      << "  outbox: {type: file, directory: \"" << c.outbox << "\"}\n"
      << c.extra_providers << "departments:\n"
      << "  default: " << c.default_department << "\n"
      << c.departments;
  return path;
}

unsigned short DaemonProcess::http_port() const {
  std::string text = log();
  constexpr std::string_view kLine = "http listening on ";
  size_t at = text.find(kLine);
  if (at == std::string::npos) return 0;
  size_t end = text.find('\n', at);
  std::string line = text.substr(at, end - at);
  return static_cast<unsigned short>(std::stoi(line.substr(line.rfind(':') + 1)));
}

DaemonProcess::DaemonProcess(const std::string& config_path, const std::string& instance,
                             const std::string& log_file)
    : log_file_(log_file) {
  ChildOptions options;
  options.argv = {RAPPEL_BINARY, "run", "--config", config_path};
  if (!instance.empty()) options.argv.insert(options.argv.end(), {"--instance", instance});
  options.stdout_mode = Output::file;
  options.stdout_file = log_file;
  options.stderr_mode = Output::file;
  options.stderr_file = log_file;
  options.env = {{"RAPPEL_LOG_LEVEL", "debug"}};
  process_ = std::make_unique<ChildProcess>(options);
}

DaemonProcess::~DaemonProcess() = default;

bool DaemonProcess::wait_ready(std::chrono::milliseconds timeout) {
  return eventually([&] { return log().find(" ready (instance") != std::string::npos; }, timeout);
}

std::string DaemonProcess::log() const {
  return read_text_file(log_file_);
}

std::pair<int, std::string> run_rappel(
    const std::vector<std::string>& args,
    const std::vector<std::pair<std::string, std::string>>& env) {
  ChildOptions options;
  options.argv = {RAPPEL_BINARY};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.env = env;
  return run_program(options);
}

}  // namespace rappel::test
