// What the HTTP SMS adapter tests share: French sample messages, provider accounts built from real
// YAML text (so configuration errors carry real line:column marks), and one send run to completion
// through a real CurlMulti on an io_context against the Beast stand-in server.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <yaml-cpp/yaml.h>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "daemon/base/config_node.hpp"
#include "daemon/base/provider.hpp"
#include "daemon/net/curl_multi.hpp"
#include "daemon/net/http_client.hpp"

namespace rappel::test {

// A 48-hours-ahead reminder as the core hands it over: accents in GSM 03.38 (é, à, è) and an
// apostrophe, so encoding mistakes show.
inline const std::string kReminderText =
    "RDV Solidarités : rappel de votre rendez-vous le mardi 12 mars à 9h30, Maison des "
    "solidarités de Melun, 2 rue de l'Église. Pour annuler : 01 64 14 77 77";

inline Outbound french_sms(std::string to = "+33612345678", std::string text = kReminderText,
                           std::string encoding = "gsm7") {
  Outbound m;
  m.id = "rdv-4217:sms";
  m.department = "77";
  SmsContent sms;
  sms.to = std::move(to);
  sms.text = std::move(text);
  sms.encoding = std::move(encoding);
  sms.segments = 2;
  m.content = std::move(sms);
  return m;
}

// "providers:\n  <name>:\n    type: <type>\n<settings indented by 4>": the account's ConfigMap,
// with `type` already read as the core does. Line 3 is `type`, settings start on line 4.
struct Account {
  ConfigMap settings;
  Account(const std::string& name, const std::string& type, const std::string& settings_yaml)
      : settings(load(name, type, settings_yaml)) {
    settings.string("type");
  }

 private:
  static ConfigMap load(const std::string& name, const std::string& type,
                        const std::string& settings_yaml) {
    std::string text = "providers:\n  " + name + ":\n    type: " + type + "\n";
    size_t start = 0;
    while (start < settings_yaml.size()) {
      size_t end = settings_yaml.find('\n', start);
      if (end == std::string::npos) end = settings_yaml.size();
      text += "    " + settings_yaml.substr(start, end - start) + "\n";
      start = end + 1;
    }
    ConfigMap root(YAML::Load(text), "/etc/rappel/rappel.yaml", "");
    return root.map("providers").map(name);
  }
};

// The message of the ConfigError `f` throws ("" when it throws none).
inline std::string config_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return {};
}

// Runs one send to completion on `io`; fails rather than hang.
inline SendResult send_and_wait(Provider& provider, boost::asio::io_context& io,
                                const Outbound& message) {
  std::optional<SendResult> result;
  provider.send(message, [&](SendResult r) { result = std::move(r); });
  io.restart();
  while (!result) REQUIRE(io.run_one_for(std::chrono::seconds(30)) > 0);
  return *result;
}

inline HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = {{"content-type", "application/json"}};
  return r;
}

}  // namespace rappel::test
