// Redis high availability and AUTH with real servers: a master, a replica and three redis-sentinel
// processes on ports the OS chose, all requiring passwords; the master is killed (SIGKILL, like a
// crashed machine) while messages flow, the sentinels promote the replica, and every message must
// end up sent. Duplicates at the provider are counted and reported: Redis replicates
// asynchronously, so an outcome written just before the crash may be missing on the new master and
// that message is sent again when its lease expires (docs/operations.md explains the contract).
#include <csignal>
#include <fstream>

#include <catch2/catch.hpp>

#include "integration/ops_support.hpp"

using namespace rappel::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kRedisPassword = "mdp-redis-ops";
constexpr const char* kSentinelPassword = "mdp-sentinelle";
constexpr const char* kMasterName = "rdv-solidarites";

// A command to 127.0.0.1:port; nullptr when the server is unreachable. Errors throw.
ReplyPtr ask(unsigned short port, const std::vector<std::string>& argv,
             const std::string& password = kRedisPassword) {
  timeval timeout{2, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, timeout);
  if (!c || c->err) {
    if (c) redisFree(c);
    return nullptr;
  }
  auto run = [&](const std::vector<std::string>& a) {
    std::vector<const char*> args;
    std::vector<size_t> lengths;
    for (const auto& s : a) args.push_back(s.data()), lengths.push_back(s.size());
    return ReplyPtr(static_cast<redisReply*>(
        redisCommandArgv(c, int(args.size()), args.data(), lengths.data())));
  };
  if (!password.empty()) run({"AUTH", password});
  ReplyPtr reply = run(argv);
  redisFree(c);
  if (reply && reply->type == REDIS_REPLY_ERROR)
    throw std::runtime_error(std::string(reply->str, reply->len));
  return reply;
}

// One redis-server or redis-sentinel with its own configuration file and directory.
class RedisNode {
 public:
  RedisNode(const std::string& program, const std::string& dir, const std::string& settings)
      : port_(free_tcp_port()), dir_(dir + "/" + program + "-" + std::to_string(port_)) {
    std::filesystem::create_directories(dir_);
    std::string conf = dir_ + "/node.conf";
    std::ofstream(conf) << "port " << port_ << "\nbind 127.0.0.1\ndir " << dir_
                        << "\ndaemonize no\nloglevel warning\nsave \"\"\nappendonly no\n"
                        << settings;
    ChildOptions options;
    options.argv = {program, conf};
    options.stdout_mode = Output::file;
    options.stdout_file = dir_ + "/node.log";
    options.stderr_mode = Output::file;
    options.stderr_file = dir_ + "/node.log";
    process_ = std::make_unique<ChildProcess>(options);
    bool sentinel = program == "redis-sentinel";
    if (!eventually(
            [&] {
              return ask(port_, {"PING"}, sentinel ? kSentinelPassword : kRedisPassword) != nullptr;
            },
            10s))
      throw std::runtime_error(program + " did not start");
  }
  unsigned short port() const { return port_; }
  void kill() { process_->terminate(SIGKILL), process_->wait(5s); }

 private:
  unsigned short port_;
  std::string dir_;
  std::unique_ptr<ChildProcess> process_;
};

std::string server_settings() {
  return std::string("requirepass ") + kRedisPassword + "\nmasterauth " + kRedisPassword + "\n";
}

std::string sentinel_settings(unsigned short master_port) {
  return "sentinel monitor " + std::string(kMasterName) + " 127.0.0.1 " +
         std::to_string(master_port) + " 2\n" + "sentinel auth-pass " + kMasterName + " " +
         kRedisPassword + "\nsentinel down-after-milliseconds " + kMasterName +
         " 1000\nsentinel failover-timeout " + kMasterName + " 5000\n" + "requirepass " +
         kSentinelPassword + "\nsentinel sentinel-pass " + kSentinelPassword + "\n";
}

unsigned short master_port_per(const RedisNode& sentinel) {
  ReplyPtr r =
      ask(sentinel.port(), {"SENTINEL", "get-master-addr-by-name", kMasterName}, kSentinelPassword);
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) return 0;
  return static_cast<unsigned short>(std::atoi(r->element[1]->str));
}

long long sent_count(unsigned short port, const std::vector<std::string>& ids) {
  std::vector<std::string> argv{
      "EVAL",
      "local n = 0 for i = 1, #KEYS do "
      "if redis.call('HGET', KEYS[i], 'status') == 'sent' then n = n + 1 end end return n",
      std::to_string(ids.size())};
  for (const auto& id : ids) argv.push_back("rappel:msg:" + id);
  try {
    ReplyPtr r = ask(port, argv);
    return r ? r->integer : -1;
  } catch (const std::exception&) {
    return -1;  // e.g. LOADING while the replica takes over
  }
}

void enqueue(unsigned short port, const std::string& key) {
  ask(port, {"XADD", "rappel:inbox", "*", "payload", reminder(key).dump()});
}

}  // namespace

TEST_CASE("Sentinel failover while messages flow: the replica takes over, no message is lost",
          "[integration][sentinel]") {
  std::string dir = make_temp_dir("sentinel");
  setenv("RAPPEL_OPS_REDIS_PASSWORD", kRedisPassword, 1);
  setenv("RAPPEL_OPS_SENTINEL_PASSWORD", kSentinelPassword, 1);
  RedisNode master("redis-server", dir, server_settings());
  RedisNode replica(
      "redis-server", dir,
      server_settings() + "replicaof 127.0.0.1 " + std::to_string(master.port()) + "\n");
  std::vector<std::unique_ptr<RedisNode>> sentinels;
  for (int i = 0; i < 3; ++i)
    sentinels.push_back(
        std::make_unique<RedisNode>("redis-sentinel", dir, sentinel_settings(master.port())));
  // The sentinels know the replica and each other before anything is killed.
  REQUIRE(eventually(
      [&] {
        ReplyPtr r =
            ask(sentinels[0]->port(), {"SENTINEL", "master", kMasterName}, kSentinelPassword);
        if (!r || r->type != REDIS_REPLY_ARRAY) return false;
        std::map<std::string, std::string> fields;
        for (size_t i = 0; i + 1 < r->elements; i += 2)
          fields[r->element[i]->str] = r->element[i + 1]->str;
        return fields["num-slaves"] == "1" && fields["num-other-sentinels"] == "2";
      },
      30s));

  CountingProvider provider(20ms);
  std::string config = dir + "/rappel.yaml";
  std::ofstream(config)
      << "redis:\n  sentinels: [\"127.0.0.1:" << sentinels[0]->port()
      << "\", \"127.0.0.1:" << sentinels[1]->port() << "\", \"127.0.0.1:" << sentinels[2]->port()
      << "\"]\n  master_name: " << kMasterName << "\n  password: \"${RAPPEL_OPS_REDIS_PASSWORD}\"\n"
      << "  sentinel_password: \"${RAPPEL_OPS_SENTINEL_PASSWORD}\"\n"
      << "http: {listen: \"127.0.0.1:0\"}\n"  // never the default 8080: tests run in parallel
      << "templates: {directory: \"" << RAPPEL_SOURCE_DIR << "/templates\"}\n"
      << "dispatch: {max_in_flight: 8, claim_batch: 8, lease: 3s}\n"
      << "intake: {reclaim_after: 2s}\nproviders:\n"
      << provider.account("sms-factor-77")
      << "departments:\n  default: {timezone: Europe/Paris, sms: {provider: "
         "sms-factor-77, sender: RdvSoli}}\n";
  auto [code, output] = run_rappel({"check-config", "--config", config});
  REQUIRE(code == 0);

  DaemonProcess daemon(config, "sentinel", dir + "/daemon.log");
  REQUIRE(daemon.wait_ready());
  CHECK_THAT(daemon.log(),
             Catch::Contains("connected to 127.0.0.1:" + std::to_string(master.port()) +
                             " (master 'rdv-solidarites' per the sentinels)"));

  std::vector<std::string> ids;
  for (int i = 0; i < 300; ++i) {
    enqueue(master.port(), "rdv-ha-" + std::to_string(i));
    ids.push_back("rdv-ha-" + std::to_string(i) + ":sms");
  }
  // The backend's writes are on the replica before the crash (WAIT): what the backend was told
  // is stored must survive it. rappel's own later writes are what the test puts at risk.
  ask(master.port(), {"WAIT", "1", "5000"});
  REQUIRE(eventually([&] { return provider.server.request_count() >= 40; }));
  master.kill();

  REQUIRE(eventually([&] { return master_port_per(*sentinels[0]) == replica.port(); }, 60s));
  for (int i = 300; i < 400; ++i) {
    enqueue(replica.port(), "rdv-ha-" + std::to_string(i));
    ids.push_back("rdv-ha-" + std::to_string(i) + ":sms");
  }
  REQUIRE(eventually([&] { return sent_count(replica.port(), ids) == 400; }, 90s));
  CHECK_THAT(daemon.log(),
             Catch::Contains("connected to 127.0.0.1:" + std::to_string(replica.port()) +
                             " (master 'rdv-solidarites' per the sentinels)"));
  CHECK(daemon.running());

  auto seen = provider.per_message();
  CHECK(seen.size() == 400);  // every message reached the provider
  int duplicates = 0;
  for (const auto& [id, count] : seen) duplicates += count - 1;
  WARN("Sentinel failover: " << duplicates << " message(s) sent twice out of 400 "
                             << "(outcomes lost with the master's last unreplicated writes)");
  CHECK(duplicates <= 8);  // at most what was in flight when the master died
  // No password in the logs.
  CHECK(daemon.log().find(kRedisPassword) == std::string::npos);
  CHECK(daemon.log().find(kSentinelPassword) == std::string::npos);
  sentinels.clear();
  std::filesystem::remove_all(dir);
}

TEST_CASE("Redis AUTH with an ACL user: the password from the environment or the URL",
          "[integration][sentinel][auth]") {
  std::string dir = make_temp_dir("auth");
  RedisNode redis("redis-server", dir,
                  server_settings() +
                      "user rappel on >mdp-acl-rappel ~rappel:* resetchannels +@all -@dangerous\n");
  setenv("RAPPEL_OPS_ACL_PASSWORD", "mdp-acl-rappel", 1);
  std::string url = "redis://127.0.0.1:" + std::to_string(redis.port()) + "/0";
  auto write = [&](const std::string& redis_section) {
    std::ofstream(dir + "/rappel.yaml")
        << redis_section
        << "http: {listen: \"127.0.0.1:0\"}\n"  // never the default 8080: tests run in parallel
        << "templates: {directory: \"" << RAPPEL_SOURCE_DIR
        << "/templates\"}\nproviders:\n  journal: {type: log}\n"
        << "departments:\n  default: {timezone: Europe/Paris, sms: {provider: journal, sender: "
           "RdvSoli}}\n";
    return dir + "/rappel.yaml";
  };

  SECTION("username and password: ${ENV}") {
    std::string config = write("redis: {url: \"" + url +
                               "\", username: rappel, password: \"${RAPPEL_OPS_ACL_PASSWORD}\"}\n");
    DaemonProcess daemon(config, "acl", dir + "/daemon.log");
    REQUIRE(daemon.wait_ready());
    ask(redis.port(), {"XADD", "rappel:inbox", "*", "payload", reminder("rdv-acl-1").dump()});
    REQUIRE(eventually([&] {
      ReplyPtr r = ask(redis.port(), {"HGET", "rappel:msg:rdv-acl-1:sms", "status"});
      return r && r->type == REDIS_REPLY_STRING && std::string(r->str) == "sent";
    }));
    CHECK(daemon.log().find("mdp-acl-rappel") == std::string::npos);
  }
  SECTION("user and password in the URL") {
    std::string config = write("redis: {url: \"redis://rappel:mdp-acl-rappel@127.0.0.1:" +
                               std::to_string(redis.port()) + "/0\"}\n");
    DaemonProcess daemon(config, "acl-url", dir + "/daemon.log");
    REQUIRE(daemon.wait_ready());
  }
  SECTION("a wrong password: never ready, and the log says why without the password") {
    std::string config =
        write("redis: {url: \"" + url + "\", username: rappel, password: mauvais-mdp}\n");
    NotifyListener notify;
    ManagedDaemon daemon(config, "wrong", dir + "/daemon.log", notify);
    REQUIRE(eventually([&] { return daemon.log().find("WRONGPASS") != std::string::npos; }));
    CHECK(notify.count_key("READY") == 0);
    CHECK(daemon.log().find("mauvais-mdp") == std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a sentinel naming a replica is not believed: ROLE is checked, then the real master",
          "[integration][sentinel]") {
  std::string dir = make_temp_dir("role");
  RedisNode master("redis-server", dir, server_settings());
  RedisNode replica(
      "redis-server", dir,
      server_settings() + "replicaof 127.0.0.1 " + std::to_string(master.port()) + "\n");
  std::string address_file = dir + "/address";
  std::ofstream(address_file) << "127.0.0.1 " << replica.port() << "\n";
  ChildOptions options;
  options.argv = {"/usr/bin/python3",
                  std::string(RAPPEL_SOURCE_DIR) + "/tests/support/stale_sentinel.py",
                  address_file};
  ChildProcess sentinel(options);
  auto port = sentinel.read_line();
  REQUIRE(port);

  setenv("RAPPEL_OPS_REDIS_PASSWORD", kRedisPassword, 1);
  std::string config = dir + "/rappel.yaml";
  std::ofstream(config)
      << "redis:\n  sentinels: [\"127.0.0.1:" << *port << "\"]\n  master_name: " << kMasterName
      << "\n  password: \"${RAPPEL_OPS_REDIS_PASSWORD}\"\n"
      << "http: {listen: \"127.0.0.1:0\"}\n"  // never the default 8080: tests run in parallel
      << "templates: {directory: \"" << RAPPEL_SOURCE_DIR << "/templates\"}\n"
      << "providers:\n  journal: {type: log}\n"
      << "departments:\n  default: {timezone: Europe/Paris, sms: {provider: "
         "journal, sender: RdvSoli}}\n";
  NotifyListener notify;
  ManagedDaemon daemon(config, "role", dir + "/daemon.log", notify);
  std::string replica_address = "127.0.0.1:" + std::to_string(replica.port());
  REQUIRE(eventually([&] {
    return daemon.log().find("leaving " + replica_address + ": it is a slave, not the master") !=
           std::string::npos;
  }));
  CHECK(notify.count_key("READY") == 0);

  // The sentinel catches up: rappel follows it to the master and becomes ready.
  std::ofstream(address_file) << "127.0.0.1 " << master.port() << "\n";
  REQUIRE(notify.wait_for_key("READY", 0, "1", 30s) >= 0);
  ask(master.port(), {"XADD", "rappel:inbox", "*", "payload", reminder("rdv-role-1").dump()});
  REQUIRE(eventually([&] {
    ReplyPtr r = ask(master.port(), {"HGET", "rappel:msg:rdv-role-1:sms", "status"});
    return r && r->type == REDIS_REPLY_STRING && std::string(r->str) == "sent";
  }));
  std::filesystem::remove_all(dir);
}
