// See lua_script.hpp.
#include "daemon/net/lua_script.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include <boost/uuid/detail/sha1.hpp>

namespace rappel {

namespace {

std::string sha1_hex(const std::string& text) {
  boost::uuids::detail::sha1 hash;
  hash.process_bytes(text.data(), text.size());
  unsigned int digest[5];
  hash.get_digest(digest);
  char hex[41];
  for (int i = 0; i < 5; ++i) std::snprintf(hex + 8 * i, 9, "%08x", digest[i]);
  return std::string(hex, 40);
}

}  // namespace

int line_count(std::string_view text) {
  int n = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  return text.empty() || text.back() == '\n' ? n : n + 1;
}

LuaScript::LuaScript(const LuaSource& file)
    : LuaScript(std::string(file.text), {{1, line_count(file.text), std::string(file.file), 1}}) {}

LuaScript::LuaScript(std::string text, std::vector<Lines> parts)
    : source(std::move(text)), sha1(sha1_hex(source)), lines(std::move(parts)) {}

std::string LuaScript::explain(std::string_view error) const {
  constexpr std::string_view kTag = "user_script:";
  std::string out;
  for (;;) {
    size_t at = error.find(kTag);
    if (at == std::string_view::npos) break;
    out += error.substr(0, at);
    error.remove_prefix(at + kTag.size());
    int line = 0;
    auto [end, ec] = std::from_chars(error.data(), error.data() + error.size(), line);
    auto part = std::find_if(lines.begin(), lines.end(), [line](const Lines& l) {
      return line >= l.first && line < l.first + l.count;
    });
    if (ec != std::errc() || part == lines.end()) {
      out += kTag;  // a line outside every file (the composition's own): left as Redis said it
      continue;
    }
    out += part->file + ":" + std::to_string(part->file_first + line - part->first);
    error.remove_prefix(end - error.data());
  }
  out += error;
  return out;
}

}  // namespace rappel
