// `file`: an email provider that writes each email as an .eml file into a directory.
// For development, demos and tests: the file holds exactly the bytes an SMTP server would get
// (daemon/content/mime.cpp builds both). Written to a temporary name then renamed, so a reader
// never sees half a message. Each message id has a file name of its own (file_name_of).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <boost/asio/post.hpp>

#include "daemon/content/mime.hpp"
#include "daemon/content/mime_encoding.hpp"
#include "providers/registry.hpp"

namespace rappel {
namespace {

namespace fs = std::filesystem;

// The .eml's name: the Message-ID's token (mime.hpp), one per message id, so that two keys never
// share a file ("a/b:email" -> "a=2Fb.email"). Escaping can triple a key's length past what a
// file name may hold (255 bytes): a long token keeps its first 180 characters and a 64-bit hash
// of the exact id after '~', which no short token contains.
std::string file_name_of(std::string_view id) {
  std::string token = message_token(id);
  if (token.size() <= 200) return token;
  char hash[20];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(mime::fnv1a(id)));
  return token.substr(0, 180) + "~" + hash;
}

class FileProvider final : public Provider {
 public:
  FileProvider(ProviderContext& ctx, fs::path directory, std::string from)
      : io_(ctx.io), directory_(std::move(directory)), from_(std::move(from)) {}

  Channel channel() const override { return Channel::email; }

  void send(const Outbound& message, SendCallback done) override {
    SendResult result = write(message);
    boost::asio::post(io_, [done = std::move(done), result = std::move(result)] { done(result); });
  }

 private:
  SendResult write(const Outbound& message) {
    MimeOptions options;
    options.from = from_;
    options.date = std::chrono::system_clock::now();
    options.extra_headers.emplace_back("X-Mailin-custom", message.id);
    std::string bytes = build_email(message, options);
    std::string name = file_name_of(message.id);
    fs::path target = directory_ / (name + ".eml");
    fs::path temporary = directory_ / ("." + name + ".tmp");
    std::error_code ec;
    fs::create_directories(directory_, ec);
    std::string why = write_file(temporary, bytes);
    if (why.empty()) {
      fs::rename(temporary, target, ec);
      if (ec) why = ec.message();
    }
    if (why.empty()) return SendResult::accepted(message_id_for(message.id, from_));
    // A full disk must not fill up with half-written files on every retry.
    fs::remove(temporary, ec);
    return SendResult::failure(Outcome::transient, "cannot write to the outbox: " + why);
  }

  // Why the file could not be written whole, "" when it was. Closed before checking: the last
  // bytes reach the disk (and ENOSPC shows) only when the stream is flushed.
  static std::string write_file(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return std::strerror(errno);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    return out ? "" : std::strerror(errno ? errno : EIO);
  }

  boost::asio::io_context& io_;
  fs::path directory_;
  std::string from_;
};

}  // namespace

std::unique_ptr<Provider> make_file_provider(ConfigMap& account, ProviderContext& ctx) {
  fs::path directory = account.secret("directory");  // a path, but ${ENV} is welcome here too
  if (directory.is_relative()) directory = fs::path(account.file()).parent_path() / directory;
  std::string from =
      account.string_or("from", "RDV Solidarités <ne-pas-repondre@rdv-solidarites.fr>");
  return std::make_unique<FileProvider>(ctx, directory, from);
}

}  // namespace rappel
