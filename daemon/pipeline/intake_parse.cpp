// See intake_parse.hpp.
#include "daemon/pipeline/intake_parse.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include <nlohmann/json.hpp>

#include "daemon/content/email_address.hpp"
#include "daemon/content/ics.hpp"
#include "daemon/content/mime.hpp"
#include "daemon/content/phone.hpp"

namespace rappel {
namespace {

using nlohmann::json;

struct Rejection {
  std::string reason;
};

constexpr int kMaxDepth = 32;

bool valid_key(std::string_view key) {
  if (key.empty() || key.size() > 200) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':' ||
           c == '/' || c == '@' || c == '+';
  });
}

// Reasons and what is salvaged from a rejected entry are read by people, written to logs and
// shown by the backend: they never copy the payload. A value is named only when it has the shape
// of a code (a département "2A", an event "rdv_created", a field name), which holds no newline,
// no NUL, no phone number or address, and is short; anything else is described, not quoted.
bool code_shaped(std::string_view value, std::size_t max, bool (*allowed)(char)) {
  return !value.empty() && value.size() <= max && std::all_of(value.begin(), value.end(), allowed);
}

bool department_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
}
bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}
bool field_char(char c) {
  return name_char(c) || (c >= 'A' && c <= 'Z');
}

bool department_shaped(std::string_view v) {
  return code_shaped(v, 3, department_char);
}
bool event_shaped(std::string_view v) {
  return code_shaped(v, 64, name_char);
}

std::string unknown_department(std::string_view d) {
  return department_shaped(d) ? "unknown département '" + std::string(d) + "'"
                              : "unknown département (not a département code)";
}

std::string unknown_event(std::string_view e) {
  return event_shaped(e) ? "unknown event '" + std::string(e) + "' (no such template)"
                         : "unknown event (not an event name: a-z, 0-9 and _)";
}

std::string unknown_field(std::string_view where, std::string_view name) {
  if (code_shaped(name, 64, field_char))
    return "unknown field '" + std::string(where) + std::string(name) + "'";
  return where.empty() ? "unknown field (not a field name)"
                       : "unknown field in '" + std::string(where.substr(0, where.size() - 1)) +
                             "' (not a field name)";
}

const json* field(const json& object, const char* name) {
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

std::string required_string(const json& object, const char* name) {
  const json* v = field(object, name);
  if (!v) throw Rejection{std::string("missing field '") + name + "'"};
  if (!v->is_string()) throw Rejection{std::string("field '") + name + "' must be a string"};
  return v->get<std::string>();
}

std::optional<Millis> optional_time(const json& object, const char* name) {
  const json* v = field(object, name);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) throw Rejection{std::string("field '") + name + "' must be a string"};
  auto t = parse_iso8601(v->get<std::string>());
  if (!t)
    throw Rejection{std::string("field '") + name +
                    "' is not an ISO-8601 time with an offset (e.g. 2026-12-01T10:30:00+01:00)"};
  return t;
}

// The appointment's times, which the templates write in French words and the calendar attachment
// carries: one they could not read would send "Rappel RDV le  :" without a date, so it is refused
// here, where the backend sees why.
void check_data_time(const json& data, const char* name) {
  const json* v = field(data, name);
  if (!v || v->is_null()) return;
  if (!v->is_string() || !parse_instant(v->get_ref<const std::string&>()))
    throw Rejection{std::string("field 'data.") + name +
                    "' is not an ISO-8601 time with an offset (e.g. 2026-12-03T10:30:00+01:00)"};
}

// data.revision, the backend's own revision number of the appointment: the calendar invitation's
// SEQUENCE (RFC 5545 integer; a cancellation adds one, so 2^31 - 2 at most).
void check_data_revision(const json& data) {
  const json* v = field(data, "revision");
  if (!v || v->is_null()) return;
  if (!v->is_number_integer() || v->get<std::int64_t>() < 0 ||
      v->get<std::int64_t>() > kMaxCalendarRevision)
    throw Rejection{"field 'data.revision' must be an integer from 0 to " +
                    std::to_string(kMaxCalendarRevision)};
}

// The milliseconds of an inbox entry id ("1764950400000-0"): when the backend wrote the entry.
// Redis never lets them go back in one stream, so a later revision of an appointment has a later
// time (the calendar's SEQUENCE and DTSTAMP, daemon/pipeline/render.cpp).
std::optional<Millis> entry_time(std::string_view entry_id) {
  Millis ms = 0;
  auto [end, ec] = std::from_chars(entry_id.data(), entry_id.data() + entry_id.size(), ms);
  if (ec != std::errc() || end == entry_id.data() || ms <= 0) return std::nullopt;
  return ms;
}

// `"priority"`: absent or null for the event's configured priority.
std::optional<Priority> read_priority(const json& payload) {
  const json* v = field(payload, "priority");
  if (!v || v->is_null()) return std::nullopt;
  auto p = v->is_string() ? priority_from_string(v->get_ref<const std::string&>()) : std::nullopt;
  if (!p) throw Rejection{"field 'priority' must be \"high\", \"normal\" or \"bulk\""};
  return p;
}

void reject_unknown_fields(const json& object, std::initializer_list<std::string_view> known,
                           std::string_view where) {
  for (const auto& [name, value] : object.items()) {
    if (std::find(known.begin(), known.end(), name) == known.end())
      throw Rejection{unknown_field(where, name)};
  }
}

std::vector<std::string> read_channels(const json& payload) {
  const json* v = field(payload, "channels");
  if (!v) throw Rejection{"missing field 'channels'"};
  if (!v->is_array() || v->empty())
    throw Rejection{"field 'channels' must be a non-empty list of \"sms\" and/or \"email\""};
  std::vector<std::string> channels;
  for (const auto& c : *v) {
    if (!c.is_string() || !channel_from_string(c.get<std::string>()))
      throw Rejection{"field 'channels' may only contain \"sms\" and \"email\""};
    if (std::find(channels.begin(), channels.end(), c.get<std::string>()) != channels.end())
      throw Rejection{"field 'channels' lists a channel twice"};
    channels.push_back(c.get<std::string>());
  }
  return channels;
}

// Per channel: why it cannot be sent, or "" when it can. Normalises the phone number in place.
std::string check_channel(const std::string& channel, json& recipient, const DepartmentConfig& dept,
                          const std::string& code) {
  if (channel == "sms") {
    if (!dept.sms) return "no SMS provider configured for département " + code;
    const json* phone = field(recipient, "phone");
    if (!phone || !phone->is_string() || phone->get<std::string>().empty())
      return "recipient.phone is required for the sms channel";
    PhoneCheck check =
        normalize_sms_number(phone->get<std::string>(), dept.region, dept.allowed_regions);
    if (!check.e164) return "recipient.phone: " + check.error;
    recipient["phone"] = *check.e164;
    return "";
  }
  if (!dept.email) return "no email provider configured for département " + code;
  const json* email = field(recipient, "email");
  if (!email || !email->is_string() || email->get<std::string>().empty())
    return "recipient.email is required for the email channel";
  if (!is_valid_email_address(email->get<std::string>()))
    return "recipient.email is not a valid address";
  return "";
}

std::vector<IntakeOp> parse_schedule(IntakeOp base, json& payload, const Config& config,
                                     Millis now) {
  reject_unknown_fields(payload,
                        {"op", "key", "department", "event", "channels", "send_at", "expires_at",
                         "priority", "recipient", "data"},
                        "");
  base.department = required_string(payload, "department");
  base.event = required_string(payload, "event");
  base.channels = read_channels(payload);
  const DepartmentConfig* dept = config.department(base.department);
  if (!dept) throw Rejection{unknown_department(base.department)};
  if (!dept->templates->has_event(base.event)) throw Rejection{unknown_event(base.event)};
  base.priority = read_priority(payload).value_or(dept->priority_of(base.event));
  base.send_at_ms = optional_time(payload, "send_at").value_or(now);
  base.expires_at_ms = optional_time(payload, "expires_at").value_or(0);

  json* recipient = payload.contains("recipient") ? &payload["recipient"] : nullptr;
  if (!recipient || !recipient->is_object()) throw Rejection{"field 'recipient' must be an object"};
  reject_unknown_fields(*recipient, {"phone", "email", "name"}, "recipient.");
  if (recipient->contains("name") && !(*recipient)["name"].is_string())
    throw Rejection{"field 'recipient.name' must be a string"};
  json data = payload.value("data", json::object());
  if (!data.is_object()) throw Rejection{"field 'data' must be an object"};
  check_data_time(data, "starts_at");
  check_data_time(data, "ends_at");
  check_data_revision(data);

  std::vector<IntakeOp> ops;
  IntakeOp schedule = base;
  schedule.channels.clear();
  for (const auto& channel : base.channels) {
    std::string why = check_channel(channel, *recipient, *dept, base.department);
    if (why.empty()) {
      schedule.channels.push_back(channel);
    } else {
      IntakeOp reject = base;
      reject.kind = IntakeOp::Kind::reject;
      reject.channels = {channel};
      reject.error = why;
      ops.push_back(std::move(reject));
    }
  }
  if (!schedule.channels.empty()) {
    json content = {{"recipient", *recipient}, {"data", data}};
    if (auto ms = entry_time(base.entry)) content["entry_ms"] = *ms;
    schedule.content = content.dump();
    ops.insert(ops.begin(), std::move(schedule));
  }
  return ops;
}

// What can still be recovered from a bad entry, so the rejection lands on the right message.
void salvage_identity(const json& payload, IntakeOp& op) {
  if (!payload.is_object()) return;
  if (auto k = payload.find("key");
      k != payload.end() && k->is_string() && valid_key(k->get<std::string>()))
    op.key = k->get<std::string>();
  if (auto d = payload.find("department");
      d != payload.end() && d->is_string() && department_shaped(d->get_ref<const std::string&>()))
    op.department = d->get<std::string>();
  if (auto e = payload.find("event");
      e != payload.end() && e->is_string() && event_shaped(e->get_ref<const std::string&>()))
    op.event = e->get<std::string>();
  op.channels.clear();
  if (op.key.empty()) return;
  if (auto c = payload.find("channels"); c != payload.end() && c->is_array())
    for (const auto& ch : *c)
      if (ch.is_string() && channel_from_string(ch.get<std::string>()) &&
          std::find(op.channels.begin(), op.channels.end(), ch.get<std::string>()) ==
              op.channels.end())
        op.channels.push_back(ch.get<std::string>());
}

}  // namespace

std::vector<IntakeOp> parse_intake_entry(std::string_view entry_id, const StreamFields& fields,
                                         const Config& config, Millis now) {
  IntakeOp op;
  op.entry = std::string(entry_id);
  json payload;
  try {
    auto it = std::find_if(fields.begin(), fields.end(),
                           [](const auto& f) { return f.first == "payload"; });
    if (it == fields.end()) throw Rejection{"the entry has no 'payload' field"};
    if (it->second.size() > config.intake.max_payload)
      throw Rejection{"payload too large: " + std::to_string(it->second.size()) + " bytes (limit " +
                      std::to_string(config.intake.max_payload) + ")"};
    int depth = 0;
    payload = json::parse(
        it->second,
        [&depth](int level, json::parse_event_t, json&) {
          depth = std::max(depth, level);
          return true;
        },
        false);
    if (payload.is_discarded()) throw Rejection{"payload is not valid JSON"};
    // Copying, writing and rendering JSON recurse: a payload of thousands of nested lists (which
    // fits in max_payload) would overflow the stack at every step after this one.
    if (depth > kMaxDepth)
      throw Rejection{"payload nested too deeply (more than " + std::to_string(kMaxDepth) +
                      " levels)"};
    if (!payload.is_object()) throw Rejection{"payload must be a JSON object"};
    std::string kind = required_string(payload, "op");
    op.key = required_string(payload, "key");
    if (!valid_key(op.key))
      throw Rejection{"field 'key' must be 1 to 200 characters among letters, digits and -_.:/@+"};
    if (kind == "cancel") {
      reject_unknown_fields(payload, {"op", "key"}, "");
      op.kind = IntakeOp::Kind::cancel;
      return {op};
    }
    if (kind != "schedule") throw Rejection{"field 'op' must be \"schedule\" or \"cancel\""};
    op.kind = IntakeOp::Kind::schedule;
    return parse_schedule(op, payload, config, now);
  } catch (const Rejection& r) {
    IntakeOp reject;
    reject.kind = IntakeOp::Kind::reject;
    reject.entry = op.entry;
    reject.error = r.reason;
    salvage_identity(payload, reject);
    return {reject};
  }
}

}  // namespace rappel
