// A synchronous HTTP GET for tests (Boost.Beast), to ask the daemon's own HTTP server.
#pragma once

#include <string>

namespace rappel::test {

struct HttpAnswer {
  int status = 0;  // 0: could not connect
  std::string content_type;
  std::string body;
  std::string header(const std::string& name) const;
  std::string raw_headers;
};

HttpAnswer http_get(unsigned short port, const std::string& target);

}  // namespace rappel::test
