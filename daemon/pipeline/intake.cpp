// See intake.hpp.
#include "daemon/pipeline/intake.hpp"

#include <spdlog/spdlog.h>

#include "daemon/pipeline/intake_parse.hpp"

namespace rappel {

namespace {

// Room for the field names and small fields beside the payload (an entry's limit is the payload's
// plus this).
constexpr size_t kEntryFields = 4096;
// How often an idle intake looks at the inbox. A blocking XREADGROUP would return the next entry
// whole, whatever its size; the read script cannot block. 20 reads/s of microseconds each.
constexpr std::chrono::milliseconds kPollInterval{50};

// One stream entry of a reply: [id, [field, value, ...]] (the fields are nil for deleted entries).
bool read_entry(const redisReply* entry, std::string& id, StreamFields& fields) {
  if (!entry || entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) return false;
  id = reply_string(entry->element[0]);
  fields.clear();
  const redisReply* kv = entry->element[1];
  if (kv->type != REDIS_REPLY_ARRAY) return true;
  for (size_t i = 0; i + 1 < kv->elements; i += 2)
    fields.emplace_back(reply_string(kv->element[i]), reply_string(kv->element[i + 1]));
  return true;
}

// An entry the read script did not return because of its size ([id, [], payload bytes, entry
// bytes]): rejected by its entry id alone, since its key is inside the payload nobody read.
IntakeOp oversized(std::string id, const redisReply* entry, const Config& config) {
  IntakeOp op;
  op.entry = std::move(id);
  std::string payload = reply_string(entry->element[2]);
  std::string total = reply_string(entry->element[3]);
  if (std::stoull(payload.empty() ? "0" : payload) > config.intake.max_payload)
    op.error = "payload too large: " + payload + " bytes (limit " +
               std::to_string(config.intake.max_payload) + ")";
  else
    op.error = "entry too large: " + total + " bytes in its fields (limit " +
               std::to_string(config.intake.max_payload + kEntryFields) + ")";
  return op;
}

}  // namespace

Intake::Intake(boost::asio::io_context& io, std::shared_ptr<RedisClient> reader, Store& store,
               ConfigSource config, std::function<void(Millis)> wake)
    : io_(io),
      reader_(std::move(reader)),
      store_(store),
      config_(std::move(config)),
      wake_(std::move(wake)),
      retry_timer_(io),
      poll_timer_(io),
      reclaim_timer_(io) {}

void Intake::start() {
  stopped_ = false;
  ensure_group();
  reclaim_timer_.expires_after(config_()->intake.reclaim_after / 2);
  reclaim_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) reclaim();
  });
}

void Intake::stop() {
  stopped_ = true;
  retry_timer_.cancel();
  poll_timer_.cancel();
  reclaim_timer_.cancel();
}

void Intake::ensure_group() {
  store_.ensure_group([this](const std::string& error) {
    if (!error.empty()) {
      spdlog::warn("cannot create the inbox consumer group: {}", error);
      return retry_later();
    }
    read();
  });
}

void Intake::retry_later() {
  if (stopped_) return;
  next_id_ = "0";  // whatever we had read but not applied is still pending for us
  retry_timer_.expires_after(std::chrono::seconds(1));
  retry_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) ensure_group();
  });
}

void Intake::read() {
  if (stopped_ || reading_) return;
  auto config = config_();
  reading_ = true;
  if (reread_pending_) next_id_ = "0";
  reread_pending_ = false;
  Store::InboxRead limits{config->intake.batch, config->intake.batch_bytes,
                          config->intake.max_payload, config->intake.max_payload + kEntryFields};
  store_.read_inbox(
      *reader_, config->instance, next_id_, limits,
      [this](const redisReply* entries, const std::string& error) {
        reading_ = false;
        if (!error.empty()) {
          if (!stopped_) spdlog::warn("reading the inbox failed: {}", error);
          return retry_later();
        }
        if (!entries || entries->type != REDIS_REPLY_ARRAY || entries->elements == 0) {
          if (next_id_ == "0") {
            next_id_ = ">";
            return read();
          }
          return poll_later();
        }
        on_entries(entries);
      });
}

void Intake::poll_later() {
  if (stopped_) return;
  poll_timer_.expires_after(kPollInterval);
  poll_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) read();
  });
}

void Intake::on_entries(const redisReply* entries) {
  auto config = config_();
  Millis now = now_ms();
  std::vector<IntakeOp> ops;
  std::string id;
  StreamFields fields;
  for (size_t i = 0; i < entries->elements; ++i) {
    const redisReply* entry = entries->element[i];
    if (entry && entry->type == REDIS_REPLY_ARRAY && entry->elements == 4) {
      ops.push_back(oversized(reply_string(entry->element[0]), entry, *config));
      continue;
    }
    if (!read_entry(entry, id, fields)) continue;
    if (fields.empty() && entry->element[1]->type != REDIS_REPLY_ARRAY) {
      // Deleted before we processed it (the backend must not trim the inbox): nothing to apply.
      IntakeOp gone;
      gone.entry = id;
      gone.error = "the inbox entry was deleted before rappel could read it";
      ops.push_back(std::move(gone));
      continue;
    }
    for (auto& op : parse_intake_entry(id, fields, *config, now)) ops.push_back(std::move(op));
  }
  size_t count = entries->elements;
  apply(std::move(ops), [this, count](bool ok) {
    if (!ok) return retry_later();
    entries_total_ += count;
    read();
  });
}

void Intake::apply(std::vector<IntakeOp> ops, std::function<void(bool)> done) {
  Millis earliest = 0;
  for (const auto& op : ops) {
    if (op.kind == IntakeOp::Kind::reject)
      spdlog::info("inbox entry {} rejected (key '{}'): {}", op.entry, op.key, op.error);
    if (op.kind == IntakeOp::Kind::schedule && (earliest == 0 || op.send_at_ms < earliest))
      earliest = op.send_at_ms;
  }
  store_.apply_intake(ops, [this, earliest, done = std::move(done)](const std::string& error) {
    if (!error.empty()) {
      spdlog::warn("applying inbox entries failed: {}", error);
      return done(false);
    }
    if (earliest) wake_(earliest);
    done(true);
  });
}

void Intake::reclaim() {
  if (stopped_) return;
  auto config = config_();
  const StoreSettings& s = store_.settings();
  auto again = [this] {
    reclaim_timer_.expires_after(config_()->intake.reclaim_after / 2);
    reclaim_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) reclaim();
    });
  };
  // JUSTID: the entries become ours without coming here whole; the read loop then reads them
  // from our pending list, bounded in bytes like any other read.
  store_.redis().command({"XAUTOCLAIM", s.inbox(), s.group, config->instance,
                          std::to_string(config->intake.reclaim_after.count()), "0-0", "COUNT",
                          std::to_string(config->intake.batch), "JUSTID"},
                         [this, again](const redisReply* reply, const std::string& error) {
                           if (error.empty() && reply && reply->type == REDIS_REPLY_ARRAY &&
                               reply->elements >= 2 && reply->element[1]->elements > 0) {
                             spdlog::info(
                                 "took over {} inbox entries left pending by another instance",
                                 reply->element[1]->elements);
                             reread_pending_ = true;
                           }
                           again();
                         });
}

}  // namespace rappel
