// The calendar invitations and message ids of real emails, as implementations no one here wrote
// read them: the .eml files of the `file` outbox go through Python's `email` package and
// python3-icalendar, and the calendar objects through ical.js (Mozilla's calendar parser, from the
// npm registry into <build>/node at test time when scripts/test has not put it there).
//
// One appointment created, updated (moved to the next day) and cancelled must be one calendar
// event whose later versions supersede the earlier ones: one UID, a SEQUENCE that rises, the
// ORGANIZER RFC 5546 requires, and the METHOD of the object matching the part's method=.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>

#include "integration/content_support.hpp"
#include "integration/scenario.hpp"

using namespace rappel::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Each .eml in argv: its headers and its calendar part, read by email and icalendar.
constexpr const char* kCalendarReader = R"PY(
import json, sys
from email import policy
from email.parser import BytesParser
from icalendar import Calendar
out = []
for path in sys.argv[1:]:
    msg = BytesParser(policy=policy.default).parsebytes(open(path, 'rb').read())
    item = {"file": path, "message_id": msg["Message-ID"], "x_mailin": msg["X-Mailin-custom"],
            "from": msg["From"].addresses[0].addr_spec}
    for part in msg.walk():
        if part.get_content_type() != "text/calendar":
            continue
        raw = part.get_payload(decode=True)
        cal = Calendar.from_ical(raw)
        event = cal.walk("VEVENT")[0]
        organizer = event.get("ORGANIZER")
        item.update({"part_method": part.get_param("method"), "ics": raw.decode(),
                     "method": str(cal["METHOD"]), "uid": str(event["UID"]),
                     "sequence": int(event["SEQUENCE"]),
                     "organizer": str(organizer) if organizer is not None else None,
                     "organizer_cn": str(organizer.params.get("CN")) if organizer is not None else None,
                     "dtstart": event.decoded("DTSTART").isoformat(),
                     "dtstamp": event.decoded("DTSTAMP").isoformat(),
                     "status": str(event["STATUS"])})
    out.append(item)
print(json.dumps(out))
)PY";

// Each .ics in argv, read by ical.js (`node -e SCRIPT -- MODULE FILES...`).
constexpr const char* kIcalJsReader = R"JS(
const ICAL = require(process.argv[1]).default;  // the CommonJS build of an ES module
const fs = require('fs');
const out = process.argv.slice(2).map((path) => {
  const cal = new ICAL.Component(ICAL.parse(fs.readFileSync(path, 'utf8')));
  const vevent = cal.getFirstSubcomponent('vevent');
  const event = new ICAL.Event(vevent);
  return {method: cal.getFirstPropertyValue('method'), uid: event.uid, sequence: event.sequence,
          organizer: event.organizer, start: event.startDate.toUnixTime()};
});
console.log(JSON.stringify(out));
)JS";

json run_json(const std::vector<std::string>& argv) {
  ChildOptions options;
  options.argv = argv;
  ChildProcess child(options);
  auto line = child.read_line(std::chrono::seconds(30));
  child.wait(std::chrono::seconds(10));
  REQUIRE(line);
  INFO(*line);
  return json::parse(*line);
}

json read_emails(const std::vector<std::string>& paths) {
  std::vector<std::string> argv = {"/usr/bin/python3", "-c", kCalendarReader};
  for (const auto& p : paths) {
    REQUIRE(fs::exists(p));
    argv.push_back(p);
  }
  return run_json(argv);
}

// ical.js's module directory under the build directory, installed by npm if missing.
std::string icaljs_module() {
  const std::string prefix = RAPPEL_BUILD_DIR "/node";
  const std::string module = prefix + "/node_modules/ical.js";
  if (!fs::exists(module + "/package.json")) {
    std::string command = "npm install --prefix '" + prefix +
                          "' --no-audit --no-fund --no-save --loglevel=error ical.js@2.2.1";
    INFO(command);
    REQUIRE(std::system(command.c_str()) == 0);  // the npm registry must be reachable
  }
  return module;
}

// The email of one event of appointment 4521, written to the inbox at `entry_ms` (the backend's
// time for this revision).
void enqueue_at(Scenario& s, std::int64_t entry_ms, const std::string& event,
                const std::string& starts_at) {
  json payload = appointment("rdv-4521-" + event, event);
  payload["channels"] = {"email"};
  payload["data"]["starts_at"] = starts_at;
  s.redis.command(
      {"XADD", "rappel:inbox", std::to_string(entry_ms) + "-0", "payload", payload.dump()});
}

}  // namespace

TEST_CASE("created, updated, cancelled: one calendar event whose versions supersede each other",
          "[integration][calendar]") {
  Scenario s;
  s.start_daemon();
  // The backend's three revisions, a minute apart.
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  enqueue_at(s, now_ms, "rdv_created", "2026-12-03T10:30:00+01:00");
  enqueue_at(s, now_ms + 60'000, "rdv_updated", "2026-12-04T10:30:00+01:00");
  enqueue_at(s, now_ms + 120'000, "rdv_cancelled", "2026-12-04T10:30:00+01:00");
  std::vector<std::string> paths;
  for (const char* event : {"rdv_created", "rdv_updated", "rdv_cancelled"}) {
    std::string id = "rdv-4521-" + std::string(event) + ":email";
    REQUIRE(s.wait_status(id, "sent"));
    paths.push_back(eml_path(s.dir + "/outbox", id));
  }

  json emails = read_emails(paths);
  REQUIRE(emails.size() == 3);
  for (const auto& e : emails) {
    INFO(e.dump());
    CHECK(e["method"] == e["part_method"]);
    CHECK(e["organizer"] == "mailto:" + e["from"].get<std::string>());
    CHECK(e["organizer_cn"] == "RDV Solidarités");
    CHECK(e["uid"] == emails[0]["uid"]);
  }
  CHECK(emails[0]["method"] == "PUBLISH");
  CHECK(emails[1]["method"] == "PUBLISH");
  CHECK(emails[2]["method"] == "CANCEL");
  CHECK(emails[2]["status"] == "CANCELLED");
  CHECK(emails[0]["dtstart"] == "2026-12-03T09:30:00+00:00");
  CHECK(emails[1]["dtstart"] == "2026-12-04T09:30:00+00:00");
  CHECK(emails[0]["sequence"] < emails[1]["sequence"]);
  CHECK(emails[1]["sequence"] < emails[2]["sequence"]);
  CHECK(emails[0]["dtstamp"] < emails[1]["dtstamp"]);

  // The same objects through Mozilla's parser.
  std::vector<std::string> argv = {"node", "-e", kIcalJsReader, "--", icaljs_module()};
  for (size_t i = 0; i < emails.size(); ++i) {
    std::string path = s.dir + "/event-" + std::to_string(i) + ".ics";
    std::ofstream(path, std::ios::binary) << emails[i]["ics"].get<std::string>();
    argv.push_back(path);
  }
  json mozilla = run_json(argv);
  REQUIRE(mozilla.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    INFO(mozilla[i].dump());
    CHECK(mozilla[i]["method"] == emails[i]["method"]);
    CHECK(mozilla[i]["uid"] == emails[0]["uid"]);
    CHECK(mozilla[i]["sequence"] == emails[i]["sequence"]);
    CHECK(mozilla[i]["organizer"] == "mailto:ne-pas-repondre@rdv-solidarites.fr");
  }
  CHECK(mozilla[1]["start"].get<std::int64_t>() - mozilla[0]["start"].get<std::int64_t>() ==
        86'400);
}

// Keys may hold - _ . : / @ +: keys that differ only there shared one Message-ID and one .eml.
TEST_CASE("keys that differ only in punctuation get their own Message-ID and outbox file",
          "[integration][calendar]") {
  Scenario s;
  s.start_daemon();
  const std::vector<std::string> keys = {"mime-coll/a-13", "mime-coll-a-13", "mime-coll@a-13",
                                         "mime-coll+a-13", "mime-coll:a-13", "mime-coll.a-13"};
  for (const auto& key : keys) {
    json payload = appointment(key, "rdv_created");
    payload["channels"] = {"email"};
    s.enqueue(payload);
  }
  for (const auto& key : keys) REQUIRE(s.wait_status(key + ":email", "sent"));

  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(s.dir + "/outbox"))
    if (entry.path().extension() == ".eml") paths.push_back(entry.path().string());
  CHECK(paths.size() == keys.size());
  json emails = read_emails(paths);
  std::set<std::string> message_ids, x_mailin;
  for (const auto& e : emails) {
    message_ids.insert(e["message_id"].get<std::string>());
    x_mailin.insert(e["x_mailin"].get<std::string>());
  }
  CHECK(message_ids.size() == keys.size());
  // X-Mailin-custom, which Brevo's events echo back, is the exact message id of each.
  std::set<std::string> expected;
  for (const auto& key : keys) expected.insert(key + ":email");
  CHECK(x_mailin == expected);
  // The Message-ID recorded as provider_message_id is the one in the email.
  for (const auto& key : keys)
    CHECK(message_ids.count(s.message(key + ":email")["provider_message_id"]) == 1);
}
