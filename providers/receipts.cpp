// See receipts.hpp.
#include "providers/receipts.hpp"

#include "daemon/redact.hpp"
#include "providers/http_common.hpp"

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

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string form_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> decode_form(std::string_view body) {
  std::map<std::string, std::string> out;
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    out[form_decode(pair.substr(0, eq))] =
        eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1));
  }
  return out;
}

}  // namespace rappel
