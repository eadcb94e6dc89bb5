// See stats.hpp. Dates are calendar days (date::sys_days), never times: a range is a list of
// days, so a query never depends on the reader's zone, only on the days it names.
#include "daemon/store/stats.hpp"

#include <cstdio>
#include <memory>
#include <set>
#include <sstream>

#include <date/tz.h>

#include "daemon/base/department_code.hpp"

namespace rappel {

namespace {

const char* const kChannels[] = {"sms", "email"};

std::optional<date::sys_days> parse_day(const std::string& text) {
  int y = 0;
  unsigned m = 0, d = 0;
  char tail = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3)
    return std::nullopt;
  date::year_month_day ymd{date::year{y}, date::month{m}, date::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return date::sys_days{ymd};
}

std::string format_day(date::sys_days day) {
  return date::format("%F", day);
}

std::string day_key(const std::string& prefix, const std::string& day) {
  return prefix + ":stats:" + day;
}

StatsRow parse_row(const std::string& day, const std::string& department,
                   const std::vector<std::string>& fields) {
  StatsRow row{day, department, {}};
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    auto colon = fields[i].find(':');
    if (colon == std::string::npos) continue;
    std::string channel = fields[i].substr(0, colon), what = fields[i].substr(colon + 1);
    if (channel != "sms" && channel != "email") continue;
    ChannelStats& c = row.channels[channel];
    for (const auto& status : stats_statuses()) c.statuses.emplace(status, 0);
    long long n = std::atoll(fields[i + 1].c_str());
    if (what == "segments")
      c.segments = n;
    else if (what == "on_time")
      c.on_time = n;
    else if (c.statuses.count(what))
      c.statuses[what] = n;
  }
  return row;
}

nlohmann::json channel_json(const ChannelStats* c, bool sms) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& status : stats_statuses()) j[status] = c ? c->statuses.at(status) : 0;
  if (sms) j["segments"] = c ? c->segments : 0;
  j["on_time"] = c ? c->on_time : 0;
  return j;
}

void add_into(ChannelStats& total, const ChannelStats& c) {
  for (const auto& [status, n] : c.statuses) total.statuses[status] += n;
  total.segments += c.segments;
  total.on_time += c.on_time;
}

}  // namespace

std::vector<std::string> days_between(const std::string& from, const std::string& to) {
  std::vector<std::string> days;
  auto first = parse_day(from), last = parse_day(to);
  if (!first || !last) return days;
  for (date::sys_days d = *first; d <= *last; d += date::days{1}) days.push_back(format_day(d));
  return days;
}

const std::vector<std::string>& stats_statuses() {
  static const std::vector<std::string> statuses{"sent",    "delivered", "undelivered", "failed",
                                                 "expired", "cancelled", "rejected"};
  return statuses;
}

std::string normalize_stats_query(StatsQuery& q, Millis now, const std::string& zone,
                                  int max_days) {
  if (!q.department.empty() && q.department != "unknown" &&
      !is_french_department_code(q.department))
    return "department: not a French département code";
  if (q.to.empty()) q.to = local_day(zone, now);
  auto to = parse_day(q.to);
  if (!to) return "to: expected a date YYYY-MM-DD";
  if (q.from.empty()) q.from = format_day(*to - date::days{30});
  auto from = parse_day(q.from);
  if (!from) return "from: expected a date YYYY-MM-DD";
  if (*from > *to) return "from: after to";
  if ((*to - *from).count() >= max_days)
    return "from, to: at most " + std::to_string(max_days) + " days at once";
  return "";
}

void fetch_stats(const StatsQuery& query, const std::string& prefix, const BatchRunner& run,
                 StatsDone done) {
  using Cells = std::vector<std::pair<std::string, std::string>>;  // (day, département)
  auto read_cells = [prefix, run, done](Cells cells) {
    RedisBatch commands;
    for (const auto& [day, department] : cells)
      commands.push_back({"HGETALL", day_key(prefix, day) + ":" + department});
    run(commands, [cells, done](BatchReplies replies, std::string error) {
      if (!error.empty()) return done({}, error);
      std::vector<StatsRow> rows;
      for (size_t i = 0; i < cells.size() && i < replies.size(); ++i)
        if (!replies[i].empty())
          rows.push_back(parse_row(cells[i].first, cells[i].second, replies[i]));
      done(std::move(rows), "");
    });
  };
  std::vector<std::string> days = days_between(query.from, query.to);
  if (!query.department.empty()) {
    Cells cells;
    for (const auto& day : days) cells.emplace_back(day, query.department);
    return read_cells(std::move(cells));
  }
  RedisBatch indexes;
  for (const auto& day : days) indexes.push_back({"SMEMBERS", day_key(prefix, day)});
  run(indexes, [days, done, read_cells](BatchReplies replies, std::string error) {
    if (!error.empty()) return done({}, error);
    Cells cells;
    for (size_t i = 0; i < days.size() && i < replies.size(); ++i) {
      std::set<std::string> departments(replies[i].begin(), replies[i].end());
      for (const auto& department : departments) cells.emplace_back(days[i], department);
    }
    read_cells(std::move(cells));
  });
}

BatchRunner async_batch_runner(RedisClient& redis) {
  return [&redis](const RedisBatch& commands, std::function<void(BatchReplies, std::string)> done) {
    if (commands.empty()) return done({}, "");
    struct Gather {
      BatchReplies replies;
      size_t left;
      std::string error;
      std::function<void(BatchReplies, std::string)> done;
    };
    auto gather = std::make_shared<Gather>(
        Gather{BatchReplies(commands.size()), commands.size(), "", std::move(done)});
    for (size_t i = 0; i < commands.size(); ++i) {
      redis.command(commands[i], [gather, i](const redisReply* r, const std::string& error) {
        if (!error.empty() && gather->error.empty()) gather->error = error;
        if (r && r->type == REDIS_REPLY_ARRAY) {
          for (size_t k = 0; k < r->elements; ++k)
            gather->replies[i].push_back(reply_string(r->element[k]));
        } else if (r && r->type != REDIS_REPLY_NIL) {
          gather->replies[i].push_back(reply_string(r));
        }
        if (--gather->left == 0) gather->done(std::move(gather->replies), gather->error);
      });
    }
  };
}

std::string stats_table(const std::vector<StatsRow>& rows) {
  std::ostringstream out;
  char cell[64];
  std::snprintf(cell, sizeof cell, "%-12s%-9s%-9s", "DATE", "DEPT", "CHANNEL");
  out << cell;
  for (const auto& status : stats_statuses()) {
    std::string upper;
    for (char ch : status) upper += static_cast<char>(std::toupper(ch));
    std::snprintf(cell, sizeof cell, "%13s", upper.c_str());
    out << cell;
  }
  out << "     SEGMENTS\n";
  for (const auto& row : rows)
    for (const char* channel : kChannels) {
      auto it = row.channels.find(channel);
      if (it == row.channels.end()) continue;
      std::snprintf(cell, sizeof cell, "%-12s%-9s%-9s", row.day.c_str(), row.department.c_str(),
                    channel);
      out << cell;
      for (const auto& status : stats_statuses()) {
        std::snprintf(cell, sizeof cell, "%13lld", it->second.statuses.at(status));
        out << cell;
      }
      std::snprintf(
          cell, sizeof cell, "%13s",
          channel == std::string("sms") ? std::to_string(it->second.segments).c_str() : "-");
      out << cell << "\n";
    }
  return out.str();
}

std::string stats_csv(const std::vector<StatsRow>& rows) {
  std::ostringstream out;
  out << "date,department,channel";
  for (const auto& status : stats_statuses()) out << "," << status;
  out << ",sms_segments,sent_on_time\r\n";  // RFC 4180 line ends
  for (const auto& row : rows)
    for (const char* channel : kChannels) {
      auto it = row.channels.find(channel);
      if (it == row.channels.end()) continue;
      out << row.day << "," << row.department << "," << channel;
      for (const auto& status : stats_statuses()) out << "," << it->second.statuses.at(status);
      out << ",";
      if (channel == std::string("sms")) out << it->second.segments;
      out << "," << it->second.on_time << "\r\n";
    }
  return out.str();
}

nlohmann::json stats_json(const std::vector<StatsRow>& rows, const StatsQuery& query) {
  nlohmann::json days = nlohmann::json::array();
  std::map<std::string, std::map<std::string, ChannelStats>> totals;
  for (const auto& row : rows) {
    nlohmann::json day{{"date", row.day}, {"department", row.department}};
    for (const char* channel : kChannels) {
      auto it = row.channels.find(channel);
      const ChannelStats* c = it == row.channels.end() ? nullptr : &it->second;
      day[channel] = channel_json(c, channel == std::string("sms"));
      if (c) add_into(totals[row.department][channel], *c);
    }
    days.push_back(std::move(day));
  }
  nlohmann::json by_department = nlohmann::json::object();
  for (const auto& [department, channels] : totals)
    for (const char* channel : kChannels) {
      auto it = channels.find(channel);
      by_department[department][channel] =
          channel_json(it == channels.end() ? nullptr : &it->second, channel == std::string("sms"));
    }
  return {{"from", query.from},
          {"to", query.to},
          {"department",
           query.department.empty() ? nlohmann::json() : nlohmann::json(query.department)},
          {"days", days},
          {"totals", by_department}};
}

}  // namespace rappel
