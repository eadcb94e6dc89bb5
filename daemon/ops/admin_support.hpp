// What the administration commands share (admin.cpp, admin_providers.cpp): the synchronous
// Redis of daemon/net/redis_sync.hpp, the configuration read without the daemon's HTTP client, and
// one way of turning an exception into a message and an exit code. The commands run once and exit,
// so blocking calls are the simple and right tool here; the daemon itself never uses them.
#pragma once

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "daemon/base/config_node.hpp"
#include "daemon/config/config.hpp"
#include "daemon/net/redis_sync.hpp"

namespace rappel {

// The configuration as the commands need it: providers built without an HTTP client.
std::shared_ptr<Config> load_for_admin(const std::string& path, boost::asio::io_context& io);

// Runs a command's body: its exit code, or 1 with the error on stderr.
template <typename F>
int guarded(F&& body) {
  try {
    return body();
  } catch (const ConfigError& e) {
    std::cerr << "configuration error: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
  }
  return 1;
}

}  // namespace rappel
