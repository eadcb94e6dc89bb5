// The public page's rendering alone (public_stats.hpp): French figures and dates, every period of
// the range shown (empty ones too), months, names escaped, the query's bounds and its errors.
#include <catch2/catch.hpp>

#include "daemon/content/french_dates.hpp"
#include "daemon/ops/department_names.hpp"
#include "daemon/ops/public_stats.hpp"

using namespace rappel;

namespace {

StatsRow row(const std::string& day, const std::string& department, long long sms_sent,
             long long emails_sent, long long on_time, long long segments = 0) {
  StatsRow r{day, department, {}};
  for (const auto& status : stats_statuses()) {
    r.channels["sms"].statuses[status] = 0;
    r.channels["email"].statuses[status] = 0;
  }
  r.channels["sms"].statuses["sent"] = sms_sent;
  r.channels["sms"].segments = segments;
  r.channels["sms"].on_time = on_time;
  r.channels["email"].statuses["sent"] = emails_sent;
  return r;
}

PublicStatsQuery query(const std::string& from, const std::string& to, bool by_month = false,
                       const std::string& department = "") {
  PublicStatsQuery q;
  REQUIRE(read_public_query(department, from, to, by_month ? "mois" : "jour", 0, "Europe/Paris",
                            q) == "");
  return q;
}

std::string plain_names(const std::string& code) {
  return department_name(code);
}

}  // namespace

TEST_CASE("public page: French figures, every day of the range, names by département",
          "[public_stats]") {
  std::vector<StatsRow> rows{row("2026-12-01", "77", 1200, 300, 1400, 1500),
                             row("2026-12-03", "974", 34, 0, 34, 40)};
  std::string html = public_stats_html(rows, query("2026-12-01", "2026-12-03"), plain_names,
                                       "lundi 7 décembre 2026 à 12h40");
  CHECK_THAT(html, Catch::StartsWith("<!DOCTYPE html>\n<html lang=\"fr\">"));
  CHECK_THAT(html, Catch::Contains("<dt>Rappels envoyés</dt><dd>1\u202f534</dd>"));
  CHECK_THAT(html, Catch::Contains("<dd>93,5\u00a0%</dd>"));  // 1,434 of 1,534
  CHECK_THAT(html, Catch::Contains("France entière, du 1er décembre 2026 au 3 décembre 2026"));
  // The empty day between is a row and a bar of its own, so the chart's time axis is true.
  CHECK_THAT(html, Catch::Contains("<th scope=\"row\">2 décembre 2026</th><td>0</td>"));
  CHECK_THAT(html, Catch::Contains("<title>2 décembre 2026 : 0 SMS, 0 e-mails</title>"));
  CHECK_THAT(html, Catch::Contains("<th scope=\"row\">Seine-et-Marne (77)</th><td>1\u202f200</td>"
                                   "<td>300</td>"));
  CHECK_THAT(html, Catch::Contains("<th scope=\"row\">La Réunion (974)</th>"));
  CHECK_THAT(html, Catch::Contains("href=\"/public/stats.csv?from=2026-12-01&amp;to=2026-12-03\""));
  // Self-contained: nothing is loaded from elsewhere, nothing runs.
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("src=") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
}

TEST_CASE("public page: by month, a département, names escaped, nothing sent", "[public_stats]") {
  std::vector<StatsRow> rows{row("2026-11-30", "77", 5, 0, 5), row("2026-12-01", "77", 7, 0, 6)};
  auto weird = [](const std::string&) { return std::string("<b>Seine & Marne</b>"); };
  std::string html =
      public_stats_html(rows, query("2026-11-01", "2026-12-31", true, "77"), weird, "maintenant");
  CHECK_THAT(html, Catch::Contains("<th scope=\"row\">novembre 2026</th><td>5</td>"));
  CHECK_THAT(html, Catch::Contains("<th scope=\"row\">décembre 2026</th><td>7</td>"));
  CHECK_THAT(html, Catch::Contains("&lt;b&gt;Seine &amp; Marne&lt;/b&gt; (77)"));
  CHECK(html.find("<b>Seine") == std::string::npos);
  CHECK_THAT(html, Catch::Contains("<option value=\"77\" selected>"));
  CHECK_THAT(html, Catch::Contains("<option value=\"mois\" selected>"));

  std::string empty = public_stats_html({}, query("2026-12-01", "2026-12-01"), plain_names, "");
  CHECK_THAT(empty, Catch::Contains("Aucun rappel sur cette période."));
  CHECK_THAT(empty,
             Catch::Contains("<dt>Envoyés à moins d'une minute de leur heure</dt><dd>–</dd>"));
}

TEST_CASE("public page: the query's bounds and errors, in French", "[public_stats]") {
  PublicStatsQuery q;
  CHECK(read_public_query("", "2025-01-01", "2026-12-31", "", 0, "Europe/Paris", q) ==
        "au plus 366 jours à la fois");
  CHECK(read_public_query("", "2026-12-02", "2026-12-01", "", 0, "Europe/Paris", q) ==
        "la date de début est après la date de fin");
  CHECK(read_public_query("", "hier", "", "", 0, "Europe/Paris", q) ==
        "date de début : attendue sous la forme AAAA-MM-JJ");
  CHECK(read_public_query("99", "", "", "", 0, "Europe/Paris", q) ==
        "ce n'est pas un code de département");
  CHECK(read_public_query("", "", "", "semaine", 0, "Europe/Paris", q) ==
        "par : « jour » ou « mois »");
  // The default: the last 30 days up to today.
  CHECK(read_public_query("", "", "", "", 1796115600000, "Europe/Paris", q) == "");
  CHECK(q.range.to == "2026-12-01");
  CHECK(q.range.from == "2026-11-01");
  CHECK_THAT(public_stats_error_html("au plus 366 jours à la fois"),
             Catch::Contains("role=\"alert\"") && Catch::Contains("au plus 366 jours"));
}

TEST_CASE("French calendar words and département names", "[public_stats]") {
  CHECK(french_calendar_day("2026-12-01") == "1er décembre 2026");
  CHECK(french_calendar_day("2026-02-28") == "28 février 2026");
  CHECK(french_month("2026-08") == "août 2026");
  CHECK(french_month("2026-13") == "2026-13");
  CHECK(french_calendar_day("demain") == "demain");
  CHECK(department_name("2A") == "Corse-du-Sud");
  CHECK(department_name("976") == "Mayotte");
  CHECK(department_name("99") == "99");
  CHECK(department_codes().size() == 102);
  CHECK(department_codes().front() == "01");
}
