// rappel's command line: the daemon and its administration commands.
// Exit codes: 0 ok, 1 failure, 2 usage.
#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>

#include "daemon/daemon.hpp"
#include "daemon/ops/admin.hpp"

int main(int argc, char** argv) {
  // hiredis writes with write(2): a write to a connection Redis has just closed (a restart, a
  // failover) raises SIGPIPE, whose default action killed the daemon mid-drain without a word in
  // its log. Ignored, the write fails with EPIPE and the client reconnects like on any other error
  // (tests/integration/redis_sigpipe_test.cpp). libcurl and Asio already avoid the signal.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"rappel: appointment reminders by SMS and email for RDV-Solidarités"};
  app.set_version_flag("--version", std::string("rappel ") + RAPPEL_VERSION);
  app.require_subcommand(1);
  std::string config = "/etc/rappel/rappel.yaml";

  rappel::RunOptions run;
  auto* run_cmd = app.add_subcommand("run", "Run the daemon");
  run_cmd->add_option("--config,-c", run.config_path, "Configuration file")->default_val(config);
  run_cmd->add_option("--instance", run.instance,
                      "Instance name (consumer name in the inbox group)");

  auto* check = app.add_subcommand("check-config", "Validate the configuration and templates");
  check->add_option("--config,-c", config, "Configuration file")->capture_default_str();

  rappel::EnqueueOptions enqueue;
  auto* enq = app.add_subcommand("enqueue", "Add a schedule entry to the inbox");
  enq->add_option("--config,-c", enqueue.config_path)->default_val(config);
  enq->add_option("--file", enqueue.file, "JSON payload to add as is");
  enq->add_option("--key", enqueue.key);
  enq->add_option("--department", enqueue.department);
  enq->add_option("--event", enqueue.event)->default_val("rdv_upcoming_reminder");
  enq->add_option("--channel", enqueue.channels, "sms and/or email")->default_val("sms");
  enq->add_option("--phone", enqueue.phone);
  enq->add_option("--email", enqueue.email);
  enq->add_option("--name", enqueue.name);
  enq->add_option("--send-at", enqueue.send_at, "ISO-8601 with offset; default now");
  enq->add_option("--expires-at", enqueue.expires_at);
  enq->add_option("--data", enqueue.data_file, "JSON file with the template data");

  std::string key;
  bool json = false;
  auto* cancel = app.add_subcommand("cancel", "Cancel every channel of a key not yet sent");
  cancel->add_option("--config,-c", config)->capture_default_str();
  cancel->add_option("key", key)->required();

  bool providers = false;
  auto* status = app.add_subcommand(
      "status", "Show the messages of a key, or (--providers) each provider account's state");
  status->add_option("--config,-c", config)->capture_default_str();
  auto* status_key = status->add_option("key", key);
  status
      ->add_flag("--providers", providers,
                 "each account's credit, circuit per instance and rate, instead of a key")
      ->excludes(status_key);
  status->add_flag("--json", json);

  std::string department, event, data, channel;
  auto* render = app.add_subcommand("render", "Print what would be sent");
  render->add_option("--config,-c", config)->capture_default_str();
  render->add_option("--department", department)->required();
  render->add_option("--event", event)->required();
  render->add_option("--data", data, "JSON file: the entry's data (or {recipient, data})");
  render->add_option("--channel", channel)->check(CLI::IsMember({"sms", "email"}));

  rappel::SendTestOptions send_test;
  auto* test_send =
      app.add_subcommand("send-test", "Send one real message through a département's provider");
  test_send->add_option("--config,-c", send_test.config_path)->default_val(config);
  test_send->add_option("--department", send_test.department)->required();
  test_send->add_option("--to", send_test.to, "Phone number or email address")->required();
  test_send->add_option("--channel", send_test.channel)
      ->check(CLI::IsMember({"sms", "email"}))
      ->capture_default_str();
  test_send->add_flag("--simulate", send_test.simulate,
                      "Use the provider's simulation endpoint (SMS Factor)");

  rappel::StatsOptions stats;
  auto* stats_cmd =
      app.add_subcommand("stats", "Figures per département and day (final statuses, SMS segments)");
  stats_cmd->add_option("--config,-c", stats.config_path)->default_val(config);
  stats_cmd->add_option("--department", stats.department, "One département, e.g. 77 or 974");
  stats_cmd->add_option("--from", stats.from,
                        "First day, YYYY-MM-DD (default: 30 days before --to)");
  stats_cmd->add_option("--to", stats.to, "Last day, YYYY-MM-DD (default: today)");
  auto* stats_json = stats_cmd->add_flag("--json", stats.json, "JSON instead of a table");
  stats_cmd->add_flag("--csv", stats.csv, "CSV instead of a table")->excludes(stats_json);

  std::string scripts_dir;
  auto* scripts_cmd =
      app.add_subcommand("scripts", "List the Redis scripts (name, SHA1, files), or write them");
  scripts_cmd->add_option("--write", scripts_dir,
                          "Write each script's whole text to DIR/<name>.lua (redis-cli --eval)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  rappel::setup_logging();
  if (*run_cmd) return rappel::run_daemon(run);
  if (*check) return rappel::check_config_command(config);
  if (*enq) {
    if (enqueue.file.empty() && (enqueue.key.empty() || enqueue.department.empty())) {
      std::cerr << "enqueue: give --file, or --key and --department\n";
      return 2;
    }
    return rappel::enqueue_command(enqueue);
  }
  if (*cancel) return rappel::cancel_command(config, key);
  if (*status && providers) return rappel::providers_status_command(config, json);
  if (*status && key.empty()) {
    std::cerr << "status: give a key, or --providers\n";
    return 2;
  }
  if (*status) return rappel::status_command(config, key, json);
  if (*test_send) return rappel::send_test_command(send_test);
  if (*stats_cmd) return rappel::stats_command(stats);
  if (*scripts_cmd) return rappel::scripts_command(scripts_dir);
  if (*render) return rappel::render_command(config, department, event, data, channel);
  return 2;
}
