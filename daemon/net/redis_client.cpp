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

namespace rappel {

std::string RedisEndpoint::describe() const {
  if (uses_sentinel()) {
    std::string sentinels;
    for (const auto& [h, p] : sentinel.addresses)
      sentinels += (sentinels.empty() ? "" : ",") + h + ":" + std::to_string(p);
    return "master '" + sentinel.master_name + "' via sentinels " + sentinels + "/" +
           std::to_string(database);
  }
  if (!unix_path.empty()) return "unix:" + unix_path + "/" + std::to_string(database);
  return host + ":" + std::to_string(port) + "/" + std::to_string(database);
}

namespace {

int parse_int(std::string_view text, const char* what) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    throw std::invalid_argument(std::string("invalid ") + what + " in Redis URL");
  return value;
}

std::string percent_decode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

}  // namespace

RedisEndpoint parse_redis_url(std::string_view url) {
  RedisEndpoint ep;
  if (url.starts_with("unix://")) {
    std::string_view rest = url.substr(7);
    size_t q = rest.find('?');
    ep.unix_path = std::string(rest.substr(0, q));
    if (q != std::string_view::npos) {
      std::string_view query = rest.substr(q + 1);
      if (!query.starts_with("db=")) throw std::invalid_argument("unknown Redis URL parameter");
      ep.database = parse_int(query.substr(3), "database");
    }
    if (ep.unix_path.empty()) throw std::invalid_argument("empty socket path in Redis URL");
    return ep;
  }
  if (!url.starts_with("redis://"))
    throw std::invalid_argument("Redis URL must start with redis://");
  std::string_view rest = url.substr(8);
  size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      ep.password = percent_decode(userinfo);
    } else {
      ep.username = percent_decode(userinfo.substr(0, colon));
      ep.password = percent_decode(userinfo.substr(colon + 1));
    }
    rest = rest.substr(at + 1);
  }
  size_t slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  if (slash != std::string_view::npos && slash + 1 < rest.size())
    ep.database = parse_int(rest.substr(slash + 1), "database");
  if (hostport.starts_with('[')) {  // IPv6: [::1]:6380
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("unclosed [ in Redis URL");
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') throw std::invalid_argument("invalid port in Redis URL");
      ep.port = parse_int(after.substr(1), "port");
    }
    hostport = hostport.substr(1, close - 1);
  } else if (size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
    ep.port = parse_int(hostport.substr(colon + 1), "port");
    hostport = hostport.substr(0, colon);
  }
  if (ep.port < 1 || ep.port > 65535) throw std::invalid_argument("invalid port in Redis URL");
  if (ep.database < 0) throw std::invalid_argument("invalid database in Redis URL");
  if (!hostport.empty()) ep.host = std::string(hostport);
  return ep;
}

std::pair<std::string, int> parse_host_port(std::string_view text) {
  std::string_view host = text;
  int port = 26379;
  std::string_view port_text;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("unclosed [ in address");
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') throw std::invalid_argument("expected host:port");
      port_text = text.substr(close + 2);
    }
  } else if (size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (!port_text.empty()) port = parse_int(port_text, "port");
  if (host.empty()) throw std::invalid_argument("expected host:port");
  if (port < 1 || port > 65535) throw std::invalid_argument("invalid port");
  return {std::string(host), port};
}

namespace {

struct SyncContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct SyncReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using SyncReply = std::unique_ptr<redisReply, SyncReplyDeleter>;

SyncReply sync_command(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lengths;
  for (const auto& a : argv) args.push_back(a.data()), lengths.push_back(a.size());
  return SyncReply(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lengths.data())));
}

// What one sentinel says about the master: the address, or throws with the reason.
std::pair<std::string, int> ask_sentinel(const std::string& host, int port,
                                         const SentinelSettings& settings) {
  const timeval timeout{0, 500'000};  // a sentinel is local to the network, or it is down
  std::unique_ptr<redisContext, SyncContextDeleter> c(
      redisConnectWithTimeout(host.c_str(), port, timeout));
  if (!c || c->err) throw std::runtime_error(c ? c->errstr : "out of memory");
  redisSetTimeout(c.get(), timeout);
  if (!settings.password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!settings.username.empty()) auth.push_back(settings.username);
    auth.push_back(settings.password);
    SyncReply r = sync_command(c.get(), auth);
    if (!r) throw std::runtime_error(c->errstr);
    if (r->type == REDIS_REPLY_ERROR) throw std::runtime_error("AUTH: " + reply_string(r.get()));
  }
  SyncReply r =
      sync_command(c.get(), {"SENTINEL", "get-master-addr-by-name", settings.master_name});
  if (!r) throw std::runtime_error(c->errstr);
  if (r->type == REDIS_REPLY_ERROR) throw std::runtime_error(reply_string(r.get()));
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
    throw std::runtime_error("knows no master named '" + settings.master_name + "'");
  return {reply_string(r->element[0]), std::atoi(reply_string(r->element[1]).c_str())};
}

}  // namespace

RedisEndpoint resolve_master(const RedisEndpoint& endpoint) {
  if (!endpoint.uses_sentinel()) return endpoint;
  std::string problems;
  for (const auto& [host, port] : endpoint.sentinel.addresses) {
    try {
      auto [master_host, master_port] = ask_sentinel(host, port, endpoint.sentinel);
      RedisEndpoint master = endpoint;
      master.host = master_host;
      master.port = master_port;
      master.unix_path.clear();
      return master;
    } catch (const std::exception& e) {
      problems +=
          (problems.empty() ? "" : "; ") + host + ":" + std::to_string(port) + ": " + e.what();
    }
  }
  throw std::runtime_error("no sentinel named the master '" + endpoint.sentinel.master_name +
                           "' (" + problems + ")");
}

std::string reply_string(const redisReply* r) {
  if (!r) return {};
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return std::string(r->str, r->len);
    case REDIS_REPLY_INTEGER:
      return std::to_string(r->integer);
    default:
      return {};
  }
}

long long reply_integer(const redisReply* r) {
  if (!r) return 0;
  if (r->type == REDIS_REPLY_INTEGER) return r->integer;
  if (r->type == REDIS_REPLY_STRING) {
    long long v = 0;
    std::from_chars(r->str, r->str + r->len, v);
    return v;
  }
  return 0;
}

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
