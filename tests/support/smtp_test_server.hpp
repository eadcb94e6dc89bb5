// The SMTP server of smtp_server.py, started for one test: a real aiosmtpd on an OS-chosen port
// with a throwaway certificate, whose received messages and connection count the test can read.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "support/process.hpp"

namespace rappel::test {

enum class SmtpServerTls { starttls, implicit, none };

class SmtpTestServer {
 public:
  static constexpr const char* kUser = "rdv-solidarites@cd62.fr";
  static constexpr const char* kPassword = "clé-smtp";

  explicit SmtpTestServer(SmtpServerTls tls = SmtpServerTls::starttls);
  ~SmtpTestServer();

  unsigned short port() const { return port_; }
  // "smtp://localhost:<port>" (or smtps://): "localhost" is the name in the certificate.
  std::string url() const;
  std::string ca_file() const { return dir_ + "/cert.pem"; }
  int connections() const;    // accepted so far
  int peak_sessions() const;  // the most connections open at the same time so far
  int message_count() const;
  std::string message(int n) const;      // bytes of the n-th message received (1-based)
  nlohmann::json envelope(int n) const;  // {"mail_from", "rcpt_tos", "connection"}

 private:
  SmtpServerTls tls_;
  std::string dir_;
  std::unique_ptr<ChildProcess> process_;
  unsigned short port_ = 0;
};

}  // namespace rappel::test
