// What ops install and read: the systemd unit (systemd-analyze verify, and its security exposure),
// the man page (every command and option of --help, rendered without a warning), the example
// configuration (accepted with its secrets provided), and the .deb (built by CPack, installed with
// dpkg into a throwaway root, every file where it belongs).
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include <catch2/catch.hpp>

#include "support/daemon_fixture.hpp"
#include "support/redis_fixture.hpp"

using namespace rappel::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

bool have(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

// Runs argv to completion in `dir`; {exit code, stdout+stderr}.
std::pair<int, std::string> run(const std::vector<std::string>& argv, const std::string& dir = "",
                                const std::vector<std::pair<std::string, std::string>>& env = {},
                                std::chrono::seconds timeout = 120s) {
  std::string out = make_temp_dir("run") + "/out";
  ChildOptions options;
  options.argv = argv;
  options.working_dir = dir;
  options.env = env;
  options.stdout_mode = Output::file;
  options.stdout_file = out;
  options.stderr_mode = Output::file;
  options.stderr_file = out;
  ChildProcess process(options);
  auto code = process.wait(timeout);
  std::string text = read_text_file(out);
  fs::remove_all(fs::path(out).parent_path());
  return {code.value_or(-1), text};
}

std::string source(const std::string& path) {
  return read_text_file(std::string(RAPPEL_SOURCE_DIR) + "/" + path);
}

// The man page as text to search: roff's "\-" is a "-".
std::string man_text() {
  std::string text = source("docs/rappel.8");
  return std::regex_replace(text, std::regex(R"(\\-)"), "-");
}

std::vector<std::string> subcommands() {
  auto [code, help] = run_rappel({"--help"});
  REQUIRE(code == 0);
  std::vector<std::string> names;
  auto section = help.substr(help.find("Subcommands:"));
  std::regex line(R"(\n  ([a-z][a-z-]*) )");
  for (std::sregex_iterator it(section.begin(), section.end(), line), end; it != end; ++it)
    names.push_back((*it)[1]);
  return names;
}

std::set<std::string> long_options(const std::string& help) {
  std::set<std::string> options;
  std::regex option(R"((--[a-z][a-z0-9-]*))");
  for (std::sregex_iterator it(help.begin(), help.end(), option), end; it != end; ++it)
    options.insert((*it)[1]);
  return options;
}

std::string build_dir() {
  return fs::path(RAPPEL_BINARY).parent_path().string();
}

std::string cached(const std::string& build, const std::string& variable) {
  std::string cache = read_text_file(build + "/CMakeCache.txt");
  std::smatch m;
  if (std::regex_search(cache, m, std::regex("\n" + variable + ":[A-Z]+=([^\n]*)"))) return m[1];
  return "";
}

}  // namespace

TEST_CASE("the systemd unit passes systemd-analyze verify and stays well confined",
          "[package][systemd]") {
  if (!have("systemd-analyze")) {
    WARN("systemd-analyze is not installed: the unit is not checked");
    return;
  }
  // The unit as installed, pointing at the binary under test, its man page where man finds it.
  std::string dir = make_temp_dir("unit");
  std::string unit = std::regex_replace(source("systemd/rappel.service"),
                                        std::regex("/usr/bin/rappel"), RAPPEL_BINARY);
  std::ofstream(dir + "/rappel.service") << unit;
  fs::create_directories(dir + "/man/man8");
  fs::copy_file(std::string(RAPPEL_SOURCE_DIR) + "/docs/rappel.8", dir + "/man/man8/rappel.8");
  auto [code, output] =
      run({"systemd-analyze", "verify", dir + "/rappel.service"}, "", {{"MANPATH", dir + "/man"}});
  CHECK(output == "");
  CHECK(code == 0);

  auto [sec_code, security] =
      run({"systemd-analyze", "security", "--offline=yes", dir + "/rappel.service"});
  std::smatch m;
  REQUIRE(
      std::regex_search(security, m, std::regex(R"(Overall exposure level for \S+: ([0-9.]+))")));
  double exposure = std::stod(m[1]);
  WARN("systemd-analyze security: exposure " << exposure << " (docs/operations.md records it)");
  CHECK(exposure <= 1.5);  // "OK"; what is left is the network rappel needs
  for (const char* setting : {"Type=notify", "WatchdogSec=", "ExecReload=/bin/kill -HUP $MAINPID",
                              "Restart=on-failure", "DynamicUser=yes", "CapabilityBoundingSet=\n",
                              "SystemCallFilter=@system-service", "UMask=0077"})
    CHECK_THAT(unit, Catch::Contains(setting));
  fs::remove_all(dir);
}

TEST_CASE("the man page describes every command and option of --help", "[package][man]") {
  std::string man = man_text();
  auto commands = subcommands();
  REQUIRE(commands.size() >= 7);
  for (const auto& command : commands) {
    INFO("rappel " << command);
    CHECK_THAT(man, Catch::Contains(".B " + command + "\n"));
    auto [code, help] = run_rappel({command, "--help"});
    REQUIRE(code == 0);
    for (const auto& option : long_options(help)) {
      INFO("option " << option);
      CHECK_THAT(man, Catch::Contains(option));
    }
  }
  auto [code, help] = run_rappel({"--help"});
  for (const auto& option : long_options(help)) CHECK_THAT(man, Catch::Contains(option));

  if (!have("groff")) {
    WARN("groff is not installed: rendering not checked");
    return;
  }
  auto [groff_code, warnings] =
      run({"groff", "-ww", "-man", "-z", std::string(RAPPEL_SOURCE_DIR) + "/docs/rappel.8"});
  CHECK(warnings == "");
  CHECK(groff_code == 0);
}

TEST_CASE("the example configuration is accepted once its secrets are provided",
          "[package][config]") {
  std::string dir = make_temp_dir("example");
  // As installed, except the templates, which are not in /usr/share here.
  std::ofstream(dir + "/rappel.yaml")
      << source("config/example.yaml") << "templates: {directory: \"" << RAPPEL_SOURCE_DIR
      << "/templates\"}\n";
  fs::create_directories(dir + "/credentials");
  for (const char* name : {"redis-password", "smsfactor-77-token", "brevo-smtp-password"})
    std::ofstream(dir + "/credentials/" + name) << "secret-" << name;
  std::vector<std::pair<std::string, std::string>> env = {
      {"CREDENTIALS_DIRECTORY", dir + "/credentials"},
      {"RAPPEL_NETSIZE_13_PASSWORD", "mdp-netsize-cd13"}};
  auto [code, output] = run_rappel({"check-config", "--config", dir + "/rappel.yaml"}, env);
  INFO(output);
  CHECK(code == 0);

  // Without the credentials, it says which one is missing (and never a value).
  fs::remove(dir + "/credentials/smsfactor-77-token");
  auto [missing_code, missing] =
      run_rappel({"check-config", "--config", dir + "/rappel.yaml"}, env);
  CHECK(missing_code == 1);
  CHECK_THAT(missing, Catch::Contains("smsfactor-77-token"));
  CHECK(missing.find("secret-redis-password") == std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("the .deb installs every file where it belongs", "[package][deb]") {
  for (const char* tool : {"cpack", "dpkg-deb", "dpkg", "dpkg-shlibdeps"})
    if (!have(tool)) {
      WARN(tool << " is not installed: the package is not checked");
      return;
    }
  std::string work = make_temp_dir("deb");
  // The binary's template directory is compiled from the prefix: a tree configured for another
  // prefix (a developer's /usr/local) packages from its own /usr configuration.
  std::string build = build_dir();
  if (cached(build, "CMAKE_INSTALL_PREFIX") != "/usr") {
    build = build + "/deb-tree";
    std::vector<std::string> configure = {"cmake",
                                          "-S",
                                          RAPPEL_SOURCE_DIR,
                                          "-B",
                                          build,
                                          "-G",
                                          "Ninja",
                                          "-DCMAKE_INSTALL_PREFIX=/usr",
                                          "-DRAPPEL_TESTS=OFF",
                                          "-DCMAKE_BUILD_TYPE=RelWithDebInfo"};
    if (have("ccache")) configure.push_back("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache");
    auto [code, output] = run(configure);
    INFO(output);
    REQUIRE(code == 0);
    auto [build_code, build_output] = run({"ninja", "-C", build, "-j2", "rappel"}, "", {}, 1800s);
    INFO(build_output);
    REQUIRE(build_code == 0);
  }
  auto [code, output] = run({"cpack", "-G", "DEB", "-B", work}, build, {}, 1800s);
  INFO(output);
  REQUIRE(code == 0);
  std::string deb = work + "/rappel_" + cached(build, "CMAKE_PROJECT_VERSION") + "_amd64.deb";
  REQUIRE(fs::exists(deb));

  auto [info_code, info] = run({"dpkg-deb", "-I", deb});
  for (const char* dependency : {"libhiredis0.14", "libsystemd0", "libcurl4", "libyaml-cpp0.7",
                                 "libspdlog1.10", "tzdata", "ca-certificates"})
    CHECK_THAT(info, Catch::Contains(dependency));
  auto [conf_code, conffiles] = run({"dpkg-deb", "-I", deb, "conffiles"});
  CHECK(conffiles == "/etc/rappel/rappel.yaml\n");

  // dpkg itself, into a fresh root: the maintainer scripts see DPKG_ROOT and leave the host alone.
  std::string root = work + "/root";
  fs::create_directories(root + "/var/lib/dpkg/info");
  fs::create_directories(root + "/var/lib/dpkg/updates");
  std::ofstream(root + "/var/lib/dpkg/status");
  auto [install_code, install] =
      run({"dpkg", "--root=" + root, "--force-not-root", "--force-depends",
           "--force-script-chrootless", "--log=/dev/null", "-i", deb});
  INFO(install);
  REQUIRE(install_code == 0);
  for (const char* file :
       {"/usr/bin/rappel", "/lib/systemd/system/rappel.service", "/etc/rappel/rappel.yaml",
        "/usr/share/man/man8/rappel.8", "/usr/share/doc/rappel/operations.md",
        "/usr/share/rappel/templates/rdv_upcoming_reminder"}) {
    INFO(file);
    CHECK(fs::exists(root + file));
  }
  CHECK((fs::status(root + "/usr/bin/rappel").permissions() & fs::perms::owner_exec) !=
        fs::perms::none);
  CHECK(read_text_file(root + "/etc/rappel/rappel.yaml") == source("config/example.yaml"));
  auto [status_code, status] = run({"dpkg-query", "--admindir=" + root + "/var/lib/dpkg", "-W",
                                    "-f=${Status} ${Version}", "rappel"});
  CHECK(status == "install ok installed " + cached(build, "CMAKE_PROJECT_VERSION"));
  // The installed binary runs, and says where its templates are: the packaged ones.
  auto [version_code, version] = run({root + "/usr/bin/rappel", "--version"});
  CHECK(version_code == 0);
  CHECK(read_text_file(root + "/usr/bin/rappel").find("/usr/share/rappel/templates") !=
        std::string::npos);
  fs::remove_all(work);
}
