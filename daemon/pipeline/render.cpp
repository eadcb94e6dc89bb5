// See render.hpp.
#include "daemon/pipeline/render.hpp"

#include <nlohmann/json.hpp>

#include "daemon/content/email_address.hpp"
#include "daemon/content/gsm7.hpp"
#include "daemon/content/ics.hpp"
#include "daemon/content/mime.hpp"
#include "daemon/content/template_variables.hpp"

namespace rappel {
namespace {

using nlohmann::json;

RenderResult failure(std::string why) {
  RenderResult r;
  r.error = std::move(why);
  return r;
}

RenderResult render_sms(Outbound out, const std::string& event, const json& vars,
                        const json& recipient, const DepartmentConfig& dept) {
  const TemplateSet& templates = *dept.templates;
  SmsText text = prepare_sms_text(templates.render_sms(event, vars));
  if (text.segments > dept.max_segments && templates.has_short_sms(event))
    text = prepare_sms_text(templates.render_sms(event, vars, true));
  if (text.segments > dept.max_segments)
    return failure("SMS too long: " + std::to_string(text.segments) + " segments (" +
                   std::to_string(text.characters) + " characters, " + text.encoding +
                   "), département limit " + std::to_string(dept.max_segments));
  SmsContent sms;
  sms.to = recipient.value("phone", "");
  sms.sender = dept.sms ? dept.sms->sender : "";
  sms.text = std::move(text.text);
  sms.encoding = text.encoding;
  sms.segments = text.segments;
  out.content = std::move(sms);
  return RenderResult{true, std::move(out), {}};
}

std::string calendar_method(const std::string& event) {
  if (event == "rdv_cancelled") return "CANCEL";
  if (event == "rdv_created" || event == "rdv_updated" || event == "rdv_upcoming_reminder")
    return "PUBLISH";
  return "";
}

// The inbox entry's time, which intake stores with the content (absent before it did).
std::optional<std::int64_t> entry_ms_of(const json& content) {
  auto it = content.find("entry_ms");
  if (it == content.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}

RenderResult render_email(Outbound out, const std::string& key, const std::string& event,
                          const json& vars, const json& content, const json& recipient,
                          const DepartmentConfig& dept) {
  json data = content.value("data", json::object());
  const TemplateSet& templates = *dept.templates;
  EmailContent email;
  email.to = recipient.value("email", "");
  if (!is_valid_email_address(email.to)) return failure("recipient.email is not a valid address");
  email.to_name = recipient.value("name", "");
  email.subject = templates.render_subject(event, vars);
  email.text = templates.render_text(event, vars);
  email.html = templates.render_html(event, vars);
  std::string method = calendar_method(event);
  if (!method.empty() && data.contains("starts_at")) {
    std::string uid = key;
    for (const char* name : {"appointment_id", "rdv_id"})
      if (data.contains(name) && (data[name].is_string() || data[name].is_number()))
        uid = data[name].is_string() ? data[name].get<std::string>() : data[name].dump();
    auto revision =
        calendar_revision(data, entry_ms_of(content), method, std::chrono::system_clock::now());
    email.ics = appointment_ics(data, uid, method, revision);
    email.ics_method = method;
    if (dept.email) email.ics_organizer = dept.email->organizer;
  }
  out.content = std::move(email);
  return RenderResult{true, std::move(out), {}};
}

}  // namespace

RenderResult render_preview(const std::string& key, Channel channel, const std::string& event,
                            const json& content, const DepartmentConfig& dept) {
  if (!dept.templates || !dept.templates->has_event(event))
    return failure("unknown event '" + event + "'");
  json recipient = content.value("recipient", json::object());
  json data = content.value("data", json::object());
  json vars = template_variables(data, recipient, dept.timezone, dept.name);
  Outbound out;
  out.id = key + ":" + std::string(to_string(channel));
  out.department = dept.code;
  if (channel == Channel::sms) return render_sms(std::move(out), event, vars, recipient, dept);
  return render_email(std::move(out), key, event, vars, content, recipient, dept);
}

RenderResult render_message(const ClaimedMessage& message, const DepartmentConfig& dept) {
  json content = json::parse(message.content, nullptr, false);
  if (content.is_discarded() || !content.is_object())
    return failure("stored content is unreadable (retention expired?)");
  auto channel = channel_from_string(message.channel);
  if (!channel) return failure("unknown channel");
  RenderResult r = render_preview(message.key, *channel, message.event, content, dept);
  r.outbound.id = message.id;
  r.outbound.department = message.department;
  r.outbound.attempt = message.attempt;
  return r;
}

}  // namespace rappel
