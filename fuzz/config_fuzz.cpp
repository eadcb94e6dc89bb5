// libFuzzer target: the YAML configuration loader (daemon/config). A bad configuration must give
// a ConfigError ("file:line:col: what") and nothing else: any other exception would end the daemon
// on a SIGHUP reload instead of keeping the running configuration.
#include <cstdint>
#include <string>

#include "daemon/base/config_node.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    rappel::fuzz::load_config_text(std::string(reinterpret_cast<const char*>(data), size));
  } catch (const rappel::ConfigError&) {
    // The expected way to refuse a configuration.
  }
  return 0;
}
