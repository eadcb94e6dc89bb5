// Email messages as RFC 5322 bytes (CRLF everywhere), built by hand on top of mime_encoding.
//
// Why not a library: none in Debian's C++ stack builds MIME messages, and what we need is small
// and fully specified. The output is deterministic for a given message and date (boundaries are
// derived from the message id), so a retried message is byte-identical and tests can compare.
// Header values are reduced to one line before anything else: a subject or a name coming from the
// booking backend can never inject a header.
#include "daemon/content/mime.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include <date/date.h>

#include "daemon/content/email_address.hpp"
#include "daemon/content/ics.hpp"
#include "daemon/content/mime_encoding.hpp"

namespace rappel {
namespace {

struct Mailbox {
  std::string name;
  std::string address;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "Name <addr>", "\"Name\" <addr>" or a bare "addr".
Mailbox parse_mailbox(std::string_view text) {
  std::string line = mime::single_line(text);
  std::string_view s = trim(line);
  auto open = s.rfind('<');
  if (open == std::string_view::npos || s.back() != '>') return {{}, std::string(s)};
  std::string_view name = trim(s.substr(0, open));
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
  }
  std::string unescaped;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '\\' && i + 1 < name.size()) ++i;
    unescaped += name[i];
  }
  return {unescaped, std::string(trim(s.substr(open + 1, s.size() - open - 2)))};
}

bool has_specials(std::string_view name) {
  return name.find_first_of("()<>[]:;@\\,.\"") != std::string_view::npos;
}

// Tokens of an address header: the display name (encoded-words, quoted-string or atoms) then
// "<address>"; a bare address when there is no name.
std::vector<std::string> mailbox_tokens(const Mailbox& box) {
  std::string name = mime::single_line(box.name);
  std::string address = mime::single_line(box.address);
  address.erase(std::remove_if(address.begin(), address.end(),
                               [](char c) { return c == '<' || c == '>' || c == ' '; }),
                address.end());
  std::string_view trimmed = trim(name);
  if (trimmed.empty()) return {address};
  std::vector<std::string> tokens;
  if (mime::needs_encoded_words(trimmed)) {
    tokens = mime::encoded_words(trimmed);
  } else if (has_specials(trimmed)) {
    std::string quoted = "\"";
    for (char c : trimmed) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    tokens = {quoted + "\""};
  } else {
    tokens = mime::split_on_spaces(trimmed);
  }
  tokens.push_back("<" + address + ">");
  return tokens;
}

std::vector<std::string> text_tokens(std::string_view value) {
  std::string line = mime::single_line(value);
  auto words = mime::split_on_spaces(line);
  // A word too long to fold would make an over-long line: encoded-words split anywhere.
  bool unfoldable = std::any_of(words.begin(), words.end(), [](auto& w) { return w.size() > 66; });
  if (unfoldable || mime::needs_encoded_words(line)) return mime::encoded_words(line);
  return words;
}

// An extra header's value that is one word of printable ASCII (our message ids in
// X-Mailin-custom) goes on the wire as is, on one line however long (RFC 5322 allows 998): Brevo
// echoes the header back in its webhooks as written, and an encoded-word (what text_tokens makes
// of a word over 66 characters) would come back encoded and match nothing. "=?" stays out: it
// would read as an encoded-word.
bool is_raw_word(std::string_view name, std::string_view value) {
  if (value.empty() || name.size() + 2 + value.size() > 998) return false;
  if (value.find("=?") != std::string_view::npos) return false;
  return std::all_of(value.begin(), value.end(), [](char c) { return c > 32 && c < 127; });
}

// RFC 5322 date in UTC, spelled in English whatever the process locale.
std::string rfc5322_date(std::chrono::system_clock::time_point tp) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto seconds = std::chrono::floor<std::chrono::seconds>(tp);
  auto day = std::chrono::floor<date::days>(seconds);
  date::year_month_day ymd{day};
  date::hh_mm_ss time{seconds - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d +0000",
                kDays[date::weekday{day}.c_encoding()], static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buf;
}

struct Part {
  std::string headers;  // each line ending with CRLF
  std::string body;     // encoded, 7-bit
};

// A boundary derived from the message id that occurs in none of the parts. Encoded bodies never
// contain "=_", so the first candidate always fits; the loop makes it a guarantee, not a hope.
std::string boundary_for(std::string_view id, std::string_view kind,
                         const std::vector<Part>& parts) {
  for (int salt = 0;; ++salt) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%016llx",
                  static_cast<unsigned long long>(mime::fnv1a(
                      std::string(id) + "|" + std::string(kind) + "|" + std::to_string(salt))));
    std::string boundary = "=_rappel_" + std::string(kind) + "_" + buf;
    bool clash = std::any_of(parts.begin(), parts.end(), [&](const Part& p) {
      return p.body.find(boundary) != std::string::npos ||
             p.headers.find(boundary) != std::string::npos;
    });
    if (!clash) return boundary;
  }
}

Part multipart(std::string_view id, std::string_view subtype, const std::vector<Part>& parts) {
  std::string boundary = boundary_for(id, subtype, parts);
  Part out;
  out.headers =
      "Content-Type: multipart/" + std::string(subtype) + ";\r\n boundary=\"" + boundary + "\"\r\n";
  for (const Part& p : parts) {
    out.body += "--" + boundary + "\r\n" + p.headers + "\r\n" + p.body + "\r\n";
  }
  out.body += "--" + boundary + "--\r\n";
  return out;
}

Part text_part(std::string_view subtype, std::string_view content) {
  return {"Content-Type: text/" + std::string(subtype) +
              "; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n",
          mime::quoted_printable(content)};
}

Part calendar_part(std::string_view ics, std::string_view method) {
  std::string m = method == "CANCEL" ? "CANCEL" : "PUBLISH";
  return {"Content-Type: text/calendar; charset=UTF-8; method=" + m +
              "\r\nContent-Transfer-Encoding: base64\r\n"
              "Content-Disposition: attachment; filename=\"rendez-vous.ics\"\r\n",
          mime::base64(ics)};
}

// The body: text alone, text+html as alternatives, the calendar attached next to either, its
// ORGANIZER the département's or the email's From.
Part body_of(const Outbound& message, std::string_view from) {
  const EmailContent& email = message.email();
  Part content = text_part("plain", email.text);
  if (!email.html.empty())
    content = multipart(message.id, "alternative", {content, text_part("html", email.html)});
  if (!email.ics.empty()) {
    Mailbox organizer = parse_mailbox(email.ics_organizer.empty() ? from : email.ics_organizer);
    std::string ics = ics_with_organizer(email.ics, organizer.name, organizer.address);
    content = multipart(message.id, "mixed", {content, calendar_part(ics, email.ics_method)});
  }
  return content;
}

bool is_header_name(std::string_view name) {
  if (name.empty() || name.size() > 76) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return c > 32 && c < 127 && c != ':'; });
}

// Headers the builder owns: extra headers may not replace or add to them.
bool is_reserved_header(std::string_view name) {
  static constexpr std::string_view kReserved[] = {
      "from",    "to",       "cc",           "bcc",
      "subject", "date",     "message-id",   "mime-version",
      "sender",  "reply-to", "content-type", "content-transfer-encoding"};
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return std::find(std::begin(kReserved), std::end(kReserved), lower) != std::end(kReserved);
}

}  // namespace

// Letters, digits, '-' and '_' as they are; ':' (the channel separator) as '.' where a dot-atom
// allows one; every other byte as "=XX". '=' and '.' are never copied, so two ids never share a
// token: "a/b", "a-b", "a@b" and "a+b" are four tokens, not one.
std::string message_token(std::string_view id) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < id.size(); ++i) {
    auto c = static_cast<unsigned char>(id[i]);
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_';
    bool dot = c == ':' && !out.empty() && out.back() != '.' && i + 1 < id.size();
    if (keep) {
      out += static_cast<char>(c);
    } else if (dot) {
      out += '.';
    } else {
      out += '=';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out.empty() ? "=" : out;  // "=" alone is the token of no other id
}

std::string message_id_for(std::string_view id, std::string_view from) {
  std::string left = message_token(id);

  std::string address = parse_mailbox(from).address;
  auto at = address.rfind('@');
  std::string domain = at == std::string::npos ? "" : address.substr(at + 1);
  for (char& c : domain) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!is_valid_domain(domain)) domain = "rappel.invalid";
  return "<" + left + "@" + domain + ">";
}

std::string build_email(const Outbound& message, const MimeOptions& options) {
  const EmailContent& email = message.email();
  std::string out;
  out += mime::folded_header("From", mailbox_tokens(parse_mailbox(options.from)));
  out += mime::folded_header("To", mailbox_tokens({email.to_name, email.to}));
  out += mime::folded_header("Subject", text_tokens(email.subject));
  out += "Date: " + rfc5322_date(options.date) + "\r\n";
  out += "Message-ID: " + message_id_for(message.id, options.from) + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  for (const auto& [name, value] : options.extra_headers) {
    if (!is_header_name(name) || is_reserved_header(name)) continue;
    out += is_raw_word(name, value) ? name + ": " + value + "\r\n"
                                    : mime::folded_header(name, text_tokens(value));
  }
  Part body = body_of(message, options.from);
  out += body.headers;
  out += "\r\n";
  out += body.body;
  return out;
}

}  // namespace rappel
