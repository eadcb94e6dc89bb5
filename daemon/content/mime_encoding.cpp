// RFC 2045 / RFC 2047 encodings for mime.cpp. Everything we emit is 7-bit: no SMTP server on the
// way may reject or mangle 8-bit bodies, and quoted-printable keeps French text readable in a raw
// .eml. Output never contains "=_", which is why mime.cpp's boundaries start with it.
#include "daemon/content/mime_encoding.hpp"

#include <algorithm>

#include "daemon/content/utf8.hpp"

namespace rappel::mime {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";
constexpr size_t kMaxLine = 76;

// Length of the UTF-8 sequence starting at s[i] (1 for a byte that starts none: escaped alone).
size_t utf8_sequence_length(std::string_view s, size_t i) {
  return std::max<size_t>(1, utf8_length(s, i));
}

std::string hex_escape(unsigned char c) {
  return {'=', kHex[c >> 4], kHex[c & 15]};
}

// One logical line (no line breaks in it) as quoted-printable, soft-broken at 76 characters.
void quoted_printable_line(std::string_view line, std::string& out) {
  size_t used = 0;
  for (size_t i = 0; i < line.size();) {
    size_t n = utf8_sequence_length(line, i);
    std::string piece;
    for (size_t k = i; k < i + n; ++k) {
      auto c = static_cast<unsigned char>(line[k]);
      bool last = k + 1 == line.size();
      bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
      piece += literal ? std::string(1, static_cast<char>(c)) : hex_escape(c);
    }
    bool final_piece = i + n == line.size();
    // A soft break costs one '=' on the line; the final piece may use the whole 76.
    size_t limit = final_piece ? kMaxLine : kMaxLine - 1;
    if (used + piece.size() > limit) {
      out += "=\r\n";
      used = 0;
    }
    out += piece;
    used += piece.size();
    i += n;
  }
}

}  // namespace

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t column = 0;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 2]);
    if (column == kMaxLine) {
      out += "\r\n";
      column = 0;
    }
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[v & 63] : '=';
    column += 4;
  }
  return out;
}

std::string quoted_printable(std::string_view text) {
  std::string out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    bool has_break = end != std::string_view::npos;
    std::string_view line = text.substr(start, has_break ? end - start : std::string_view::npos);
    if (has_break && !line.empty() && line.back() == '\r') line.remove_suffix(1);
    quoted_printable_line(line, out);
    if (!has_break) break;
    out += "\r\n";
    start = end + 1;
  }
  return out;
}

std::string single_line(std::string_view value) {
  std::string out;
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    out += (c < 0x20 || c == 0x7F) ? ' ' : ch;
  }
  return out;
}

bool needs_encoded_words(std::string_view value) {
  for (char ch : value)
    if (static_cast<unsigned char>(ch) >= 0x80) return true;
  return value.find("=?") != std::string_view::npos;
}

std::vector<std::string> encoded_words(std::string_view utf8) {
  // 36 bytes -> 48 base64 characters -> 60-character words: "Subject: " plus one fits in 76.
  constexpr size_t kMaxBytes = 36;
  std::vector<std::string> words;
  size_t i = 0;
  while (i < utf8.size()) {
    size_t end = i;
    while (end < utf8.size()) {
      size_t n = utf8_sequence_length(utf8, end);
      if (end + n - i > kMaxBytes) break;
      end += n;
    }
    words.push_back("=?UTF-8?B?" + base64(utf8.substr(i, end - i)) + "?=");
    i = end;
  }
  return words;
}

std::string folded_header(std::string_view name, const std::vector<std::string>& tokens) {
  std::string out(name);
  out += ':';
  size_t line = out.size();
  for (const std::string& token : tokens) {
    // Never fold before an empty token: a continuation line must not be whitespace only.
    if (!token.empty() && line > name.size() + 1 && line + 1 + token.size() > kMaxLine) {
      out += "\r\n";
      line = 0;
    }
    out += ' ';
    out += token;
    line += 1 + token.size();
  }
  return out + "\r\n";
}

std::vector<std::string> split_on_spaces(std::string_view value) {
  std::vector<std::string> pieces;
  size_t start = 0;
  while (true) {
    size_t space = value.find(' ', start);
    pieces.emplace_back(value.substr(start, space - start));
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  return pieces;
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace rappel::mime
