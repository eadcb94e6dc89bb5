// Logs under systemd: what rappel sends to journald, read at journald's own socket. The daemon runs
// in a private mount namespace (unshare -m, root only) where /run/systemd/journal/socket is the
// test's datagram socket, so nothing reaches the machine's journal and no journald is needed.
// Where namespaces are not allowed the test says so and checks nothing.
#include <sys/wait.h>

#include <cstdlib>

#include <catch2/catch.hpp>

#include "integration/ops_support.hpp"

using namespace rappel::test;
using namespace std::chrono_literals;

namespace {

bool can_unshare_mounts() {
  return std::system("unshare -m true >/dev/null 2>&1") == 0;
}

std::string field(const NotifyMessage& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

}  // namespace

TEST_CASE("journald gets priorities and, for message outcomes, id, département and provider",
          "[integration][systemd][journald]") {
  if (!can_unshare_mounts()) {
    WARN("unshare -m is not permitted here: journald fields not checked");
    return;
  }
  // SMS Factor refuses the sender for good: a permanent failure, logged as a warning.
  setenv("RAPPEL_OPS_SMSFACTOR_TOKEN", kOpsToken, 1);
  ProviderServer refusing([](const RecordedRequest&) {
    return ScriptedResponse{200, R"({"status":-7,"message":"Invalid sender"})"};
  });
  TestConfig config;
  config.extra_providers =
      "  sms-factor-77: {type: sms_factor, token: "
      "\"${RAPPEL_OPS_SMSFACTOR_TOKEN}\", url: \"" +
      refusing.url("/send") + "\"}\n";
  config.departments = "  \"77\": {sms: {provider: sms-factor-77, sender: CD77}}\n";
  Scenario s(config);
  NotifyListener journal;  // the same wire format: KEY=VALUE lines in one datagram

  ChildOptions options;
  options.argv = {"unshare",
                  "-m",
                  "/bin/sh",
                  "-c",
                  "mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/journal && "
                  "touch /run/systemd/journal/socket && "
                  "mount --bind \"$0\" /run/systemd/journal/socket && exec \"$@\"",
                  journal.path(),
                  RAPPEL_BINARY,
                  "run",
                  "--config",
                  s.config_path};
  options.env = {{"JOURNAL_STREAM", "8:12345"}, {"RAPPEL_LOG_LEVEL", "debug"}};
  options.stdout_mode = Output::file;
  options.stdout_file = s.dir + "/stdout.log";
  options.stderr_mode = Output::file;
  options.stderr_file = s.dir + "/stdout.log";
  ChildProcess daemon(options);

  int ready = journal.wait_for([](const NotifyMessage& m) {
    return field(m, "MESSAGE").find(" ready (instance") != std::string::npos;
  });
  REQUIRE(ready >= 0);
  CHECK(field(journal.messages()[size_t(ready)], "PRIORITY") == "6");  // info
  CHECK(field(journal.messages()[size_t(ready)], "SYSLOG_IDENTIFIER") == "rappel");

  s.enqueue(reminder("rdv-4521-reminder", "77"));
  int failed = journal.wait_for([](const NotifyMessage& m) {
    return field(m, "RAPPEL_MESSAGE_ID") == "rdv-4521-reminder:sms" &&
           field(m, "MESSAGE").find(" failed") != std::string::npos;
  });
  REQUIRE(failed >= 0);
  auto line = journal.messages()[size_t(failed)];
  CHECK(field(line, "PRIORITY") == "4");  // warning
  CHECK(field(line, "RAPPEL_DEPARTMENT") == "77");
  CHECK(field(line, "RAPPEL_PROVIDER") == "sms-factor-77");
  CHECK_THAT(field(line, "MESSAGE"), Catch::Contains("Invalid sender"));

  // Nothing went to stderr, and no personal data to the journal.
  daemon.terminate(SIGTERM);
  REQUIRE(daemon.wait(30s) == std::optional<int>(0));
  CHECK(read_text_file(s.dir + "/stdout.log").empty());
  for (const auto& m : journal.messages())
    for (const auto& [key, value] : m)
      for (const char* secret : {"612345678", "camille", "Camille", "Martin", kOpsToken})
        CHECK(value.find(secret) == std::string::npos);
}
