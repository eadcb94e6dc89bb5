// Shared by the libFuzzer targets: a loaded configuration to parse and render against (the
// project's templates, départements 77 and 974 with their time zones), built once per process.
#pragma once

#include <memory>
#include <string>

#include "daemon/config/config.hpp"

namespace rappel::fuzz {

// Loads a configuration written to a temporary file from `yaml`; throws ConfigError.
std::shared_ptr<Config> load_config_text(const std::string& yaml);

// The configuration the intake and render targets use: SMS to a log provider, email to files.
const Config& sample_config();

}  // namespace rappel::fuzz
