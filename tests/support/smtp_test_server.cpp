// See smtp_test_server.hpp. The server is run with /usr/bin/python3: Debian's aiosmtpd is not
// importable from the pyenv python3 on PATH.
#include "support/smtp_test_server.hpp"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace rappel::test {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "rappel-smtp-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

}  // namespace

SmtpTestServer::SmtpTestServer(SmtpServerTls tls) : tls_(tls), dir_(make_temp_dir()) {
  ChildOptions options;
  options.argv = {"/usr/bin/python3",
                  RAPPEL_SOURCE_DIR "/tests/support/smtp_server.py",
                  "--dir",
                  dir_,
                  "--user",
                  kUser,
                  "--password",
                  kPassword};
  if (tls == SmtpServerTls::implicit) options.argv.push_back("--implicit-tls");
  if (tls == SmtpServerTls::none) options.argv.push_back("--no-tls");
  options.stderr_mode = Output::file;  // aiosmtpd's warnings; kept for post-mortems
  options.stderr_file = dir_ + "/stderr";
  process_ = std::make_unique<ChildProcess>(options);
  auto line = process_->read_line(std::chrono::seconds(30));
  if (!line)
    throw std::runtime_error("smtp_server.py did not start: " + read_file(dir_ + "/stderr"));
  port_ = static_cast<unsigned short>(std::stoi(*line));
}

SmtpTestServer::~SmtpTestServer() {
  process_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string SmtpTestServer::url() const {
  return std::string(tls_ == SmtpServerTls::implicit ? "smtps" : "smtp") +
         "://localhost:" + std::to_string(port_);
}

int SmtpTestServer::connections() const {
  std::string count = read_file(dir_ + "/connections");
  return count.empty() ? 0 : std::stoi(count);
}

int SmtpTestServer::peak_sessions() const {
  std::string count = read_file(dir_ + "/peak_sessions");
  return count.empty() ? 0 : std::stoi(count);
}

int SmtpTestServer::message_count() const {
  int n = 0;
  while (std::filesystem::exists(dir_ + "/" + std::to_string(n + 1) + ".json")) ++n;
  return n;
}

std::string SmtpTestServer::message(int n) const {
  return read_file(dir_ + "/" + std::to_string(n) + ".eml");
}

nlohmann::json SmtpTestServer::envelope(int n) const {
  return nlohmann::json::parse(read_file(dir_ + "/" + std::to_string(n) + ".json"));
}

}  // namespace rappel::test
