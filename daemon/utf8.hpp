// UTF-8 text cut to a length in bytes without splitting a character. Redis, the events stream and
// the JSON rappel writes all need valid UTF-8 (nlohmann::json refuses to write anything else), and
// a byte cut in the middle of "é" or "’" would make one bad entry poison every later step.
#pragma once

#include <string_view>

namespace rappel {

// The longest prefix of `text` of at most `max_bytes` bytes that ends on a character boundary.
// `text` is assumed valid UTF-8 (nlohmann::json's parser checks it).
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);

}  // namespace rappel
