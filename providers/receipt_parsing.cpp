// See receipts.hpp.
#include "providers/receipt_parsing.hpp"

#include "daemon/content/redact.hpp"
#include "providers/http_answers.hpp"

namespace rappel {

ReceiptParse parse_json_reports(std::string_view body, const JsonReportReader& read_one) {
  ReceiptParse out;
  auto json = parse_json(body);
  if (!json) return {{}, "the body is not JSON"};
  auto read = [&](const nlohmann::json& report) {
    if (!report.is_object()) return std::string("a report is not a JSON object");
    Receipt r;
    std::string error = read_one(report, r);
    if (error.empty()) out.receipts.push_back(std::move(r));
    return error;
  };
  if (json->is_array()) {
    for (const auto& report : *json)
      if (auto error = read(report); !error.empty()) return {{}, error};
  } else if (auto error = read(*json); !error.empty()) {
    return {{}, error};
  }
  return out;
}

std::string receipt_reason(std::string_view text) {
  std::string safe = provider_text(text);
  std::string out;
  size_t start = 0;
  // Words are cut at spaces and the brackets mail servers put around addresses.
  auto is_separator = [](char c) {
    return c == ' ' || c == '<' || c == '>' || c == '(' || c == ')' || c == '"' || c == '\'' ||
           c == ',' || c == ';';
  };
  while (start <= safe.size()) {
    size_t end = start;
    while (end < safe.size() && !is_separator(safe[end])) ++end;
    std::string_view word(safe.data() + start, end - start);
    out += word.find('@') == std::string_view::npos ? std::string(word) : mask_email(word);
    if (end < safe.size()) out += safe[end];
    start = end + 1;
  }
  return out;
}

namespace {}  // namespace

}  // namespace rappel
