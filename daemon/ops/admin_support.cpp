// See admin_support.hpp.
#include "daemon/ops/admin_support.hpp"

namespace rappel {

std::shared_ptr<Config> load_for_admin(const std::string& path, boost::asio::io_context& io) {
  ProviderContext ctx{io, nullptr};
  return load_config(path, ctx);
}

}  // namespace rappel
