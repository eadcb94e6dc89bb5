// A plain synchronous HTTP/1.1 client (Boost.Beast) for tests that play a provider posting to
// the daemon's endpoint: one connection per request, the answer's status and body.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace rappel::test {

struct PostAnswer {
  int status = 0;  // 0: no answer (connection refused or closed)
  std::string body;
};

PostAnswer http_post(unsigned short port, const std::string& target, const std::string& body,
                     const std::vector<std::pair<std::string, std::string>>& headers = {
                         {"Content-Type", "application/json"}});

}  // namespace rappel::test
