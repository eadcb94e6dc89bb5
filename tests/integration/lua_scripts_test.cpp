// The Redis scripts as files (daemon/store/lua/, daemon/pipeline/rate_limiter.lua): each one
// loads into a real redis-server under the SHA1 the daemon sends, luacheck finds nothing, Redis'
// errors come back naming the file and line to read, and a script runs on its own, as
// `rappel scripts --write` writes it, with `redis-cli --eval`.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/asio/io_context.hpp>

#include "daemon/base/clock.hpp"
#include "daemon/lua_sources.hpp"
#include "daemon/net/redis_client.hpp"
#include "daemon/pipeline/rate_limiter.hpp"
#include "daemon/store/store_scripts.hpp"
#include "support/daemon_fixture.hpp"
#include "support/process.hpp"
#include "support/redis_fixture.hpp"

using namespace rappel;
using namespace rappel::test;

namespace {

// The 1-based number of the first line of `file` (from the project root) containing `needle`.
int line_of(const std::string& file, const std::string& needle) {
  std::ifstream in(std::string(RAPPEL_SOURCE_DIR) + "/" + file);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n)
    if (line.find(needle) != std::string::npos) return n;
  FAIL("no line of " << file << " holds " << needle);
  return 0;
}

// The common ARGV of the scripts that change a message, then `own`.
std::vector<std::string> script_args(std::vector<std::string> own,
                                     const std::string& events_maxlen = "1000") {
  Millis now = now_ms();
  std::vector<std::string> args{"lua",  std::to_string(now), iso_utc(now), events_maxlen, "3600",
                                "86400"};
  args.insert(args.end(), own.begin(), own.end());
  return args;
}

// What the daemon's own client answers to a script: Redis' error text as the store sees it.
std::string eval_error(const RedisServer& redis, const LuaScript& script,
                       const std::vector<std::string>& args) {
  boost::asio::io_context io;
  auto client = std::make_shared<RedisClient>(io, parse_redis_url(redis.url()), "lua");
  client->start();
  REQUIRE(eventually([&] { return io.poll(), client->connected(); }));
  std::optional<std::string> error;
  client->eval(script, {}, args, [&](const redisReply*, const std::string& e) { error = e; });
  REQUIRE(eventually([&] { return io.poll(), error.has_value(); }));
  client->stop();
  return *error;
}

}  // namespace

TEST_CASE("every script loads into redis-server under the SHA1 the daemon sends", "[lua]") {
  RedisServer redis;
  auto scripts = scripts::all();
  scripts.emplace_back("rate_limiter", &gcra_script());
  REQUIRE(scripts.size() == 7);
  for (const auto& [name, script] : scripts) {
    INFO(name);
    ReplyPtr r = redis.command({"SCRIPT", "LOAD", script->source});
    REQUIRE(r);
    INFO((r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len) : ""));
    REQUIRE(r->type == REDIS_REPLY_STRING);
    CHECK(std::string(r->str, r->len) == script->sha1);
  }
}

TEST_CASE("a script body keeps its file's line numbers; the prelude follows it", "[lua]") {
  const LuaScript& claim = scripts::claim();
  REQUIRE(claim.lines.size() == 2);
  CHECK(claim.lines[0].file == "daemon/store/lua/claim.lua");
  CHECK(claim.lines[0].first == 1);
  CHECK(claim.lines[0].count == line_count(kLua_claim.text));
  CHECK(claim.lines[1].file == "daemon/store/lua/prelude.lua");
  CHECK(claim.lines[1].first == claim.lines[0].count + 2);  // after the line "end"
  // Line n of the script is line n of claim.lua.
  std::istringstream text(claim.source), file{std::string(kLua_claim.text)};
  std::string script_line, file_line;
  std::getline(text, script_line);
  std::getline(file, file_line);
  CHECK(script_line.ends_with(file_line));  // line 1 also opens main()
  for (int n = 2; n <= claim.lines[0].count; ++n) {
    std::getline(text, script_line);
    std::getline(file, file_line);
    INFO("line " << n);
    REQUIRE(script_line == file_line);
  }
}

TEST_CASE("Redis' errors name the script file and line, in the body and in the prelude", "[lua]") {
  RedisServer redis;
  const std::string credit = "daemon/store/lua/credit.lua";
  const std::string prelude = "daemon/store/lua/prelude.lua";
  // A credit that is not a number: the comparison in credit.lua fails.
  std::string body_error =
      eval_error(redis, scripts::credit(), script_args({"sms-factor", "not-a-number", "500"}));
  INFO(body_error);
  CHECK_THAT(
      body_error,
      Catch::Contains(credit + ":" +
                      std::to_string(line_of(credit, "tonumber(credits) >= tonumber(low)"))));
  CHECK_THAT(body_error, !Catch::Contains("user_script"));
  // An events MAXLEN that is not a number: XADD fails in the prelude's emit().
  std::string prelude_error =
      eval_error(redis, scripts::credit(), script_args({"sms-factor", "12", "500"}, "many"));
  INFO(prelude_error);
  CHECK_THAT(prelude_error, Catch::Contains(prelude + ":" +
                                            std::to_string(line_of(prelude, "redis.call('XADD'"))));
}

TEST_CASE("luacheck finds nothing in the scripts", "[lua]") {
  ChildOptions options;
  options.argv = {"luacheck", "--no-color", "--codes", "daemon"};
  options.working_dir = RAPPEL_SOURCE_DIR;
  auto [code, output] = run_program(options);
  INFO(output);
  CHECK(code == 0);
  CHECK_THAT(output, Catch::Contains("0 warnings / 0 errors in 8 files"));
}

TEST_CASE("`rappel scripts --write` gives scripts that redis-cli --eval runs alone", "[lua][cli]") {
  RedisServer redis;
  std::string dir = make_temp_dir("scripts");
  auto [code, listing] = run_rappel({"scripts", "--write", dir});
  INFO(listing);
  REQUIRE(code == 0);
  CHECK_THAT(listing, Catch::Contains("credit  " + scripts::credit().sha1));
  CHECK_THAT(listing, Catch::Contains("daemon/store/lua/prelude.lua"));
  REQUIRE(std::filesystem::exists(dir + "/credit.lua"));
  REQUIRE(std::filesystem::exists(dir + "/rate_limiter.lua"));

  auto credit = [&](const std::string& credits) {
    ChildOptions options;
    options.argv = {"redis-cli", "--no-raw",          "-p", std::to_string(redis.port()),
                    "--eval",    dir + "/credit.lua", ","};
    for (const auto& a : script_args({"sms-factor", credits, "500"})) options.argv.push_back(a);
    auto [status, output] = run_program(options);
    REQUIRE(status == 0);
    return output;
  };
  // The credit script alone: one event at the crossing, none while it stays low, re-armed after.
  CHECK(credit("499") == "(integer) 1\n");
  CHECK(credit("480") == "(integer) 0\n");
  CHECK(credit("900") == "(integer) 2\n");
  CHECK(credit("450") == "(integer) 1\n");
  auto events = redis.xrange("lua:events");
  REQUIRE(events.size() == 2);
  CHECK(events[0].at("status") == "provider_low_credit");
  CHECK(events[0].at("provider") == "sms-factor");
  CHECK(events[0].at("credits") == "499");
  CHECK(events[1].at("credits") == "450");
  CHECK(redis.hgetall("lua:account:sms-factor").at("credits") == "450");
  std::filesystem::remove_all(dir);
}

TEST_CASE("the claim script alone leases a due message and leaves one due later", "[lua]") {
  RedisServer redis;
  const Millis now = now_ms();
  for (const auto& [id, due] :
       {std::pair{"k1:sms", now - 1000}, std::pair{"k2:sms", now + 60'000}}) {
    redis.command({"HSET", std::string("lua:msg:") + id, "status", "scheduled", "key",
                   std::string(id).substr(0, 2), "channel", "sms", "department", "77", "event",
                   "rdv_reminder", "send_at_ms", std::to_string(due)});
    redis.command({"SET", std::string("lua:content:") + id, R"({"to":"+33612345678"})"});
    redis.command({"ZADD", "lua:schedule", std::to_string(due), id});
  }
  std::vector<std::string> argv{"EVAL", scripts::claim().source, "0"};
  const std::string stats = R"({"ttl":86400,"days":{"*":")" + local_day("UTC", now) + R"("}})";
  for (const auto& a : script_args({"10", "120000", stats, "0", "0"})) argv.push_back(a);
  argv[3 + 1] = std::to_string(now);  // now_ms: the instant the schedule was written against
  ReplyPtr r = redis.command(argv);
  REQUIRE(r);
  INFO((r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len) : ""));
  REQUIRE(r->type == REDIS_REPLY_ARRAY);
  REQUIRE(r->elements == 3);
  const redisReply* claimed = r->element[0];
  REQUIRE(claimed->elements == 1);
  CHECK(std::string(claimed->element[0]->element[0]->str) == "k1:sms");
  CHECK(std::string(claimed->element[0]->element[5]->str) == R"({"to":"+33612345678"})");
  CHECK(std::string(r->element[1]->str) == std::to_string(now + 60'000));  // next due
  CHECK(redis.hgetall("lua:msg:k1:sms").at("status") == "sending");
  CHECK(redis.hgetall("lua:msg:k1:sms").at("attempts") == "1");
  CHECK(redis.hgetall("lua:msg:k2:sms").at("status") == "scheduled");
  CHECK(redis.integer({"ZSCORE", "lua:inflight", "k1:sms"}) == now + 120'000);
  auto events = redis.xrange("lua:events");
  REQUIRE(events.size() == 1);
  CHECK(events[0].at("id") == "k1:sms");
  CHECK(events[0].at("status") == "sending");
}
