// See store_scripts.hpp. The scripts are the files of daemon/store/lua/, embedded at build time;
// each is sent with EVALSHA, so its text travels once per Redis start.
//
// Every script that changes a message stands on one prelude (prelude.lua: key names, events,
// status changes, statistics). Pasting the prelude ahead of a body would shift the body's line
// numbers by the prelude's length, and Redis' errors (and `redis-cli --eval`'s) would point
// nowhere. So the body comes first, as a function, and the prelude after it:
//
//   local <the prelude's top-level names>; local function main() <body line 1>
//   <body lines 2..n>
//   end
//   <the prelude, its top-level `local` declarations turned into assignments>
//   return main()
//
// The body's lines keep their numbers, the prelude still runs before the body (main is called
// last), and the prelude's names are upvalues of main, as they were locals of one chunk before.
#include "daemon/store/store_scripts.hpp"

#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/lua_sources.hpp"

namespace rappel::scripts {

namespace {

struct Prelude {
  std::string names;  // "a, b, c": its top-level locals
  std::string text;   // its text with those declarations made assignments
};

// Lines at column 0 are the prelude's top level: `local function f(` and `local a, b = ...`.
Prelude split_prelude(const LuaSource& prelude) {
  static const std::regex function_line(R"(^local function ([A-Za-z_]\w*)(.*)$)");
  static const std::regex local_line(R"(^local ([A-Za-z_]\w*(?:, *[A-Za-z_]\w*)*)( *=.*)?$)");
  Prelude out;
  std::string_view rest = prelude.text;
  int number = 0;
  while (!rest.empty()) {
    size_t end = rest.find('\n');
    std::string line(rest.substr(0, end));
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    ++number;
    std::smatch m;
    std::string names;
    if (std::regex_match(line, m, function_line)) {
      names = m[1];
      line = "function " + m[1].str() + m[2].str();
    } else if (std::regex_match(line, m, local_line)) {
      names = m[1];
      line = m[2].matched ? m[1].str() + m[2].str() : "";
    } else if (line.starts_with("local")) {
      throw std::logic_error(std::string(prelude.file) + ":" + std::to_string(number) +
                             ": a top-level local the composition cannot read");
    }
    if (!names.empty()) out.names += (out.names.empty() ? "" : ", ") + names;
    out.text += line + "\n";
  }
  return out;
}

LuaScript with_prelude(const LuaSource& body) {
  static const Prelude prelude = split_prelude(kLua_prelude);
  const int body_lines = line_count(body.text);
  std::string text = "local " + prelude.names + "; local function main() ";
  text += body.text;
  if (!text.ends_with('\n')) text += '\n';
  text += "end\n" + prelude.text + "return main()\n";
  return LuaScript(std::move(text), {{1, body_lines, std::string(body.file), 1},
                                     {body_lines + 2, line_count(kLua_prelude.text),
                                      std::string(kLua_prelude.file), 1}});
}

}  // namespace

const LuaScript& credit() {
  static const LuaScript script = with_prelude(kLua_credit);
  return script;
}
const LuaScript& intake() {
  static const LuaScript script = with_prelude(kLua_intake);
  return script;
}
const LuaScript& read_inbox() {
  static const LuaScript script(kLua_read_inbox);
  return script;
}
const LuaScript& claim() {
  static const LuaScript script = with_prelude(kLua_claim);
  return script;
}
const LuaScript& complete() {
  static const LuaScript script = with_prelude(kLua_complete);
  return script;
}
const LuaScript& receipts() {
  static const LuaScript script = with_prelude(kLua_receipts);
  return script;
}

std::vector<std::pair<std::string_view, const LuaScript*>> all() {
  return {{"intake", &intake()},     {"read_inbox", &read_inbox()}, {"claim", &claim()},
          {"complete", &complete()}, {"receipts", &receipts()},     {"credit", &credit()}};
}

}  // namespace rappel::scripts
