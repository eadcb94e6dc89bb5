// Tests of the HTTP client and the CurlMulti event-loop driver against the real Beast stand-in
// server: what adapters rely on (status, body, headers, auth), every failure shape with its
// maybe_delivered flag, and the loop staying responsive with hundreds of slow requests in flight.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch.hpp>

#include "daemon/net/curl_multi.hpp"
#include "daemon/net/http_client.hpp"
#include "support/provider_server.hpp"

using namespace rappel;
using rappel::test::ProviderServer;
using rappel::test::RecordedRequest;
using rappel::test::ScriptedResponse;
using namespace std::chrono_literals;

namespace {

// Runs the loop until `done()` holds; fails rather than hang if the loop runs out of work.
template <typename Pred>
void run_until(boost::asio::io_context& io, Pred done) {
  io.restart();
  while (!done()) REQUIRE(io.run_one_for(30s) > 0);
}

HttpResponse fetch(CurlMulti& curl, HttpRequest request) {
  std::optional<HttpResponse> response;
  http_request(curl, std::move(request), [&](HttpResponse r) { response = std::move(r); });
  run_until(curl.io(), [&] { return response.has_value(); });
  return *response;
}

HttpRequest get(std::string url) {
  HttpRequest r;
  r.method = "GET";
  r.url = std::move(url);
  return r;
}

unsigned short closed_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(
      io, {boost::asio::ip::make_address("127.0.0.1"), 0});  // bound, never listening
  return acceptor.local_endpoint().port();
}

}  // namespace

TEST_CASE("url_encode and form_encode escape French text", "[http_client]") {
  CHECK(url_encode("Rappel : RDV le 12/03 à 9h30") ==
        "Rappel%20%3A%20RDV%20le%2012%2F03%20%C3%A0%209h30");
  CHECK(url_encode("a-z_0.9~") == "a-z_0.9~");
  CHECK(form_encode({{"to", "+33612345678"}, {"text", "Élise & co"}}) ==
        "to=%2B33612345678&text=%C3%89lise%20%26%20co");
}

TEST_CASE("http_request sends method, headers, basic auth and body; reads status, body, headers",
          "[http_client]") {
  ProviderServer server([](const RecordedRequest&) {
    return ScriptedResponse{201, R"({"push":{"nb_sms":2}})", {{"X-Request-Id", "r-77"}}};
  });
  boost::asio::io_context io;
  CurlMulti curl(io);
  HttpRequest request;
  request.url = server.url("/api/pushs?dept=77");
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"}};
  request.body = form_encode({{"number", "0612345678"}, {"msg", "Votre RDV à Melun demain"}});
  request.basic_auth_user = "cd77";
  request.basic_auth_password = "s3cret:é";
  HttpResponse response = fetch(curl, request);

  CHECK(response.status == 201);
  CHECK(response.body == R"({"push":{"nb_sms":2}})");
  CHECK(response.header("x-request-id") == "r-77");
  CHECK(response.header("content-type") == "application/json");
  CHECK_FALSE(response.maybe_delivered);
  CHECK(response.transport_error.empty());
  CHECK(response.elapsed > 0us);

  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "POST");
  CHECK(requests[0].query.at("dept") == "77");
  CHECK(requests[0].form().at("msg") == "Votre RDV à Melun demain");
  CHECK(requests[0].headers.at("content-type") ==
        "application/x-www-form-urlencoded; charset=UTF-8");
  // base64("cd77:s3cret:é")
  CHECK(requests[0].headers.at("authorization") == "Basic Y2Q3NzpzM2NyZXQ6w6k=");
  CHECK(requests[0].headers.count("expect") == 0);
}

TEST_CASE("http_request GET carries the query and no body", "[http_client]") {
  ProviderServer server([](const RecordedRequest&) { return ScriptedResponse{200, "{}"}; });
  boost::asio::io_context io;
  CurlMulti curl(io);
  HttpResponse response = fetch(
      curl,
      get(server.url("/send?") + form_encode({{"text", "Rappel : RDV"}, {"to", "33612345678"}})));
  CHECK(response.status == 200);
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "GET");
  CHECK(requests[0].query.at("text") == "Rappel : RDV");
  CHECK(requests[0].body.empty());
}

TEST_CASE("http_request fails a response larger than max_response_bytes", "[http_client]") {
  ProviderServer server([](const RecordedRequest&) {
    return ScriptedResponse{200, std::string(5000, 'x')};
  });
  boost::asio::io_context io;
  CurlMulti curl(io);
  HttpRequest request = get(server.url("/"));
  request.max_response_bytes = 1000;
  HttpResponse response = fetch(curl, request);
  CHECK(response.status == 0);
  CHECK(response.transport_error == "response body larger than 1000 bytes");
  CHECK(response.maybe_delivered);  // the provider got the request and answered
  request.max_response_bytes = 5000;
  CHECK(fetch(curl, request).status == 200);
}

TEST_CASE("http_request to a closed port fails as not delivered", "[http_client]") {
  boost::asio::io_context io;
  CurlMulti curl(io);
  HttpResponse response =
      fetch(curl, get("http://127.0.0.1:" + std::to_string(closed_port()) + "/send"));
  CHECK(response.status == 0);
  CHECK_FALSE(response.transport_error.empty());
  CHECK_FALSE(response.timed_out);
  CHECK_FALSE(response.maybe_delivered);
}

TEST_CASE("http_request timing out after sending may have been delivered", "[http_client]") {
  ProviderServer server([](const RecordedRequest&) {
    ScriptedResponse r;
    r.delay = 10min;
    return r;
  });
  boost::asio::io_context io;
  CurlMulti curl(io);
  HttpRequest request;
  request.url = server.url("/sms");
  request.body = R"({"sender":"RdvSoli"})";
  request.total_timeout = 300ms;
  HttpResponse response = fetch(curl, request);
  CHECK(response.status == 0);
  CHECK(response.timed_out);
  CHECK(response.maybe_delivered);
  CHECK(server.request_count() == 1);
}

TEST_CASE("http_request on a connection dropped by the provider may have been delivered",
          "[http_client]") {
  ProviderServer server([](const RecordedRequest&) {
    ScriptedResponse r;
    r.drop_connection = true;
    return r;
  });
  boost::asio::io_context io;
  CurlMulti curl(io);
  HttpRequest request;
  request.url = server.url("/sms");
  request.body = std::string(20000, 'a');  // larger than one socket write
  HttpResponse response = fetch(curl, request);
  CHECK(response.status == 0);
  CHECK_FALSE(response.timed_out);
  CHECK(response.maybe_delivered);
  REQUIRE(server.request_count() == 1);
  CHECK(server.requests()[0].body.size() == 20000);
}

TEST_CASE("sequential requests to one provider reuse one connection", "[http_client]") {
  ProviderServer server([](const RecordedRequest&) { return ScriptedResponse{200, "{}"}; });
  boost::asio::io_context io;
  CurlMulti curl(io);
  for (int i = 0; i < 20; ++i) {
    HttpRequest request;
    request.url = server.url("/send");
    request.body = "n=" + std::to_string(i);
    REQUIRE(fetch(curl, request).status == 200);
  }
  CHECK(server.request_count() == 20);
  CHECK(server.connections_accepted() == 1);
}

// A cached connection stays registered with the event loop while idle (CurlMulti::on_socket).
// Here the provider closes each one after answering: the idle registration must see the close
// without waking libcurl, and the next connection, which usually gets the same descriptor
// number, must be watched afresh (a stale registration would leave it unwatched: the request
// would hang until the loop's 30 s limit).
TEST_CASE("connections the provider closes while idle in the cache are replaced, not stuck",
          "[http_client][curl_multi]") {
  ProviderServer server([](const RecordedRequest&) {
    ScriptedResponse r{200, "{}"};
    r.close_after_answer = true;
    return r;
  });
  boost::asio::io_context io;
  CurlMulti curl(io);
  for (int i = 0; i < 20; ++i) {
    HttpRequest request;
    request.url = server.url("/send");
    request.body = "n=" + std::to_string(i);
    REQUIRE(fetch(curl, request).status == 200);
    // Let the close arrive while the connection sits in the cache.
    boost::asio::steady_timer pause(io, 5ms);
    bool paused = false;
    pause.async_wait([&](boost::system::error_code) { paused = true; });
    run_until(io, [&] { return paused; });
  }
  CHECK(server.request_count() == 20);
  CHECK(server.connections_accepted() == 20);
}

TEST_CASE("500 slow requests in flight do not hold a fast one", "[http_client][curl_multi]") {
  // All 500 are received by the slow provider (so all are in flight at once) before the fast
  // request starts; the fast one must then complete before any slow one.
  ProviderServer slow([](const RecordedRequest&) {
    ScriptedResponse r;
    r.delay = 3s;
    return r;
  });
  ProviderServer fast([](const RecordedRequest&) { return ScriptedResponse{200, "fast"}; });
  boost::asio::io_context io;
  CurlMulti curl(io, {.max_host_connections = 600, .max_cached_connections = 600});
  std::vector<std::string> completions;
  int slow_ok = 0;
  for (int i = 0; i < 500; ++i)
    http_request(curl, get(slow.url("/slow")), [&](HttpResponse r) {
      completions.push_back("slow");
      slow_ok += r.status == 200;
    });
  CHECK(curl.in_flight() == 500);
  run_until(io, [&] { return slow.request_count() == 500; });
  http_request(curl, get(fast.url("/fast")), [&](HttpResponse r) {
    CHECK(r.body == "fast");
    completions.push_back("fast");
  });
  run_until(io, [&] { return completions.size() == 501; });
  CHECK(completions.front() == "fast");
  CHECK(slow_ok == 500);
  CHECK(slow.connections_accepted() == 500);
  CHECK(curl.in_flight() == 0);
}

TEST_CASE("CurlMulti cancel_all completes pending transfers as aborted", "[curl_multi]") {
  ProviderServer server([](const RecordedRequest&) {
    ScriptedResponse r;
    r.delay = 10min;
    return r;
  });
  boost::asio::io_context io;
  CurlMulti curl(io);
  std::vector<HttpResponse> responses;
  for (int i = 0; i < 3; ++i)
    http_request(curl, get(server.url("/slow")),
                 [&](HttpResponse r) { responses.push_back(std::move(r)); });
  run_until(io, [&] { return server.request_count() == 3; });
  curl.cancel_all();
  REQUIRE(responses.size() == 3);
  for (const auto& r : responses) {
    CHECK(r.status == 0);
    CHECK(r.maybe_delivered);  // the provider had received them
  }
  CHECK(curl.in_flight() == 0);
  // The multi handle is still usable afterwards.
  server.set_handler([](const RecordedRequest&) { return ScriptedResponse{200, "ok"}; });
  CHECK(fetch(curl, get(server.url("/again"))).body == "ok");
}

TEST_CASE("CurlMulti destroyed with transfers pending drops them safely", "[curl_multi]") {
  ProviderServer server([](const RecordedRequest&) {
    ScriptedResponse r;
    r.delay = 10min;
    return r;
  });
  boost::asio::io_context io;
  int called = 0;
  {
    CurlMulti curl(io);
    for (int i = 0; i < 3; ++i)
      http_request(curl, get(server.url("/slow")), [&](HttpResponse) { ++called; });
    run_until(io, [&] { return server.request_count() == 3; });
  }
  io.restart();
  io.poll();  // handlers left behind by the destroyed multi must not touch it
  CHECK(called == 0);
}
