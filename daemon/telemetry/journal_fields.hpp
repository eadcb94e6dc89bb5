// Log lines about one message, with fields journald can filter on.
//
// spdlog's systemd sink sends MESSAGE and PRIORITY only. For the lines that are about one message
// (its outcome), ops want `journalctl RAPPEL_MESSAGE_ID=rdv-4521-reminder:sms` or
// `journalctl -o json RAPPEL_DEPARTMENT=77`, so those few lines go through sd_journal_send with
// RAPPEL_MESSAGE_ID, RAPPEL_DEPARTMENT and RAPPEL_PROVIDER when rappel logs to the journal, and
// through spdlog otherwise. The fields never carry personal data: a message id is the backend's
// key and a channel, a département is a code, a provider is an account name.
#pragma once

#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace rappel {

struct MessageFields {
  std::string_view message_id;
  std::string_view department;  // may be empty
  std::string_view provider;    // account name, may be empty
};

// Called by setup_logging(): whether logs go to the journal.
void use_journal_fields(bool enabled);

// The syslog priority journald gets for an spdlog level (the same mapping as spdlog's sink).
int journal_priority(spdlog::level::level_enum level);

// Logs `text` at `level` (honouring the logger's level) with the message's fields.
void log_message_event(spdlog::level::level_enum level, const MessageFields& fields,
                       const std::string& text);

}  // namespace rappel
