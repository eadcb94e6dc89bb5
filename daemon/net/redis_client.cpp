// See redis_client.hpp. The Watcher bridges hiredis' event hooks to Asio: hiredis owns the socket
// (it closes it), so the Asio descriptor only waits for readiness and is released, never closed.
#include "daemon/net/redis_client.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include <hiredis/async.h>
#include <spdlog/spdlog.h>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

#include "daemon/net/redis_sync.hpp"

namespace rappel {

// ---------------------------------------------------------------------------------------------
// The Asio side of one hiredis connection.

struct RedisClient::Watcher : std::enable_shared_from_this<Watcher> {
  boost::asio::posix::stream_descriptor descriptor;
  redisAsyncContext* context;
  bool want_read = false, want_write = false, reading = false, writing = false;

  Watcher(boost::asio::io_context& io, redisAsyncContext* ac)
      : descriptor(io, ac->c.fd), context(ac) {}

  void arm(bool read) {
    bool& busy = read ? reading : writing;
    if (busy || !context) return;
    busy = true;
    auto type = read ? boost::asio::posix::stream_descriptor::wait_read
                     : boost::asio::posix::stream_descriptor::wait_write;
    descriptor.async_wait(type, [self = shared_from_this(), read](boost::system::error_code ec) {
      (read ? self->reading : self->writing) = false;
      if (ec || !self->context) return;
      bool& wanted = read ? self->want_read : self->want_write;
      if (!wanted) return;
      if (read)
        redisAsyncHandleRead(self->context);
      else
        redisAsyncHandleWrite(self->context);
      // hiredis may have freed the context (cleanup hook) inside the call above.
      if (self->context && (read ? self->want_read : self->want_write)) self->arm(read);
    });
  }

  void detach() {
    context = nullptr;
    want_read = want_write = false;
    boost::system::error_code ignored;
    descriptor.cancel(ignored);
    descriptor.release();  // hiredis closes the socket, not Asio
  }

  static void add_read(void* p) { set(p, true, true); }
  static void del_read(void* p) { set(p, true, false); }
  static void add_write(void* p) { set(p, false, true); }
  static void del_write(void* p) { set(p, false, false); }
  static void cleanup(void* p) { static_cast<Watcher*>(p)->detach(); }
  static void set(void* p, bool read, bool on) {
    auto* w = static_cast<Watcher*>(p);
    (read ? w->want_read : w->want_write) = on;
    if (on) w->arm(read);
  }
};

RedisClient::RedisClient(boost::asio::io_context& io, RedisEndpoint endpoint, std::string name)
    : io_(io), endpoint_(std::move(endpoint)), name_(std::move(name)), reconnect_timer_(io) {}

RedisClient::~RedisClient() {
  close();
}

void RedisClient::close() {
  stopped_ = true;
  reconnect_timer_.cancel();
  if (context_) {
    redisAsyncContext* ac = context_;
    context_ = nullptr;
    ac->data = nullptr;
    redisAsyncFree(ac);  // pending callbacks run now with a null reply
  }
}

void RedisClient::start() {
  stopped_ = false;
  connect();
}

void RedisClient::stop() {
  stopped_ = true;
  reconnect_timer_.cancel();
  if (context_) redisAsyncDisconnect(context_);  // lets pending replies arrive first
}

void RedisClient::connect() {
  if (stopped_ || context_) return;
  RedisEndpoint target = endpoint_;
  try {
    target = resolve_master(endpoint_);
  } catch (const std::exception& e) {
    handle_disconnect(e.what());
    return;
  }
  address_ = target.unix_path.empty() ? target.host + ":" + std::to_string(target.port)
                                      : "unix:" + target.unix_path;
  redisAsyncContext* ac = target.unix_path.empty()
                              ? redisAsyncConnect(target.host.c_str(), target.port)
                              : redisAsyncConnectUnix(target.unix_path.c_str());
  if (!ac || ac->err) {
    std::string why = ac ? ac->errstr : "out of memory";
    if (ac) redisAsyncFree(ac);
    handle_disconnect(why);
    return;
  }
  context_ = ac;
  ac->data = this;
  watcher_ = std::make_shared<Watcher>(io_, ac);
  ac->ev.data = watcher_.get();
  ac->ev.addRead = &Watcher::add_read;
  ac->ev.delRead = &Watcher::del_read;
  ac->ev.addWrite = &Watcher::add_write;
  ac->ev.delWrite = &Watcher::del_write;
  ac->ev.cleanup = &Watcher::cleanup;
  redisAsyncSetConnectCallback(ac, &RedisClient::connect_callback);
  redisAsyncSetDisconnectCallback(ac, &RedisClient::disconnect_callback);

  // Queued before anything else, so every later command runs authenticated on the right database.
  auto log_error = [name = name_](const redisReply*, const std::string& error) {
    if (!error.empty()) spdlog::error("redis {}: {}", name, error);
  };
  if (!endpoint_.password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!endpoint_.username.empty()) auth.push_back(endpoint_.username);
    auth.push_back(endpoint_.password);
    // Refused: nothing works on this connection; try again later (ops may be fixing the ACL).
    command(auth, [this, ac = context_](const redisReply* reply, const std::string& error) {
      if (reply && !error.empty() && context_ == ac) drop_connection("AUTH refused: " + error);
    });
  }
  if (endpoint_.database != 0) command({"SELECT", std::to_string(endpoint_.database)}, log_error);
  verify();
}

// A connection counts (connected(), on_connect, backoff reset) once it has answered: PING, so a
// refused AUTH is not a connection; with Sentinel, ROLE, because the sentinels' answer may predate
// a failover and only a master is kept. `this` outlives every non-null reply: the destructor frees
// the context first, and its pending callbacks then run with a null reply.
void RedisClient::verify() {
  bool sentinel = endpoint_.uses_sentinel();
  command({sentinel ? "ROLE" : "PING"},
          [this, sentinel, ac = context_](const redisReply* reply, const std::string& error) {
            if (!reply || context_ != ac) return;  // that connection is gone already
            if (!error.empty()) return drop_connection((sentinel ? "ROLE: " : "PING: ") + error);
            if (sentinel) {
              std::string role = reply->type == REDIS_REPLY_ARRAY && reply->elements > 0
                                     ? reply_string(reply->element[0])
                                     : "";
              if (role != "master") return drop_connection("it is a " + role + ", not the master");
            }
            established();
          });
}

void RedisClient::established() {
  connected_ = true;
  backoff_ = std::chrono::milliseconds(100);
  if (endpoint_.uses_sentinel())
    spdlog::info("redis {}: connected to {} (master '{}' per the sentinels)", name_, address_,
                 endpoint_.sentinel.master_name);
  else
    spdlog::info("redis {}: connected to {}", name_, endpoint_.describe());
  if (on_connect_) on_connect_();
}

void RedisClient::drop_connection(const std::string& why) {
  if (!context_ || (context_->c.flags & REDIS_DISCONNECTING)) return;  // once per connection
  spdlog::warn("redis {}: leaving {}: {}", name_, address_, why);
  redisAsyncDisconnect(context_);  // the disconnect callback reconnects (and asks again)
}

void RedisClient::connect_callback(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisClient*>(ac->data);
  if (!self) return;
  if (status != REDIS_OK) {
    // hiredis frees the context right after this callback.
    self->context_ = nullptr;
    self->handle_disconnect(ac->errstr);
    return;
  }
  // verify() (queued in connect()) decides whether this connection is established.
}

void RedisClient::disconnect_callback(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisClient*>(ac->data);
  if (!self) return;
  self->context_ = nullptr;
  self->handle_disconnect(status == REDIS_OK ? "closed" : ac->errstr);
}

void RedisClient::handle_disconnect(const std::string& why) {
  bool was_connected = connected_;
  connected_ = false;
  if (stopped_) return;
  if (was_connected) {
    ++reconnects_;
    spdlog::warn("redis {}: connection to {} lost ({}); reconnecting", name_, endpoint_.describe(),
                 why);
  } else {
    spdlog::warn("redis {}: cannot connect to {} ({}); retrying in {} ms", name_,
                 endpoint_.describe(), why, backoff_.count());
  }
  schedule_reconnect();
}

void RedisClient::schedule_reconnect() {
  reconnect_timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(5000));
  reconnect_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) connect();
  });
}

namespace {

void reply_trampoline(redisAsyncContext* ac, void* reply, void* privdata) {
  std::unique_ptr<RedisCallback> done(static_cast<RedisCallback*>(privdata));
  auto* r = static_cast<redisReply*>(reply);
  if (!r) {
    (*done)(nullptr, ac && ac->errstr[0] ? std::string(ac->errstr) : "connection lost");
  } else if (r->type == REDIS_REPLY_ERROR) {
    std::string error(r->str, r->len);
    // A write reached a replica: the master was demoted (failover). Find the new one.
    if (error.starts_with("READONLY") && ac && ac->data)
      static_cast<RedisClient*>(ac->data)->drop_connection("READONLY: the server is a replica now");
    (*done)(r, error);
  } else {
    (*done)(r, std::string());
  }
}

}  // namespace

void RedisClient::command(const std::vector<std::string>& argv, RedisCallback done) {
  if (!context_) {
    boost::asio::post(io_, [done = std::move(done)] { done(nullptr, "not connected to Redis"); });
    return;
  }
  std::vector<const char*> args;
  std::vector<size_t> lengths;
  args.reserve(argv.size());
  lengths.reserve(argv.size());
  for (const auto& a : argv) {
    args.push_back(a.data());
    lengths.push_back(a.size());
  }
  auto* holder = new RedisCallback(std::move(done));
  if (redisAsyncCommandArgv(context_, &reply_trampoline, holder, static_cast<int>(args.size()),
                            args.data(), lengths.data()) != REDIS_OK) {
    std::unique_ptr<RedisCallback> owned(holder);
    boost::asio::post(io_,
                      [done = std::move(*owned)] { done(nullptr, "Redis connection closing"); });
  }
}

void RedisClient::eval(const LuaScript& script, const std::vector<std::string>& keys,
                       const std::vector<std::string>& args, RedisCallback done) {
  auto build = [&](const std::string& verb, const std::string& body) {
    std::vector<std::string> argv{verb, body, std::to_string(keys.size())};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  };
  // Scripts live as long as the program (static), so the callbacks may point at them.
  auto explained = [script = &script, done = std::move(done)](const redisReply* reply,
                                                              const std::string& error) {
    done(reply, error.empty() ? error : script->explain(error));
  };
  auto eval_argv = std::make_shared<std::vector<std::string>>(build("EVAL", script.source));
  command(build("EVALSHA", script.sha1),
          [self = weak_from_this(), eval_argv, done = std::move(explained)](
              const redisReply* reply, const std::string& error) mutable {
            auto client = self.lock();
            if (client && error.starts_with("NOSCRIPT")) {
              client->command(*eval_argv, std::move(done));
              return;
            }
            done(reply, error);
          });
}

}  // namespace rappel
