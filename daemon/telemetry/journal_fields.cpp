// See journal_fields.hpp.
#include "daemon/telemetry/journal_fields.hpp"

#include <syslog.h>

#include <atomic>
#include <string>

#include <systemd/sd-journal.h>

namespace rappel {

namespace {
std::atomic<bool> journal_enabled{false};
}

void use_journal_fields(bool enabled) {
  journal_enabled = enabled;
}

int journal_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return LOG_DEBUG;
    case spdlog::level::info:
      return LOG_INFO;
    case spdlog::level::warn:
      return LOG_WARNING;
    case spdlog::level::err:
      return LOG_ERR;
    case spdlog::level::critical:
      return LOG_CRIT;
    default:
      return LOG_NOTICE;
  }
}

void log_message_event(spdlog::level::level_enum level, const MessageFields& fields,
                       const std::string& text) {
  auto logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  if (!journal_enabled) {
    logger->log(level, "{}", text);
    return;
  }
  // "%.*s" with sizes: the views are not NUL-terminated.
  sd_journal_send("MESSAGE=%s", text.c_str(), "PRIORITY=%d", journal_priority(level),
                  "SYSLOG_IDENTIFIER=rappel", "RAPPEL_MESSAGE_ID=%.*s",
                  int(fields.message_id.size()), fields.message_id.data(), "RAPPEL_DEPARTMENT=%.*s",
                  int(fields.department.size()), fields.department.data(), "RAPPEL_PROVIDER=%.*s",
                  int(fields.provider.size()), fields.provider.data(), nullptr);
}

}  // namespace rappel
