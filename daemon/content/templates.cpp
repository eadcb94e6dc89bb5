// Loading and rendering the Mustache message templates (kainjow::mustache).
//
// Templates are checked once, when the configuration is loaded: every file is parsed so that an
// admin's typo is a startup error with file:line:column, never a garbled message at 3 a.m. kainjow
// reports a parse error as text ending in " at <byte offset>"; we turn the offset into a line and
// a column ourselves.
//
// Rendering is from the event loop and possibly several threads, on a shared const TemplateSet.
// kainjow's render() is not const: it writes the object's error message (partials, lambdas) and
// walks its component tree through non-const references. Each template is parsed once, at load,
// and rendered under its own mutex: the daemon renders on one thread, so the lock is never
// contended, and parsing per render cost a twentieth of the daemon's CPU in a drain.
#include "daemon/content/templates.hpp"

#include <algorithm>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include <kainjow/mustache.hpp>

#include "daemon/base/config_node.hpp"
#include "daemon/content/html_links.hpp"

namespace rappel {

namespace fs = std::filesystem;
namespace mustache = kainjow::mustache;

namespace {

// A template parsed once, with the lock that makes its non-const render() safe to share.
struct ParsedTemplate {
  explicit ParsedTemplate(const std::string& text) : tmpl(text) {}
  std::mutex lock;
  mustache::mustache tmpl;
};

struct Source {
  fs::path path;
  std::string text;
  std::shared_ptr<ParsedTemplate> parsed;
};

struct EventTemplates {
  Source sms, subject, text, html;
  std::optional<Source> sms_short;
};

constexpr const char* kRequired[] = {"sms", "email_subject", "email_text", "email_html"};
constexpr const char* kOptional[] = {"sms_short"};
constexpr std::string_view kExtension = ".mustache";

bool is_known_name(std::string_view stem) {
  return std::find(std::begin(kRequired), std::end(kRequired), stem) != std::end(kRequired) ||
         std::find(std::begin(kOptional), std::end(kOptional), stem) != std::end(kOptional);
}

// 1-based line and column (in characters, not bytes) of a byte offset.
std::pair<int, int> line_and_column(const std::string& text, std::size_t offset) {
  int line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xC0) != 0x80) {  // count UTF-8 lead bytes only
      ++column;
    }
  }
  return {line, column};
}

// "Unclosed section \"place\" at 12" -> "path:1:13: unclosed section \"place\"".
std::string located_parse_error(const Source& source, const std::string& message) {
  const auto at = message.rfind(" at ");
  const auto digits = at == std::string::npos ? std::string() : message.substr(at + 4);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
    return source.path.string() + ": " + message;
  const auto [line, column] = line_and_column(source.text, std::stoul(digits));
  std::string what = message.substr(0, at);
  if (!what.empty()) what[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(what[0])));
  return source.path.string() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
         what;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path.string() + ": cannot read template");
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

bool is_blank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

Source load_source(const fs::path& path, bool must_not_be_blank) {
  Source source{path, read_file(path), nullptr};
  source.parsed = std::make_shared<ParsedTemplate>(source.text);
  const mustache::mustache& parsed = source.parsed->tmpl;
  if (!parsed.is_valid()) throw ConfigError(located_parse_error(source, parsed.error_message()));
  if (must_not_be_blank && is_blank(source.text))
    throw ConfigError(path.string() + ": template is empty");
  return source;
}

// Rejects *.mustache files whose name we do not know (e.g. "email_subjet.mustache").
void reject_unknown_files(const fs::path& event_dir) {
  if (!fs::is_directory(event_dir)) return;
  for (const auto& entry : fs::directory_iterator(event_dir)) {
    const auto name = entry.path().filename().string();
    if (!name.ends_with(kExtension)) continue;
    if (!is_known_name(std::string_view(name).substr(0, name.size() - kExtension.size())))
      throw ConfigError(entry.path().string() +
                        ": unknown template name (expected sms, sms_short, email_subject, "
                        "email_text or email_html)");
  }
}

// The file for `stem`: the override when it exists, else the default.
std::optional<fs::path> pick(const fs::path& base_event, const fs::path& override_event,
                             const std::string& stem) {
  const std::string file = stem + std::string(kExtension);
  if (!override_event.empty() && fs::is_regular_file(override_event / file))
    return override_event / file;
  if (fs::is_regular_file(base_event / file)) return base_event / file;
  return std::nullopt;
}

Source load_required(const fs::path& base_event, const fs::path& override_event,
                     const std::string& event, const std::string& stem) {
  const auto path = pick(base_event, override_event, stem);
  if (!path)
    throw ConfigError((base_event / (stem + std::string(kExtension))).string() +
                      ": missing required template for event " + event);
  return load_source(*path, true);
}

EventTemplates load_event(const fs::path& base_dir, const fs::path& override_dir,
                          const std::string& event) {
  const fs::path base_event = base_dir / event;
  const fs::path override_event = override_dir.empty() ? fs::path() : override_dir / event;
  reject_unknown_files(base_event);
  if (!override_event.empty()) reject_unknown_files(override_event);
  EventTemplates templates{
      load_required(base_event, override_event, event, "sms"),
      load_required(base_event, override_event, event, "email_subject"),
      load_required(base_event, override_event, event, "email_text"),
      load_required(base_event, override_event, event, "email_html"),
      std::nullopt,
  };
  if (const auto path = pick(base_event, override_event, "sms_short"))
    templates.sms_short = load_source(*path, true);
  return templates;
}

void require_directory(const fs::path& dir, const char* what) {
  if (!fs::is_directory(dir)) throw ConfigError(dir.string() + ": " + what + " is not a directory");
}

std::set<std::string> event_names(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory() && !entry.path().filename().string().starts_with("."))  // .git etc.
      names.insert(entry.path().filename().string());
  return names;
}

// JSON -> kainjow data. Numbers render as JSON writes them; null and "" are false (renders nothing,
// and an
// {{#section}} on it is skipped) so that a null never falls through to an outer context's value.
mustache::data to_data(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object: {
      mustache::data object{mustache::data::type::object};
      for (const auto& [key, item] : value.items()) object.set(key, to_data(item));
      return object;
    }
    case nlohmann::json::value_t::array: {
      mustache::data list{mustache::data::type::list};
      for (const auto& item : value) list.push_back(to_data(item));
      return list;
    }
    case nlohmann::json::value_t::string:
      // Empty is false, as in mustache.js: {{#phone}} ou au {{phone}}{{/phone}} then says nothing.
      if (value.get_ref<const std::string&>().empty()) return mustache::data{false};
      return mustache::data{value.get<std::string>()};
    case nlohmann::json::value_t::boolean:
      return mustache::data{value.get<bool>()};
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      return mustache::data{false};
    default:
      return mustache::data{value.dump()};
  }
}

// kainjow renders a partial {{> x}} by parsing the *data* string named x as a template; a
// recipient's data must never become template code, so partials resolve to nothing.
class NoPartialContext : public mustache::context<std::string> {
 public:
  using mustache::context<std::string>::context;
  const mustache::data* get_partial(const std::string&) const override { return nullptr; }
};

enum class Escaping { html, none };

std::string render_source(const Source& source, const nlohmann::json& vars, Escaping escaping) {
  const mustache::data data = to_data(vars.is_object() ? vars : nlohmann::json::object());
  NoPartialContext context{&data};
  std::ostringstream out;
  std::lock_guard<std::mutex> hold(source.parsed->lock);
  mustache::mustache& tmpl = source.parsed->tmpl;
  // A source always renders with the same escaping (only the HTML body escapes, kainjow's default).
  if (escaping == Escaping::none) tmpl.set_custom_escape([](const std::string& s) { return s; });
  tmpl.render(context, out);
  return out.str();
}

std::string trim(std::string_view text, std::string_view blanks = " \t\r\n") {
  const auto first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos) return "";
  const auto last = text.find_last_not_of(blanks);
  return std::string(text.substr(first, last - first + 1));
}

// Length of a control character starting at text[i] (C0, DEL, C1, U+2028/2029), 0 if none.
std::size_t control_length(std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x20 || c == 0x7f) return 1;
  const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
  if (c == 0xC2 && next >= 0x80 && next <= 0x9F) return 2;
  if (c == 0xE2 && next == 0x80 && i + 2 < text.size() &&
      (text[i + 2] == '\xA8' || text[i + 2] == '\xA9'))
    return 3;
  return 0;
}

// One line: control characters become spaces, runs of spaces collapse, ends are trimmed.
std::string single_line(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t control = control_length(text, i);
    const char c = control ? ' ' : text[i];
    i += control ? control : 1;
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

struct TemplateSet::Impl {
  std::map<std::string, EventTemplates, std::less<>> events;

  const EventTemplates& at(std::string_view event) const {
    const auto it = events.find(event);
    if (it == events.end()) throw std::out_of_range("no templates for event " + std::string(event));
    return it->second;
  }
};

TemplateSet::TemplateSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TemplateSet::~TemplateSet() = default;

std::shared_ptr<const TemplateSet> TemplateSet::load(const fs::path& base_dir,
                                                     const fs::path& override_dir) {
  auto impl = std::make_unique<Impl>();
  try {
    require_directory(base_dir, "template directory");
    auto names = event_names(base_dir);
    if (!override_dir.empty()) {
      require_directory(override_dir, "template override directory");
      names.merge(event_names(override_dir));
    }
    for (const auto& event : names)
      impl->events.emplace(event, load_event(base_dir, override_dir, event));
  } catch (const fs::filesystem_error& e) {
    throw ConfigError(e.path1().string() + ": " + e.code().message());
  }
  return std::make_shared<const TemplateSet>(std::move(impl));
}

bool TemplateSet::has_event(std::string_view event) const {
  return impl_->events.find(event) != impl_->events.end();
}

std::vector<std::string> TemplateSet::events() const {
  std::vector<std::string> names;
  for (const auto& [name, templates] : impl_->events) names.push_back(name);
  return names;
}

bool TemplateSet::has_short_sms(std::string_view event) const {
  return impl_->at(event).sms_short.has_value();
}

std::string TemplateSet::render_sms(std::string_view event, const nlohmann::json& vars,
                                    bool short_variant) const {
  const auto& templates = impl_->at(event);
  const Source& source =
      short_variant && templates.sms_short ? *templates.sms_short : templates.sms;
  return trim(render_source(source, vars, Escaping::none));
}

std::string TemplateSet::render_subject(std::string_view event, const nlohmann::json& vars) const {
  return single_line(render_source(impl_->at(event).subject, vars, Escaping::none));
}

std::string TemplateSet::render_text(std::string_view event, const nlohmann::json& vars) const {
  return render_source(impl_->at(event).text, vars, Escaping::none);
}

std::string TemplateSet::render_html(std::string_view event, const nlohmann::json& vars) const {
  return keep_safe_links(render_source(impl_->at(event).html, vars, Escaping::html));
}

}  // namespace rappel
