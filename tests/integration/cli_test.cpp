// The administration commands against a real Redis and daemon: enqueue, cancel, status, exit codes.
#include <fstream>

#include <catch2/catch.hpp>

#include "integration/scenario.hpp"

using namespace rappel::test;
using namespace std::chrono_literals;

TEST_CASE("enqueue, status and cancel speak the public contract", "[integration][cli]") {
  Scenario s;
  s.start_daemon();
  auto [code, out] =
      run_rappel({"enqueue", "--config", s.config_path, "--key", "cli-1", "--department", "77",
                  "--channel", "sms", "--phone", "06 12 34 56 78"});
  REQUIRE(code == 0);
  CHECK(out.find('-') != std::string::npos);  // the inbox entry id, e.g. 1764590000000-0
  REQUIRE(s.wait_status("cli-1:sms", "sent"));

  auto [status_code, table] = run_rappel({"status", "--config", s.config_path, "cli-1"});
  CHECK(status_code == 0);
  CHECK_THAT(table,
             Catch::Contains("sms") && Catch::Contains("sent") && Catch::Contains("journal"));

  auto [json_code, json_text] =
      run_rappel({"status", "--config", s.config_path, "cli-1", "--json"});
  CHECK(json_code == 0);
  auto parsed = nlohmann::json::parse(json_text.substr(json_text.find('[')));
  REQUIRE(parsed.size() == 1);
  CHECK(parsed[0]["status"] == "sent");
  CHECK(parsed[0]["attempts"] == "1");

  std::string later = iso_in(1h);
  REQUIRE(run_rappel({"enqueue", "--config", s.config_path, "--key", "cli-2", "--department", "13",
                      "--channel", "sms", "--channel", "email", "--phone", "+33698765432",
                      "--email", "dominique@example.fr", "--send-at", later})
              .first == 0);
  REQUIRE(s.wait_status("cli-2:email", "scheduled"));
  REQUIRE(run_rappel({"cancel", "--config", s.config_path, "cli-2"}).first == 0);
  REQUIRE(s.wait_status("cli-2:sms", "cancelled"));
  REQUIRE(s.wait_status("cli-2:email", "cancelled"));
}

TEST_CASE("exit codes: 0 ok, 1 failure, 2 usage", "[integration][cli]") {
  Scenario s;
  CHECK(run_rappel({"--version"}).first == 0);
  CHECK_THAT(run_rappel({"--version"}).second, Catch::Contains("rappel 0.1.0"));
  CHECK(run_rappel({}).first == 2);
  CHECK(run_rappel({"frobnicate"}).first == 2);
  CHECK(run_rappel({"status"}).first == 2);
  CHECK(run_rappel({"status", "--providers", "--config", s.config_path, "cli-1"}).first == 2);
  auto [providers_code, providers] =
      run_rappel({"status", "--providers", "--config", s.config_path});
  CHECK(providers_code == 0);
  CHECK_THAT(providers, Catch::StartsWith("ACCOUNT") && Catch::Contains("\njournal ") &&
                            Catch::Contains("\noutbox "));
  CHECK(run_rappel({"check-config", "--config", s.config_path}).first == 0);
  CHECK(run_rappel({"status", "--config", s.config_path, "no-such-key"}).first == 1);
  CHECK(run_rappel({"check-config", "--config", s.dir + "/missing.yaml"}).first == 1);

  std::string broken = s.dir + "/broken.yaml";
  std::ofstream(broken) << "templates: {directory: \"" RAPPEL_SOURCE_DIR "/templates\"}\n"
                        << "redis: {url: \"redis://127.0.0.1:1/0\"}\nproviders:\n  journal: {type: "
                           "log, colour: blue}\ndepartments: {}\n";
  auto [code, out] = run_rappel({"check-config", "--config", broken});
  CHECK(code == 1);
  CHECK_THAT(out, Catch::Contains(broken + ":4:24: unknown key 'providers.journal.colour'"));

  // The daemon refuses to start on a bad configuration.
  auto [run_code, run_out] = run_rappel({"run", "--config", broken});
  CHECK(run_code == 1);
  CHECK_THAT(run_out, Catch::Contains("unknown key"));
}

TEST_CASE("render prints the SMS in the département's own time, listed or not",
          "[integration][cli]") {
  Scenario s;
  std::string data = s.dir + "/data.json";
  std::ofstream(data) << R"({"starts_at": "2026-12-03T09:00:00+04:00", "service": "PMI",
                             "place": "Saint-Denis", "phone": "0262000000",
                             "url": "https://www.rdv-solidarites.fr/r/1/a"})";
  auto [code, out] =
      run_rappel({"render", "--config", s.config_path, "--department", "974", "--event",
                  "rdv_upcoming_reminder", "--data", data, "--channel", "sms"});
  CHECK(code == 0);
  CHECK_THAT(out, Catch::Contains("3/12 à 9h"));
  auto [paris_code, paris] =
      run_rappel({"render", "--config", s.config_path, "--department", "77", "--event",
                  "rdv_upcoming_reminder", "--data", data, "--channel", "sms"});
  CHECK(paris_code == 0);
  CHECK_THAT(paris, Catch::Contains("3/12 à 6h"));
}
