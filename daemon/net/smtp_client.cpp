// See smtp_client.hpp. One fresh easy handle per message; the connection (and its AUTH) survives
// in the multi handle's cache. The server's reply text comes from libcurl's debug callback
// (CURLINFO_HEADER_IN lines), the only place libcurl exposes it; the outgoing side, which carries
// the AUTH credentials and the message, is never looked at.
#include "daemon/net/smtp_client.hpp"

#include <memory>
#include <sstream>
#include <vector>

#include "daemon/net/curl_multi.hpp"

namespace rappel {

namespace {

// Server replies may quote addresses ("550 <camille@example.fr>: unknown"): they never leave here.
std::string without_addresses(std::string_view line) {
  std::istringstream words{std::string(line)};
  std::string word, out;
  while (words >> word) {
    if (!out.empty()) out += ' ';
    out += word.find('@') == std::string::npos ? word : "[address]";
  }
  return out;
}

struct Transfer {
  SmtpMessage message;
  SmtpCallback done;
  CURL* easy = curl_easy_init();
  curl_slist* recipients = nullptr;
  size_t uploaded = 0;               // bytes of message.data handed to libcurl
  std::vector<std::string> replies;  // the last few reply lines (libcurl ends with QUIT's 221)
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  char error[CURL_ERROR_SIZE] = {};

  ~Transfer() {
    curl_easy_cleanup(easy);
    curl_slist_free_all(recipients);
  }
};

size_t read_message(char* buffer, size_t size, size_t count, void* p) {
  auto* t = static_cast<Transfer*>(p);
  size_t n = std::min(size * count, t->message.data.size() - t->uploaded);
  t->message.data.copy(buffer, n, t->uploaded);
  t->uploaded += n;
  return n;
}

int on_debug(CURL*, curl_infotype type, char* data, size_t size, void* p) {
  if (type != CURLINFO_HEADER_IN) return 0;  // never the outgoing side: AUTH is there
  std::string_view line(data, size);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  auto& replies = static_cast<Transfer*>(p)->replies;
  if (line.size() < 3) return 0;
  if (replies.size() == 8) replies.erase(replies.begin());
  replies.push_back(without_addresses(line));
  return 0;
}

// The last reply line carrying `code`: the one the result is about.
std::string reply_line(const std::vector<std::string>& replies, int code) {
  std::string prefix = std::to_string(code);
  for (auto it = replies.rbegin(); it != replies.rend(); ++it)
    if (it->starts_with(prefix)) return *it;
  return {};
}

void configure(Transfer& t, const SmtpSettings& s) {
  CURL* e = t.easy;
  curl_easy_setopt(e, CURLOPT_URL, s.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_USE_SSL,
                   long(s.tls == SmtpTls::required ? CURLUSESSL_ALL : CURLUSESSL_NONE));
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!s.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, s.ca_file.c_str());
  if (!s.username.empty()) {
    curl_easy_setopt(e, CURLOPT_USERNAME, s.username.c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, s.password.c_str());
  }
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, long(s.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, long(s.timeout.count()));
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
  // libcurl's per-transfer buffers: 16 KiB to receive, 64 KiB to upload and twice that to escape
  // leading dots by default. Replies are one line; 16 KiB is libcurl's smallest upload buffer.
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 4096L);
  curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
  std::string from = "<" + t.message.mail_from + ">";
  curl_easy_setopt(e, CURLOPT_MAIL_FROM, from.c_str());  // libcurl copies string options
  for (const auto& r : t.message.recipients)
    t.recipients = curl_slist_append(t.recipients, ("<" + r + ">").c_str());
  curl_easy_setopt(e, CURLOPT_MAIL_RCPT, t.recipients);
  curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, curl_off_t(t.message.data.size()));
  curl_easy_setopt(e, CURLOPT_READFUNCTION, read_message);
  curl_easy_setopt(e, CURLOPT_READDATA, &t);
  curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);  // needed for the debug callback, which replaces
  curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);  // libcurl's stderr output
  curl_easy_setopt(e, CURLOPT_DEBUGDATA, &t);
}

SmtpResult result_of(Transfer& t, CURLcode code, int local_errno) {
  SmtpResult r;
  r.curl_code = code;
  long reply = 0;
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &reply);
  r.code = int(reply);
  r.text = reply_line(t.replies, r.code);
  r.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - t.started);
  if (code == CURLE_OK) return r;
  r.local_shortage = local_errno != 0 || code == CURLE_OUT_OF_MEMORY;
  r.transport_error = local_errno != 0 ? local_shortage_text(local_errno)
                      : t.error[0]     ? t.error
                                       : curl_easy_strerror(code);
  r.timed_out = code == CURLE_OPERATION_TIMEDOUT;
  // Everything went out and no refusal came back (the last reply is still DATA's 354).
  r.maybe_delivered = t.uploaded == t.message.data.size() && r.code < 400;
  return r;
}

}  // namespace

void smtp_send(CurlMulti& curl, const SmtpSettings& settings, SmtpMessage message,
               SmtpCallback done) {
  auto transfer = std::make_shared<Transfer>();
  transfer->message = std::move(message);
  transfer->done = std::move(done);
  configure(*transfer, settings);
  curl.start(transfer->easy, [transfer](CURLcode code, int local_errno) {
    transfer->done(result_of(*transfer, code, local_errno));
  });
}

}  // namespace rappel
