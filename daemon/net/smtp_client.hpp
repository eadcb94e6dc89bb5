// Sending one email over SMTP with libcurl, on the shared CurlMulti: the email adapters (`smtp`,
// `sfr_mail2sms`) upload bytes built by daemon/content/mime.hpp through here.
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
  // Parallel sessions with the relay (daemon/net/smtp_sessions.hpp); more sends wait their turn.
  int max_connections = 8;
};

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

using SmtpCallback = std::function<void(SmtpResult)>;

// `done` runs later on the loop thread, never from inside smtp_send.
void smtp_send(CurlMulti& curl, const SmtpSettings& settings, SmtpMessage message,
               SmtpCallback done);

}  // namespace rappel
