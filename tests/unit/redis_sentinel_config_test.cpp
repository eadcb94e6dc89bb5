// The redis section with Sentinel and AUTH: what loads, and every mistake pointed at where it is,
// with no secret in any message. Also the host:port parsing of the sentinel list.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <boost/asio/io_context.hpp>

#include "daemon/base/config_node.hpp"
#include "daemon/config/config.hpp"

using namespace rappel;
namespace fs = std::filesystem;

namespace {

std::shared_ptr<Config> load_redis_section(const std::string& redis_section) {
  fs::path dir = fs::temp_directory_path() / ("rappel-sentinel-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string path = (dir / "rappel.yaml").string();
  std::ofstream(path) << redis_section << "templates: {directory: \"" << RAPPEL_SOURCE_DIR
                      << "/templates\"}\nproviders:\n  journal: {type: log}\n"
                      << "departments:\n  default: {sms: {provider: journal, sender: RdvSoli}}\n";
  boost::asio::io_context io;
  ProviderContext ctx{io, nullptr};
  struct Cleanup {
    fs::path dir;
    ~Cleanup() { fs::remove_all(dir); }
  } cleanup{dir};
  return load_config(path, ctx);
}

std::string error_of(const std::string& redis_section) {
  try {
    load_redis_section(redis_section);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a Sentinel redis section loads its sentinels, master and credentials",
          "[config][sentinel]") {
  setenv("RAPPEL_TEST_SENTINEL_PASSWORD", "mdp-sentinelle-77", 1);
  auto config = load_redis_section(
      "redis:\n"
      "  sentinels: [\"10.0.0.11:26379\", \"sentinelle-2.cd77.local:26380\", \"[fd00::13]\"]\n"
      "  master_name: rdv-solidarites\n"
      "  database: 2\n"
      "  username: rappel\n"
      "  password: \"${RAPPEL_TEST_SENTINEL_PASSWORD}\"\n"
      "  sentinel_password: \"${RAPPEL_TEST_SENTINEL_PASSWORD}\"\n");
  const RedisEndpoint& redis = config->redis;
  REQUIRE(redis.uses_sentinel());
  CHECK(redis.sentinel.addresses ==
        std::vector<std::pair<std::string, int>>{
            {"10.0.0.11", 26379}, {"sentinelle-2.cd77.local", 26380}, {"fd00::13", 26379}});
  CHECK(redis.sentinel.master_name == "rdv-solidarites");
  CHECK(redis.database == 2);
  CHECK(redis.username == "rappel");
  CHECK(redis.password == "mdp-sentinelle-77");
  CHECK(redis.sentinel.password == "mdp-sentinelle-77");
  // What logs and STATUS show: where, never the password.
  CHECK(redis.describe() ==
        "master 'rdv-solidarites' via sentinels 10.0.0.11:26379,sentinelle-2.cd77.local:26380,"
        "fd00::13:26379/2");
}

TEST_CASE("Sentinel mistakes are reported where they are", "[config][sentinel]") {
  CHECK_THAT(error_of("redis:\n  url: \"redis://127.0.0.1:6379/0\"\n  sentinels: [\"a:1\"]\n"
                      "  master_name: m\n"),
             Catch::Contains("rappel.yaml:3:14: redis.sentinels: give either 'url' or "
                             "'sentinels', not both"));
  CHECK_THAT(error_of("redis:\n  sentinels: [\"10.0.0.11:263790\"]\n  master_name: m\n"),
             Catch::Contains("redis.sentinels: '10.0.0.11:263790': invalid port"));
  CHECK_THAT(error_of("redis:\n  sentinels: []\n  master_name: m\n"),
             Catch::Contains("redis.sentinels: must list at least one host:port"));
  CHECK_THAT(error_of("redis:\n  sentinels: [\"10.0.0.11\"]\n"),
             Catch::Contains("missing required key 'master_name'"));
  // `database` belongs to Sentinel settings; with a URL the database is in the URL.
  CHECK_THAT(error_of("redis:\n  url: \"redis://127.0.0.1:6379/0\"\n  database: 3\n"),
             Catch::Contains("database"));
}

TEST_CASE("a missing Redis password names its reference, not a value", "[config][sentinel]") {
  unsetenv("RAPPEL_TEST_ABSENT_PASSWORD");
  std::string error = error_of(
      "redis:\n  url: \"redis://127.0.0.1:6379/0\"\n  username: rappel\n"
      "  password: \"${RAPPEL_TEST_ABSENT_PASSWORD}\"\n");
  CHECK_THAT(error, Catch::Contains("RAPPEL_TEST_ABSENT_PASSWORD"));
}

TEST_CASE("host:port of a sentinel", "[config][sentinel]") {
  CHECK(parse_host_port("127.0.0.1:26379") == std::pair<std::string, int>{"127.0.0.1", 26379});
  CHECK(parse_host_port("sentinelle.cd974.re") ==
        std::pair<std::string, int>{"sentinelle.cd974.re", 26379});
  CHECK(parse_host_port("[::1]:5000") == std::pair<std::string, int>{"::1", 5000});
  CHECK_THROWS_AS(parse_host_port(":26379"), std::invalid_argument);
  CHECK_THROWS_AS(parse_host_port("h:0"), std::invalid_argument);
  CHECK_THROWS_AS(parse_host_port("h:abc"), std::invalid_argument);
  CHECK_THROWS_AS(parse_host_port("[::1"), std::invalid_argument);
}
