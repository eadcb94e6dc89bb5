// See prometheus_text.hpp.
#include "support/prometheus_text.hpp"

#include <sys/wait.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/daemon_fixture.hpp"
#include "support/redis_fixture.hpp"

namespace rappel::test {

std::pair<int, std::string> promtool_check_metrics(const std::string& text) {
  std::string dir = make_temp_dir("promtool");
  { std::ofstream(dir + "/metrics.txt", std::ios::binary) << text; }
  std::string command =
      "/usr/bin/promtool check metrics < '" + dir + "/metrics.txt' > '" + dir + "/out.txt' 2>&1";
  int status = std::system(command.c_str());
  std::string out = read_text_file(dir + "/out.txt");
  std::filesystem::remove_all(dir);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::vector<Sample> parse_samples(const std::string& text) {
  std::vector<Sample> samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    size_t brace = line.find('{'), space;
    if (brace != std::string::npos && brace < line.find(' ')) {
      s.name = line.substr(0, brace);
      size_t close = line.find('}', brace);
      std::string labels = line.substr(brace + 1, close - brace - 1);
      size_t pos = 0;
      while (pos < labels.size()) {
        size_t eq = labels.find("=\"", pos);
        size_t end = labels.find('"', eq + 2);
        s.labels[labels.substr(pos, eq - pos)] = labels.substr(eq + 2, end - eq - 2);
        pos = end + 2;  // past '",'
      }
      space = close + 1;
    } else {
      space = line.find(' ');
      s.name = line.substr(0, space);
    }
    s.value = std::stod(line.substr(space + 1));
    samples.push_back(std::move(s));
  }
  return samples;
}

double sample_value(const std::vector<Sample>& samples, const std::string& name,
                    const std::map<std::string, std::string>& labels) {
  double sum = 0;
  bool found = false;
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) match = false;
    }
    if (match) sum += s.value, found = true;
  }
  return found ? sum : -1;
}

}  // namespace rappel::test
