// See redis_fixture.hpp.
#include "support/redis_fixture.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace rappel::test {

unsigned short free_tcp_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

std::string make_temp_dir(const std::string& tag) {
  std::string pattern = "/tmp/rappel-" + tag + "-XXXXXX";
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

RedisServer::RedisServer(bool append_only)
    : append_only_(append_only), port_(free_tcp_port()), dir_(make_temp_dir("redis")) {
  // free_tcp_port() releases the port before redis-server binds it: a test running in parallel
  // may take it first. Then the server that answers is not ours, so pick another port.
  for (int attempt = 1;; ++attempt) {
    if (launch()) return;
    if (attempt == 5) throw std::runtime_error("redis-server did not start");
    port_ = free_tcp_port();
  }
}

RedisServer::~RedisServer() {
  process_.reset();
  std::filesystem::remove_all(dir_);
}

void RedisServer::start() {
  if (!launch()) throw std::runtime_error("redis-server did not start");
}

// Whether the server on port_ is the process we started (INFO's process_id), not another test's.
bool RedisServer::answers_as_ours() const {
  try {
    command({"PING"});  // throws while it is still loading its AOF
    auto reply = command({"INFO", "server"});
    if (!reply || !reply->str) return false;
    std::string info(reply->str, reply->len);
    return info.find("process_id:" + std::to_string(process_->pid()) + "\r") != std::string::npos;
  } catch (const std::exception&) {
    return false;
  }
}

bool RedisServer::launch() {
  ChildOptions options;
  options.argv = {"redis-server",
                  "--port",
                  std::to_string(port_),
                  "--bind",
                  "127.0.0.1",
                  "--dir",
                  dir_,
                  "--save",
                  "",
                  "--appendonly",
                  append_only_ ? "yes" : "no",
                  "--appendfsync",
                  "always",
                  "--daemonize",
                  "no",
                  "--loglevel",
                  "warning"};
  options.stdout_mode = Output::discard;
  options.stderr_mode = Output::discard;
  process_ = std::make_unique<ChildProcess>(options);
  // A server that could not bind exits at once: stop waiting then.
  eventually([&] { return answers_as_ours() || !process_->running(); }, std::chrono::seconds(10));
  if (process_->running() && answers_as_ours()) return true;
  process_.reset();
  return false;
}

void RedisServer::stop() {
  if (!process_) return;
  process_->terminate(SIGTERM);
  process_->wait(std::chrono::seconds(10));
  process_.reset();
}

ReplyPtr RedisServer::command(const std::vector<std::string>& argv) const {
  timeval timeout{2, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, timeout);
  if (!c || c->err) {
    if (c) redisFree(c);
    throw std::runtime_error("cannot connect to the test Redis");
  }
  std::vector<const char*> args;
  std::vector<size_t> lengths;
  for (const auto& a : argv) args.push_back(a.data()), lengths.push_back(a.size());
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lengths.data()));
  redisFree(c);
  if (!reply) throw std::runtime_error("Redis command failed");
  if (reply->type == REDIS_REPLY_ERROR) {
    std::string error(reply->str, reply->len);
    freeReplyObject(reply);
    throw std::runtime_error("Redis: " + error);
  }
  return ReplyPtr(reply);
}

std::string RedisServer::xadd_payload(const std::string& stream, const std::string& payload) const {
  auto r = command({"XADD", stream, "*", "payload", payload});
  return std::string(r->str, r->len);
}

namespace {
std::string text(const redisReply* r) {
  if (r->type == REDIS_REPLY_INTEGER) return std::to_string(r->integer);
  return r->str ? std::string(r->str, r->len) : std::string();
}
}  // namespace

std::map<std::string, std::string> RedisServer::hgetall(const std::string& key) const {
  auto r = command({"HGETALL", key});
  std::map<std::string, std::string> out;
  for (size_t i = 0; i + 1 < r->elements; i += 2)
    out[text(r->element[i])] = text(r->element[i + 1]);
  return out;
}

std::vector<std::map<std::string, std::string>> RedisServer::xrange(
    const std::string& stream) const {
  auto r = command({"XRANGE", stream, "-", "+"});
  std::vector<std::map<std::string, std::string>> out;
  for (size_t i = 0; i < r->elements; ++i) {
    const redisReply* fields = r->element[i]->element[1];
    std::map<std::string, std::string> entry{{"_id", text(r->element[i]->element[0])}};
    for (size_t j = 0; j + 1 < fields->elements; j += 2)
      entry[text(fields->element[j])] = text(fields->element[j + 1]);
    out.push_back(std::move(entry));
  }
  return out;
}

long long RedisServer::integer(const std::vector<std::string>& argv) const {
  auto r = command(argv);
  return r->type == REDIS_REPLY_INTEGER ? r->integer : std::atoll(text(r.get()).c_str());
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

long long count_with_status(const RedisServer& redis, const std::vector<std::string>& ids,
                            const std::string& status) {
  std::vector<std::string> argv{
      "EVAL",
      "local n = 0 for i = 1, #KEYS do "
      "if redis.call('HGET', KEYS[i], 'status') == ARGV[1] then n = n + 1 "
      "end end return n",
      std::to_string(ids.size())};
  for (const auto& id : ids) argv.push_back("rappel:msg:" + id);
  argv.push_back(status);
  return redis.integer(argv);
}

}  // namespace rappel::test
