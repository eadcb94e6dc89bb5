// Message templates: Mustache (kainjow) files per event, loaded and checked once at config load.
//
// Layout of a template directory (the defaults in templates/, a département's override directory
// with the same layout, each file overriding one default):
//   <event>/sms.mustache            SMS body (required)
//   <event>/sms_short.mustache      shorter SMS used when sms.mustache exceeds sms.max_segments
//   <event>/email_subject.mustache  (required)
//   <event>/email_text.mustache     (required)
//   <event>/email_html.mustache     (required)
// Only the HTML body is HTML-escaped; the subject never carries CR/LF.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace rappel {

class TemplateSet {
 public:
  // Throws ConfigError ("file:line:col: what") on a syntax error, and when an event directory lacks
  // a required file. `override_dir` may be empty.
  static std::shared_ptr<const TemplateSet> load(const std::filesystem::path& base_dir,
                                                 const std::filesystem::path& override_dir = {});

  bool has_event(std::string_view event) const;
  std::vector<std::string> events() const;
  bool has_short_sms(std::string_view event) const;

  // Rendering never throws for missing variables (they render empty).
  std::string render_sms(std::string_view event, const nlohmann::json& vars,
                         bool short_variant = false) const;
  std::string render_subject(std::string_view event, const nlohmann::json& vars) const;
  std::string render_text(std::string_view event, const nlohmann::json& vars) const;
  std::string render_html(std::string_view event, const nlohmann::json& vars) const;

  struct Impl;
  explicit TemplateSet(std::unique_ptr<Impl> impl);
  ~TemplateSet();

 private:
  std::unique_ptr<Impl> impl_;
};

// The variables a template sees: every field of the entry's `data`, `name` (the recipient's name),
// `department_name`, and the French date variables derived from data.starts_at in `timezone`
// (see french_dates.hpp), e.g. date_short, date_long, time, weekday, day_month.
nlohmann::json template_variables(const nlohmann::json& data, const nlohmann::json& recipient,
                                  std::string_view timezone, std::string_view department_name);

// Sample data for `check-config` and `render`: a realistic appointment.
nlohmann::json sample_template_data();

}  // namespace rappel
