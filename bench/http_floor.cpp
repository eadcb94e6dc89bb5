// The floor of one provider request in rappel's own HTTP layer: the daemon's CurlMulti and
// http_request (libcurl multi on Boost.Asio, keep-alive), in this process, POSTing Brevo SMS's
// request body to the drain's nginx with as many requests in flight as the daemon allows, and
// nothing else: no Redis, no intake, no rendering. The CPU this thread spends per request is what
// one message costs rappel before it does any of its own work, and with nginx's share it says how
// many messages per second the two cores could carry at best with one HTTP request per message.
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>

#include "benchmarks.hpp"
#include "daemon/net/curl_multi.hpp"
#include "daemon/net/http_client.hpp"
#include "stack.hpp"

namespace rappel::bench {
namespace {

double thread_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Keeps `in_flight` requests going until `total` have been answered; counts the non-2xx.
class Load {
 public:
  Load(CurlMulti& curl, std::string url, int total)
      : curl_(curl), url_(std::move(url)), total_(total) {}

  void start(int in_flight) {
    for (int i = 0; i < in_flight && started_ < total_; ++i) next();
  }
  int failures() const { return failures_; }

 private:
  void next() {
    ++started_;
    HttpRequest request;
    request.url = url_;
    request.headers = {{"Content-Type", "application/json"}, {"api-key", "bench-key"}};
    request.body = kBody;
    http_request(curl_, std::move(request), [this](HttpResponse response) {
      if (response.status / 100 != 2) ++failures_;
      if (started_ < total_) next();
    });
  }

  static constexpr const char* kBody =
      R"({"sender":"RdvSoli","recipient":"33612345678","content":"Rappel : RDV PMI le lundi 15 )"
      R"(mars a 10h30, 12 rue de la Paix, Melun. En cas d'empechement, appelez le 0164000000.",)"
      R"("type":"transactional","unicodeEnabled":false})";
  CurlMulti& curl_;
  std::string url_;
  int total_;
  int started_ = 0;
  int failures_ = 0;
};

}  // namespace

void print_http_floor(const Nginx& nginx, int requests, int in_flight) {
  boost::asio::io_context io;
  CurlMulti curl(io);
  Load load(curl, nginx.url("/v3/transactionalSMS/sms"), requests);
  double nginx_before = cpu_seconds(nginx.pid(), true), cpu_before = thread_cpu_seconds();
  auto start = Clock::now();
  load.start(in_flight);
  io.run();
  double took = seconds_since(start);
  double cpu = thread_cpu_seconds() - cpu_before;
  double nginx_cpu = cpu_seconds(nginx.pid(), true) - nginx_before;
  double both_us = (cpu + nginx_cpu) / requests * 1e6;
  std::printf(
      "floor, rappel's HTTP layer alone (CurlMulti + http_request, %d POSTs, %d in flight, "
      "keep-alive): %.0f requests/s; CPU per request: this thread %.1f us, nginx %.1f us; "
      "%d failed; at most %.0f messages/s on %ld cores with one request per message\n",
      requests, in_flight, requests / took, cpu / requests * 1e6, nginx_cpu / requests * 1e6,
      load.failures(), sysconf(_SC_NPROCESSORS_ONLN) / both_us * 1e6,
      sysconf(_SC_NPROCESSORS_ONLN));
  curl.cancel_all();
}

}  // namespace rappel::bench
