// See config_node.hpp.
#include "daemon/base/config_node.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace rappel {

std::string located(std::string_view file, const YAML::Mark& mark, std::string_view what) {
  std::ostringstream out;
  out << file;
  if (!mark.is_null()) out << ':' << mark.line + 1 << ':' << mark.column + 1;
  out << ": " << what;
  return out.str();
}

namespace {

std::string read_secret_file(const std::string& path, std::string_view owner) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(std::string(owner) + ": cannot read secret file " + path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.pop_back();
  return content;
}

std::string expand_environment(std::string_view value, std::string_view owner) {
  std::string out;
  size_t pos = 0;
  while (pos < value.size()) {
    size_t start = value.find("${", pos);
    if (start == std::string_view::npos) {
      out.append(value.substr(pos));
      break;
    }
    size_t end = value.find('}', start + 2);
    if (end == std::string_view::npos)
      throw ConfigError(std::string(owner) + ": unterminated ${ in secret reference");
    out.append(value.substr(pos, start - pos));
    std::string name(value.substr(start + 2, end - start - 2));
    const char* env = std::getenv(name.c_str());
    if (!env || !*env)
      throw ConfigError(std::string(owner) + ": environment variable " + name + " is not set");
    out.append(env);
    pos = end + 1;
  }
  return out;
}

}  // namespace

std::string resolve_secret(std::string_view value, std::string_view owner) {
  if (value.starts_with("credential:")) {
    std::string name(value.substr(11));
    const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
    if (!dir || !*dir)
      throw ConfigError(std::string(owner) + ": credential " + name +
                        " requested but $CREDENTIALS_DIRECTORY is not set (LoadCredential=)");
    if (name.empty() || name.find('/') != std::string::npos)
      throw ConfigError(std::string(owner) + ": invalid credential name");
    return read_secret_file(std::string(dir) + "/" + name, owner);
  }
  if (value.starts_with("file:")) return read_secret_file(std::string(value.substr(5)), owner);
  return expand_environment(value, owner);
}

std::chrono::milliseconds parse_duration(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 12) throw std::invalid_argument("expected a duration like 30s");
  long long n = std::stoll(std::string(text.substr(0, digits)));
  std::string_view unit = text.substr(digits);
  using namespace std::chrono;
  if (unit == "ms") return milliseconds(n);
  if (unit == "s") return seconds(n);
  if (unit == "m" || unit == "min") return minutes(n);
  if (unit == "h") return hours(n);
  if (unit == "d") return hours(24 * n);
  throw std::invalid_argument("expected a duration unit ms, s, m, h or d");
}

ConfigMap::ConfigMap(YAML::Node node, std::string file, std::string where)
    : node_(std::move(node)), file_(std::move(file)), where_(std::move(where)) {
  if (!node_.IsMap()) fail_here("expected a mapping");
}

bool ConfigMap::has(std::string_view key) const {
  return bool(node_[std::string(key)]);
}

YAML::Node ConfigMap::value(std::string_view key) {
  used_.emplace(key);
  return node_[std::string(key)];
}

YAML::Node ConfigMap::scalar(std::string_view key) {
  YAML::Node v = value(key);
  if (v && !v.IsScalar()) fail(key, "expected a single value");
  return v;
}

std::string ConfigMap::string(std::string_view key) {
  auto v = optional_string(key);
  if (!v) fail_here("missing required key '" + std::string(key) + "'");
  return *v;
}

std::optional<std::string> ConfigMap::optional_string(std::string_view key) {
  YAML::Node v = scalar(key);
  if (!v || v.IsNull()) return std::nullopt;
  record(v.Scalar(), false);
  return v.Scalar();
}

void ConfigMap::record(std::string value, bool secret) {
  for (auto& log : logs_) (secret ? log->secrets : log->strings).push_back(value);
}

std::string ConfigMap::string_or(std::string_view key, std::string fallback) {
  auto v = optional_string(key);
  return v ? *v : std::move(fallback);
}

std::string ConfigMap::secret(std::string_view key) {
  auto v = optional_secret(key);
  if (!v) fail_here("missing required secret '" + std::string(key) + "'");
  return *v;
}

std::optional<std::string> ConfigMap::optional_secret(std::string_view key) {
  auto raw = optional_string(key);
  if (!raw) return std::nullopt;
  try {
    std::string secret = resolve_secret(*raw, where_ + "." + std::string(key));
    record(secret, true);
    return secret;
  } catch (const ConfigError& e) {
    throw ConfigError(located(file_, node_[std::string(key)].Mark(), e.what()));
  }
}

long ConfigMap::integer_or(std::string_view key, long fallback, long min, long max) {
  auto v = optional_string(key);
  if (!v) return fallback;
  try {
    size_t end = 0;
    long n = std::stol(*v, &end);
    if (end != v->size()) throw std::invalid_argument("");
    if (n < min || n > max)
      fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return n;
  } catch (const std::logic_error&) {
    fail(key, "expected an integer");
  }
}

bool ConfigMap::boolean_or(std::string_view key, bool fallback) {
  auto v = optional_string(key);
  if (!v) return fallback;
  if (*v == "true" || *v == "yes" || *v == "on") return true;
  if (*v == "false" || *v == "no" || *v == "off") return false;
  fail(key, "expected true or false");
}

std::chrono::milliseconds ConfigMap::duration_or(std::string_view key,
                                                 std::chrono::milliseconds fallback) {
  auto v = optional_string(key);
  if (!v) return fallback;
  try {
    return parse_duration(*v);
  } catch (const std::invalid_argument& e) {
    fail(key, e.what());
  }
}

std::vector<std::string> ConfigMap::string_list_or(std::string_view key,
                                                   std::vector<std::string> fallback) {
  YAML::Node v = value(key);
  if (!v || v.IsNull()) return fallback;
  if (!v.IsSequence()) fail(key, "expected a list");
  std::vector<std::string> out;
  for (const auto& item : v) {
    if (!item.IsScalar())
      throw ConfigError(located(file_, item.Mark(), "expected a single value in the list"));
    out.push_back(item.Scalar());
  }
  return out;
}

ConfigMap ConfigMap::map(std::string_view key) {
  auto m = optional_map(key);
  if (!m) fail_here("missing required section '" + std::string(key) + "'");
  return std::move(*m);
}

std::optional<ConfigMap> ConfigMap::optional_map(std::string_view key) {
  YAML::Node v = value(key);
  if (!v || v.IsNull()) return std::nullopt;
  if (!v.IsMap()) fail(key, "expected a mapping");
  ConfigMap child(v, file_, where_.empty() ? std::string(key) : where_ + "." + std::string(key));
  child.logs_.insert(child.logs_.end(), logs_.begin(), logs_.end());
  return child;
}

std::vector<std::string> ConfigMap::keys() const {
  std::vector<std::string> out;
  for (const auto& kv : node_) out.push_back(kv.first.Scalar());
  return out;
}

void ConfigMap::fail(std::string_view key, std::string_view what) const {
  YAML::Node v = node_[std::string(key)];
  YAML::Mark mark = v ? v.Mark() : node_.Mark();
  std::string path = where_.empty() ? std::string(key) : where_ + "." + std::string(key);
  throw ConfigError(located(file_, mark, path + ": " + std::string(what)));
}

void ConfigMap::fail_here(std::string_view what) const {
  std::string prefix = where_.empty() ? std::string() : where_ + ": ";
  throw ConfigError(located(file_, node_.Mark(), prefix + std::string(what)));
}

void ConfigMap::reject_unknown_keys() const {
  for (const auto& kv : node_) {
    const std::string& k = kv.first.Scalar();
    if (!used_.count(k)) {
      std::string path = where_.empty() ? k : where_ + "." + k;
      throw ConfigError(located(file_, kv.first.Mark(), "unknown key '" + path + "'"));
    }
  }
}

}  // namespace rappel
