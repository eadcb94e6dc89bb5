// SMS text preparation: GSM 03.38 normalisation and exact segment counting.
#pragma once

#include <string>
#include <string_view>

namespace rappel {

struct SmsText {
  std::string text;      // UTF-8; every character is in GSM 03.38 when encoding == "gsm7"
  std::string encoding;  // "gsm7" or "ucs2"
  int characters = 0;    // characters the person reads
  int units = 0;         // septets (extension characters count 2) or UTF-16 code units
  int segments = 0;      // 160/153 for gsm7, 70/67 for ucs2
};

// Replaces what GSM-7 lacks by its nearest GSM-7 text (â->a, ç->c, œ->oe, ’->', « »->", …->...,
// non-breaking spaces->space, zero-width characters dropped). Falls back to UCS-2 only when the
// text cannot be represented honestly (e.g. a name in a non-Latin script).
SmsText prepare_sms_text(std::string_view utf8);

}  // namespace rappel
