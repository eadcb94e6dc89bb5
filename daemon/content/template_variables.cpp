// What a message template sees: the appointment's data, the recipient's name, the département,
// and the date in French words. Kept apart from templates.cpp because it is about the meaning of
// the data, not about Mustache.
#include "daemon/content/template_variables.hpp"

#include "daemon/content/french_dates.hpp"

namespace rappel {

namespace {

bool is_blank_string(const nlohmann::json& value) {
  if (!value.is_string()) return value.is_null();
  return value.get_ref<const std::string&>().find_first_not_of(" \t\r\n") == std::string::npos;
}

// An appointment without a place is held over the phone: templates say "RDV téléphonique".
bool is_phone_appointment(const nlohmann::json& data) {
  const auto flag = data.find("phone_appointment");
  if (flag != data.end() && flag->is_boolean() && flag->get<bool>()) return true;
  return !data.contains("place") || is_blank_string(data["place"]);
}

}  // namespace

nlohmann::json template_variables(const nlohmann::json& data, const nlohmann::json& recipient,
                                  std::string_view timezone, std::string_view department_name) {
  nlohmann::json vars = data.is_object() ? data : nlohmann::json::object();
  if (recipient.is_object() && recipient.contains("name") && recipient["name"].is_string())
    vars["name"] = recipient["name"];
  vars["department_name"] = std::string(department_name);
  if (vars.contains("starts_at") && vars["starts_at"].is_string()) {
    const auto dates =
        french_date_variables(vars["starts_at"].get_ref<const std::string&>(), timezone);
    if (dates) vars.update(*dates);
  }
  vars["phone_appointment"] = is_phone_appointment(vars);
  return vars;
}

nlohmann::json sample_template_data() {
  return {
      {"starts_at", "2026-12-03T10:30:00+01:00"},
      {"service", "PMI"},
      {"place", "Maison départementale des solidarités, 12 rue de la Paix, 77000 Melun"},
      {"phone", "01 64 00 00 00"},
      {"url", "https://www.rdv-solidarites.fr/r/4521/abc"},
      {"name", "Camille Martin"},
  };
}

}  // namespace rappel
