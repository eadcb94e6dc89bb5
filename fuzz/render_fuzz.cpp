// libFuzzer target: rendering a message with département data (daemon/render: template variables,
// French dates in the département's time zone, Mustache, GSM-7, MIME). Input: the content JSON
// rappel stores at intake ({"recipient": ..., "data": ...}); input that is not such JSON is used as
// the text of every data field, so that strange strings reach the templates too.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/pipeline/render.hpp"
#include "fuzz_support.hpp"

namespace {

nlohmann::json content_from(const std::string& input) {
  auto parsed = nlohmann::json::parse(input, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object()) return parsed;
  return {
      {"recipient", {{"phone", "+33612345678"}, {"email", "camille@example.fr"}, {"name", input}}},
      {"data",
       {{"starts_at", input},
        {"service", input},
        {"place", input},
        {"phone", input},
        {"url", input}}}};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const rappel::Config& config = rappel::fuzz::sample_config();
  nlohmann::json content = content_from(std::string(reinterpret_cast<const char*>(data), size));
  for (const char* code : {"77", "974"}) {
    const rappel::DepartmentConfig* dept = config.department(code);
    for (const auto& event : dept->templates->events()) {
      for (auto channel : {rappel::Channel::sms, rappel::Channel::email}) {
        try {
          rappel::render_preview("rdv-fuzz-1", channel, event, content, *dept);
        } catch (const nlohmann::json::exception&) {
          // A content object of the wrong shape; intake never stores one (see intake_fuzz).
        }
      }
    }
  }
  return 0;
}
