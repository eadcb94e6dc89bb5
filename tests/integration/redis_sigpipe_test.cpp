// A Redis connection closed by the server while rappel is still writing to it: what a Redis
// restart did to the daemon in the reliability test "Redis restarted (AOF) in the middle of a
// drain" (3 runs in about 40 under ASan and load: the daemon vanished, its log cut mid-drain, 183
// inbox entries pending, 52 messages `sending`, nothing final for 120 s).
//
// hiredis writes with write(2), not send(MSG_NOSIGNAL). When the server's FIN and then its reset
// (it closed with our command unread) arrive while a write is pending, Asio runs the pending write
// before the read that would have seen the end of the connection; the kernel answers that write
// with EPIPE *and SIGPIPE*, whose default action kills the process without a word in its log. The
// fake server below is a bare socket that the test drives step by step, so the order of events is
// exact, not a race. rappel therefore ignores SIGPIPE (main.cpp): the write fails with EPIPE, the
// command fails, the client reconnects.
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "daemon/net/redis_client.hpp"
#include "integration/scenario.hpp"

using namespace rappel;
using namespace rappel::test;
using namespace std::chrono_literals;

namespace {

volatile sig_atomic_t sigpipes = 0;

// Counts SIGPIPE instead of dying of it (the write then fails with EPIPE, as when it is ignored).
struct CountSigpipe {
  struct sigaction previous {};
  CountSigpipe() {
    struct sigaction counting {};
    counting.sa_handler = [](int) { sigpipes = sigpipes + 1; };
    sigemptyset(&counting.sa_mask);
    sigaction(SIGPIPE, &counting, &previous);
    sigpipes = 0;
  }
  ~CountSigpipe() { sigaction(SIGPIPE, &previous, nullptr); }
};

// A listening socket on a port the OS chooses, playing Redis by hand.
struct FakeRedis {
  int listener = -1;
  unsigned short port = 0;
  FakeRedis() {
    listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int small = 4096;  // inherited by accepted sockets: a large command cannot fit in transit
    setsockopt(listener, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listener, 4) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("fake Redis: cannot listen");
    port = ntohs(addr.sin_port);
  }
  ~FakeRedis() { close(listener); }
};

int unread(int fd) {
  int n = 0;
  ioctl(fd, FIONREAD, &n);
  return n;
}

// Runs the client's loop until the fake server has accepted it and answered its PING.
int accept_and_pong(boost::asio::io_context& io, FakeRedis& fake, RedisClient& client) {
  int conn = -1;
  REQUIRE(eventually([&] {
    io.poll();
    if (conn < 0) conn = accept(fake.listener, nullptr, nullptr);
    return conn >= 0 && unread(conn) >= 14;  // *1\r\n$4\r\nPING\r\n
  }));
  char ping[14];
  REQUIRE(read(conn, ping, sizeof ping) == 14);
  REQUIRE(write(conn, "+PONG\r\n", 7) == 7);
  REQUIRE(eventually([&] {
    io.poll();
    return client.connected();
  }));
  return conn;
}

}  // namespace

TEST_CASE("Redis closes the connection while a command is being written: an error, not a death",
          "[redis-restart][sigpipe]") {
  CountSigpipe counter;
  FakeRedis fake;
  boost::asio::io_context io;
  RedisEndpoint endpoint;
  endpoint.port = fake.port;
  auto client = std::make_shared<RedisClient>(io, endpoint, "commands");
  client->start();
  int conn = accept_and_pong(io, fake, *client);

  // A command larger than what the sockets can hold: written in part, the rest waits.
  std::string error;
  bool answered = false;
  client->command({"SET", "rappel:big", std::string(16 << 20, 'x')},
                  [&](const redisReply*, const std::string& e) { answered = true, error = e; });
  REQUIRE(eventually([&] {
    io.poll();
    return unread(conn) > 0;
  }));
  for (int i = 0; i < 10; ++i) io.poll();  // until the client waits for room to write
  REQUIRE_FALSE(answered);

  // Redis goes away with the command unread: FIN, then a reset.
  shutdown(conn, SHUT_WR);
  close(conn);
  REQUIRE(eventually([&] {
    io.poll();
    return answered;
  }));
  CHECK_FALSE(error.empty());
  // What killed the daemon: the next write raised SIGPIPE (counted here, ignored by rappel).
  CHECK(sigpipes > 0);

  // The client comes back by itself once the server answers again.
  int again = accept_and_pong(io, fake, *client);
  CHECK(client->reconnects() == 1);
  close(again);
  client->close();
}

TEST_CASE("The daemon survives SIGPIPE and keeps sending", "[redis-restart][sigpipe]") {
  Scenario s;
  auto& daemon = s.start_daemon();
  s.enqueue(reminder("rdv-sigpipe-1"));
  REQUIRE(s.wait_status("rdv-sigpipe-1:sms", "sent"));

  daemon.signal(SIGPIPE);  // what a write to a connection Redis had closed raised
  s.enqueue(reminder("rdv-sigpipe-2"));
  CHECK(s.wait_status("rdv-sigpipe-2:sms", "sent"));
  CHECK(daemon.running());
}
