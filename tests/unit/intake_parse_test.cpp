// Intake validation: what the backend's JSON entries become (schedule, cancel or reject).
//
// Every rejection reason is checked by what it says, because the backend's developers act on it,
// and every reason is checked for the payload's personal data, because the events stream that
// carries reasons is read by people. The Config is a real one loaded from YAML (providers `log`
// and `file`), so département and event lookups go through the real code.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "daemon/content/ics.hpp"
#include "daemon/pipeline/intake_parse.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace rappel;

namespace {

// 2026-12-01T09:30:00Z, checked with `date -u -d 2026-12-01T09:30:00Z +%s`.
constexpr Millis kDecemberFirstAt0930Utc = 1796117400000;
constexpr Millis kNow = 1795000000000;  // some time in November 2026
constexpr const char* kEntry = "1764581400000-0";

std::shared_ptr<Config> load_test_config() {
  auto dir =
      fs::temp_directory_path() / ("rappel-intake-" + std::to_string(std::random_device()()));
  fs::create_directories(dir);
  std::ofstream(dir / "rappel.yaml") << "templates: {directory: \"" RAPPEL_SOURCE_DIR
                                        "/templates\"}\n"
                                        "intake: {max_payload: 2048}\n"
                                        "providers:\n"
                                        "  journal: {type: log}\n"
                                        "  outbox: {type: file, directory: outbox}\n"
                                        "departments:\n"
                                        "  default:\n"
                                        "    sms: {provider: journal, sender: RdvSoli}\n"
                                        "    email: {provider: outbox}\n"
                                        "  \"77\": {name: Seine-et-Marne}\n"
                                        "  \"974\": {name: La Réunion}\n";
  boost::asio::io_context io;
  ProviderContext ctx{io, nullptr};
  auto config = load_config((dir / "rappel.yaml").string(), ctx);
  fs::remove_all(dir);
  return config;
}

const Config& config() {
  static std::shared_ptr<Config> loaded = load_test_config();
  return *loaded;
}

// A valid reminder for Aïcha Benali, in Seine-et-Marne.
json reminder() {
  return {{"op", "schedule"},
          {"key", "rdv-48213:reminder-48h"},
          {"department", "77"},
          {"event", "rdv_upcoming_reminder"},
          {"channels", {"sms", "email"}},
          {"recipient",
           {{"phone", "06 12 34 56 78"},
            {"email", "aicha.benali@example.fr"},
            {"name", "Aïcha Benali"}}},
          {"data",
           {{"starts_at", "2026-12-03T14:30:00+01:00"},
            {"place", "MDS de Meaux, 12 rue de la Gare"},
            {"service", "RSA"}}}};
}

std::vector<IntakeOp> parse_raw(const std::string& payload) {
  return parse_intake_entry(kEntry, {{"payload", payload}}, config(), kNow);
}

std::vector<IntakeOp> parse(const json& payload) {
  return parse_raw(payload.dump());
}

// The single reject operation that `payload` gives, or a failed test.
IntakeOp rejected(const json& payload) {
  auto ops = parse(payload);
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].kind == IntakeOp::Kind::reject);
  CHECK(ops[0].entry == kEntry);
  return ops[0];
}

std::string reason(const json& payload) {
  return rejected(payload).error;
}

// `payload` without `field`, or with `field` set to `value`.
json without(json payload, const std::string& field) {
  payload.erase(field);
  return payload;
}
json with(json payload, const std::string& field, json value) {
  payload[field] = std::move(value);
  return payload;
}
json with_recipient(json payload, const std::string& field, json value) {
  payload["recipient"][field] = std::move(value);
  return payload;
}

}  // namespace

TEST_CASE("a valid reminder becomes one schedule with both channels", "[intake]") {
  auto ops = parse(reminder());
  REQUIRE(ops.size() == 1);
  const IntakeOp& op = ops[0];
  CHECK(op.kind == IntakeOp::Kind::schedule);
  CHECK(op.entry == kEntry);
  CHECK(op.key == "rdv-48213:reminder-48h");
  CHECK(op.department == "77");
  CHECK(op.event == "rdv_upcoming_reminder");
  CHECK(op.channels == std::vector<std::string>{"sms", "email"});
  CHECK(op.send_at_ms == kNow);  // no send_at: now
  CHECK(op.expires_at_ms == 0);  // no expires_at: never
  CHECK(op.error.empty());

  json content = json::parse(op.content);
  CHECK(content["recipient"]["phone"] == "+33612345678");
  CHECK(content["recipient"]["email"] == "aicha.benali@example.fr");
  CHECK(content["recipient"]["name"] == "Aïcha Benali");
  CHECK(content["data"]["place"] == "MDS de Meaux, 12 rue de la Gare");
}

TEST_CASE("send_at and expires_at are read with their offsets", "[intake]") {
  json payload = reminder();
  payload["send_at"] = "2026-12-01T10:30:00+01:00";
  payload["expires_at"] = "2026-12-03T14:30:00+01:00";
  auto ops = parse(payload);
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].send_at_ms == kDecemberFirstAt0930Utc);
  CHECK(ops[0].expires_at_ms == kDecemberFirstAt0930Utc + (2 * 24 + 4) * 3600 * 1000LL);

  // La Réunion is UTC+4: the same instant written in local time.
  payload["department"] = "974";
  payload["recipient"]["phone"] = "0692 12 34 56";
  payload["send_at"] = "2026-12-01T13:30:00+04:00";
  ops = parse(payload);
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].send_at_ms == kDecemberFirstAt0930Utc);
  CHECK(json::parse(ops[0].content)["recipient"]["phone"] == "+262692123456");

  // null means absent.
  payload["send_at"] = nullptr;
  CHECK(parse(payload)[0].send_at_ms == kNow);
}

TEST_CASE("a cancel names only the key", "[intake]") {
  auto ops = parse(json{{"op", "cancel"}, {"key", "rdv-48213:reminder-48h"}});
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].kind == IntakeOp::Kind::cancel);
  CHECK(ops[0].key == "rdv-48213:reminder-48h");
  CHECK(ops[0].entry == kEntry);
}

TEST_CASE("entries that are not JSON objects are rejected", "[intake]") {
  auto no_payload = parse_intake_entry(kEntry, {{"data", reminder().dump()}}, config(), kNow);
  REQUIRE(no_payload.size() == 1);
  CHECK(no_payload[0].kind == IntakeOp::Kind::reject);
  CHECK(no_payload[0].error == "the entry has no 'payload' field");

  CHECK(parse_raw("{\"op\": \"schedule\", \"key\": ")[0].error == "payload is not valid JSON");
  CHECK(parse_raw("")[0].error == "payload is not valid JSON");
  CHECK(parse_raw("[\"schedule\"]")[0].error == "payload must be a JSON object");
  CHECK(parse_raw("\"rdv-48213\"")[0].error == "payload must be a JSON object");
}

TEST_CASE("the payload size limit is inclusive", "[intake]") {
  json payload = reminder();
  payload["data"]["notes"] = "";
  std::size_t base = payload.dump().size();
  payload["data"]["notes"] = std::string(2048 - base, 'x');
  REQUIRE(payload.dump().size() == 2048);
  CHECK(parse(payload)[0].kind == IntakeOp::Kind::schedule);
  payload["data"]["notes"] = std::string(2049 - base, 'x');
  CHECK(reason(payload) == "payload too large: 2049 bytes (limit 2048)");
}

TEST_CASE("missing fields are named", "[intake]") {
  for (const char* field : {"op", "key", "department", "event", "channels"}) {
    INFO(field);
    CHECK(reason(without(reminder(), field)) == std::string("missing field '") + field + "'");
  }
  CHECK(reason(without(reminder(), "recipient")) == "field 'recipient' must be an object");
}

TEST_CASE("fields of the wrong type are named", "[intake]") {
  CHECK(reason(with(reminder(), "op", 1)) == "field 'op' must be a string");
  CHECK(reason(with(reminder(), "key", 48213)) == "field 'key' must be a string");
  CHECK(reason(with(reminder(), "department", 77)) == "field 'department' must be a string");
  CHECK(reason(with(reminder(), "event", nullptr)) == "field 'event' must be a string");
  CHECK(reason(with(reminder(), "channels", "sms")) ==
        "field 'channels' must be a non-empty list of \"sms\" and/or \"email\"");
  CHECK(reason(with(reminder(), "channels", json::array())) ==
        "field 'channels' must be a non-empty list of \"sms\" and/or \"email\"");
  CHECK(reason(with(reminder(), "recipient", "06 12 34 56 78")) ==
        "field 'recipient' must be an object");
  CHECK(reason(with(reminder(), "send_at", 1796117400000)) == "field 'send_at' must be a string");
  CHECK(reason(with(reminder(), "data", json::array())) == "field 'data' must be an object");
  CHECK(reason(with_recipient(reminder(), "name", 42)) ==
        "field 'recipient.name' must be a string");
}

TEST_CASE("op, key and channels are checked", "[intake]") {
  CHECK(reason(with(reminder(), "op", "reschedule")) ==
        "field 'op' must be \"schedule\" or \"cancel\"");
  const std::string key_rule =
      "field 'key' must be 1 to 200 characters among letters, digits and -_.:/@+";
  CHECK(reason(with(reminder(), "key", "rdv 48213")) == key_rule);
  CHECK(reason(with(reminder(), "key", "rdv-48213#rappel")) == key_rule);
  CHECK(reason(with(reminder(), "key", "rendez-vous-é")) == key_rule);
  CHECK(reason(with(reminder(), "key", "")) == key_rule);
  CHECK(reason(with(reminder(), "key", std::string(201, 'k'))) == key_rule);
  CHECK(parse(with(reminder(), "key", std::string(200, 'k')))[0].kind == IntakeOp::Kind::schedule);
  CHECK(parse(with(reminder(), "key", "org/12:rdv-48213.a_b@x+1"))[0].kind ==
        IntakeOp::Kind::schedule);

  CHECK(reason(with(reminder(), "channels", {"sms", "sms"})) ==
        "field 'channels' lists a channel twice");
  CHECK(reason(with(reminder(), "channels", {"sms", "whatsapp"})) ==
        "field 'channels' may only contain \"sms\" and \"email\"");
  CHECK(reason(with(reminder(), "channels", {"SMS"})) ==
        "field 'channels' may only contain \"sms\" and \"email\"");
}

TEST_CASE("unknown fields are refused at top level and in recipient", "[intake]") {
  CHECK(reason(with(reminder(), "urgency", "high")) == "unknown field 'urgency'");
  CHECK(reason(with_recipient(reminder(), "address", "12 rue de la Gare")) ==
        "unknown field 'recipient.address'");
  CHECK(reason(json{{"op", "cancel"}, {"key", "rdv-48213"}, {"reason", "x"}}) ==
        "unknown field 'reason'");
}

TEST_CASE("département, event and times are checked", "[intake]") {
  CHECK(reason(with(reminder(), "department", "99")) == "unknown département '99'");
  CHECK(reason(with(reminder(), "department", "default")) ==
        "unknown département (not a département code)");
  // A real département not configured uses the defaults.
  CHECK(parse(with(reminder(), "department", "13"))[0].kind == IntakeOp::Kind::schedule);
  CHECK(reason(with(reminder(), "event", "rdv_forgotten")) ==
        "unknown event 'rdv_forgotten' (no such template)");
  const std::string time_rule =
      "' is not an ISO-8601 time with an offset (e.g. 2026-12-01T10:30:00+01:00)";
  CHECK(reason(with(reminder(), "send_at", "2026-12-01T10:30:00")) == "field 'send_at" + time_rule);
  CHECK(reason(with(reminder(), "expires_at", "03/12/2026 14h30")) ==
        "field 'expires_at" + time_rule);
  // An offset no place has would move the message by days (found from outside: sent).
  CHECK(reason(with(reminder(), "send_at", "2026-12-01T10:30:00+99:00")) ==
        "field 'send_at" + time_rule);
}

TEST_CASE("a landline rejects the SMS and keeps the email", "[intake]") {
  json payload = with_recipient(reminder(), "phone", "01 64 14 77 77");
  auto ops = parse(payload);
  REQUIRE(ops.size() == 2);
  CHECK(ops[0].kind == IntakeOp::Kind::schedule);
  CHECK(ops[0].channels == std::vector<std::string>{"email"});
  CHECK(ops[1].kind == IntakeOp::Kind::reject);
  CHECK(ops[1].channels == std::vector<std::string>{"sms"});
  CHECK(ops[1].error == "recipient.phone: not a mobile number (landline)");
  for (const auto& op : ops) {
    CHECK(op.entry == kEntry);
    CHECK(op.key == "rdv-48213:reminder-48h");
    CHECK(op.department == "77");
    CHECK(op.event == "rdv_upcoming_reminder");
  }
}

TEST_CASE("a channel without its address is rejected alone", "[intake]") {
  json no_email = reminder();
  no_email["recipient"].erase("email");
  auto ops = parse(no_email);
  REQUIRE(ops.size() == 2);
  CHECK(ops[0].channels == std::vector<std::string>{"sms"});
  CHECK(ops[1].channels == std::vector<std::string>{"email"});
  CHECK(ops[1].error == "recipient.email is required for the email channel");

  // Every channel unusable: rejects only, no schedule.
  json payload = with_recipient(reminder(), "email", "aicha.benali@");
  payload["recipient"]["phone"] = "";
  ops = parse(payload);
  REQUIRE(ops.size() == 2);
  CHECK(ops[0].kind == IntakeOp::Kind::reject);
  CHECK(ops[0].error == "recipient.phone is required for the sms channel");
  CHECK(ops[1].kind == IntakeOp::Kind::reject);
  CHECK(ops[1].error == "recipient.email is not a valid address");
}

TEST_CASE("rejection reasons never quote personal data", "[intake]") {
  std::vector<json> bad = {
      with_recipient(reminder(), "phone", "01 64 14 77 77"),
      with_recipient(reminder(), "phone", "06 12 34"),
      with_recipient(reminder(), "phone", "+44 7700 900123"),
      with_recipient(reminder(), "email", "aicha.benali@@example.fr"),
      with_recipient(reminder(), "name", json{{"first", "Aïcha"}}),
      with(reminder(), "send_at", "Aïcha Benali 0612345678"),
      with(reminder(), "data", "aicha.benali@example.fr"),
      without(reminder(), "event"),
  };
  for (const auto& payload : bad) {
    for (const auto& op : parse(payload)) {
      if (op.kind != IntakeOp::Kind::reject) continue;
      INFO(op.error);
      for (const char* personal : {"12 34", "1234", "612345678", "64 14", "641477", "7700",
                                   "900123", "aicha", "Aïcha", "example.fr"})
        CHECK(op.error.find(personal) == std::string::npos);
    }
  }
}

TEST_CASE("a rejected entry keeps the identity it had, when valid", "[intake]") {
  IntakeOp op = rejected(with(reminder(), "event", "rdv_forgotten"));
  CHECK(op.key == "rdv-48213:reminder-48h");
  CHECK(op.department == "77");
  CHECK(op.event == "rdv_forgotten");
  CHECK(op.channels == std::vector<std::string>{"sms", "email"});

  // Invalid channels are dropped from what is salvaged, duplicates once.
  op = rejected(with(reminder(), "channels", {"email", "fax", "email"}));
  CHECK(op.key == "rdv-48213:reminder-48h");
  CHECK(op.channels == std::vector<std::string>{"email"});

  // An invalid key is not carried, and without a key no channel is either.
  op = rejected(with(reminder(), "key", "rdv 48213"));
  CHECK(op.key.empty());
  CHECK(op.channels.empty());

  // Nothing to salvage from something that is not JSON.
  op = parse_raw("{\"key\": \"rdv-48213\",")[0];
  CHECK(op.key.empty());
  CHECK(op.channels.empty());
}

TEST_CASE("what is salvaged from a rejected entry stays valid UTF-8", "[intake]") {
  // Only code-shaped names are salvaged: a name cut inside "’" or "é" would leave half a
  // character, which the store cannot write (nlohmann::json refuses it) and which once stopped
  // the daemon.
  IntakeOp op = rejected(with(reminder(), "department", "Côte-d’Or"));
  CHECK(op.error == "unknown département (not a département code)");
  CHECK(op.department.empty());
  std::string event = std::string(63, 'x') + "é_rappel";
  op = rejected(with(reminder(), "event", event));
  CHECK(op.event.empty());
  for (const auto& text : {op.department, op.event, op.error, op.key})
    CHECK_NOTHROW(json(text).dump());
}

TEST_CASE("the appointment's times must be readable when given", "[intake]") {
  const std::string rule =
      "' is not an ISO-8601 time with an offset (e.g. 2026-12-03T10:30:00+01:00)";
  auto with_data = [](const char* name, json value) {
    json payload = reminder();
    payload["data"][name] = std::move(value);
    return payload;
  };
  // Without them the SMS would read "Rappel RDV PMI le  : ...".
  CHECK(reason(with_data("starts_at", "2026-12-03T14:30:00")) == "field 'data.starts_at" + rule);
  CHECK(reason(with_data("starts_at", "jeudi 3 décembre")) == "field 'data.starts_at" + rule);
  CHECK(reason(with_data("starts_at", 1796301000)) == "field 'data.starts_at" + rule);
  CHECK(reason(with_data("ends_at", "2026-12-03T25:00:00+01:00")) == "field 'data.ends_at" + rule);
  // The shapes backends write are read: Python's microseconds, "+0100", no seconds, null.
  for (json ok : {json("2026-12-03T14:30:00.123456+01:00"), json("2026-12-03T14:30:00+0100"),
                  json("2026-12-03T13:30Z"), json(nullptr)})
    CHECK(parse(with_data("starts_at", ok))[0].kind == IntakeOp::Kind::schedule);
  json no_date = reminder();
  no_date["data"].erase("starts_at");
  CHECK(parse(no_date)[0].kind == IntakeOp::Kind::schedule);
}

TEST_CASE("deeply nested payloads are refused before anything walks them", "[intake]") {
  json payload = reminder();
  payload.erase("data");
  std::string deep = "[]";
  for (int i = 0; i < 200; ++i) deep = "[" + deep + "]";
  std::string text = payload.dump();
  text.insert(text.size() - 1, ",\"data\":{\"x\":" + deep + "}");
  auto ops = parse_raw(text);
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].error == "payload nested too deeply (more than 32 levels)");
  CHECK(ops[0].key == "rdv-48213:reminder-48h");
  payload["data"] = {{"starts_at", "2026-12-03T14:30:00+01:00"},
                     {"place", {{"name", "MDS de Meaux"}, {"address", {"12 rue de la Gare"}}}}};
  CHECK(parse(payload)[0].kind == IntakeOp::Kind::schedule);
}

// The calendar's SEQUENCE and DTSTAMP come from the entry's time (daemon/content/mime.hpp,
// calendar_revision): intake keeps it with the content, the only place that knows it.
TEST_CASE("the entry's time is kept with the content for the calendar", "[intake]") {
  auto ops = parse(reminder());
  REQUIRE(ops.size() == 1);
  CHECK(json::parse(ops[0].content)["entry_ms"] == 1764581400000);
  auto odd = parse_intake_entry("not-an-id", {{"payload", reminder().dump()}}, config(), kNow);
  REQUIRE(odd.size() == 1);
  CHECK_FALSE(json::parse(odd[0].content).contains("entry_ms"));
}

TEST_CASE("data.revision, when given, is a calendar sequence", "[intake]") {
  json payload = reminder();
  for (json good : {json(0), json(12), json(2147483646), json(nullptr)}) {
    payload["data"]["revision"] = good;
    INFO(good.dump());
    CHECK(parse(payload)[0].kind == IntakeOp::Kind::schedule);
  }
  for (json bad : {json(-1), json(2147483647), json(1.5), json("3"), json::array()}) {
    payload["data"]["revision"] = bad;
    INFO(bad.dump());
    CHECK(reason(payload) == "field 'data.revision' must be an integer from 0 to 2147483646");
  }
}

TEST_CASE("priority: the event's default, or the entry's own \"priority\"", "[intake][priority]") {
  CHECK(parse(reminder())[0].priority == Priority::normal);
  CHECK(parse(with(reminder(), "event", "new_creneau_available"))[0].priority == Priority::bulk);
  CHECK(parse(with(reminder(), "priority", "high"))[0].priority == Priority::high);
  CHECK(parse(with(with(reminder(), "event", "new_creneau_available"), "priority", "normal"))[0]
            .priority == Priority::normal);
  CHECK(parse(with(reminder(), "priority", nullptr))[0].priority == Priority::normal);
  const std::string why = "field 'priority' must be \"high\", \"normal\" or \"bulk\"";
  CHECK(reason(with(reminder(), "priority", "urgent")) == why);
  CHECK(reason(with(reminder(), "priority", "HIGH")) == why);
  CHECK(reason(with(reminder(), "priority", 1)) == why);
}

TEST_CASE("rejection reasons never copy the payload", "[intake]") {
  // Found from outside: the reason quoted the value unbounded and unescaped, so a long value
  // made a 60,000-character error, a newline forged a log line, a NUL made the log binary and a
  // phone number given as département was written in clear.
  const std::string long_value(1500, 'x');  // within this config's max_payload
  const std::string forged = "99\nrappel[1]: INFO sent to +33612345678";
  const std::string with_nul = std::string("77\0", 3) + "x";
  const std::string phone = "+33612345678";
  for (const auto& value : {long_value, forged, with_nul, phone, std::string("Aïcha Benali")}) {
    INFO(json(value).dump().substr(0, 60));
    for (const char* name : {"department", "event"}) {
      IntakeOp op = rejected(with(reminder(), name, value));
      CHECK(op.error.size() < 80);
      CHECK(op.error.find(value.substr(0, 8)) == std::string::npos);
      CHECK(op.error.find('\n') == std::string::npos);
      CHECK(op.error.find('\0') == std::string::npos);
      CHECK(op.department.find(value.substr(0, 3)) == std::string::npos);
      CHECK(op.event.find(value.substr(0, 3)) == std::string::npos);
    }
    json payload = reminder();
    payload[value] = 1;
    CHECK(reason(payload) == "unknown field (not a field name)");
    payload = reminder();
    payload["recipient"][value] = 1;
    CHECK(reason(payload) == "unknown field in 'recipient' (not a field name)");
  }
  CHECK(reason(with(reminder(), "department", phone)) ==
        "unknown département (not a département code)");
  CHECK(reason(with(reminder(), "event", forged)) ==
        "unknown event (not an event name: a-z, 0-9 and _)");
  // Codes are still named, since that is what the backend's developer needs to fix.
  CHECK(reason(with(reminder(), "department", "2C")) == "unknown département '2C'");
  CHECK(rejected(with(reminder(), "department", "2C")).department == "2C");
}
