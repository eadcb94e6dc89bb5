// See redis_endpoint.hpp.
#include "daemon/net/redis_endpoint.hpp"

#include <charconv>
#include <stdexcept>

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

}  // namespace rappel
