// Reading one YAML mapping of the configuration, with errors that say file, line and column.
//
// Every part of the configuration (the core's sections and each provider adapter's account) reads
// its settings through a ConfigMap. Reading a key marks it used; reject_unknown_keys() then turns
// any key nobody read into an error, so a typo in an admin's YAML never silently does nothing.
// Secrets are resolved here, in one place, from the environment, systemd credentials or a file, and
// no error message ever contains a secret's value.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace rappel {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "file:line:column: what" (1-based, like compilers).
std::string located(std::string_view file, const YAML::Mark& mark, std::string_view what);

// Resolves a secret reference: "${VAR}" (anywhere in the value), "credential:NAME" (from
// $CREDENTIALS_DIRECTORY, as systemd's LoadCredential= provides) or "file:PATH"; any other value is
// taken literally. Throws ConfigError naming `owner` but never the value.
std::string resolve_secret(std::string_view value, std::string_view owner);

class ConfigMap {
 public:
  // `where` names this mapping for messages, e.g. "providers.clever-77".
  ConfigMap(YAML::Node node, std::string file, std::string where);

  const std::string& file() const { return file_; }
  const std::string& where() const { return where_; }
  const YAML::Node& node() const { return node_; }

  bool has(std::string_view key) const;
  std::string string(std::string_view key);
  std::optional<std::string> optional_string(std::string_view key);
  std::string string_or(std::string_view key, std::string fallback);
  std::string secret(std::string_view key);
  std::optional<std::string> optional_secret(std::string_view key);
  long integer_or(std::string_view key, long fallback, long min, long max);
  bool boolean_or(std::string_view key, bool fallback);
  // "250ms", "5s", "10m", "2h", "7d".
  std::chrono::milliseconds duration_or(std::string_view key, std::chrono::milliseconds fallback);
  std::vector<std::string> string_list_or(std::string_view key, std::vector<std::string> fallback);
  ConfigMap map(std::string_view key);
  std::optional<ConfigMap> optional_map(std::string_view key);
  // The keys of this mapping in file order (for mappings of named entries).
  std::vector<std::string> keys() const;

  // The secrets read through this mapping and the mappings under it, and the other strings read
  // there: secret_forms() (daemon/config/secret_mask.hpp) builds what a provider could echo.
  const std::vector<std::string>& secrets_read() const { return logs_.front()->secrets; }
  const std::vector<std::string>& strings_read() const { return logs_.front()->strings; }

  [[noreturn]] void fail(std::string_view key, std::string_view what) const;
  [[noreturn]] void fail_here(std::string_view what) const;
  void reject_unknown_keys() const;

 private:
  YAML::Node value(std::string_view key);
  YAML::Node scalar(std::string_view key);

  // What was read, recorded in this mapping's log and those of the mappings above it.
  struct ReadLog {
    std::vector<std::string> secrets, strings;
  };
  void record(std::string value, bool secret);

  YAML::Node node_;
  std::string file_;
  std::string where_;
  std::set<std::string, std::less<>> used_;
  std::vector<std::shared_ptr<ReadLog>> logs_{std::make_shared<ReadLog>()};  // own log first
};

std::chrono::milliseconds parse_duration(std::string_view text);  // throws std::invalid_argument

}  // namespace rappel
