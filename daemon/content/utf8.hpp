// UTF-8 sequences: their well-formed length, and text cut to a length in bytes without splitting
// a character. Redis, the events stream and
// the JSON rappel writes all need valid UTF-8 (nlohmann::json refuses to write anything else), and
// a byte cut in the middle of "é" or "’" would make one bad entry poison every later step.
#pragma once

#include <cstddef>
#include <string_view>

namespace rappel {

// The length of the well-formed UTF-8 sequence at text[i] (Unicode's table 3-7: no overlong forms,
// no surrogates, nothing above U+10FFFF), or 0 when the byte there starts none.
std::size_t utf8_length(std::string_view text, std::size_t i);

// The longest prefix of `text` of at most `max_bytes` bytes that ends on a character boundary.
// `text` is assumed valid UTF-8 (nlohmann::json's parser checks it).
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);

}  // namespace rappel
