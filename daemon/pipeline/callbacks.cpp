// See callbacks.hpp.
#include "daemon/pipeline/callbacks.hpp"

#include <random>

#include <spdlog/spdlog.h>

#include "daemon/net/http_client.hpp"

namespace rappel {

namespace {

constexpr const char* kGroup = "callbacks";
constexpr auto kReclaimEvery = std::chrono::seconds(60);
constexpr auto kReclaimIdleMs = "300000";  // an entry pending this long: its instance is gone

std::string field(const EventFields& fields, std::string_view name) {
  for (const auto& [k, v] : fields)
    if (k == name) return v;
  return {};
}

EventFields read_fields(const redisReply* kv) {
  EventFields fields;
  if (!kv || kv->type != REDIS_REPLY_ARRAY) return fields;
  for (size_t i = 0; i + 1 < kv->elements; i += 2)
    fields.emplace_back(reply_string(kv->element[i]), reply_string(kv->element[i + 1]));
  return fields;
}

}  // namespace

bool is_final_status(std::string_view s) {
  return s == "sent" || s == "delivered" || s == "undelivered" || s == "failed" || s == "expired" ||
         s == "cancelled" || s == "rejected";
}

nlohmann::json callback_payload(const std::string& event_id, const EventFields& event,
                                const EventFields& timestamps) {
  nlohmann::json j{{"event_id", event_id}};
  for (const char* name :
       {"id", "key", "channel", "department", "status", "error", "provider", "at"})
    j[name] = field(event, name);
  j["attempt"] = std::atoi(field(event, "attempt").c_str());
  for (const auto& [name, value] : timestamps)
    if (!value.empty()) j[name] = value;
  return j;
}

Callbacks::Callbacks(boost::asio::io_context& io, CurlMulti& curl,
                     std::shared_ptr<RedisClient> redis, StoreSettings store, std::string consumer,
                     CallbackSettings settings)
    : io_(io),
      curl_(curl),
      redis_(std::move(redis)),
      store_(std::move(store)),
      consumer_(std::move(consumer)),
      settings_(std::move(settings)),
      timer_(io) {}

void Callbacks::start() {
  stopped_ = false;
  last_reclaim_ = std::chrono::steady_clock::now();
  ensure_group();
}

void Callbacks::stop() {
  stopped_ = true;
  timer_.cancel();
}

void Callbacks::later(std::chrono::milliseconds delay, std::function<void()> fn) {
  if (stopped_) return;
  timer_.expires_after(delay);
  timer_.async_wait([this, fn = std::move(fn)](boost::system::error_code ec) {
    if (!ec && !stopped_) fn();
  });
}

void Callbacks::ensure_group() {
  // From "$": a deployment that turns callbacks on is not sent its whole history.
  redis_->command({"XGROUP", "CREATE", store_.events(), kGroup, "$", "MKSTREAM"},
                  [this](const redisReply*, const std::string& error) {
                    if (!error.empty() && !error.starts_with("BUSYGROUP")) {
                      if (!stopped_) spdlog::warn("callbacks: cannot create the group: {}", error);
                      return later(std::chrono::seconds(1), [this] { ensure_group(); });
                    }
                    read();
                  });
}

void Callbacks::read() {
  if (stopped_) return;
  if (std::chrono::steady_clock::now() - last_reclaim_ > kReclaimEvery) return reclaim();
  redis_->command({"XREADGROUP", "GROUP", kGroup, consumer_, "COUNT", "32", "BLOCK", "1000",
                   "STREAMS", store_.events(), next_id_},
                  [this](const redisReply* reply, const std::string& error) {
                    if (stopped_) return;
                    if (!error.empty()) {
                      spdlog::warn("callbacks: reading the events failed: {}", error);
                      next_id_ = "0";
                      return later(std::chrono::seconds(1), [this] { ensure_group(); });
                    }
                    const redisReply* entries = nullptr;
                    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
                        reply->element[0]->elements == 2)
                      entries = reply->element[0]->element[1];
                    if (!entries || entries->elements == 0) {
                      if (next_id_ != ">") next_id_ = ">";
                      return read();
                    }
                    on_entries(entries);
                  });
}

// Entries another instance read and never acknowledged (it died): ours now.
void Callbacks::reclaim() {
  last_reclaim_ = std::chrono::steady_clock::now();
  redis_->command(
      {"XAUTOCLAIM", store_.events(), kGroup, consumer_, kReclaimIdleMs, "0-0", "COUNT", "32"},
      [this](const redisReply* reply, const std::string& error) {
        if (stopped_) return;
        if (error.empty() && reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2 &&
            reply->element[1]->elements > 0) {
          spdlog::info("callbacks: took over {} events left by another instance",
                       reply->element[1]->elements);
          return on_entries(reply->element[1]);
        }
        read();
      });
}

void Callbacks::on_entries(const redisReply* entries) {
  for (size_t i = 0; i < entries->elements; ++i) {
    const redisReply* e = entries->element[i];
    if (!e || e->type != REDIS_REPLY_ARRAY || e->elements != 2) continue;
    Entry entry{reply_string(e->element[0]), read_fields(e->element[1]),
                e->element[1]->type != REDIS_REPLY_ARRAY};
    if (next_id_ != ">") next_id_ = entry.id;  // reading our pending entries: continue after it
    queue_.push_back(std::move(entry));
  }
  next();
}

void Callbacks::next() {
  if (stopped_) return;
  if (queue_.empty()) return read();
  Entry entry = std::move(queue_.front());
  queue_.pop_front();
  std::string status = field(entry.fields, "status");
  if (entry.deleted || !is_final_status(status)) {
    ack(entry.id);
    return next();
  }
  std::string id = field(entry.fields, "id");
  if (id.empty()) {
    auto payload = callback_payload(entry.id, entry.fields, {});
    return post(std::move(entry), std::move(payload), 1);
  }
  redis_->command(
      {"HMGET", store_.message(id), "created_at", "send_at", "expires_at"},
      [this, entry = std::move(entry)](const redisReply* r, const std::string&) mutable {
        EventFields times;
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
          const char* names[] = {"created_at", "send_at", "expires_at"};
          for (size_t i = 0; i < 3; ++i) times.emplace_back(names[i], reply_string(r->element[i]));
        }
        auto payload = callback_payload(entry.id, entry.fields, times);
        post(std::move(entry), std::move(payload), 1);
      });
}

std::chrono::milliseconds Callbacks::backoff(int attempt) const {
  auto delay = settings_.backoff_base;
  for (int i = 1; i < attempt && delay < settings_.backoff_cap; ++i) delay *= 2;
  delay = std::min(delay, settings_.backoff_cap);
  // Equal jitter: instances that failed together do not retry together.
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<long long> half(0, delay.count() / 2);
  return std::chrono::milliseconds(delay.count() - delay.count() / 2 + half(rng));
}

void Callbacks::post(Entry entry, nlohmann::json payload, int attempt) {
  if (stopped_) return;
  HttpRequest request;
  request.method = "POST";
  request.url = settings_.url;
  request.headers = {{"Content-Type", "application/json"},
                     {"Authorization", "Bearer " + settings_.bearer_token}};
  request.body = payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  request.total_timeout = settings_.timeout;
  http_request(
      curl_, std::move(request),
      [this, entry = std::move(entry), payload = std::move(payload),
       attempt](HttpResponse r) mutable {
        if (stopped_) return;
        std::string what = field(entry.fields, "id") + " " + payload["status"].get<std::string>();
        if (r.status >= 200 && r.status < 300) {
          ack(entry.id);
          return next();
        }
        bool retryable = r.status == 0 || r.status == 429 || r.status >= 500;
        std::string why = r.status ? "HTTP " + std::to_string(r.status) : r.transport_error;
        if (!retryable || attempt >= settings_.max_attempts) {
          spdlog::error("callbacks: gave up on {} (event {}) after {} attempt(s): {}", what,
                        entry.id, attempt, why);
          ack(entry.id);
          return next();
        }
        spdlog::warn("callbacks: {} not taken ({}), attempt {} of {}", what, why, attempt,
                     settings_.max_attempts);
        queue_.push_front(std::move(entry));
        later(backoff(attempt), [this, payload = std::move(payload), attempt]() mutable {
          Entry again = std::move(queue_.front());
          queue_.pop_front();
          post(std::move(again), std::move(payload), attempt + 1);
        });
      });
}

void Callbacks::ack(const std::string& id) {
  redis_->command({"XACK", store_.events(), kGroup, id},
                  [id](const redisReply*, const std::string& error) {
                    // Not acknowledged: it stays pending and is sent again later (at least once).
                    if (!error.empty()) spdlog::warn("callbacks: XACK {} failed: {}", id, error);
                  });
}

}  // namespace rappel
