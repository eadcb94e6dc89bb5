// What a person receives, end to end through the real daemon: for each event the SMS (encoding and
// segments as recorded on the message, the text as `rappel render` shows it) and the email (the
// .eml of the file outbox read back by Python's email package: headers, parts, calendar invite).
// Also the département-specific parts: overseas numbers and time zones, template overrides, the
// SMS length limit and its short variant, check-config, and header injection.
//
// The log provider never logs SMS text (personal data), so SMS wording is checked through
// `rappel render` on the same configuration and data; the daemon's recorded segments are checked
// against what render reports, so the two paths cannot drift apart unnoticed.
#include <filesystem>
#include <regex>

#include <catch2/catch.hpp>

#include "integration/content_support.hpp"
#include "integration/scenario.hpp"

using namespace rappel::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A directory of the test's own (template overrides, data files), removed at the end.
struct TempDir {
  std::string path = make_temp_dir("content");
  ~TempDir() { fs::remove_all(path); }
};

// `rappel render` of one channel for `content` ({recipient, data}); {exit code, output}.
std::pair<int, std::string> render(const std::string& config, const std::string& department,
                                   const std::string& event, const json& content,
                                   const std::string& channel = "sms") {
  TempDir dir;
  write_file(dir.path, "data.json", content.dump());
  return run_rappel({"render", "--config", config, "--department", department, "--event", event,
                     "--data", dir.path + "/data.json", "--channel", channel});
}

// The segments `rappel render` announces: "== SMS (2 segment(s), gsm7)".
int rendered_segments(const std::string& output) {
  std::smatch m;
  if (!std::regex_search(output, m, std::regex(R"(== SMS \((\d+) segment\(s\), (\w+)\))")))
    return -1;
  return std::stoi(m[1]);
}

json content_of(const json& payload) {
  return {{"recipient", payload["recipient"]}, {"data", payload["data"]}};
}

struct EventCase {
  std::string event;
  std::string subject;  // decoded, accents intact
  std::string method;   // iCalendar METHOD, "" when there is no invite
  int segments;         // of the SMS with kLongPlace (GSM-7)
  bool mentions_place;
};

// date_short of 2026-12-03T10:30:00+01:00 in Europe/Paris is "jeudi 3/12 à 10h30".
const std::vector<EventCase> kEvents = {
    {"rdv_created", "Votre RDV Service social du jeudi 3/12 à 10h30 est confirmé", "PUBLISH", 2,
     true},
    {"rdv_updated", "Votre RDV Service social a été modifié : jeudi 3/12 à 10h30", "PUBLISH", 2,
     true},
    {"rdv_upcoming_reminder", "Rappel : RDV Service social le jeudi 3/12 à 10h30", "PUBLISH", 2,
     true},
    {"rdv_cancelled", "Votre RDV Service social du jeudi 3/12 à 10h30 a été annulé", "CANCEL", 1,
     false},
    {"new_creneau_available", "Un créneau de RDV Service social s'est libéré", "", 1, false},
};

std::vector<std::string> part_types(const json& eml) {
  std::vector<std::string> types;
  for (const auto& p : eml["parts"]) types.push_back(p["type"]);
  return types;
}

void check_sms(Scenario& s, const EventCase& c, const json& payload) {
  auto sms = s.message(payload["key"].get<std::string>() + ":sms");
  CHECK(sms["encoding"] == "gsm7");
  CHECK(sms["segments"] == std::to_string(c.segments));
  auto [code, out] = render(s.config_path, "77", c.event, content_of(payload));
  INFO(out);
  REQUIRE(code == 0);
  CHECK(rendered_segments(out) == c.segments);
  CHECK_THAT(out, Catch::Contains("jeudi 3/12 à 10h30"));  // à is GSM-7: kept
  CHECK_THAT(out, Catch::Contains("https://www.rdv-solidarites.fr/r/4521/abc"));
  if (c.mentions_place) {
    CHECK_THAT(out, Catch::Contains("Fontainebleau - l'accueil est au 1er étage"));  // – -> -
    CHECK_THAT(out, !Catch::Contains("–"));
  }
}

void check_email(Scenario& s, const EventCase& c, const json& payload) {
  std::string id = payload["key"].get<std::string>() + ":email";
  json eml = parse_eml(eml_path(s.dir + "/outbox", id));
  CHECK(eml["defects"].empty());
  CHECK(eml["subject"] == c.subject);
  CHECK(eml["from"]["name"] == "RDV Solidarités");
  CHECK(eml["from"]["address"] == "ne-pas-repondre@rdv-solidarites.fr");
  CHECK(eml["to"]["count"] == 1);
  CHECK(eml["to"]["name"] == "Zoé <b>L'Hôte</b>");
  CHECK(eml["to"]["address"] == "zoe.lhote@example.fr");
  CHECK(eml["message_id"] ==
        "<" + payload["key"].get<std::string>() + ".email@rdv-solidarites.fr>");

  std::vector<std::string> alternative{"multipart/alternative", "text/plain", "text/html"};
  std::vector<std::string> expected = alternative;
  if (!c.method.empty()) {
    expected.insert(expected.begin(), "multipart/mixed");
    expected.push_back("text/calendar");
  }
  CHECK(part_types(eml) == expected);

  std::string text = part_of(eml, "text/plain")["content"];
  std::string html = part_of(eml, "text/html")["content"];
  CHECK_THAT(text, Catch::Contains("Bonjour Zoé <b>L'Hôte</b>,"));  // plain text: not escaped
  CHECK_THAT(html, Catch::Contains("Bonjour Zoé &lt;b&gt;L&apos;Hôte&lt;/b&gt;,"));
  CHECK_THAT(html, !Catch::Contains("<b>L"));
  if (c.mentions_place) {
    CHECK_THAT(text, Catch::Contains(kLongPlace));  // email keeps the en dash
    CHECK_THAT(html, Catch::Contains("Fontainebleau – l&apos;accueil"));
  }
}

}  // namespace

TEST_CASE("each event sends an SMS and an email with the right content", "[integration][content]") {
  Scenario s;
  s.start_daemon();
  for (const auto& c : kEvents) s.enqueue(appointment("rdv-4521-" + c.event, c.event));
  for (const auto& c : kEvents) {
    REQUIRE(s.wait_status("rdv-4521-" + c.event + ":sms", "sent"));
    REQUIRE(s.wait_status("rdv-4521-" + c.event + ":email", "sent"));
  }
  std::map<std::string, std::string> uids;
  for (const auto& c : kEvents) {
    INFO(c.event);
    json payload = appointment("rdv-4521-" + c.event, c.event);
    check_sms(s, c, payload);
    check_email(s, c, payload);
    json eml = parse_eml(eml_path(s.dir + "/outbox", "rdv-4521-" + c.event + ":email"));
    json calendar = part_of(eml, "text/calendar");
    if (c.method.empty()) {
      CHECK(calendar.is_null());
      continue;
    }
    REQUIRE(calendar.is_object());
    CHECK(calendar["method"] == c.method);
    std::string ics = calendar["content"];
    CHECK(ics_property(ics, "METHOD") == c.method);
    CHECK(ics_property(ics, "DTSTART") == "20261203T093000Z");
    uids[c.event] = ics_property(ics, "UID");
  }
  // One appointment, one calendar entry: every event of rdv 4521 updates the same UID, which
  // comes from data.rdv_id and not from the message key.
  REQUIRE(uids.size() == 4);
  CHECK_THAT(uids["rdv_created"], Catch::Contains("4521"));
  CHECK_THAT(uids["rdv_created"], !Catch::Contains("rdv_created"));
  for (const auto& [event, uid] : uids) CHECK(uid == uids["rdv_created"]);
}

TEST_CASE("La Réunion: the number gets +262 and the date is in Indian/Reunion time",
          "[integration][content]") {
  TestConfig config;
  config.departments = "  \"974\": {name: La Réunion}\n";
  Scenario s(config);
  s.start_daemon();
  json payload = appointment("rdv-9741-reminder", "rdv_upcoming_reminder", "974");
  payload["recipient"]["phone"] = "0692 12 34 56";
  payload["data"]["starts_at"] = "2026-12-03T06:30:00Z";  // 10h30 in Réunion, 7h30 in Paris
  payload["data"]["place"] = "Maison départementale de Saint-Denis, 2 rue de l'Hôtel de Ville";
  s.enqueue(payload);
  REQUIRE(s.wait_status("rdv-9741-reminder:sms", "sent"));
  REQUIRE(s.wait_status("rdv-9741-reminder:email", "sent"));

  auto stored = s.redis.command({"GET", "rappel:content:rdv-9741-reminder:sms"});
  REQUIRE(stored);
  REQUIRE(stored->type == REDIS_REPLY_STRING);
  json content = json::parse(std::string(stored->str, stored->len));
  CHECK(content["recipient"]["phone"] == "+262692123456");
  CHECK(s.message("rdv-9741-reminder:sms")["encoding"] == "gsm7");
  std::string logs = s.all_logs();
  CHECK_THAT(logs, Catch::Contains("+262"));  // masked, but the country is visible
  CHECK_THAT(logs, !Catch::Contains("692123456"));
  CHECK_THAT(logs, !Catch::Contains("0692 12 34 56"));

  json eml = parse_eml(eml_path(s.dir + "/outbox", "rdv-9741-reminder:email"));
  CHECK(eml["subject"] == "Rappel : RDV Service social le jeudi 3/12 à 10h30");
  std::string text = part_of(eml, "text/plain")["content"];
  CHECK_THAT(text, Catch::Contains("jeudi 3 décembre 2026 à 10h30"));
  CHECK_THAT(text, Catch::Contains("La Réunion"));  // department_name in the signature

  auto [code, out] = render(s.config_path, "974", "rdv_upcoming_reminder", content_of(payload));
  INFO(out);
  CHECK(code == 0);
  CHECK_THAT(out, Catch::Contains("Rappel RDV Service social le jeudi 3/12 à 10h30 : "));
  CHECK_THAT(out, !Catch::Contains("7h30"));
  // The same instant for a metropolitan département reads in Paris time.
  auto [paris_code, paris] =
      render(s.config_path, "77", "rdv_upcoming_reminder", content_of(payload));
  CHECK_THAT(paris, Catch::Contains("jeudi 3/12 à 7h30"));
}

TEST_CASE("a name in Cyrillic makes the SMS UCS-2, counted as such; a Latin name stays GSM-7",
          "[integration][content]") {
  // No default SMS names the person (short and impersonal); Seine-Saint-Denis greets by name.
  TempDir templates;
  write_file(templates.path, "rdv_upcoming_reminder/sms.mustache",
             "Bonjour {{name}}, rappel de votre RDV {{service}} le {{date_short}} : {{url}}\n");
  TestConfig config;
  config.departments =
      "  \"93\": {name: Seine-Saint-Denis, templates: \"" + templates.path + "\"}\n";
  Scenario s(config);
  s.start_daemon();
  json cyrillic = appointment("rdv-9301-reminder", "rdv_upcoming_reminder", "93");
  cyrillic["channels"] = {"sms"};
  cyrillic["recipient"]["name"] = "Алексей Смирнов";
  json latin = cyrillic;
  latin["key"] = "rdv-9302-reminder";
  latin["recipient"]["name"] = "Zoé L'Hôte";
  s.enqueue(cyrillic);
  s.enqueue(latin);
  REQUIRE(s.wait_status("rdv-9301-reminder:sms", "sent"));
  REQUIRE(s.wait_status("rdv-9302-reminder:sms", "sent"));

  // 125 characters: one GSM-7 SMS would hold them (160), UCS-2 needs two parts (67 each).
  auto ucs2 = s.message("rdv-9301-reminder:sms");
  CHECK(ucs2["encoding"] == "ucs2");
  CHECK(ucs2["segments"] == "2");
  auto gsm7 = s.message("rdv-9302-reminder:sms");
  CHECK(gsm7["encoding"] == "gsm7");
  CHECK(gsm7["segments"] == "1");

  auto [code, out] = render(s.config_path, "93", "rdv_upcoming_reminder", content_of(cyrillic));
  INFO(out);
  CHECK(code == 0);
  CHECK_THAT(out, Catch::Contains("== SMS (2 segment(s), ucs2)"));
  CHECK_THAT(out,
             Catch::Contains("Bonjour Алексей Смирнов, rappel de votre RDV Service social le "
                             "jeudi 3/12 à 10h30 : https://www.rdv-solidarites.fr/r/4521/abc"));
}

namespace {

// Nord pays for one segment. Its cancellation SMS names the place and has no short variant; its
// "new slot" SMS does too, but has a short variant. The reminder uses the default templates,
// whose short variant drops the place.
std::string nord_with_one_segment(const std::string& templates) {
  write_file(
      templates, "rdv_cancelled/sms.mustache",
      "Votre RDV {{service}} du {{date_short}} ({{place}}) a été annulé. Pour reprendre RDV : "
      "{{url}}{{#phone}} ou au {{phone}}{{/phone}}.\n");
  write_file(templates, "new_creneau_available/sms.mustache",
             "Un créneau de RDV {{service}} s'est libéré le {{date_short}} ({{place}}). Pour le "
             "réserver : {{url}}{{#phone}} ou au {{phone}}{{/phone}}.\n");
  write_file(templates, "new_creneau_available/sms_short.mustache",
             "Créneau {{service}} libre le {{date_short}}, pour le réserver : {{url}}\n");
  return "  \"59\": {name: Nord, sms: {max_segments: 1}, templates: \"" + templates + "\"}\n";
}

}  // namespace

TEST_CASE("an SMS over the département's limit uses its short variant, else fails as too long",
          "[integration][content]") {
  TempDir templates;
  TestConfig config;
  config.departments = nord_with_one_segment(templates.path);
  Scenario s(config);
  s.start_daemon();
  for (std::string event : {"rdv_cancelled", "new_creneau_available", "rdv_upcoming_reminder"}) {
    json payload = appointment("rdv-5901-" + event, event, "59");
    payload["channels"] = {"sms"};
    s.enqueue(payload);
  }
  REQUIRE(s.wait_status("rdv-5901-rdv_cancelled:sms", "failed"));
  REQUIRE(s.wait_status("rdv-5901-new_creneau_available:sms", "sent"));
  REQUIRE(s.wait_status("rdv-5901-rdv_upcoming_reminder:sms", "sent"));

  auto failed = s.message("rdv-5901-rdv_cancelled:sms");
  CHECK_THAT(failed["error"], Catch::Contains("too long"));
  CHECK_THAT(failed["error"], Catch::Contains("limit 1"));
  CHECK(s.all_logs().find("SMS rdv-5901-rdv_cancelled:sms") == std::string::npos);  // no provider
  for (std::string event : {"new_creneau_available", "rdv_upcoming_reminder"}) {
    INFO(event);
    auto sent = s.message("rdv-5901-" + event + ":sms");
    CHECK(sent["segments"] == "1");
    CHECK(sent["encoding"] == "gsm7");
  }

  json content = content_of(appointment("rdv-5901", "new_creneau_available", "59"));
  auto [code, out] = render(s.config_path, "59", "new_creneau_available", content);
  INFO(out);
  CHECK(code == 0);
  CHECK_THAT(out, Catch::Contains("== SMS (1 segment(s), gsm7)\nCréneau Service social libre le "
                                  "jeudi 3/12 à 10h30, pour le réserver : "));
  auto [cancel_code, cancel] = render(s.config_path, "59", "rdv_cancelled", content);
  CHECK(cancel_code == 1);
  CHECK_THAT(cancel, Catch::Contains("cannot be sent: SMS too long"));
}

TEST_CASE("check-config reports every SMS's length and rejects a broken template with its position",
          "[integration][content]") {
  TempDir dir;
  TestConfig config;
  config.redis_url = "redis://127.0.0.1:1/0";  // check-config does not connect
  config.outbox = dir.path + "/outbox";
  config.departments =
      "  \"974\": {name: La Réunion}\n" + nord_with_one_segment(dir.path + "/nord");
  std::string path = write_config(dir.path, config);
  auto [code, out] = run_rappel({"check-config", "--config", path});
  INFO(out);
  CHECK(code == 0);
  for (std::string department : {"default", "974", "59"})
    for (const auto& c : kEvents) {
      if (department == "59" && c.event == "rdv_cancelled") continue;
      std::regex line("département " + department + ", " + c.event +
                      ": SMS of \\d+ characters, [12] segment\\(s\\), gsm7\n");
      INFO(department << " " << c.event);
      CHECK(std::regex_search(out, line));
    }
  // The sample reminder: "Rappel RDV PMI le jeudi 3/12 à 13h30 : Maison départementale des
  // solidarités, 12 rue de la Paix, 77000 Melun. Infos et annulation : <url> ou au <phone>."
  CHECK_THAT(out, Catch::Contains("département 974, rdv_upcoming_reminder: SMS of 195 characters, "
                                  "2 segment(s), gsm7\n"));
  CHECK_THAT(out, Catch::Contains("warning: département 59, rdv_cancelled: SMS too long"));
  CHECK_THAT(out, Catch::Contains("configuration OK"));

  // "Lieu : {{place}." never closes its tag: line 2, column 8.
  write_file(dir.path + "/broken", "rdv_created/sms.mustache",
             "RDV {{service}} confirmé le {{date_short}}\nLieu : {{place}.\n");
  config.departments = "  \"13\": {templates: \"" + dir.path + "/broken\"}\n";
  path = write_config(dir.path, config);
  auto [broken_code, broken] = run_rappel({"check-config", "--config", path});
  INFO(broken);
  CHECK(broken_code == 1);
  CHECK_THAT(broken, Catch::Contains(dir.path + "/broken/rdv_created/sms.mustache:2:8: "));
}

TEST_CASE("CR/LF in the data cannot add a header to the email", "[integration][content]") {
  Scenario s;
  s.start_daemon();
  json payload = appointment("rdv-4600-reminder", "rdv_upcoming_reminder");
  payload["channels"] = {"email"};
  payload["data"]["service"] = "PMI\r\nBcc: evil@example.com";
  payload["recipient"]["name"] = "Camille Martin\r\nBcc: evil2@example.com";
  s.enqueue(payload);
  REQUIRE(s.wait_status("rdv-4600-reminder:email", "sent"));

  std::string path = eml_path(s.dir + "/outbox", "rdv-4600-reminder:email");
  json eml = parse_eml(path);
  for (const auto& header : eml["headers"]) CHECK(header != "bcc");
  CHECK(eml["subject"] == "Rappel : RDV PMI Bcc: evil@example.com le jeudi 3/12 à 10h30");
  CHECK(eml["to"]["count"] == 1);
  CHECK(eml["to"]["address"] == "zoe.lhote@example.fr");
  std::string head = read_text_file(path);
  head = head.substr(0, head.find("\r\n\r\n"));
  CHECK_THAT(head, !Catch::Contains("\nBcc:", Catch::CaseSensitive::No));
}
