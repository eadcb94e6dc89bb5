// Tests of the test helper that runs servers as child processes: if it leaked children or lost
// their output, integration tests would hang or lie.
#include <csignal>

#include <catch2/catch.hpp>

#include "support/process.hpp"

using rappel::test::ChildOptions;
using rappel::test::ChildProcess;
using namespace std::chrono_literals;

TEST_CASE("ChildProcess passes env and working dir, reads lines, returns the exit code",
          "[process]") {
  ChildOptions options;
  options.argv = {"sh", "-c", "echo \"$RAPPEL_DEPARTEMENT\"; pwd; exit 3"};
  options.env = {{"RAPPEL_DEPARTEMENT", "Pas-de-Calais"}};
  options.working_dir = "/tmp";
  ChildProcess child(options);
  CHECK(child.read_line() == "Pas-de-Calais");
  CHECK(child.read_line() == "/tmp");
  CHECK(child.read_line() == std::nullopt);  // end of output
  CHECK(child.wait(10s) == 3);
  CHECK_FALSE(child.running());
}

TEST_CASE("ChildProcess terminates a running child", "[process]") {
  ChildOptions options;
  options.argv = {"sleep", "600"};
  ChildProcess child(options);
  CHECK(child.running());
  CHECK(child.read_line(50ms) == std::nullopt);  // nothing written yet
  child.terminate(SIGTERM);
  CHECK(child.wait(10s) == 128 + SIGTERM);
}

TEST_CASE("ChildProcess reports a program that does not exist", "[process]") {
  ChildOptions options;
  options.argv = {"/nonexistent/redis-server"};
  CHECK_THROWS_AS(ChildProcess(options), std::runtime_error);
}
