// Redis URLs as admins write them in the YAML (or in RAPPEL_REDIS_URL), and the SHA1 that EVALSHA
// needs. describe() goes to logs, so it must never carry the password.
#include <catch2/catch.hpp>

#include "daemon/net/redis_client.hpp"

using namespace rappel;

TEST_CASE("host, port and database", "[redis]") {
  RedisEndpoint ep = parse_redis_url("redis://redis.cd77.local:6380/3");
  CHECK(ep.host == "redis.cd77.local");
  CHECK(ep.port == 6380);
  CHECK(ep.database == 3);
  CHECK(ep.unix_path.empty());
  CHECK(ep.username.empty());
  CHECK(ep.password.empty());
  CHECK(ep.describe() == "redis.cd77.local:6380/3");
}

TEST_CASE("defaults for what the URL leaves out", "[redis]") {
  RedisEndpoint ep = parse_redis_url("redis://");
  CHECK(ep.host == "127.0.0.1");
  CHECK(ep.port == 6379);
  CHECK(ep.database == 0);
  ep = parse_redis_url("redis://10.0.4.12");
  CHECK(ep.host == "10.0.4.12");
  CHECK(ep.port == 6379);
  ep = parse_redis_url("redis://10.0.4.12/");
  CHECK(ep.database == 0);
  ep = parse_redis_url("redis://:6390/2");
  CHECK(ep.host == "127.0.0.1");
  CHECK(ep.port == 6390);
  CHECK(ep.database == 2);
}

TEST_CASE("a password alone", "[redis]") {
  RedisEndpoint ep = parse_redis_url("redis://:Rdv-S0lidarit3s@redis.internal:6379/1");
  CHECK(ep.username.empty());
  CHECK(ep.password == "Rdv-S0lidarit3s");
  CHECK(ep.host == "redis.internal");
  CHECK(ep.database == 1);
  CHECK(ep.describe().find("Rdv-S0lidarit3s") == std::string::npos);
}

TEST_CASE("user and password, percent-encoded", "[redis]") {
  // The password "p@ss:w/rd%é" as an admin would encode it.
  RedisEndpoint ep = parse_redis_url("redis://rappel-77:p%40ss%3Aw%2Frd%25%C3%A9@10.0.4.12:6380/5");
  CHECK(ep.username == "rappel-77");
  CHECK(ep.password == "p@ss:w/rd%é");
  CHECK(ep.host == "10.0.4.12");
  CHECK(ep.port == 6380);
  CHECK(ep.database == 5);
  std::string described = ep.describe();
  CHECK(described == "10.0.4.12:6380/5");
  CHECK(described.find("p@ss") == std::string::npos);
  CHECK(described.find("p%40ss") == std::string::npos);
  // An '@' left unencoded in the password still splits at the last one.
  ep = parse_redis_url("redis://rappel:p@ss@localhost");
  CHECK(ep.password == "p@ss");
  CHECK(ep.host == "localhost");
}

TEST_CASE("a unix socket, with and without a database", "[redis]") {
  RedisEndpoint ep = parse_redis_url("unix:///run/redis/redis-server.sock?db=4");
  CHECK(ep.unix_path == "/run/redis/redis-server.sock");
  CHECK(ep.database == 4);
  CHECK(ep.describe() == "unix:/run/redis/redis-server.sock/4");
  ep = parse_redis_url("unix:///run/redis/redis-server.sock");
  CHECK(ep.unix_path == "/run/redis/redis-server.sock");
  CHECK(ep.database == 0);
}

TEST_CASE("malformed URLs are refused with the reason", "[redis]") {
  CHECK_THROWS_WITH(parse_redis_url("http://localhost:6379"), "Redis URL must start with redis://");
  CHECK_THROWS_WITH(parse_redis_url("rediss://localhost:6379"),
                    "Redis URL must start with redis://");
  CHECK_THROWS_WITH(parse_redis_url("localhost:6379"), "Redis URL must start with redis://");
  CHECK_THROWS_WITH(parse_redis_url("redis://localhost:six"), "invalid port in Redis URL");
  CHECK_THROWS_WITH(parse_redis_url("redis://localhost:"), "invalid port in Redis URL");
  CHECK_THROWS_WITH(parse_redis_url("redis://localhost:6379x"), "invalid port in Redis URL");
  CHECK_THROWS_WITH(parse_redis_url("redis://localhost/zero"), "invalid database in Redis URL");
  CHECK_THROWS_WITH(parse_redis_url("redis://localhost/1/2"), "invalid database in Redis URL");
  CHECK_THROWS_WITH(parse_redis_url("unix:///run/redis.sock?db=x"),
                    "invalid database in Redis URL");
  CHECK_THROWS_WITH(parse_redis_url("unix:///run/redis.sock?timeout=1"),
                    "unknown Redis URL parameter");
  CHECK_THROWS_WITH(parse_redis_url("unix://"), "empty socket path in Redis URL");
}

// parse_int() uses std::from_chars into an int with no range check, so a port outside 1..65535 or
// a negative database number is accepted and only fails later, at connection time.
TEST_CASE("ports and databases out of range are refused", "[redis]") {
  CHECK_THROWS_AS(parse_redis_url("redis://localhost:65536"), std::invalid_argument);
  CHECK_THROWS_AS(parse_redis_url("redis://localhost:0"), std::invalid_argument);
  CHECK_THROWS_AS(parse_redis_url("redis://localhost:-1"), std::invalid_argument);
  CHECK_THROWS_AS(parse_redis_url("redis://localhost/-1"), std::invalid_argument);
}

// The ']' guard keeps "[::1]" whole but also skips the port after it.
TEST_CASE("an IPv6 host with a port", "[redis]") {
  RedisEndpoint ep = parse_redis_url("redis://[::1]:6380/2");
  CHECK(ep.host == "::1");
  CHECK(ep.port == 6380);
  CHECK(ep.database == 2);
}

TEST_CASE("LuaScript's sha1 is the one SCRIPT LOAD answers", "[redis]") {
  // printf %s 'return 1' | sha1sum
  CHECK(LuaScript("return 1").sha1 == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  // printf %s '' | sha1sum: the padding edge case of an empty input.
  CHECK(LuaScript("").sha1 == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  CHECK(LuaScript("return 1").source == "return 1");
  // A multi-block UTF-8 script (118 bytes), checked with Python's hashlib.
  std::string script =
      "return redis.call(\"GET\", KEYS[1]) -- é, 64+ bytes to cross a block boundary: ";
  script += std::string(40, 'x');
  CHECK(LuaScript(script).sha1 == "f19b3d0bf9f1faaa06708254c2503db1b0990357");
}
