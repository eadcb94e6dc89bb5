// See stack.hpp.
#include "stack.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/redis_fixture.hpp"

namespace rappel::bench {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void replace_all(std::string& text, const std::string& what, const std::string& with) {
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size()))
    text.replace(at, what.size(), with);
}

bool port_open(unsigned short port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

}  // namespace

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

long long wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string iso_utc_ms(long long ms) {
  time_t seconds = ms / 1000;
  tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[48];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  char out[64];
  snprintf(out, sizeof out, "%s.%03lldZ", buf, ms % 1000);
  return out;
}

double cpu_seconds(int pid, bool with_children) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  double total = 0;
  size_t close = stat.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(stat.substr(close + 2));
    std::string f;
    long long utime = 0, stime = 0;
    for (int i = 3; fields >> f; ++i) {  // field 3 is the state; 14 utime, 15 stime
      if (i == 14) utime = std::stoll(f);
      if (i == 15) {
        stime = std::stoll(f);
        break;
      }
    }
    total = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  if (with_children)
    for (int child : children_of(pid)) total += cpu_seconds(child, true);
  return total;
}

long status_kib(int pid, const std::string& field) {
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return -1;
}

RssPeaks::RssPeaks(int pid) : pid_(pid), sampler_([this] { sample_until_stopped(); }) {}

RssPeaks::~RssPeaks() {
  stop_ = true;
  sampler_.join();
}

void RssPeaks::sample_until_stopped() {
  while (!stop_) {
    long anon = status_kib(pid_, "RssAnon"), file = status_kib(pid_, "RssFile");
    long threads = status_kib(pid_, "Threads");
    if (anon > anon_) anon_ = anon;
    if (file > file_) file_ = file;
    if (threads > threads_) threads_ = threads;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string RssPeaks::summary() const {
  char line[160];
  std::snprintf(line, sizeof line,
                "peaks sampled every 5 ms: RssAnon %.1f MiB, RssFile %.1f MiB, %ld thread(s)",
                anon_ / 1024.0, file_ / 1024.0, long(threads_));
  return line;
}

std::vector<int> children_of(int pid) {
  std::vector<int> out;
  std::string base = "/proc/" + std::to_string(pid) + "/task";
  std::error_code ec;
  for (auto& task : std::filesystem::directory_iterator(base, ec)) {
    std::istringstream in(read_file(task.path().string() + "/children"));
    int child;
    while (in >> child) out.push_back(child);
  }
  return out;
}

int child_named(const std::string& needle) {
  for (int child : children_of(getpid())) {
    std::string cmdline = read_file("/proc/" + std::to_string(child) + "/cmdline");
    if (cmdline.find(needle) != std::string::npos) return child;
  }
  return -1;
}

Nginx::Nginx(int workers) : dir_(test::make_temp_dir("nginx")), port_(test::free_tcp_port()) {
  std::string conf = read_file(RAPPEL_SOURCE_DIR "/bench/nginx.conf");
  replace_all(conf, "@DIR@", dir_);
  replace_all(conf, "@PORT@", std::to_string(port_));
  replace_all(conf, "@WORKERS@", std::to_string(workers));
  std::ofstream(dir_ + "/nginx.conf") << conf;
  test::ChildOptions options;
  options.argv = {"nginx", "-p", dir_, "-c", dir_ + "/nginx.conf"};
  options.stdout_mode = test::Output::discard;
  options.stderr_mode = test::Output::file;
  options.stderr_file = dir_ + "/stderr";
  process_ = std::make_unique<test::ChildProcess>(options);
  if (!test::eventually([&] { return port_open(port_); }, std::chrono::seconds(10)))
    throw std::runtime_error("nginx did not start: " + read_file(dir_ + "/stderr") +
                             read_file(dir_ + "/error.log"));
}

Nginx::~Nginx() {
  process_.reset();
  std::filesystem::remove_all(dir_);
}

std::string Nginx::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::string write_daemon_config(const std::string& dir, const DaemonSettings& s) {
  std::string path = dir + "/rappel.yaml";
  std::ofstream out(path);
  out << "redis: {url: \"" << s.redis_url << "\", prefix: rappel}\n"
      << "templates: {directory: \"" << RAPPEL_SOURCE_DIR << "/templates\"}\n"
      << "dispatch: " << s.dispatch << "\n"
      << "http: {listen: \"127.0.0.1:0\"}\n"  // the OS's choice: tests may hold 8080
      << "providers:\n"
      << s.providers << "departments:\n"
      << "  default: {timezone: Europe/Paris, sms: {provider: " << s.sms_provider
      << ", sender: RdvSoli}"
      << (s.email_provider.empty() ? "" : ", email: {provider: " + s.email_provider + "}") << "}\n"
      << "  \"77\": {name: Seine-et-Marne}\n";
  return path;
}

Daemon::Daemon(const DaemonSettings& settings, const std::string& instance)
    : dir_(test::make_temp_dir("bench-daemon")) {
  config_ = write_daemon_config(dir_, settings);
  log_ = dir_ + "/rappel.log";
  test::ChildOptions options;
  // RAPPEL_BENCH_WRAPPER="valgrind --tool=massif": the daemon runs under that tool (which keeps
  // the pid when it execs, as valgrind does; the figures read from /proc are then the tool's).
  const char* wrapper_env = std::getenv("RAPPEL_BENCH_WRAPPER");
  std::istringstream wrapper(wrapper_env ? wrapper_env : "");
  for (std::string word; wrapper >> word;) options.argv.push_back(word);
  bool wrapped = !options.argv.empty();
  for (std::string arg : {std::string(RAPPEL_BINARY), std::string("run"), std::string("--config"),
                          config_, std::string("--instance"), instance})
    options.argv.push_back(arg);
  options.stdout_mode = test::Output::file;
  options.stdout_file = log_;
  options.stderr_mode = test::Output::file;
  options.stderr_file = log_;
  options.env = settings.env;
  options.env.emplace_back("RAPPEL_LOG_LEVEL", settings.log_level);
  process_ = std::make_unique<test::ChildProcess>(options);
  if (!test::eventually([&] { return log().find(" ready (instance") != std::string::npos; },
                        std::chrono::seconds(wrapped ? 300 : 20)))
    throw std::runtime_error("rappel did not start:\n" + log());
}

Daemon::~Daemon() {
  process_.reset();
  std::filesystem::remove_all(dir_);
}

std::string Daemon::log() const {
  return read_file(log_);
}

void Daemon::stop() {
  process_->terminate(SIGTERM);
  process_->wait(std::chrono::seconds(30));
}

std::string reminder_payload(const std::string& key, const std::string& channel,
                             const std::string& send_at) {
  nlohmann::json payload = {{"op", "schedule"},
                            {"key", key},
                            {"department", "77"},
                            {"event", "rdv_upcoming_reminder"},
                            {"channels", {channel}},
                            {"recipient",
                             {{"phone", "+33612345678"},
                              {"email", "camille.martin@example.fr"},
                              {"name", "Camille Martin"}}},
                            {"data",
                             {{"starts_at", "2027-03-15T10:30:00+01:00"},
                              {"service", "PMI"},
                              {"place", "12 rue de la Paix, Melun"},
                              {"phone", "0164000000"},
                              {"url", "https://www.rdv-solidarites.fr/r/4521/abc"}}}};
  if (!send_at.empty()) payload["send_at"] = send_at;
  return payload.dump();
}

std::string machine_summary() {
  std::string model;
  std::istringstream cpuinfo(read_file("/proc/cpuinfo"));
  for (std::string line; std::getline(cpuinfo, line);)
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  std::string load = read_file("/proc/loadavg");
  return "nproc " + std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + ", " + model + ", loadavg " +
         load.substr(0, load.find(' ', load.find(' ', load.find(' ') + 1) + 1));
}

std::string run_capture(const std::string& command) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  pclose(pipe);
  return out;
}

}  // namespace rappel::bench
