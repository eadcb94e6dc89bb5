// What the two SMTP adapters (`smtp`, `sfr_mail2sms`) share on the providers' side of the SMTP
// client (daemon/net/smtp_client.hpp): reading an account's relay settings, and the meaning of a
// relay's answer in the core's result vocabulary.
#pragma once

#include "daemon/base/config_node.hpp"
#include "daemon/base/provider.hpp"
#include "daemon/net/smtp_client.hpp"

namespace rappel {

// Reads url, username, password (a secret), ca_file, tls, connect_timeout, timeout and
// max_connections from an account's settings, and rejects `tls: none` for anything but localhost.
// Shared by the adapters.
SmtpSettings read_smtp_settings(ConfigMap& account);

// 2xx accepted; 535 and other authentication refusals, and TLS failures: unavailable (the
// account is unusable); other 5xx permanent; 4xx, connection errors and timeouts transient (and
// outcome_unknown when maybe_delivered).
SendResult to_send_result(const SmtpResult& result);

}  // namespace rappel
