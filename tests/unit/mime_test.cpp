// Email building, checked by a real MIME parser: Debian's Python `email` package (policy.default)
// reads the bytes back in a subprocess and reports what a mail client would see as JSON.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include <date/date.h>

#include "daemon/content/email_address.hpp"
#include "daemon/content/ics.hpp"
#include "daemon/content/mime.hpp"

using namespace rappel;
using nlohmann::json;

namespace {

constexpr const char* kParser = R"PY(
import json, sys
from email import policy
from email.parser import BytesParser
msg = BytesParser(policy=policy.default).parsebytes(open(sys.argv[1], 'rb').read())
def text(p):
    return p.get_content().replace('\r\n', '\n') if p.get_content_maintype() == 'text' else None
def addr(h):
    a = msg[h].addresses
    return {"count": len(a), "name": a[0].display_name, "address": a[0].addr_spec}
print(json.dumps({
    "subject": str(msg["Subject"]), "from": addr("From"), "to": addr("To"),
    "message_id": msg["Message-ID"], "date": msg["Date"].datetime.isoformat(),
    "headers": list(msg.keys()), "x_mailin": msg.get("X-Mailin-custom"),
    "parts": [{"type": p.get_content_type(), "charset": p.get_content_charset(),
               "method": p.get_param("method"), "filename": p.get_filename(),
               "content": None if p.is_multipart() else text(p),
               "defects": [type(d).__name__ for d in p.defects]} for p in msg.walk()],
}))
)PY";

std::filesystem::path temp_file(const std::string& stem) {
  std::random_device rd;
  return std::filesystem::temp_directory_path() /
         (stem + "-" + std::to_string(rd()) + "-" + std::to_string(rd()));
}

// What Python's email package makes of the message.
json parsed(const std::string& bytes) {
  auto eml = temp_file("rappel-mime.eml"), script = temp_file("rappel-mime.py");
  std::ofstream(eml, std::ios::binary) << bytes;
  std::ofstream(script) << kParser;
  std::string command = "/usr/bin/python3 " + script.string() + " " + eml.string();
  std::string output;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
    pclose(pipe);
  }
  std::filesystem::remove(eml);
  std::filesystem::remove(script);
  INFO(output);
  REQUIRE(!output.empty());
  return json::parse(output);
}

std::vector<std::string> lines_of(const std::string& bytes) {
  std::vector<std::string> lines;
  size_t start = 0, end;
  while ((end = bytes.find("\r\n", start)) != std::string::npos) {
    lines.push_back(bytes.substr(start, end - start));
    start = end + 2;
  }
  if (start < bytes.size()) lines.push_back(bytes.substr(start));
  return lines;
}

// CRLF only, 7-bit only, lines within 78 characters (RFC 5322's SHOULD).
void check_wire_format(const std::string& bytes) {
  for (const std::string& line : lines_of(bytes)) {
    INFO(line);
    CHECK(line.size() <= 78);
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.find('\r') == std::string::npos);
    CHECK(std::all_of(line.begin(), line.end(), [](char c) { return (c & 0x80) == 0; }));
  }
}

const IcsRevision kRevision{7, date::sys_days{date::year{2026} / 11 / 20} + std::chrono::hours{9}};

const json kAppointment = {{"starts_at", "2026-12-03T10:30:00+01:00"},
                           {"duration_minutes", 45},
                           {"service", "PMI"},
                           {"place", "Maison des solidarités, 12 rue de l'Église; Melun"},
                           {"url", "https://www.rdv-solidarites.fr/users/rdvs/4521"}};

Outbound reminder() {
  EmailContent email;
  email.to = "francoise.lefevre@example.fr";
  email.to_name = "Françoise Lefèvre-Dupont";
  email.subject =
      "Rappel : votre rendez-vous PMI du jeudi 3 décembre à 10h30 à la Maison des solidarités";
  email.text =
      "Bonjour Françoise,\n\nVotre rendez-vous « PMI » est le jeudi 3 décembre 2026 à 10h30, à la "
      "Maison des solidarités de Melun (12 rue de l'Église).  \n.\n= Annulation : "
      "https://www.rdv-solidarites.fr/users/rdvs/4521?token=a=b\n";
  email.html =
      "<p>Bonjour Françoise,</p><p>Votre rendez-vous <b>PMI</b> est le <b>jeudi 3 "
      "décembre 2026 à 10h30</b>.</p>";
  email.ics = appointment_ics(kAppointment, "4521", "PUBLISH", kRevision);
  email.ics_method = "PUBLISH";
  return {"rdv-4521-reminder:email", "77", 1, email};
}

MimeOptions options() {
  MimeOptions o;
  o.from = "RDV Solidarités <ne-pas-repondre@rdv-solidarites.fr>";
  o.date =
      date::sys_days{date::year{2026} / 12 / 1} + std::chrono::hours{8} + std::chrono::minutes{5};
  o.extra_headers = {{"X-Mailin-custom", "rdv-4521-reminder:email"}};
  return o;
}

}  // namespace

TEST_CASE("a full reminder parses back with accents, parts and calendar", "[mime]") {
  Outbound message = reminder();
  std::string bytes = build_email(message, options());
  check_wire_format(bytes);
  json m = parsed(bytes);
  CHECK(m["subject"] == message.email().subject);
  CHECK(m["to"]["count"] == 1);
  CHECK(m["to"]["name"] == "Françoise Lefèvre-Dupont");
  CHECK(m["to"]["address"] == "francoise.lefevre@example.fr");
  CHECK(m["from"]["name"] == "RDV Solidarités");
  CHECK(m["from"]["address"] == "ne-pas-repondre@rdv-solidarites.fr");
  CHECK(m["message_id"] == "<rdv-4521-reminder.email@rdv-solidarites.fr>");
  CHECK(m["date"] == "2026-12-01T08:05:00+00:00");
  CHECK(m["x_mailin"] == "rdv-4521-reminder:email");

  const json& parts = m["parts"];
  REQUIRE(parts.size() == 5);
  CHECK(parts[0]["type"] == "multipart/mixed");
  CHECK(parts[1]["type"] == "multipart/alternative");
  CHECK(parts[2]["type"] == "text/plain");
  CHECK(parts[2]["charset"] == "utf-8");
  CHECK(parts[2]["content"] == message.email().text);
  CHECK(parts[3]["type"] == "text/html");
  CHECK(parts[3]["content"] == message.email().html);
  CHECK(parts[4]["type"] == "text/calendar");
  CHECK(parts[4]["method"] == "PUBLISH");
  CHECK(parts[4]["filename"] == "rendez-vous.ics");
  // The calendar object, with the email's From as its ORGANIZER.
  std::string ics = ics_with_organizer(message.email().ics, "RDV Solidarités",
                                       "ne-pas-repondre@rdv-solidarites.fr");
  CHECK(ics.find("\r\nORGANIZER;CN=\"RDV Solidarités\":mailto:ne-pas-repondre@") !=
        std::string::npos);
  ics.erase(std::remove(ics.begin(), ics.end(), '\r'), ics.end());
  CHECK(parts[4]["content"] == ics);
  for (const json& p : parts) CHECK(p["defects"].empty());
}

TEST_CASE("the same message gives the same bytes", "[mime]") {
  CHECK(build_email(reminder(), options()) == build_email(reminder(), options()));
  Outbound other = reminder();
  other.id = "rdv-4522-reminder:email";
  CHECK(build_email(other, options()) != build_email(reminder(), options()));
}

TEST_CASE("text-only and text+calendar messages have the right structure", "[mime]") {
  Outbound message = reminder();
  auto& email = std::get<EmailContent>(message.content);
  email.html.clear();
  json with_ics = parsed(build_email(message, options()));
  REQUIRE(with_ics["parts"].size() == 3);
  CHECK(with_ics["parts"][0]["type"] == "multipart/mixed");
  CHECK(with_ics["parts"][1]["type"] == "text/plain");
  CHECK(with_ics["parts"][2]["type"] == "text/calendar");

  email.ics.clear();
  std::string bytes = build_email(message, options());
  check_wire_format(bytes);
  json plain = parsed(bytes);
  REQUIRE(plain["parts"].size() == 1);
  CHECK(plain["parts"][0]["type"] == "text/plain");
  CHECK(plain["parts"][0]["content"] == email.text);
}

TEST_CASE("a cancellation carries METHOD:CANCEL in the part and the object", "[mime]") {
  Outbound message = reminder();
  auto& email = std::get<EmailContent>(message.content);
  email.ics = appointment_ics(kAppointment, "4521", "CANCEL", kRevision);
  email.ics_method = "CANCEL";
  json m = parsed(build_email(message, options()));
  CHECK(m["parts"][4]["method"] == "CANCEL");
  std::string ics = m["parts"][4]["content"];
  CHECK(ics.find("METHOD:CANCEL\n") != std::string::npos);
  CHECK(ics.find("STATUS:CANCELLED\n") != std::string::npos);
  CHECK(ics.find("SEQUENCE:7\n") != std::string::npos);
  CHECK(ics.find("ORGANIZER;CN=\"RDV Solidarités\":mailto:ne-pas-repondre@rdv-solidarites.fr\n") !=
        std::string::npos);
}

TEST_CASE("a département's organizer wins over the From", "[mime]") {
  Outbound message = reminder();
  auto& email = std::get<EmailContent>(message.content);
  email.ics_organizer = "PMI de Melun <pmi.melun@seine-et-marne.fr>";
  json m = parsed(build_email(message, options()));
  CHECK(m["from"]["address"] == "ne-pas-repondre@rdv-solidarites.fr");
  std::string ics = m["parts"][4]["content"];
  CHECK(ics.find("\nORGANIZER;CN=\"PMI de Melun\":mailto:pmi.melun@seine-et-marne.fr\n") !=
        std::string::npos);
}

TEST_CASE("header injection through subject, name or extra headers adds no header", "[mime]") {
  Outbound message = reminder();
  auto& email = std::get<EmailContent>(message.content);
  email.subject = "Objet\r\nBcc: x@y.fr";
  email.to_name = "Camille\nBcc: x@y.fr";
  MimeOptions o = options();
  o.extra_headers = {
      {"X-Mailin-custom", "abc\r\nBcc: x@y.fr"}, {"Bcc", "x@y.fr"}, {"X-Bad\r\nBcc", "x@y.fr"}};
  std::string bytes = build_email(message, o);
  json m = parsed(bytes);
  for (const json& h : m["headers"]) CHECK(h != "Bcc");
  CHECK(m["subject"] == "Objet  Bcc: x@y.fr");
  CHECK(m["to"]["address"] == "francoise.lefevre@example.fr");
  CHECK(m["x_mailin"] == "abc  Bcc: x@y.fr");
}

TEST_CASE("a long message id goes into X-Mailin-custom as written, for Brevo to echo it",
          "[mime]") {
  // A 120-character key (the key charset: letters, digits, -_.:/@+), as a backend may build one.
  std::string key = "departement-77/usager:" + std::string(60, 'a') + "@rdv+4521_rappel.j-2";
  key += std::string(120 - key.size(), 'z');
  REQUIRE(key.size() == 120);
  Outbound message = reminder();
  message.id = key + ":email";
  MimeOptions o = options();
  o.extra_headers = {{"X-Mailin-custom", message.id}};
  std::string bytes = build_email(message, o);
  CHECK(bytes.find("\r\nX-Mailin-custom: " + message.id + "\r\n") != std::string::npos);
  CHECK(parsed(bytes)["x_mailin"] == message.id);
}

TEST_CASE("display names with specials are quoted, plain ASCII subjects stay readable", "[mime]") {
  Outbound message = reminder();
  auto& email = std::get<EmailContent>(message.content);
  email.to_name = "Dupont, Camille \"Cam\"";
  email.subject = "Rappel : RDV PMI le 3/12 a 10h30 - Maison des solidarites de Melun, salle 2";
  MimeOptions o = options();
  o.from = "\"CD77, Solidarités\" <rdv@seine-et-marne.fr>";
  std::string bytes = build_email(message, o);
  check_wire_format(bytes);
  CHECK(bytes.find("Subject: Rappel : RDV PMI") != std::string::npos);
  json m = parsed(bytes);
  CHECK(m["to"]["count"] == 1);
  CHECK(m["to"]["name"] == "Dupont, Camille \"Cam\"");
  CHECK(m["from"]["name"] == "CD77, Solidarités");
  CHECK(m["subject"] == email.subject);
  CHECK(m["message_id"] == "<rdv-4521-reminder.email@seine-et-marne.fr>");
}

TEST_CASE("a subject with an unbreakable long word still respects line lengths", "[mime]") {
  Outbound message = reminder();
  auto& email = std::get<EmailContent>(message.content);
  email.subject = "Lien : https://www.rdv-solidarites.fr/users/rdvs/4521/confirmation?token=" +
                  std::string(40, 'x');
  std::string bytes = build_email(message, options());
  check_wire_format(bytes);
  CHECK(parsed(bytes)["subject"] == email.subject);
}

TEST_CASE("message ids are safe and stable", "[mime]") {
  CHECK(message_id_for("rdv-4521-reminder:email", "ne-pas-repondre@rdv-solidarites.fr") ==
        "<rdv-4521-reminder.email@rdv-solidarites.fr>");
  CHECK(message_id_for("a b<c>@d::e.", "RDV <x@Exemple.FR>") ==
        "<a=20b=3Cc=3E=40d.=3Ae=2E@exemple.fr>");
  CHECK(message_id_for("..x", "no address") == "<=2E=2Ex@rappel.invalid>");
  CHECK(message_id_for(":x:", "") == "<=3Ax=3A@rappel.invalid>");
  CHECK(message_id_for("", "") == "<=@rappel.invalid>");
}

// Keys may hold letters, digits and -_.:/@+ (docs/contract.md): keys that differ only there were
// one Message-ID (and one outbox file) before, so a bounce could land on the wrong message.
TEST_CASE("keys that differ only in punctuation get different message ids", "[mime]") {
  std::set<std::string> ids, tokens;
  const std::vector<std::string> keys = {"mime-coll/a-13", "mime-coll-a-13",  "mime-coll@a-13",
                                         "mime-coll+a-13", "mime-coll:a-13",  "mime-coll.a-13",
                                         "mime-coll_a-13", "mime-coll::a-13", "mime-coll=2Fa-13"};
  for (const auto& key : keys) {
    std::string id = message_id_for(key + ":email", "ne-pas-repondre@rdv-solidarites.fr");
    INFO(key << " -> " << id);
    ids.insert(id);
    tokens.insert(message_token(key + ":email"));
    // Python's email package reads each back as it was written: a valid msg-id.
    Outbound message = reminder();
    message.id = key + ":email";
    CHECK(parsed(build_email(message, options()))["message_id"] == id);
  }
  CHECK(ids.size() == keys.size());
  CHECK(tokens.size() == keys.size());
}

TEST_CASE("email addresses are checked pragmatically", "[mime]") {
  for (const char* good : {"camille@example.fr", "francoise.lefevre+rdv@mairie-melun.fr",
                           "o'brien@exemple.co.uk", "a@b.cd"}) {
    INFO(good);
    CHECK(is_valid_email_address(good));
  }
  for (const char* bad :
       {"", "camille", "camille@", "@example.fr", "camille@localhost", "cam ille@example.fr",
        "camille@exa mple.fr", "a,b@example.fr", "<camille@example.fr>", "camille@example.fr\r\n",
        ".camille@example.fr", "cam..ille@example.fr", "camille@-example.fr", "camille@example..fr",
        "camille@1.2.3.4", "françoise@example.fr", "a@b@example.fr"}) {
    INFO(bad);
    CHECK_FALSE(is_valid_email_address(bad));
  }
  CHECK_FALSE(is_valid_email_address(std::string(65, 'a') + "@example.fr"));
  CHECK_FALSE(is_valid_email_address("a@" + std::string(64, 'b') + ".fr"));
}
