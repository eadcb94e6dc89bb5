// Reading the Prometheus text format in tests: Prometheus' own checker (promtool, from Debian's
// prometheus package) for validity and lint, and a small reader for the values to assert.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace rappel::test {

// Runs `promtool check metrics` on the text: {exit code, what it printed}. 0 means valid, no lint.
std::pair<int, std::string> promtool_check_metrics(const std::string& text);

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// The samples of an exposition (comments skipped). Label values are taken as written (no escapes
// needed for rappel's labels).
std::vector<Sample> parse_samples(const std::string& text);

// The sum of the samples named `name` whose labels include all of `labels`; -1 when none matches.
double sample_value(const std::vector<Sample>& samples, const std::string& name,
                    const std::map<std::string, std::string>& labels = {});

}  // namespace rappel::test
