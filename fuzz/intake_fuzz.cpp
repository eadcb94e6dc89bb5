// libFuzzer target: the intake parser (daemon/intake_parse), the first code to see what the
// backend writes. Input: the `payload` field of one inbox entry. It must never crash or throw:
// every input gives operations, every reject carries a reason, and every text of an operation is
// valid UTF-8 (the store writes them as JSON: a cut "é" once stopped the daemon there).
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/pipeline/intake_parse.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const rappel::Config& config = rappel::fuzz::sample_config();
  std::string payload(reinterpret_cast<const char*>(data), size);
  rappel::StreamFields fields{{"payload", payload}};
  auto ops = rappel::parse_intake_entry("1764320000000-0", fields, config, 1764320000000);
  if (ops.empty()) std::abort();  // an entry always gives something: applied or rejected
  for (const auto& op : ops) {
    if (op.kind == rappel::IntakeOp::Kind::reject && op.error.empty()) std::abort();
    // Strict dump: throws (and libFuzzer reports it) on invalid UTF-8.
    (void)nlohmann::json{op.entry,    op.key,   op.department, op.event,
                         op.channels, op.error, op.content}
        .dump();
  }
  return 0;
}
