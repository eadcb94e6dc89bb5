// A Lua script as Redis runs it: its text, its SHA1 for EVALSHA, and where each of its lines
// comes from. The scripts are .lua files embedded at build time (cmake/embed_lua.cmake); a
// script may be composed of several files (the store's prelude and a body), and Redis' errors
// name lines of the whole text ("user_script:312"). explain() turns those into the file's own
// ("daemon/store/lua/claim.lua:17"), so an error in a log points at the line to read.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rappel {

// One embedded file: its path from the project root and its text.
struct LuaSource {
  std::string_view file;
  std::string_view text;
};

// Lines 1.. of a file counted from the first line of its text.
int line_count(std::string_view text);

struct LuaScript {
  // `count` lines of the script from `first` (1-based) are lines `file_first`.. of `file`.
  struct Lines {
    int first = 1;
    int count = 0;
    std::string file;
    int file_first = 1;
  };

  std::string source;
  std::string sha1;  // computed once from source
  std::vector<Lines> lines;

  explicit LuaScript(const LuaSource& file);  // the file as it is
  explicit LuaScript(std::string text, std::vector<Lines> lines = {});

  // Redis' error text with each "user_script:<n>" replaced by "<file>:<line>".
  std::string explain(std::string_view error) const;
};

}  // namespace rappel
