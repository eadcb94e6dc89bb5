// Helpers for the end-to-end content tests: realistic French appointments, département template
// override directories written by the test, and a real MIME parser for the .eml files.
//
// The .eml files are read back by Debian's Python `email` package (policy.default), run as a
// child process: it decodes RFC 2047 headers and transfer encodings the way a mail client does,
// so the tests assert what a person would see, not the bytes we happened to write.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/process.hpp"

namespace rappel::test {

// Long enough to push an SMS past one segment, with an apostrophe and an en dash (not GSM-7).
inline const std::string kLongPlace =
    "Maison départementale des solidarités de Fontainebleau – l'accueil est au 1er étage, "
    "8 rue de l'Arbre-Sec, 77300 Fontainebleau";

// An appointment of RDV-Solidarités for `event`, sent by SMS and email. rdv_id identifies the
// appointment across its events (created, updated, reminder, cancelled).
inline nlohmann::json appointment(const std::string& key, const std::string& event,
                                  const std::string& department = "77") {
  return {{"op", "schedule"},
          {"key", key},
          {"department", department},
          {"event", event},
          {"channels", {"sms", "email"}},
          {"recipient",
           {{"phone", "06 12 34 56 78"},
            {"email", "zoe.lhote@example.fr"},
            {"name", "Zoé <b>L'Hôte</b>"}}},
          {"data",
           {{"rdv_id", 4521},
            {"starts_at", "2026-12-03T10:30:00+01:00"},
            {"service", "Service social"},
            {"place", kLongPlace},
            {"phone", "01 64 00 00 00"},
            {"url", "https://www.rdv-solidarites.fr/r/4521/abc"}}}};
}

// Writes <dir>/<relative> (e.g. "rdv_cancelled/sms.mustache"), creating directories.
inline void write_file(const std::filesystem::path& dir, const std::string& relative,
                       const std::string& text) {
  std::filesystem::create_directories((dir / relative).parent_path());
  std::ofstream(dir / relative, std::ios::binary) << text;
}

// The file outbox names a message's .eml after its id, ':' written '.' (keys of letters, digits,
// '-' and '_' only: the others are escaped, see message_token in daemon/content/mime.hpp).
inline std::string eml_path(const std::string& outbox, std::string id) {
  for (char& c : id)
    if (c == ':') c = '.';
  return outbox + "/" + id + ".eml";
}

inline constexpr const char* kEmlParser = R"PY(
import json, sys
from email import policy
from email.parser import BytesParser
msg = BytesParser(policy=policy.default).parsebytes(open(sys.argv[1], 'rb').read())
def addr(h):
    a = msg[h].addresses
    return {"count": len(a), "name": a[0].display_name, "address": a[0].addr_spec}
def content(p):
    return None if p.is_multipart() else p.get_content().replace('\r\n', '\n')
print(json.dumps({
    "subject": str(msg["Subject"]), "from": addr("From"), "to": addr("To"),
    "message_id": msg["Message-ID"], "headers": [k.lower() for k in msg.keys()],
    "defects": [type(d).__name__ for p in msg.walk() for d in p.defects],
    "parts": [{"type": p.get_content_type(), "method": p.get_param("method"),
               "content": content(p)} for p in msg.walk()],
}))
)PY";

// What a mail client makes of the .eml: subject, addresses, headers, every MIME part.
inline nlohmann::json parse_eml(const std::string& path) {
  REQUIRE(std::filesystem::exists(path));
  ChildOptions options;
  options.argv = {"/usr/bin/python3", "-c", kEmlParser, path};
  ChildProcess python(options);
  auto line = python.read_line(std::chrono::seconds(20));
  python.wait(std::chrono::seconds(10));
  REQUIRE(line);
  INFO(*line);
  return nlohmann::json::parse(*line);
}

// The non-multipart part of type `type`, or null.
inline nlohmann::json part_of(const nlohmann::json& eml, const std::string& type) {
  for (const auto& p : eml["parts"])
    if (p["type"] == type) return p;
  return nullptr;
}

// The value of an iCalendar property line ("UID", "METHOD"), "" if absent.
inline std::string ics_property(const std::string& ics, const std::string& name) {
  const std::string lines = "\n" + ics;
  const std::size_t at = lines.find("\n" + name + ":");
  if (at == std::string::npos) return "";
  const std::size_t start = at + name.size() + 2;
  return lines.substr(start, lines.find('\n', start) - start);
}

}  // namespace rappel::test
