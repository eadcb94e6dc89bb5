// Masking of personal data before logging: what a log line may show of a phone number or address.
#include <catch2/catch.hpp>

#include "daemon/redact.hpp"

using rappel::mask_email;
using rappel::mask_phone;

namespace {

int count_digits(const std::string& text) {
  int n = 0;
  for (char c : text) n += (c >= '0' && c <= '9');
  return n;
}

}  // namespace

TEST_CASE("a French mobile in E.164 is masked as people write it", "[redact]") {
  CHECK(mask_phone("+33612345678") == "+33 6** ** ** 78");
  CHECK(mask_phone("+33 6 12 34 56 78") == "+33 6** ** ** 78");
  CHECK(mask_phone("+33187654321") == "+33 1** ** ** 21");
}

TEST_CASE("other numbers keep at most 4 leading and 2 trailing digits", "[redact]") {
  CHECK(mask_phone("0612345678") == "061*****78");
  CHECK(mask_phone("+262692123456") == "+2626******56");      // La Réunion
  CHECK(mask_phone("+590 690 12 34 56") == "+5906******56");  // Guadeloupe, spaces dropped
  for (const char* phone : {"+33612345678", "0612345678", "+262692123456", "+15551234567890"}) {
    const auto masked = mask_phone(phone);
    INFO(phone << " -> " << masked);
    CHECK(count_digits(masked) <= 6);
    CHECK(masked.find("345") == std::string::npos);
  }
}

TEST_CASE("short or strange phone input never reveals most of itself", "[redact]") {
  CHECK(mask_phone("") == "");
  CHECK(mask_phone("3615") == "3**5");
  CHECK(mask_phone("12") == "**");
  CHECK(mask_phone("camille@example.fr") == "***");  // no digits: nothing to show
  CHECK(mask_phone("06 12 34 56 78\nfake log line") == "061*****78");
}

TEST_CASE("an email keeps its first character and its domain", "[redact]") {
  CHECK(mask_email("camille@example.fr") == "c***@example.fr");
  CHECK(mask_email("jean-pierre.dupont@seine-et-marne.fr") == "j***@seine-et-marne.fr");
  CHECK(mask_email("élodie@exemple.fr") == "é***@exemple.fr");  // never cuts a UTF-8 character
  CHECK(mask_email("c@example.fr") == "***@example.fr");        // would reveal the whole name
}

TEST_CASE("a malformed email is masked entirely", "[redact]") {
  for (const char* email :
       {"", "camille", "camille@", "@example.fr", "a@b@example.fr", "camille @example.fr",
        "camille@example.fr\r\nBcc: x@y.fr", "camille@.fr", "<camille@example.fr>"}) {
    INFO(email);
    CHECK(mask_email(email) == "***");
  }
}
