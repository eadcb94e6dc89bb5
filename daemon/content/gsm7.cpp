// SMS text preparation: GSM 03.38 normalisation and exact segment counting.
//
// French reminders are written with typographic characters (’ « » … œ, non-breaking spaces) that
// GSM-7 lacks; sending them forces UCS-2, which halves the SMS size and doubles the bill, and one
// carrier silently dropped messages containing "œ". So we transliterate every Latin character to
// its nearest GSM-7 text, and fall back to UCS-2 only when a character has no honest Latin
// equivalent (Arabic, Cyrillic, Chinese names, emoji): then the text is kept as written.
//
// Segments are counted the way an SMSC splits concatenated messages: an escape pair (GSM-7) or a
// surrogate pair (UCS-2) is never cut, so it moves whole to the next part.
#include "daemon/content/gsm7.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace rappel {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

// The GSM 03.38 basic table in code order; 0x1B (escape) is not a character and maps to nothing.
// clang-format off
constexpr char32_t kBasic[128] = {
    '@', 0xA3, '$', 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, '\n', 0xD8, 0xF8, '\r', 0xC5, 0xE5,
    0x394, '_', 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, 0 /* ESC */,
    0xC6, 0xE6, 0xDF, 0xC9,
    ' ', '!', '"', '#', 0xA4, '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
    0xA1, 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 0xC4, 0xD6, 0xD1, 0xDC, 0xA7,
    0xBF, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0xE4, 0xF6, 0xF1, 0xFC, 0xE0};
// clang-format on

// The extension table: each costs the escape septet plus its own.
constexpr char32_t kExtension[] = {0x0C, '^', '{', '}', '\\', '[', '~', ']', '|', 0x20AC};

// Septets a code point costs in GSM-7: 1 (basic), 2 (extension) or 0 (not representable).
int gsm_septets(char32_t c) {
  static const std::unordered_map<char32_t, int> table = [] {
    std::unordered_map<char32_t, int> t;
    for (int i = 0; i < 128; ++i)
      if (i != 0x1B) t[kBasic[i]] = 1;
    for (char32_t e : kExtension) t[e] = 2;
    return t;
  }();
  auto it = table.find(c);
  return it == table.end() ? 0 : it->second;
}

// Invisible characters that carry nothing a reader sees.
bool is_zero_width(char32_t c) {
  return c == 0x200B || c == 0x200C || c == 0x200D || c == 0xFEFF || c == 0x2060 || c == 0xAD;
}

// Joiners shape scripts (Persian ZWNJ) and emoji sequences (ZWJ): kept in UCS-2 text.
bool is_joiner(char32_t c) {
  return c == 0x200C || c == 0x200D;
}

bool is_space_like(char32_t c) {
  return c == '\t' || c == 0xA0 || (c >= 0x2000 && c <= 0x200A) || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

bool is_combining_mark(char32_t c) {
  return c >= 0x300 && c <= 0x36F;
}

// Latin Extended-A (U+0100..U+017F) to base letters; '?' entries are handled by kTranslit.
constexpr std::string_view kLatinExtendedA =
    "AaAaAaCcCcCcCcDd"
    "DdEeEeEeEeEeGgGg"
    "GgGgHhHhIiIiIiIi"
    "Ii??JjKkkLlLlLlL"
    "lLlNnNnNn?NnOoOo"
    "Oo??RrRrRrSsSsSs"
    "SsTtTtTtUuUuUuUu"
    "UuUuWwYyYZzZzZzs";

struct Translit {
  char32_t from;
  const char* to;
};

// Sorted by code point. Letters of Latin-1 Supplement missing from GSM-7, ligatures, typographic
// punctuation and a few symbols common in French administrative text.
constexpr Translit kTranslit[] = {
    {'`', "'"},      {0xA2, "c"},    {0xA6, "|"},    {0xA8, "\""},   {0xA9, "(c)"},  {0xAA, "a"},
    {0xAB, "\""},    {0xAE, "(R)"},  {0xB0, "o"},    {0xB2, "2"},    {0xB3, "3"},    {0xB4, "'"},
    {0xB7, "."},     {0xB9, "1"},    {0xBA, "o"},    {0xBB, "\""},   {0xBC, "1/4"},  {0xBD, "1/2"},
    {0xBE, "3/4"},   {0xC0, "A"},    {0xC1, "A"},    {0xC2, "A"},    {0xC3, "A"},    {0xC8, "E"},
    {0xCA, "E"},     {0xCB, "E"},    {0xCC, "I"},    {0xCD, "I"},    {0xCE, "I"},    {0xCF, "I"},
    {0xD0, "D"},     {0xD2, "O"},    {0xD3, "O"},    {0xD4, "O"},    {0xD5, "O"},    {0xD7, "x"},
    {0xD9, "U"},     {0xDA, "U"},    {0xDB, "U"},    {0xDD, "Y"},    {0xDE, "TH"},   {0xE1, "a"},
    {0xE2, "a"},     {0xE3, "a"},    {0xE7, "c"},    {0xEA, "e"},    {0xEB, "e"},    {0xED, "i"},
    {0xEE, "i"},     {0xEF, "i"},    {0xF0, "d"},    {0xF3, "o"},    {0xF4, "o"},    {0xF5, "o"},
    {0xF7, "/"},     {0xFA, "u"},    {0xFB, "u"},    {0xFD, "y"},    {0xFE, "th"},   {0xFF, "y"},
    {0x132, "IJ"},   {0x133, "ij"},  {0x149, "'n"},  {0x152, "OE"},  {0x153, "oe"},  {0x218, "S"},
    {0x219, "s"},    {0x21A, "T"},   {0x21B, "t"},   {0x2010, "-"},  {0x2011, "-"},  {0x2012, "-"},
    {0x2013, "-"},   {0x2014, "-"},  {0x2015, "-"},  {0x2018, "'"},  {0x2019, "'"},  {0x201A, "'"},
    {0x201B, "'"},   {0x201C, "\""}, {0x201D, "\""}, {0x201E, "\""}, {0x201F, "\""}, {0x2022, "-"},
    {0x2026, "..."}, {0x2032, "'"},  {0x2033, "\""}, {0x2039, "'"},  {0x203A, "'"},  {0x2122, "TM"},
    {0x2212, "-"},   {0xFB00, "ff"}, {0xFB01, "fi"}, {0xFB02, "fl"},
};
static_assert(std::is_sorted(std::begin(kTranslit), std::end(kTranslit),
                             [](const Translit& a, const Translit& b) { return a.from < b.from; }));
static_assert(kLatinExtendedA.size() == 0x80);

// The GSM-7 text standing for `c`, or nullopt when there is no honest one.
std::optional<std::string> transliterate(char32_t c) {
  auto it = std::lower_bound(std::begin(kTranslit), std::end(kTranslit), c,
                             [](const Translit& t, char32_t v) { return t.from < v; });
  if (it != std::end(kTranslit) && it->from == c) return std::string(it->to);
  if (c >= 0x100 && c <= 0x17F) return std::string(1, kLatinExtendedA[c - 0x100]);
  if (is_space_like(c)) return std::string(" ");
  if (c == kReplacement) return std::string("?");
  return std::nullopt;
}

// Decodes UTF-8; each invalid or truncated sequence (maximal subpart) becomes U+FFFD.
std::vector<char32_t> decode_utf8(std::string_view s) {
  std::vector<char32_t> out;
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (len == 0 || b == 0xC0 || b == 0xC1 || b > 0xF4) {
      out.push_back(kReplacement);
      ++i;
      continue;
    }
    char32_t c = len == 1 ? b : b & (0x7F >> len);
    size_t j = 1;
    for (; j < static_cast<size_t>(len) && i + j < s.size(); ++j) {
      auto cb = static_cast<unsigned char>(s[i + j]);
      // The second byte's range also excludes overlongs, surrogates and values above U+10FFFF.
      unsigned char lo = 0x80, hi = 0xBF;
      if (j == 1 && b == 0xE0) lo = 0xA0;
      if (j == 1 && b == 0xED) hi = 0x9F;
      if (j == 1 && b == 0xF0) lo = 0x90;
      if (j == 1 && b == 0xF4) hi = 0x8F;
      if (cb < lo || cb > hi) break;
      c = (c << 6) | (cb & 0x3F);
    }
    if (j < static_cast<size_t>(len)) c = kReplacement;
    out.push_back(c);
    i += j;
  }
  return out;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// Composes a letter and a combining accent (text typed on macOS arrives decomposed) into the
// precomposed Latin-1 letter when there is one: "e" + U+0301 -> "é", which GSM-7 has.
char32_t compose(char32_t base, char32_t mark) {
  struct Row {
    char32_t mark;
    std::string_view bases;
    char32_t composed[12];
  };
  static const Row rows[] = {
      {0x300, "AEIOUaeiou", {0xC0, 0xC8, 0xCC, 0xD2, 0xD9, 0xE0, 0xE8, 0xEC, 0xF2, 0xF9}},
      {0x301,
       "AEIOUYaeiouy",
       {0xC1, 0xC9, 0xCD, 0xD3, 0xDA, 0xDD, 0xE1, 0xE9, 0xED, 0xF3, 0xFA, 0xFD}},
      {0x302, "AEIOUaeiou", {0xC2, 0xCA, 0xCE, 0xD4, 0xDB, 0xE2, 0xEA, 0xEE, 0xF4, 0xFB}},
      {0x303, "ANOano", {0xC3, 0xD1, 0xD5, 0xE3, 0xF1, 0xF5}},
      {0x308, "AEIOUaeiouy", {0xC4, 0xCB, 0xCF, 0xD6, 0xDC, 0xE4, 0xEB, 0xEF, 0xF6, 0xFC, 0xFF}},
      {0x30A, "Aa", {0xC5, 0xE5}},
      {0x327, "Cc", {0xC7, 0xE7}},
  };
  for (const Row& r : rows) {
    if (r.mark != mark || base > 0x7F) continue;
    auto pos = r.bases.find(static_cast<char>(base));
    if (pos != std::string_view::npos) return r.composed[pos];
  }
  return 0;
}

std::vector<char32_t> compose_accents(const std::vector<char32_t>& in) {
  std::vector<char32_t> out;
  for (char32_t c : in) {
    char32_t composed = 0;
    if (is_combining_mark(c) && !out.empty()) composed = compose(out.back(), c);
    if (composed != 0)
      out.back() = composed;
    else
      out.push_back(c);
  }
  return out;
}

// Characters that vanish from an SMS: zero-width, controls other than line breaks/form feed.
bool is_dropped_in_gsm(char32_t c) {
  if (is_zero_width(c) || c == 0x200E || c == 0x200F) return true;
  if (c == '\n' || c == '\r' || c == 0x0C || c == '\t') return false;
  return c < 0x20 || (c >= 0x7F && c <= 0x9F) || is_combining_mark(c);
}

// Segments for per-character costs: one part up to `single`, else greedy parts of `multi` in which
// a character never straddles two parts.
int count_segments(const std::vector<int>& costs, int single, int multi) {
  int total = 0;
  for (int c : costs) total += c;
  if (total == 0) return 0;
  if (total <= single) return 1;
  int parts = 1, used = 0;
  for (int c : costs) {
    if (used + c > multi) {
      ++parts;
      used = 0;
    }
    used += c;
  }
  return parts;
}

// GSM-7 rendition of the text, or nullopt when some character has no honest GSM-7 equivalent.
std::optional<SmsText> as_gsm7(const std::vector<char32_t>& input) {
  std::vector<char32_t> cps = compose_accents(input);
  SmsText out;
  out.encoding = "gsm7";
  std::vector<int> costs;
  auto emit = [&](char32_t c) {
    append_utf8(out.text, c);
    costs.push_back(gsm_septets(c));
  };
  for (size_t i = 0; i < cps.size(); ++i) {
    char32_t c = cps[i];
    // CRLF -> LF, also with invisible characters between (found by fuzz/gsm7_fuzz). A lone CR is
    // in the GSM 03.38 table and stays.
    if (c == '\r') {
      size_t next = i + 1;
      while (next < cps.size() && is_dropped_in_gsm(cps[next])) ++next;
      if (next < cps.size() && cps[next] == '\n') continue;
    }
    if (is_dropped_in_gsm(c)) continue;
    if (gsm_septets(c) > 0) {
      emit(c);
    } else if (auto t = transliterate(c)) {
      for (char32_t tc : decode_utf8(*t)) emit(tc);
    } else {
      return std::nullopt;
    }
  }
  out.characters = static_cast<int>(costs.size());
  for (int c : costs) out.units += c;
  out.segments = count_segments(costs, 160, 153);
  return out;
}

// UCS-2 rendition: the text as written (invalid bytes as U+FFFD), zero-width characters removed.
SmsText as_ucs2(const std::vector<char32_t>& cps) {
  SmsText out;
  out.encoding = "ucs2";
  std::vector<int> costs;
  for (char32_t c : cps) {
    if (is_zero_width(c) && !is_joiner(c)) continue;
    append_utf8(out.text, c);
    costs.push_back(c > 0xFFFF ? 2 : 1);
  }
  out.characters = static_cast<int>(costs.size());
  for (int c : costs) out.units += c;
  out.segments = count_segments(costs, 70, 67);
  return out;
}

}  // namespace

SmsText prepare_sms_text(std::string_view utf8) {
  std::vector<char32_t> cps = decode_utf8(utf8);
  if (auto gsm = as_gsm7(cps)) return *gsm;
  return as_ucs2(cps);
}

}  // namespace rappel
