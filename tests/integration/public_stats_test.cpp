// The public statistics page as a person meets it: reminders go out through the real
// daemon, then the page is read in headless Chromium (Debian's), whose DOM must hold the charts
// and the figures sent, and a screenshot is kept (build/tests/public-stats.png). The open-data CSV,
// the page's own server (`public.listen`, without the ops endpoints), bounded ranges and the
// cache are checked over plain HTTP.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>

#include <catch2/catch.hpp>

#include "integration/scenario.hpp"
#include "support/http_get.hpp"
#include "support/process.hpp"

using namespace rappel::test;
using namespace std::chrono_literals;

namespace {

std::string utc_day(std::chrono::hours offset) {
  return iso_in(std::chrono::duration_cast<std::chrono::milliseconds>(offset)).substr(0, 10);
}

// The port of the `public.listen` server, from its log line.
unsigned short public_port(const DaemonProcess& daemon) {
  std::smatch m;
  std::string log = daemon.log();
  if (!std::regex_search(log, m, std::regex("public statistics page on http://[^:]+:(\\d+)/")))
    return 0;
  return static_cast<unsigned short>(std::stoi(m[1]));
}

// Chromium as Debian ships it, headless; `what`: "--dump-dom" or "--screenshot=<file>".
std::string chromium(const std::string& url, const std::string& what, const std::string& dir) {
  std::string out = dir + "/chromium.out";
  ChildOptions o;
  o.argv = {"/usr/bin/chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--user-data-dir=" + dir + "/chromium-profile",
            "--window-size=1280,2400",
            what,
            url};
  o.stdout_mode = Output::file;
  o.stdout_file = out;
  o.stderr_mode = Output::discard;
  ChildProcess browser(o);
  auto code = browser.wait(60s);
  REQUIRE(code == 0);
  std::ifstream in(out);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("the public statistics page, in a browser, shows the charts and the figures sent",
          "[integration][public_stats]") {
  REQUIRE(std::filesystem::exists("/usr/bin/chromium"));  // scripts/test installs it
  TestConfig config;
  config.extra = "public: {listen: \"127.0.0.1:0\"}\n";
  config.departments = "  \"974\": {sms: {provider: journal, sender: RdvSoli}}\n";
  Scenario s(config);
  auto& daemon = s.start_daemon();

  // Seine-et-Marne: 3 reminders by SMS and email, one SMS 3 minutes late, one cancelled;
  // La Réunion: 2 SMS.
  for (int i = 1; i <= 3; ++i)
    s.enqueue(reminder("rdv-77-" + std::to_string(i), "77", {"sms", "email"}));
  auto late = reminder("rdv-77-late");
  late["send_at"] = iso_in(-3min);
  s.enqueue(late);
  auto cancelled = reminder("rdv-77-cancelled");
  cancelled["send_at"] = iso_in(24h);
  s.enqueue(cancelled);
  s.enqueue({{"op", "cancel"}, {"key", "rdv-77-cancelled"}});
  for (int i = 1; i <= 2; ++i) s.enqueue(reminder("rdv-974-" + std::to_string(i), "974"));
  for (const char* id : {"rdv-77-1:sms", "rdv-77-2:email", "rdv-77-3:sms", "rdv-77-late:sms",
                         "rdv-974-1:sms", "rdv-974-2:sms"})
    REQUIRE(s.wait_status(id, "sent"));
  REQUIRE(s.wait_status("rdv-77-1:email", "sent"));
  REQUIRE(s.wait_status("rdv-77-2:sms", "sent"));
  REQUIRE(s.wait_status("rdv-77-3:email", "sent"));
  REQUIRE(s.wait_status("rdv-77-cancelled:sms", "cancelled"));

  // Yesterday to tomorrow in UTC holds today in Paris and in La Réunion, whatever the hour.
  std::string range = "from=" + utc_day(-24h) + "&to=" + utc_day(24h);
  unsigned short port = public_port(daemon);
  REQUIRE(port != 0);
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/public/stats?" + range;

  SECTION("in Chromium: the DOM has the charts, the tables and the figures; a screenshot") {
    std::string dom = chromium(url, "--dump-dom", s.dir);
    CHECK_THAT(dom, Catch::Contains("<html lang=\"fr\">"));
    CHECK(count_of(dom, "<svg") == 2);  // by day, by département
    CHECK(count_of(dom, "<table") == 2);
    CHECK_THAT(dom, Catch::Contains("<dt>Rappels envoyés</dt><dd>9</dd>"));
    CHECK_THAT(dom, Catch::Contains("<dt>SMS envoyés</dt><dd>6</dd>"));
    CHECK_THAT(dom, Catch::Contains("<dt>E-mails envoyés</dt><dd>3</dd>"));
    CHECK_THAT(dom, Catch::Contains("<dt>Annulés</dt><dd>1</dd>"));
    // 8 of 9 within a minute of their time: the late one is not.
    CHECK_THAT(dom, Catch::Contains("<dd>88,9&nbsp;%</dd>"));
    CHECK_THAT(dom,
               Catch::Contains("<th scope=\"row\">Seine-et-Marne (77)</th><td>4</td><td>3</td>"));
    CHECK_THAT(dom, Catch::Contains("<th scope=\"row\">La Réunion (974)</th><td>2</td><td>0</td>"));
    CHECK_THAT(dom, Catch::Contains("<title>Seine-et-Marne (77) : 7 rappels envoyés</title>"));
    CHECK(dom.find("+336") == std::string::npos);  // counts only: no number, no name
    CHECK(dom.find("Camille") == std::string::npos);

    std::string shot = std::string(RAPPEL_BUILD_DIR) + "/tests/public-stats.png";
    std::filesystem::remove(shot);
    chromium(url, "--screenshot=" + shot, s.dir);
    REQUIRE(std::filesystem::exists(shot));
    CHECK(std::filesystem::file_size(shot) > 20'000);
    std::cout << "public statistics page screenshot: " << shot << "\n";
  }

  SECTION("open data: one row per day, département and channel") {
    HttpAnswer csv = http_get(port, "/public/stats.csv?" + range);
    CHECK(csv.status == 200);
    CHECK(csv.content_type == "text/csv; charset=utf-8");
    CHECK_THAT(csv.body, Catch::StartsWith("date,department,channel,sent,delivered,undelivered,"
                                           "failed,expired,cancelled,rejected,sms_segments,"
                                           "sent_on_time\r\n"));
    std::regex sms77(",77,sms,4,0,0,0,0,1,0,4,3\r\n");
    std::regex email77(",77,email,3,0,0,0,0,0,0,,3\r\n");
    std::regex sms974(",974,sms,2,0,0,0,0,0,0,2,2\r\n");
    CHECK(std::regex_search(csv.body, sms77));
    CHECK(std::regex_search(csv.body, email77));
    CHECK(std::regex_search(csv.body, sms974));
  }

  SECTION("the public server serves /public/ only; the main one serves it too") {
    CHECK(http_get(port, "/metrics").status == 404);
    CHECK(http_get(port, "/stats").status == 404);
    CHECK(http_get(port, "/v1/receipts/journal").status == 404);
    HttpAnswer main = http_get(daemon.http_port(), "/public/stats?" + range);
    CHECK(main.status == 200);
    CHECK(main.content_type == "text/html; charset=utf-8");
    CHECK_THAT(main.header("Content-Security-Policy"), Catch::Contains("default-src 'none'"));
    CHECK(main.header("Cache-Control") == "public, max-age=60");
  }

  SECTION("bounded ranges and clear errors, in French") {
    HttpAnswer long_range = http_get(port, "/public/stats?from=2025-01-01&to=2026-12-31");
    CHECK(long_range.status == 400);
    CHECK_THAT(long_range.body, Catch::Contains("au plus 366 jours à la fois"));
    CHECK(http_get(port, "/public/stats?department=99").status == 400);
    CHECK(http_get(port, "/public/stats?par=semaine").status == 400);
    HttpAnswer bad_csv = http_get(port, "/public/stats.csv?from=hier");
    CHECK(bad_csv.status == 400);
    CHECK_THAT(bad_csv.body, Catch::Contains("date de début"));
  }

  SECTION("a crawler asking range after range is turned away, the cached pages still served") {
    std::string known = "/public/stats?" + range;
    REQUIRE(http_get(port, known).status == 200);
    // 40 different ranges: the budget is 10, then one a second, so 40 within 30 s meet a 503.
    int refused = 0;
    std::string retry_after;
    for (int i = 1; i <= 40; ++i) {
      char to[16];
      std::snprintf(to, sizeof to, "2026-01-%02d", i % 28 + 1);
      HttpAnswer a = http_get(port, std::string("/public/stats?from=2026-01-01&to=") + to +
                                        (i > 28 ? "&par=mois" : ""));
      REQUIRE((a.status == 200 || a.status == 503));
      if (a.status == 503) ++refused, retry_after = a.header("Retry-After");
    }
    CHECK(refused > 0);
    CHECK(retry_after == "5");
    CHECK(http_get(port, known).status == 200);  // from the cache: no fetch, no budget
  }

  SECTION("cached: a page asked again within a minute costs Redis nothing") {
    std::string target = "/public/stats?" + range + "&department=974";
    HttpAnswer first = http_get(port, target);
    REQUIRE(first.status == 200);
    CHECK_THAT(first.body, Catch::Contains("<dt>SMS envoyés</dt><dd>2</dd>"));
    s.enqueue(reminder("rdv-974-3", "974"));
    REQUIRE(s.wait_status("rdv-974-3:sms", "sent"));
    CHECK(http_get(port, target).body == first.body);
    // By month is another query: fetched, and it counts the new one.
    HttpAnswer by_month = http_get(port, target + "&par=mois");
    CHECK_THAT(by_month.body, Catch::Contains("<dt>SMS envoyés</dt><dd>3</dd>"));
    CHECK_THAT(by_month.body, Catch::Contains("<th scope=\"col\">Mois</th>"));
  }
}
