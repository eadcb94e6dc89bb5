// From a claimed message to what a provider sends: templates, SMS encoding and length, email parts.
//
// Rendering happens at dispatch time, not at intake, so that a template fixed by a reload applies
// to every message not yet sent. A message that cannot be rendered honestly (an SMS longer than
// the département pays for, an invalid address) fails here and never reaches a provider.
#pragma once

#include <string>

#include "daemon/base/provider.hpp"
#include "daemon/config/config.hpp"
#include "daemon/store/store.hpp"

namespace rappel {

struct RenderResult {
  bool ok = false;
  Outbound outbound;
  std::string error;  // when !ok; no personal data
};

RenderResult render_message(const ClaimedMessage& message, const DepartmentConfig& department);

// For `rappel render` and `check-config`: the same path on sample or given data.
RenderResult render_preview(const std::string& key, Channel channel, const std::string& event,
                            const nlohmann::json& content, const DepartmentConfig& department);

}  // namespace rappel
