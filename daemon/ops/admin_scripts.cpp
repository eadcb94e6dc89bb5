// `rappel scripts [--write DIR]`: the Redis scripts as Redis runs them. Each is listed with its
// SHA1 (what `SCRIPT EXISTS` and the slow log show) and its files; --write puts each one's whole
// text in DIR/<name>.lua, to run alone with `redis-cli --eval DIR/<name>.lua keys , args` or to
// read next to an error. Line numbers of a script's own file are the same in both.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "daemon/ops/admin.hpp"
#include "daemon/pipeline/rate_limiter.hpp"
#include "daemon/store/store_scripts.hpp"

namespace rappel {

int scripts_command(const std::string& write_dir) {
  auto scripts = scripts::all();
  scripts.emplace_back("rate_limiter", &gcra_script());
  if (!write_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(write_dir, ec);
    if (ec) {
      std::cerr << "scripts: " << write_dir << ": " << ec.message() << "\n";
      return 1;
    }
  }
  for (const auto& [name, script] : scripts) {
    std::cout << name << "  " << script->sha1;
    for (const auto& part : script->lines) std::cout << "  " << part.file;
    std::cout << "\n";
    if (write_dir.empty()) continue;
    const auto path = std::filesystem::path(write_dir) / (std::string(name) + ".lua");
    std::ofstream out(path, std::ios::binary);
    out << script->source;
    if (!out.flush()) {
      std::cerr << "scripts: cannot write " << path.string() << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace rappel
