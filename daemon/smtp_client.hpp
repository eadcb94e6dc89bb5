// Sending one email over SMTP with libcurl, on the shared CurlMulti: the email adapters (`smtp`,
// `sfr_mail2sms`) upload bytes built by daemon/mime.hpp through here.
//
// TLS is required unless the account says `tls: none`, which is accepted for localhost only (test
// and development relays): STARTTLS on smtp:// (CURLUSESSL_ALL, so a server that does not offer it
// fails instead of getting the password in clear), implicit TLS on smtps://. Certificates are
// always verified. Consecutive messages to one relay reuse the connection from the multi handle's
// cache (a new MAIL FROM on the open, authenticated session).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <curl/curl.h>

#include "daemon/config_node.hpp"
#include "providers/provider.hpp"

namespace rappel {

class CurlMulti;

enum class SmtpTls { required, none };

struct SmtpSettings {
  std::string url;       // smtp://smtp-relay.brevo.com:587 or smtps://host:465
  std::string username;  // AUTH when non-empty
  std::string password;
  std::string ca_file;  // extra CA bundle to trust (tests); verification is never disabled
  SmtpTls tls = SmtpTls::required;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds timeout{60000};
  // Parallel sessions with the relay (daemon/smtp_sessions.hpp); more sends wait their turn.
  int max_connections = 8;
};

// Reads url, username, password (a secret), ca_file, tls, connect_timeout, timeout and
// max_connections from an account's settings, and rejects `tls: none` for anything but localhost.
// Shared by the adapters.
SmtpSettings read_smtp_settings(ConfigMap& settings);

struct SmtpMessage {
  std::string mail_from;                // bare address for MAIL FROM
  std::vector<std::string> recipients;  // bare addresses for RCPT TO
  std::string data;                     // the RFC 5322 message, CRLF line ends
};

struct SmtpResult {
  CURLcode curl_code = CURLE_OK;
  int code = 0;                 // the server's last reply code (250, 451, 535...); 0 if none
  std::string text;             // the server's last reply line, addresses blanked out
  std::string transport_error;  // libcurl's description when curl_code != CURLE_OK
  bool timed_out = false;
  // The whole message was uploaded but no final reply came back: it may have been accepted.
  bool maybe_delivered = false;
  // Set when it failed for lack of a resource here (descriptors, memory): not the relay's fault.
  bool local_shortage = false;
  std::chrono::microseconds elapsed{0};

  bool accepted() const { return curl_code == CURLE_OK; }
};

// The bare address of a From setting for MAIL FROM: "RDV Solidarités <rdv@cd62.fr>" ->
// "rdv@cd62.fr".
std::string envelope_address(std::string_view from);

using SmtpCallback = std::function<void(SmtpResult)>;

// `done` runs later on the loop thread, never from inside smtp_send.
void smtp_send(CurlMulti& curl, const SmtpSettings& settings, SmtpMessage message,
               SmtpCallback done);

// 2xx accepted; 535 and other authentication refusals, and TLS failures: unavailable (the
// account is unusable); other 5xx permanent; 4xx, connection errors and timeouts transient (and
// outcome_unknown when maybe_delivered).
SendResult to_send_result(const SmtpResult& result);

}  // namespace rappel
