// The public statistics page: what the reminders do, for anyone, in a browser (GET /public/stats)
// and as open data (GET /public/stats.csv).
//
// RDV-Solidarités' convention obliges each team to publish its impact figures; GOV.UK Notify's
// performance page is the model. The figures are the counters of stats.hpp (counts only: no name,
// number or place exists there), summed nationally and per département, by day or by month.
//
// The page is rendered here, on the server, as one self-contained HTML document: no JavaScript, no
// font, style sheet or image loaded from elsewhere, charts as inline SVG with a table of the same
// figures behind each one (screen readers and people who copy figures read the table). It is a
// pure function of the rows, so tests check it without a server; public_endpoint.hpp serves it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "daemon/store/stats.hpp"

namespace rappel {

// What the page shows for one period, one département or the whole country.
struct PublicFigures {
  long long sms = 0, emails = 0;  // sent (a part of them delivered or undelivered later)
  long long delivered = 0, undelivered = 0, failed = 0, expired = 0, cancelled = 0;
  long long segments = 0;  // SMS segments: what the SMS cost
  long long on_time = 0;   // sent within a minute of their time
  long long sent() const { return sms + emails; }
  void add(const StatsRow& row);
};

struct PublicStatsQuery {
  StatsQuery range;       // normalized: from, to, department ("" for all)
  bool by_month = false;  // periods of the chart and table: days, or months
};

// Reads `from`, `to`, `department` and `par` (jour|mois) of the page's query string. Returns the
// error to show ("" when valid). Ranges are bounded (kMaxPublicStatsDays).
std::string read_public_query(const std::string& department, const std::string& from,
                              const std::string& to, const std::string& per, Millis now,
                              const std::string& zone, PublicStatsQuery& query);

// `name_of`: the département's name for a code ("Seine-et-Marne" for "77").
using DepartmentNamer = std::function<std::string(const std::string& code)>;

// The page: key figures, a chart and table by period, a chart and table by département.
std::string public_stats_html(const std::vector<StatsRow>& rows, const PublicStatsQuery& query,
                              const DepartmentNamer& name_of, const std::string& generated_at);
// The same query's page with an error in place of the figures (400).
std::string public_stats_error_html(const std::string& error);

// Open data: one row per day, département and channel (stats_csv's columns).
std::string public_stats_csv(const std::vector<StatsRow>& rows);

}  // namespace rappel
