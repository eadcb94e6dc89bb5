// Tests of the provider stand-in server itself, with plain blocking libcurl calls: if the server
// lied about what it received or how many connections it took, every adapter test would be wrong.
#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <curl/curl.h>
#include <catch2/catch.hpp>

#include "support/provider_server.hpp"

using rappel::test::ProviderServer;
using rappel::test::RecordedRequest;
using rappel::test::ScriptedResponse;

namespace {

struct EasyResult {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::string headers;
};

size_t append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One blocking request on `easy` (reused for keep-alive when the caller passes the same handle).
EasyResult perform(CURL* easy, const std::string& url, const std::string* post_body = nullptr,
                   curl_slist* headers = nullptr) {
  EasyResult r;
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, append);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 20000L);
  if (post_body) {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, post_body->c_str());
  } else {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  }
  r.code = curl_easy_perform(easy);
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

EasyResult perform_once(const std::string& url, const std::string* post_body = nullptr,
                        curl_slist* headers = nullptr) {
  CURL* easy = curl_easy_init();
  EasyResult r = perform(easy, url, post_body, headers);
  curl_easy_cleanup(easy);
  return r;
}

}  // namespace

TEST_CASE("provider server records a form POST and answers the scripted response",
          "[provider_server]") {
  ProviderServer server([](const RecordedRequest& req) {
    ScriptedResponse r;
    r.status = req.path == "/restapi/v1/sms/send" ? 200 : 404;
    r.body = R"({"responseCode":0,"messageIds":["a1","a2"]})";
    r.headers.push_back({"X-Trace", "t-42"});
    return r;
  });
  std::string body =
      "destinationAddress=33612345678&messageText=Rappel+%3A+RDV+le+12%2F03+%C3%A0+9h30"
      "&originatingAddress=RdvSoli";
  curl_slist* headers =
      curl_slist_append(nullptr, "Content-Type: application/x-www-form-urlencoded; charset=UTF-8");
  EasyResult r =
      perform_once(server.url("/restapi/v1/sms/send?campaign=rappel%2077"), &body, headers);
  curl_slist_free_all(headers);

  REQUIRE(r.code == CURLE_OK);
  CHECK(r.status == 200);
  CHECK(r.body == R"({"responseCode":0,"messageIds":["a1","a2"]})");
  CHECK(r.headers.find("X-Trace: t-42") != std::string::npos);
  CHECK(r.headers.find("Content-Type: application/json") != std::string::npos);

  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  const RecordedRequest& req = requests[0];
  CHECK(req.method == "POST");
  CHECK(req.path == "/restapi/v1/sms/send");
  CHECK(req.target == "/restapi/v1/sms/send?campaign=rappel%2077");
  CHECK(req.query.at("campaign") == "rappel 77");
  CHECK(req.headers.at("content-type") == "application/x-www-form-urlencoded; charset=UTF-8");
  auto form = req.form();
  CHECK(form.at("destinationAddress") == "33612345678");
  CHECK(form.at("messageText") == "Rappel : RDV le 12/03 à 9h30");
  CHECK(form.at("originatingAddress") == "RdvSoli");
}

TEST_CASE("provider server keeps connections alive across requests", "[provider_server]") {
  ProviderServer server([](const RecordedRequest&) { return ScriptedResponse{201, "{}"}; });
  CURL* easy = curl_easy_init();
  for (int i = 0; i < 5; ++i) {
    EasyResult r = perform(easy, server.url("/api/pushs"));
    REQUIRE(r.code == CURLE_OK);
    CHECK(r.status == 201);
  }
  curl_easy_cleanup(easy);
  CHECK(server.request_count() == 5);
  CHECK(server.connections_accepted() == 1);
}

TEST_CASE("provider server drops a connection without answering", "[provider_server]") {
  ProviderServer server([](const RecordedRequest&) {
    ScriptedResponse r;
    r.drop_connection = true;
    return r;
  });
  EasyResult r = perform_once(server.url("/send"));
  CHECK(r.code == CURLE_GOT_NOTHING);
  CHECK(r.status == 0);
  CHECK(server.request_count() == 1);
}

TEST_CASE("provider server delays one answer without holding the others", "[provider_server]") {
  // The slow answer is scheduled a minute away; the fast request is sent once the slow one has
  // been received, and must complete while the slow one is still waiting: the delay is a timer,
  // not a sleep on the server thread. Destroying the server then ends the slow request.
  auto server = std::make_unique<ProviderServer>([](const RecordedRequest& req) {
    ScriptedResponse r;
    r.body = req.path;
    if (req.path == "/slow") r.delay = std::chrono::minutes(1);
    return r;
  });
  std::atomic<bool> slow_finished{false};
  auto slow = std::async(std::launch::async, [&] {
    EasyResult r = perform_once(server->url("/slow"));
    slow_finished = true;
    return r;
  });
  while (server->request_count() == 0) std::this_thread::yield();
  EasyResult fast = perform_once(server->url("/fast"));
  CHECK(fast.code == CURLE_OK);
  CHECK(fast.body == "/fast");
  CHECK_FALSE(slow_finished);
  server.reset();
  EasyResult slow_result = slow.get();
  CHECK(slow_result.code != CURLE_OK);
  CHECK(slow_result.status == 0);
}
