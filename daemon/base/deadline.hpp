// A callback given exactly once, with a value or with nothing once a deadline passed: endpoints
// that ask Redis answer in time even when Redis accepts the connection and never replies.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace rappel {

// Gives `done` exactly once: the value the work produced, or nullopt when the deadline passed
// first (a Redis that accepts the connection but never answers must not hang a probe).
template <typename T>
class Deadline : public std::enable_shared_from_this<Deadline<T>> {
 public:
  Deadline(boost::asio::io_context& io, std::function<void(std::optional<T>)> done)
      : timer_(io), done_(std::move(done)) {}

  void start(std::chrono::milliseconds after) {
    timer_.expires_after(after);
    timer_.async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->give(std::nullopt);
    });
  }
  void give(std::optional<T> value) {
    if (!done_) return;
    auto done = std::move(done_);
    done_ = nullptr;
    timer_.cancel();
    done(std::move(value));
  }

 private:
  boost::asio::steady_timer timer_;
  std::function<void(std::optional<T>)> done_;
};

template <typename T>
std::shared_ptr<Deadline<T>> deadline(boost::asio::io_context& io, std::chrono::milliseconds after,
                                      std::function<void(std::optional<T>)> done) {
  auto d = std::make_shared<Deadline<T>>(io, std::move(done));
  d->start(after);
  return d;
}

}  // namespace rappel
