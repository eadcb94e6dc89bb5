// See admin.hpp. Exit codes: 0 ok, 1 failure (the message says why).
#include "daemon/ops/admin.hpp"

#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "daemon/base/config_node.hpp"
#include "daemon/config/config.hpp"
#include "daemon/content/gsm7.hpp"
#include "daemon/content/phone.hpp"
#include "daemon/content/redact.hpp"
#include "daemon/content/template_variables.hpp"
#include "daemon/net/curl_multi.hpp"
#include "daemon/ops/admin_support.hpp"
#include "daemon/ops/fd_limit.hpp"
#include "daemon/pipeline/render.hpp"
#include "daemon/store/stats.hpp"

namespace rappel {
namespace {

using nlohmann::json;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

json build_payload(const EnqueueOptions& o) {
  if (!o.file.empty()) return json::parse(read_file(o.file));
  json recipient = json::object();
  if (!o.phone.empty()) recipient["phone"] = o.phone;
  if (!o.email.empty()) recipient["email"] = o.email;
  if (!o.name.empty()) recipient["name"] = o.name;
  json payload{{"op", "schedule"}, {"key", o.key},           {"department", o.department},
               {"event", o.event}, {"channels", o.channels}, {"recipient", recipient}};
  if (!o.send_at.empty()) payload["send_at"] = o.send_at;
  if (!o.expires_at.empty()) payload["expires_at"] = o.expires_at;
  payload["data"] = o.data_file.empty() ? json::object() : json::parse(read_file(o.data_file));
  return payload;
}

}  // namespace

int enqueue_command(const EnqueueOptions& options) {
  return guarded([&] {
    boost::asio::io_context io;
    auto config = load_for_admin(options.config_path, io);
    json payload = build_payload(options);
    SyncRedis redis = SyncRedis::to_master(config->redis);
    Reply id = redis.run({"XADD", config->store.inbox(), "*", "payload", payload.dump()});
    std::cout << reply_string(id.get()) << "\n";
    return 0;
  });
}

int cancel_command(const std::string& config_path, const std::string& key) {
  return guarded([&] {
    boost::asio::io_context io;
    auto config = load_for_admin(config_path, io);
    SyncRedis redis = SyncRedis::to_master(config->redis);
    json payload{{"op", "cancel"}, {"key", key}};
    Reply id = redis.run({"XADD", config->store.inbox(), "*", "payload", payload.dump()});
    std::cout << reply_string(id.get()) << "\n";
    return 0;
  });
}

int status_command(const std::string& config_path, const std::string& key, bool as_json) {
  return guarded([&] {
    boost::asio::io_context io;
    auto config = load_for_admin(config_path, io);
    SyncRedis redis = SyncRedis::to_master(config->redis);
    json messages = json::array();
    for (const char* channel : {"sms", "email"}) {
      std::string id = key + ":" + channel;
      Reply r = redis.run({"HGETALL", config->store.message(id)});
      if (r->elements == 0) continue;
      json m{{"id", id}};
      for (size_t i = 0; i + 1 < r->elements; i += 2)
        m[reply_string(r->element[i])] = reply_string(r->element[i + 1]);
      if (m.value("tombstone", "") == "1") continue;
      messages.push_back(m);
    }
    if (messages.empty()) {
      std::cerr << "no message with key " << key << "\n";
      return 1;
    }
    if (as_json) {
      std::cout << messages.dump(2) << "\n";
      return 0;
    }
    std::cout << std::left << std::setw(8) << "CHANNEL" << std::setw(12) << "STATUS" << std::setw(9)
              << "ATTEMPTS" << std::setw(20) << "PROVIDER" << std::setw(26) << "UPDATED"
              << "ERROR\n";
    for (const auto& m : messages)
      std::cout << std::setw(8) << m.value("channel", "") << std::setw(12) << m.value("status", "")
                << std::setw(9) << m.value("attempts", "") << std::setw(20)
                << m.value("provider", "") << std::setw(26) << m.value("updated_at", "")
                << m.value("error", "") << "\n";
    return 0;
  });
}

int check_config_command(const std::string& config_path) {
  return guarded([&] {
    boost::asio::io_context io;
    auto config = load_for_admin(config_path, io);
    int warnings = 0;
    std::vector<const DepartmentConfig*> departments{&config->defaults};
    for (const auto& [code, dept] : config->departments) departments.push_back(&dept);
    json sample{
        {"recipient",
         {{"phone", "+33612345678"}, {"email", "camille@example.fr"}, {"name", "Camille Martin"}}},
        {"data", sample_template_data()}};
    for (const DepartmentConfig* dept : departments) {
      if (!dept->sms) continue;
      for (const auto& event : dept->templates->events()) {
        RenderResult r = render_preview("sample", Channel::sms, event, sample, *dept);
        if (!r.ok) {
          ++warnings;
          std::cout << "warning: département " << dept->code << ", " << event << ": " << r.error
                    << "\n";
          continue;
        }
        const SmsContent& sms = r.outbound.sms();
        SmsText text = prepare_sms_text(sms.text);
        std::cout << "département " << dept->code << ", " << event << ": SMS of " << text.characters
                  << " characters, " << sms.segments << " segment(s), " << sms.encoding << "\n";
      }
    }
    if (auto shortfall = descriptor_shortfall(*config, current_open_files_limit())) {
      ++warnings;
      std::cout << "warning: " << *shortfall << "\n";
    }
    std::cout << config_path << ": configuration OK (" << config->providers.size()
              << " provider account(s), " << config->departments.size() << " département(s)"
              << (warnings ? ", " + std::to_string(warnings) + " warning(s)" : std::string())
              << ")\n";
    return 0;
  });
}

int send_test_command(const SendTestOptions& o) {
  return guarded([&] {
    boost::asio::io_context io;
    CurlMulti curl(io);
    ProviderContext ctx{io, &curl, o.simulate};
    auto config = load_config(o.config_path, ctx);
    const DepartmentConfig* dept = config->department(o.department);
    if (!dept) throw std::runtime_error("unknown département '" + o.department + "'");
    Channel channel = o.channel == "email" ? Channel::email : Channel::sms;
    const auto& route = channel == Channel::sms ? dept->sms : dept->email;
    if (!route)
      throw std::runtime_error("no " + o.channel + " provider for département " + dept->code);
    json recipient{{"name", "Camille Martin"}};
    if (channel == Channel::sms) {
      PhoneCheck phone = normalize_sms_number(o.to, dept->region, dept->allowed_regions);
      if (!phone.e164) throw std::runtime_error("--to: " + phone.error);
      recipient["phone"] = *phone.e164;
    } else {
      recipient["email"] = o.to;
    }
    json content{{"recipient", recipient}, {"data", sample_template_data()}};
    RenderResult r = render_preview("send-test-" + std::to_string(now_ms()), channel,
                                    "rdv_upcoming_reminder", content, *dept);
    if (!r.ok) throw std::runtime_error(r.error);
    Provider* provider = config->provider(route->provider);
    std::cout << "Sending a test " << o.channel << " through '" << route->provider << "' to "
              << (channel == Channel::sms ? mask_phone(recipient["phone"].get<std::string>())
                                          : mask_email(o.to))
              << (o.simulate ? " (simulation)" : "") << "...\n";
    auto started = std::chrono::steady_clock::now();
    std::optional<SendResult> result;
    provider->send(r.outbound, [&](SendResult res) { result = std::move(res); });
    io.run();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    if (!result) throw std::runtime_error("the provider never answered");
    std::cout << "outcome: " << to_string(result->outcome) << "\n";
    if (!result->provider_message_id.empty())
      std::cout << "provider message id: " << result->provider_message_id << "\n";
    if (result->parts)
      std::cout << "parts billed: " << result->parts << "\n";
    else if (channel == Channel::sms)
      std::cout << "parts billed: " << r.outbound.sms().segments
                << " (as counted by rappel; the provider did not say)\n";
    if (!result->error.empty()) std::cout << "provider said: " << result->error << "\n";
    std::cout << "time taken: " << ms.count() << " ms\n";
    return result->outcome == Outcome::accepted ? 0 : 1;
  });
}

int render_command(const std::string& config_path, const std::string& department,
                   const std::string& event, const std::string& data_file,
                   const std::string& channel_name) {
  return guarded([&] {
    boost::asio::io_context io;
    auto config = load_for_admin(config_path, io);
    const DepartmentConfig* dept = config->department(department);
    if (!dept) throw std::runtime_error("unknown département '" + department + "'");
    json content{
        {"recipient",
         {{"phone", "+33612345678"}, {"email", "camille@example.fr"}, {"name", "Camille Martin"}}},
        {"data", sample_template_data()}};
    if (!data_file.empty()) {
      json given = json::parse(read_file(data_file));
      if (given.contains("data") || given.contains("recipient")) {
        if (given.contains("data")) content["data"] = given["data"];
        if (given.contains("recipient")) content["recipient"] = given["recipient"];
      } else {
        content["data"] = given;
      }
    }
    int status = 0;
    for (Channel channel : {Channel::sms, Channel::email}) {
      if (!channel_name.empty() && channel_name != to_string(channel)) continue;
      RenderResult r = render_preview("preview", channel, event, content, *dept);
      if (!r.ok) {
        std::cout << "== " << to_string(channel) << ": cannot be sent: " << r.error << "\n";
        status = 1;
      } else if (channel == Channel::sms) {
        const SmsContent& sms = r.outbound.sms();
        std::cout << "== SMS (" << sms.segments << " segment(s), " << sms.encoding << ")\n"
                  << sms.text << "\n";
      } else {
        const EmailContent& email = r.outbound.email();
        std::cout << "== Email\nSubject: " << email.subject << "\n\n" << email.text << "\n";
        if (!email.ics.empty())
          std::cout << "(with an iCalendar " << email.ics_method << " attachment)\n";
      }
    }
    return status;
  });
}

int stats_command(const StatsOptions& o) {
  return guarded([&] {
    boost::asio::io_context io;
    auto config = load_for_admin(o.config_path, io);
    StatsQuery query{o.department, o.from, o.to};
    std::string error = normalize_stats_query(query, now_ms(), config->store.stats_zone);
    if (!error.empty()) {
      std::cerr << "stats: --" << error << "\n";
      return 2;
    }
    SyncRedis redis = SyncRedis::to_master(config->redis);
    BatchRunner run = [&redis](const RedisBatch& commands, auto done) {
      BatchReplies replies;
      for (const auto& command : commands) {
        Reply r = redis.run(command);
        auto& flat = replies.emplace_back();
        for (size_t i = 0; i < r->elements; ++i) flat.push_back(reply_string(r->element[i]));
      }
      done(std::move(replies), "");
    };
    std::vector<StatsRow> rows;
    fetch_stats(query, config->store.prefix, run,
                [&rows](std::vector<StatsRow> r, std::string) { rows = std::move(r); });
    if (o.json)
      std::cout << stats_json(rows, query).dump(2) << "\n";
    else if (o.csv)
      std::cout << stats_csv(rows);
    else
      std::cout << stats_table(rows);
    return 0;
  });
}

}  // namespace rappel
