// application/x-www-form-urlencoded decoding, shared by the HTTP endpoint (query strings), the
// delivery-report parsers (form bodies) and the tests' provider stand-ins.
//
// libcurl's curl_easy_unescape does not turn '+' into a space, which forms and query strings
// need; this is the small piece it leaves out.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace rappel {

// '+' is a space and %XX a byte; a malformed escape is kept as it is.
std::string form_decode(std::string_view text);

// "a=1&b=x+y" -> {a: "1", b: "x y"}; a name without '=' maps to "", a repeated name keeps its
// last value.
std::map<std::string, std::string> decode_form(std::string_view body);

}  // namespace rappel
