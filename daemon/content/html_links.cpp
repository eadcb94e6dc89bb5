// See html_links.hpp. A small scanner rather than an HTML parser: the input is our own
// template's output, where data can only appear escaped inside attribute values and text, so the
// tags themselves are the template author's. The check is an allow-list on the value as written:
// browsers decode entities and drop tabs and newlines before reading the scheme, and any such
// trick makes the value fail the allow-list, so the worst case is a link shown as text.
#include "daemon/content/html_links.hpp"

#include <array>
#include <optional>

namespace rappel {

namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (lower(text[i]) != prefix[i]) return false;
  return true;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

struct Tag {
  std::size_t end = 0;                   // one past '>'
  std::optional<std::string_view> href;  // the attribute's raw value
};

// Reads the tag starting at html[at] == '<' whose name was already matched; nullopt if it is not
// closed (then nothing after it is a tag either).
std::optional<Tag> read_tag(std::string_view html, std::size_t at) {
  Tag tag;
  std::size_t i = at + 1;
  while (i < html.size() && !is_space(html[i]) && html[i] != '>') ++i;  // the name
  while (i < html.size()) {
    while (i < html.size() && (is_space(html[i]) || html[i] == '/')) ++i;
    if (i >= html.size()) return std::nullopt;
    if (html[i] == '>') {
      tag.end = i + 1;
      return tag;
    }
    std::size_t name_start = i;
    while (i < html.size() && !is_space(html[i]) && html[i] != '=' && html[i] != '>') ++i;
    std::string_view name = html.substr(name_start, i - name_start);
    while (i < html.size() && is_space(html[i])) ++i;
    if (i >= html.size() || html[i] != '=') continue;  // an attribute without value
    ++i;
    while (i < html.size() && is_space(html[i])) ++i;
    std::string_view value;
    if (i < html.size() && (html[i] == '"' || html[i] == '\'')) {
      std::size_t close = html.find(html[i], i + 1);
      if (close == std::string_view::npos) return std::nullopt;
      value = html.substr(i + 1, close - i - 1);
      i = close + 1;
    } else {
      std::size_t start = i;
      while (i < html.size() && !is_space(html[i]) && html[i] != '>') ++i;
      value = html.substr(start, i - start);
    }
    if (name.size() == 4 && starts_with_nocase(name, "href") && !tag.href) tag.href = value;
  }
  return std::nullopt;
}

bool opens_anchor(std::string_view html, std::size_t at) {
  return at + 2 < html.size() && lower(html[at + 1]) == 'a' && is_space(html[at + 2]);
}

}  // namespace

bool is_safe_link(std::string_view href) {
  while (!href.empty() && is_space(href.front())) href.remove_prefix(1);
  constexpr std::array<std::string_view, 4> kSchemes = {"https://", "http://", "mailto:", "tel:"};
  for (auto scheme : kSchemes)
    if (starts_with_nocase(href, scheme)) return true;
  return false;
}

std::string keep_safe_links(std::string_view html) {
  std::string out;
  out.reserve(html.size());
  std::size_t i = 0;
  while (i < html.size()) {
    std::size_t lt = html.find('<', i);
    if (lt == std::string_view::npos) break;
    if (!opens_anchor(html, lt)) {
      out.append(html.substr(i, lt + 1 - i));
      i = lt + 1;
      continue;
    }
    auto tag = read_tag(html, lt);
    if (!tag) break;
    out.append(html.substr(i, lt - i));
    if (!tag->href || is_safe_link(*tag->href)) {
      out.append(html.substr(lt, tag->end - lt));
      i = tag->end;
      continue;
    }
    // Unwrapped: the content stays, up to the closing tag, which goes (anchors do not nest).
    std::size_t close = tag->end;
    while ((close = html.find("</", close)) != std::string_view::npos &&
           !(close + 3 < html.size() && lower(html[close + 2]) == 'a' &&
             (html[close + 3] == '>' || is_space(html[close + 3]))))
      close += 2;
    if (close == std::string_view::npos) {
      i = tag->end;
      break;
    }
    out.append(html.substr(tag->end, close - tag->end));
    std::size_t close_end = html.find('>', close);
    i = close_end == std::string_view::npos ? html.size() : close_end + 1;
  }
  out.append(html.substr(std::min(i, html.size())));
  return out;
}

}  // namespace rappel
