// The byte-level encodings an email needs (RFC 2045 quoted-printable and base64, RFC 2047
// encoded-words, header folding). Separate from mime.cpp so each can be read and tested alone.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rappel::mime {

// Base64 with CRLF line breaks every 76 characters (no break after the last line).
std::string base64(std::string_view bytes);

// Quoted-printable body: line breaks (LF or CRLF) become CRLF, lines are at most 76 characters
// with soft breaks that never cut a UTF-8 sequence, '=' and trailing blanks are encoded.
std::string quoted_printable(std::string_view text);

// CR, LF and other control characters replaced by spaces: what may go into one header line.
std::string single_line(std::string_view value);

// True when the value cannot appear raw in a header (non-ASCII, or it looks like an encoded-word).
bool needs_encoded_words(std::string_view value);

// RFC 2047 "=?UTF-8?B?...?=" words, each at most 64 characters and never cutting a UTF-8 sequence.
std::vector<std::string> encoded_words(std::string_view utf8);

// "Name: tok1 tok2 ..." folded with CRLF SP between tokens so that lines stay within 76
// characters when the tokens allow it; ends with CRLF.
std::string folded_header(std::string_view name, const std::vector<std::string>& tokens);

// Splits on single spaces, so that joining the pieces with spaces gives the value back.
std::vector<std::string> split_on_spaces(std::string_view value);

// 64-bit FNV-1a: a stable hash (the same in every build and run) for boundaries and names.
std::uint64_t fnv1a(std::string_view s);

}  // namespace rappel::mime
