// libFuzzer target: the GSM-7 normaliser and segment counter (daemon/gsm7). Beyond "no crash", it
// checks what providers bill on: the segment count follows from the units (160/153 septets,
// 70/67 UTF-16 units, a part losing one when an escape or a surrogate pair would straddle it), and
// GSM-7 text really is in the GSM 03.38 alphabet (re-normalising it changes nothing).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/content/gsm7.hpp"

namespace {

// The segments a text of t.units needs at least, and at most: a part never splits an escape
// sequence (GSM-7 "}" is 2 septets) nor a surrogate pair, so a part may carry one unit less.
struct SegmentRange {
  int least, most;
};

SegmentRange expected_segments(const rappel::SmsText& t) {
  bool gsm = t.encoding == "gsm7";
  int single = gsm ? 160 : 70, part = gsm ? 153 : 67;
  if (t.units <= single) return {t.units == 0 ? 0 : 1, t.units == 0 ? 0 : 1};
  return {(t.units + part - 1) / part, (t.units + part - 2) / (part - 1)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  rappel::SmsText t = rappel::prepare_sms_text(input);
  if (t.encoding != "gsm7" && t.encoding != "ucs2") std::abort();
  if (t.units < t.characters || t.characters < 0) std::abort();
  SegmentRange expected = expected_segments(t);
  bool counted = t.segments >= expected.least && t.segments <= expected.most;
  if (!counted && !(t.units == 0 && t.segments == 1)) std::abort();
  // Idempotence, except around a kept lone CR: "\r\r\n" gives "\r\n", which a second pass folds.
  if (t.encoding == "gsm7" && t.text.find('\r') == std::string::npos) {
    rappel::SmsText again = rappel::prepare_sms_text(t.text);
    if (again.text != t.text || again.encoding != "gsm7" || again.units != t.units) std::abort();
  }
  return 0;
}
