// See fuzz_support.hpp.
#include "fuzz_support.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <boost/asio/io_context.hpp>

namespace rappel::fuzz {

std::shared_ptr<Config> load_config_text(const std::string& yaml) {
  static boost::asio::io_context io;
  static ProviderContext context{io, nullptr};  // no libcurl: as `rappel check-config`
  // In a directory of its own where "templates" is the project's, so that a configuration saying
  // `templates: {directory: templates}` gets past the template check to providers and départements.
  static const std::string path = [] {
    std::string dir = "/tmp/rappel-fuzz-" + std::to_string(getpid());
    std::filesystem::create_directories(dir);
    std::error_code ignored;
    std::filesystem::create_directory_symlink(RAPPEL_SOURCE_DIR "/templates", dir + "/templates",
                                              ignored);
    return dir + "/rappel.yaml";
  }();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << yaml;
  }
  return load_config(path, context);
}

const Config& sample_config() {
  static const std::shared_ptr<Config> config = load_config_text(
      "redis: {url: \"redis://127.0.0.1:6379/0\"}\n"
      "templates: {directory: \"" RAPPEL_SOURCE_DIR
      "/templates\"}\n"
      "providers:\n"
      "  journal: {type: log}\n"
      "  outbox: {type: file, directory: /tmp/rappel-fuzz-outbox}\n"
      "departments:\n"
      "  default: {timezone: Europe/Paris, sms: {provider: journal, sender: RdvSoli}, email: "
      "{provider: outbox}}\n"
      "  \"77\": {name: Seine-et-Marne}\n"
      "  \"974\": {name: La Réunion, sms: {max_segments: 3}}\n");
  return *config;
}

}  // namespace rappel::fuzz
