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
// Events are the sub-directories of the base directory (and of the override directory: a
// département may add an event of its own if it provides every required file). A *.mustache file
// with any other name is an error, so that a misspelt override never silently does nothing.
// Partials ({{> name}}) are not supported and render empty. An empty string or null is false in a
// section, as in mustache.js: "{{#phone}} ou au {{phone}}{{/phone}}" says nothing without a phone.
//
// A TemplateSet is immutable once loaded; every render_* is const and may be called concurrently
// from any thread.
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

  // Rendering never throws for missing variables (they render empty). SMS renders are trimmed of
  // leading and trailing whitespace; subjects have control characters (CR, LF, tab...) replaced
  // by spaces, whitespace runs collapsed and ends trimmed. render_* throw std::out_of_range for an
  // unknown event; asking for the short SMS of an event without one renders the long one.
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

}  // namespace rappel
