// The examples of docs/contract.md, run as written against a real redis-server and the real daemon.
//
// The backend team copies these examples, so a wrong one is worse than none. Every fenced block
// whose info string says `tested` (```sh tested, ```ruby tested, ```python tested) is extracted
// and run unchanged with the Redis port in REDIS_PORT; each example checks what it prints and
// exits non-zero otherwise, and this test then checks in Redis the effects the doc claims. The
// number of blocks is asserted too, so deleting an example fails here rather than going unnoticed.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "integration/scenario.hpp"
#include "support/process.hpp"

using namespace rappel::test;
using namespace std::chrono_literals;

namespace {

struct DocBlock {
  std::string language;  // sh, ruby, python
  std::string code;
  int line = 0;  // of the opening fence, for messages
};

// The fenced blocks whose info string has the word `tested`, in document order.
std::vector<DocBlock> tested_blocks(const std::string& markdown) {
  std::vector<DocBlock> blocks;
  std::istringstream in(markdown);
  std::string line;
  int number = 0;
  DocBlock* open = nullptr;
  bool in_other_fence = false;
  while (std::getline(in, line)) {
    ++number;
    bool fence = line.rfind("```", 0) == 0;
    if (open) {
      if (fence)
        open = nullptr;
      else
        open->code += line + "\n";
      continue;
    }
    if (!fence) continue;
    if (in_other_fence) {
      in_other_fence = false;
      continue;
    }
    std::istringstream info(line.substr(3));
    std::string language, word;
    info >> language;
    bool tested = false;
    while (info >> word) tested = tested || word == "tested";
    if (!tested) {
      in_other_fence = true;
      continue;
    }
    blocks.push_back({language, "", number});
    open = &blocks.back();
  }
  return blocks;
}

std::vector<DocBlock> contract_blocks(const std::string& language = "") {
  std::vector<DocBlock> all = tested_blocks(read_text_file(RAPPEL_SOURCE_DIR "/docs/contract.md"));
  if (language.empty()) return all;
  std::vector<DocBlock> some;
  for (auto& b : all)
    if (b.language == language) some.push_back(b);
  return some;
}

std::vector<std::string> interpreter(const std::string& language) {
  if (language == "sh") return {"/bin/sh", "-e"};
  if (language == "ruby") return {"ruby"};
  if (language == "python") return {"/usr/bin/python3"};
  return {};
}

struct BlockRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs one block to completion in `dir` with REDIS_PORT set.
BlockRun run_block(const DocBlock& block, const std::string& dir, unsigned short redis_port) {
  std::string script = dir + "/example-" + std::to_string(block.line);
  std::ofstream(script) << block.code;
  ChildOptions options;
  options.argv = interpreter(block.language);
  options.argv.push_back(script);
  options.env = {{"REDIS_PORT", std::to_string(redis_port)}};
  options.working_dir = dir;
  options.stdout_mode = options.stderr_mode = Output::file;
  options.stdout_file = options.stderr_file = script + ".out";
  ChildProcess child(options);
  auto code = child.wait(60s);
  return {code.value_or(-1), read_text_file(script + ".out")};
}

// Runs every block of `language` in document order against the scenario; each must exit 0.
void run_examples(Scenario& s, const std::string& language) {
  for (const auto& block : contract_blocks(language)) {
    BlockRun run = run_block(block, s.dir, s.redis.port());
    INFO("docs/contract.md:" << block.line << " (" << language << ") printed:\n" << run.output);
    INFO("daemon log:\n" << s.all_logs());
    REQUIRE(run.exit_code == 0);
  }
}

long long pending_events(Scenario& s, const std::string& group) {
  ReplyPtr reply = s.redis.command({"XPENDING", "rappel:events", group});
  REQUIRE(reply->type == REDIS_REPLY_ARRAY);  // an error reply: the group does not exist
  return reply->element[0]->integer;
}

size_t count_emails(const std::string& dir) {
  if (!std::filesystem::exists(dir)) return 0;
  size_t n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) n += e.path().extension() == ".eml";
  return n;
}

}  // namespace

TEST_CASE("the contract has its tested examples in the three languages", "[integration][docs]") {
  auto blocks = contract_blocks();
  CHECK(contract_blocks("sh").size() == 4);
  CHECK(contract_blocks("ruby").size() == 1);
  CHECK(contract_blocks("python").size() == 1);
  CHECK(blocks.size() == 6);  // and no tested block in a language the test cannot run
  for (auto& b : blocks) {
    INFO("docs/contract.md:" << b.line);
    CHECK_FALSE(interpreter(b.language).empty());
    CHECK(b.code.find("REDIS_PORT") != std::string::npos);
  }
}

TEST_CASE("the redis-cli examples of the contract work as written", "[integration][docs]") {
  Scenario s;
  s.start_daemon();
  run_examples(s, "sh");

  CHECK(s.status("rdv-4521-reminder:sms") == "sent");
  CHECK(s.status("rdv-4521-reminder:email") == "sent");
  CHECK(s.status_trail("rdv-4521-reminder:sms") ==
        std::vector<std::string>{"scheduled", "sending", "sent"});
  CHECK(count_emails(s.dir + "/outbox") == 1);
  auto cancelled = s.message("rdv-4530-reminder:sms");
  CHECK(cancelled["status"] == "cancelled");
  CHECK(cancelled["department"] == "2B");
  CHECK(cancelled["attempts"] == "0");
  CHECK(pending_events(s, "backend") == 0);  // every event read was acknowledged
  CHECK(s.redis.integer({"XLEN", "rappel:inbox"}) == 0);
}

TEST_CASE("the Ruby example of the contract works as written", "[integration][docs]") {
  Scenario s;
  s.start_daemon();
  run_examples(s, "ruby");

  auto sms = s.message("rdv-9001-reminder:sms");
  CHECK(sms["status"] == "sent");
  CHECK(sms["department"] == "974");
  CHECK(sms["attempts"] == "1");
  CHECK_FALSE(sms["expires_at"].empty());
  CHECK(s.status("rdv-9002-reminder:email") == "cancelled");
  CHECK(count_emails(s.dir + "/outbox") == 0);  // the cancelled email never went out
  // The unreadable entry: an event with the entry id and no message id.
  bool keyless_rejection = false;
  for (auto& e : s.redis.xrange("rappel:events"))
    keyless_rejection =
        keyless_rejection || (e["status"] == "rejected" && e["id"].empty() && !e["entry"].empty() &&
                              e["error"] == "payload is not valid JSON");
  CHECK(keyless_rejection);
  CHECK(pending_events(s, "backend") == 0);
}

TEST_CASE("the Python example of the contract works as written", "[integration][docs]") {
  Scenario s;
  s.start_daemon();
  run_examples(s, "python");

  auto sms = s.message("rdv-2001-reminder:sms");
  CHECK(sms["status"] == "rejected");
  CHECK_THAT(sms["error"], Catch::Contains("not a mobile number"));
  CHECK(s.status("rdv-2001-reminder:email") == "sent");  // the other channel still went out
  CHECK(count_emails(s.dir + "/outbox") == 1);
  CHECK(s.status("rdv-2002-reminder:sms") == "cancelled");
  CHECK(pending_events(s, "backend") == 0);
}

TEST_CASE("without a daemon the examples fail instead of pretending", "[integration][docs]") {
  // Nothing applies the inbox: an example that waits for "sent" must say it did not happen.
  Scenario s;
  for (const std::string language : {"sh", "ruby", "python"}) {
    auto blocks = contract_blocks(language);
    auto schedule = std::find_if(blocks.begin(), blocks.end(), [](const DocBlock& b) {
      return b.code.find("\"schedule\"") != std::string::npos;
    });
    REQUIRE(schedule != blocks.end());
    BlockRun run = run_block(*schedule, s.dir, s.redis.port());
    INFO(language << " example at docs/contract.md:" << schedule->line << " printed:\n"
                  << run.output);
    CHECK(run.exit_code != 0);
  }
}
