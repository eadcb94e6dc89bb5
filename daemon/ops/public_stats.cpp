// See public_stats.hpp. The markup follows the DSFR's plain rules (the French State's design
// system): Marianne blue on white, figures in tables with captions and scoped headers, French
// number and date wording (1 234, 97,5 %, 1er décembre 2026).
#include "daemon/ops/public_stats.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include <kainjow/mustache.hpp>

#include "daemon/content/french_dates.hpp"
#include "daemon/ops/department_names.hpp"

namespace rappel {

namespace {

constexpr const char* kSmsColour = "#000091";    // 15:1 on white
constexpr const char* kEmailColour = "#6a6af4";  // 4.6:1 on white

std::string esc(const std::string& text) {
  return kainjow::mustache::html_escape(text);
}

// 1234567 -> "1 234 567", with narrow no-break spaces as French typography wants.
std::string number(long long n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += "\u202f";
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// The share sent on time, "97,5 %"; a dash when nothing was sent.
std::string on_time_share(const PublicFigures& f) {
  if (f.sent() == 0) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", 100.0 * static_cast<double>(f.on_time) / f.sent());
  std::string text = buf;
  std::replace(text.begin(), text.end(), '.', ',');
  return text + "\u00a0%";
}

// The periods of the range, in order: every day, or every month ("2026-12").
std::vector<std::string> periods_of(const PublicStatsQuery& q) {
  std::vector<std::string> periods;
  for (const auto& day : days_between(q.range.from, q.range.to)) {
    std::string period = q.by_month ? day.substr(0, 7) : day;
    if (periods.empty() || periods.back() != period) periods.push_back(period);
  }
  return periods;
}

std::string period_of(const StatsRow& row, bool by_month) {
  return by_month ? row.day.substr(0, 7) : row.day;
}

std::string period_name(const std::string& period) {
  return period.size() == 7 ? french_month(period) : french_calendar_day(period);
}

// The figures' columns, in the order of every table on the page.
struct Column {
  const char* heading;
  long long PublicFigures::*field;
};
const Column kColumns[] = {
    {"SMS envoyés", &PublicFigures::sms},      {"E-mails envoyés", &PublicFigures::emails},
    {"Distribués", &PublicFigures::delivered}, {"Non distribués", &PublicFigures::undelivered},
    {"En échec", &PublicFigures::failed},      {"Expirés", &PublicFigures::expired},
    {"Annulés", &PublicFigures::cancelled},    {"Segments SMS", &PublicFigures::segments},
};

void table_head(std::ostream& out, const char* first) {
  out << "<thead><tr><th scope=\"col\">" << first << "</th>";
  for (const auto& c : kColumns) out << "<th scope=\"col\">" << c.heading << "</th>";
  out << "<th scope=\"col\">Envoyés à l'heure</th></tr></thead>\n";
}

void table_row(std::ostream& out, const std::string& label, const PublicFigures& f) {
  out << "<tr><th scope=\"row\">" << esc(label) << "</th>";
  for (const auto& c : kColumns) out << "<td>" << number(f.*(c.field)) << "</td>";
  out << "<td>" << on_time_share(f) << "</td></tr>\n";
}

// Vertical stacked bars, SMS below e-mails, one per period; the table below says the same.
void period_chart(std::ostream& out, const std::vector<std::pair<std::string, PublicFigures>>& bars,
                  const std::string& title) {
  const double width = 720, height = 220, left = 56, bottom = 28, top = 12;
  long long max = 1;
  for (const auto& [_, f] : bars) max = std::max(max, f.sent());
  const double slot = (width - left) / std::max<size_t>(bars.size(), 1);
  const double plot = height - bottom - top;
  out << "<svg class=\"chart\" role=\"img\" aria-labelledby=\"chart-period-title\" viewBox=\"0 0 "
      << width << " " << height << "\" xmlns=\"http://www.w3.org/2000/svg\">"
      << "<title id=\"chart-period-title\">" << esc(title) << "</title>"
      << "<line x1=\"" << left << "\" y1=\"" << height - bottom << "\" x2=\"" << width << "\" y2=\""
      << height - bottom << "\" stroke=\"#161616\"/>"
      << "<text x=\"" << left - 6 << "\" y=\"" << top + 10 << "\" text-anchor=\"end\">"
      << number(max) << "</text><text x=\"" << left - 6 << "\" y=\"" << height - bottom
      << "\" text-anchor=\"end\">0</text>";
  for (size_t i = 0; i < bars.size(); ++i) {
    const auto& [period, f] = bars[i];
    double x = left + i * slot + slot * 0.1, w = std::max(slot * 0.8, 1.0);
    double sms_h = plot * f.sms / max, email_h = plot * f.emails / max;
    std::string label =
        period_name(period) + " : " + number(f.sms) + " SMS, " + number(f.emails) + " e-mails";
    out << "<g class=\"bar\"><title>" << esc(label) << "</title>"
        << "<rect x=\"" << x << "\" y=\"" << height - bottom - sms_h << "\" width=\"" << w
        << "\" height=\"" << sms_h << "\" fill=\"" << kSmsColour << "\"/>"
        << "<rect x=\"" << x << "\" y=\"" << height - bottom - sms_h - email_h << "\" width=\"" << w
        << "\" height=\"" << email_h << "\" fill=\"" << kEmailColour << "\"/></g>";
  }
  if (!bars.empty()) {
    out << "<text x=\"" << left << "\" y=\"" << height - 8 << "\">"
        << esc(period_name(bars.front().first)) << "</text>";
    if (bars.size() > 1)
      out << "<text x=\"" << width << "\" y=\"" << height - 8 << "\" text-anchor=\"end\">"
          << esc(period_name(bars.back().first)) << "</text>";
  }
  out << "</svg>\n<p class=\"legend\"><span class=\"key\" style=\"background:" << kSmsColour
      << "\"></span> SMS <span class=\"key\" style=\"background:" << kEmailColour
      << "\"></span> e-mails</p>\n";
}

// Horizontal bars, one per département, its name on the left and its figure at the end.
void department_chart(std::ostream& out,
                      const std::vector<std::pair<std::string, PublicFigures>>& bars) {
  const double width = 720, label = 230, row = 26, value_room = 80;
  long long max = 1;
  for (const auto& [_, f] : bars) max = std::max(max, f.sent());
  double height = row * bars.size() + 8;
  out << "<svg class=\"chart\" role=\"img\" aria-labelledby=\"chart-department-title\" "
         "viewBox=\"0 0 "
      << width << " " << height << "\" xmlns=\"http://www.w3.org/2000/svg\">"
      << "<title id=\"chart-department-title\">Rappels envoyés par département</title>";
  for (size_t i = 0; i < bars.size(); ++i) {
    const auto& [name, f] = bars[i];
    double y = 4 + i * row, w = (width - label - value_room) * f.sent() / max;
    out << "<g class=\"bar\"><title>" << esc(name) << " : " << number(f.sent())
        << " rappels envoyés</title><text x=\"" << label - 8 << "\" y=\"" << y + row * 0.65
        << "\" text-anchor=\"end\">" << esc(name) << "</text><rect x=\"" << label << "\" y=\""
        << y + 3 << "\" width=\"" << w << "\" height=\"" << row - 8 << "\" fill=\"" << kSmsColour
        << "\"/><text x=\"" << label + w + 6 << "\" y=\"" << y + row * 0.65 << "\">"
        << number(f.sent()) << "</text></g>";
  }
  out << "</svg>\n";
}

constexpr const char* kStyle = R"CSS(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#161616;
background:#fff;margin:0 auto;max-width:62rem;padding:1rem 1.5rem;line-height:1.5}
h1{color:#000091;font-size:1.8rem}h2{font-size:1.35rem;margin-top:2.5rem}
a{color:#000091}form{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end;
background:#f6f6f6;padding:1rem}form label{display:flex;flex-direction:column;font-weight:600}
input,select,button{font:inherit;padding:.3rem .5rem;border:1px solid #3a3a3a}
button{background:#000091;color:#fff;border-color:#000091;cursor:pointer}
:focus{outline:3px solid #0a76f6;outline-offset:2px}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:1rem;
padding:0}.figures div{border-left:4px solid #000091;padding:.25rem .75rem}
.figures dt{font-size:.95rem}.figures dd{margin:0;font-size:1.6rem;font-weight:700}
.chart{width:100%;height:auto;font-size:12px;fill:#161616}
.legend .key{display:inline-block;width:1em;height:1em;vertical-align:middle}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.9rem}
caption{text-align:left;font-weight:700;padding:.5rem 0}
th,td{border:1px solid #929292;padding:.3rem .5rem;text-align:right}
th[scope=row],thead th:first-child{text-align:left}thead th{background:#eeeeee}
.error{border-left:4px solid #ce0500;padding:.5rem 1rem;background:#ffe9e9}
)CSS";

void page_start(std::ostream& out) {
  out << "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<title>Rappels de rendez-vous : statistiques publiques</title>\n<style>"
      << kStyle
      << "</style>\n</head>\n<body>\n<header>\n<h1>Rappels de rendez-vous des services "
         "sociaux</h1>\n<p>Les SMS et e-mails qui rappellent aux personnes leurs rendez-vous "
         "dans les services sociaux des départements (PMI, travailleurs sociaux, suivi RSA), "
         "pour qu'elles ne les manquent pas. Ces chiffres sont des comptes : aucune donnée "
         "personnelle n'y figure.</p>\n</header>\n<main>\n";
}

void range_form(std::ostream& out, const PublicStatsQuery& q, const DepartmentNamer& name_of) {
  out << "<form method=\"get\" action=\"/public/stats\" aria-label=\"Choisir la période\">\n"
      << "<label>Du <input type=\"date\" name=\"from\" value=\"" << esc(q.range.from)
      << "\" required></label>\n<label>Au <input type=\"date\" name=\"to\" value=\""
      << esc(q.range.to) << "\" required></label>\n<label>Département <select "
      << "name=\"department\"><option value=\"\">France entière</option>";
  for (const auto& code : department_codes())
    out << "<option value=\"" << code << "\"" << (code == q.range.department ? " selected" : "")
        << ">" << esc(name_of(code)) << " (" << code << ")</option>";
  out << "</select></label>\n<label>Par <select name=\"par\"><option value=\"jour\""
      << (q.by_month ? "" : " selected") << ">jour</option><option value=\"mois\""
      << (q.by_month ? " selected" : "") << ">mois</option></select></label>\n"
      << "<button type=\"submit\">Afficher</button>\n</form>\n";
}

void key_figures(std::ostream& out, const PublicFigures& f) {
  const std::pair<const char*, std::string> items[] = {
      {"Rappels envoyés", number(f.sent())},
      {"SMS envoyés", number(f.sms)},
      {"E-mails envoyés", number(f.emails)},
      {"Envoyés à moins d'une minute de leur heure", on_time_share(f)},
      {"Distribués (accusés de réception)", number(f.delivered)},
      {"Non distribués", number(f.undelivered)},
      {"En échec", number(f.failed)},
      {"Expirés avant l'envoi", number(f.expired)},
      {"Annulés", number(f.cancelled)},
      {"Segments SMS (le coût)", number(f.segments)},
  };
  out << "<dl class=\"figures\">\n";
  for (const auto& [term, value] : items)
    out << "<div><dt>" << term << "</dt><dd>" << value << "</dd></div>\n";
  out << "</dl>\n";
}

std::string csv_link(const PublicStatsQuery& q) {
  std::string link = "/public/stats.csv?from=" + q.range.from + "&to=" + q.range.to;
  if (!q.range.department.empty()) link += "&department=" + q.range.department;
  return link;
}

}  // namespace

void PublicFigures::add(const StatsRow& row) {
  for (const auto& entry : row.channels) {
    const std::string& channel = entry.first;
    const ChannelStats& c = entry.second;  // named: clang 14 cannot capture a structured binding
    auto count = [&c](const char* status) {
      auto it = c.statuses.find(status);
      return it == c.statuses.end() ? 0 : it->second;
    };
    (channel == "sms" ? sms : emails) += count("sent");
    delivered += count("delivered");
    undelivered += count("undelivered");
    failed += count("failed");
    expired += count("expired");
    cancelled += count("cancelled");
    segments += c.segments;
    on_time += c.on_time;
  }
}

std::string read_public_query(const std::string& department, const std::string& from,
                              const std::string& to, const std::string& per, Millis now,
                              const std::string& zone, PublicStatsQuery& query) {
  if (!per.empty() && per != "jour" && per != "mois") return "par : « jour » ou « mois »";
  query.by_month = per == "mois";
  query.range = StatsQuery{department, from, to};
  std::string error = normalize_stats_query(query.range, now, zone, kMaxPublicStatsDays);
  // The page speaks French; normalize_stats_query's words are the CLI's and GET /stats'.
  if (error.rfind("department:", 0) == 0) return "ce n'est pas un code de département";
  if (error == "from: after to") return "la date de début est après la date de fin";
  if (error.rfind("from, to:", 0) == 0)
    return "au plus " + std::to_string(kMaxPublicStatsDays) + " jours à la fois";
  if (error.rfind("from:", 0) == 0) return "date de début : attendue sous la forme AAAA-MM-JJ";
  if (error.rfind("to:", 0) == 0) return "date de fin : attendue sous la forme AAAA-MM-JJ";
  return error;
}

std::string public_stats_html(const std::vector<StatsRow>& rows, const PublicStatsQuery& q,
                              const DepartmentNamer& name_of, const std::string& generated_at) {
  PublicFigures total;
  std::map<std::string, PublicFigures> by_period, by_department;
  for (const auto& row : rows) {
    total.add(row);
    by_period[period_of(row, q.by_month)].add(row);
    by_department[row.department].add(row);
  }
  std::vector<std::pair<std::string, PublicFigures>> periods, departments;
  for (const auto& p : periods_of(q)) periods.emplace_back(p, by_period[p]);
  for (const auto& [code, f] : by_department)
    departments.emplace_back(name_of(code) + " (" + code + ")", f);

  std::ostringstream out;
  page_start(out);
  range_form(out, q, name_of);
  std::string where = q.range.department.empty()
                          ? std::string("France entière")
                          : name_of(q.range.department) + " (" + q.range.department + ")";
  out << "<section aria-labelledby=\"figures-title\">\n<h2 id=\"figures-title\">" << esc(where)
      << ", du " << french_calendar_day(q.range.from) << " au " << french_calendar_day(q.range.to)
      << "</h2>\n";
  key_figures(out, total);
  out << "</section>\n";

  const char* per = q.by_month ? "mois" : "jour";
  out << "<section aria-labelledby=\"period-title\">\n<h2 id=\"period-title\">Rappels envoyés "
         "par "
      << per << "</h2>\n";
  period_chart(out, periods, "Rappels envoyés par " + std::string(per) + ", " + where);
  out << "<div class=\"scroll\"><table id=\"by-period\"><caption>Chiffres par " << per << ", "
      << esc(where) << "</caption>\n";
  table_head(out, q.by_month ? "Mois" : "Jour");
  out << "<tbody>\n";
  for (const auto& [period, f] : periods) table_row(out, period_name(period), f);
  out << "</tbody></table></div>\n</section>\n";

  out << "<section aria-labelledby=\"department-title\">\n<h2 id=\"department-title\">Par "
         "département</h2>\n";
  if (departments.empty()) {
    out << "<p>Aucun rappel sur cette période.</p>\n";
  } else {
    department_chart(out, departments);
    out << "<div class=\"scroll\"><table id=\"by-department\"><caption>Chiffres par département, "
           "sur la période</caption>\n";
    table_head(out, "Département");
    out << "<tbody>\n";
    for (const auto& [name, f] : departments) table_row(out, name, f);
    out << "</tbody></table></div>\n";
  }
  out << "</section>\n</main>\n<footer>\n<p><a href=\"" << esc(csv_link(q))
      << "\">Télécharger ces chiffres (CSV, données ouvertes, un jour, un département et un canal "
         "par ligne)</a></p>\n<p>« Distribués » et « non distribués » ne comptent que les "
         "messages dont l'opérateur renvoie un accusé de réception ; ils font partie des "
         "envoyés. Jours au fuseau de chaque département. Chiffres arrêtés le "
      << esc(generated_at) << ", mis à jour chaque minute.</p>\n</footer>\n</body>\n</html>\n";
  return out.str();
}

std::string public_stats_error_html(const std::string& error) {
  std::ostringstream out;
  page_start(out);
  out << "<p class=\"error\" role=\"alert\">Cette période ne peut pas être affichée : "
      << esc(error) << ". <a href=\"/public/stats\">Revenir aux 30 derniers jours</a>.</p>\n"
      << "</main>\n</body>\n</html>\n";
  return out.str();
}

std::string public_stats_csv(const std::vector<StatsRow>& rows) {
  return stats_csv(rows);
}

}  // namespace rappel
