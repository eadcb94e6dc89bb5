// The links of a rendered HTML email. A template writes <a href="{{url}}">, and the URL comes
// from the backend's data: a "javascript:" or "data:" URL there would become a link that runs
// code or opens a forged page from a message signed by a département. Only http(s) links (and
// the templates' own mailto:/tel:) stay links; any other anchor is unwrapped, its text shown.
#pragma once

#include <string>
#include <string_view>

namespace rappel {

// Whether an href attribute's value, as written in the HTML, is a link a message may carry.
bool is_safe_link(std::string_view href);

// `html` with every <a> whose href is not safe replaced by its content (tags <a …> and </a>
// removed). Anchors without href (named anchors) are left alone.
std::string keep_safe_links(std::string_view html);

}  // namespace rappel
