// Masking of personal data before logging: what a log line may show of a phone number or address.
#include <catch2/catch.hpp>

#include "daemon/content/redact.hpp"

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

TEST_CASE("provider texts never carry the phone number", "[redact]") {
  CHECK(rappel::provider_text("Invalid number 0612345678") == "Invalid number <number>");
  CHECK(rappel::provider_text("Numéro +33 6 12 34 56 78 refusé") == "Numéro <number> refusé");
  CHECK(rappel::provider_text("destination 33612345678.") == "destination <number>.");
  CHECK(rappel::provider_text("Too low balance (code 18)") == "Too low balance (code 18)");
  CHECK(rappel::provider_text("ligne 1\nligne 2\r") == "ligne 1 ligne 2");
  // Control characters become spaces: they cannot hide a number's separators.
  CHECK(rappel::provider_text("absent 06\t12\t34\t56\t78") == "absent <number>");
  CHECK(rappel::provider_text(std::string("n\xc2\xb0 06\0"
                                          "12\0"
                                          "34\0"
                                          "56\0"
                                          "78",
                                          18)) == "n\xc2\xb0 <number>");
  // French typography's no-break spaces (U+00A0, U+202F) and the thin space separate digits too.
  CHECK(rappel::provider_text("num\xc3\xa9ro 06\xc2\xa0"
                              "12\xc2\xa0"
                              "34\xc2\xa0"
                              "56\xc2\xa0"
                              "78 refus\xc3\xa9") == "num\xc3\xa9ro <number> refus\xc3\xa9");
  CHECK(rappel::provider_text("au +33\xe2\x80\xaf"
                              "6\xe2\x80\xaf"
                              "12\xe2\x80\x89"
                              "34\xe2\x80\x89"
                              "56 78") == "au <number>");
  CHECK(rappel::provider_text("le 12\xc2\xa0mars") == "le 12\xc2\xa0mars");

  std::string long_text(199, 'a');
  long_text += "éé";  // the cut falls inside the first é
  std::string cut = rappel::provider_text(long_text);
  CHECK(cut == std::string(199, 'a') + "...");
}

TEST_CASE("provider texts are always valid UTF-8", "[redact]") {
  const std::string replacement = "\xEF\xBF\xBD";  // U+FFFD
  // Latin-1, as an old relay or a provider's error page may answer.
  CHECK(rappel::provider_text("Num\xe9ro refus\xe9") ==
        "Num" + replacement + "ro refus" + replacement);
  CHECK(rappel::provider_text("Bo\xeete inconnue 06 12 34 56 78") ==
        "Bo" + replacement + "te inconnue <number>");
  // Overlong forms, a surrogate, a code point above U+10FFFF, a sequence cut by the end.
  CHECK(rappel::provider_text("a\xc0\xaf"
                              "b") == "a" + replacement + replacement + "b");
  CHECK(rappel::provider_text("a\xed\xa0\x80") == "a" + replacement + replacement + replacement);
  CHECK(rappel::provider_text("a\xf4\x90\x80\x80") ==
        "a" + replacement + replacement + replacement + replacement);
  CHECK(rappel::provider_text("d\xc3") == "d" + replacement);
  // Well-formed text of every length passes unchanged, 4-byte characters included.
  CHECK(rappel::provider_text("Cœur – déjà 🙂 ok") == "Cœur – déjà 🙂 ok");
  std::string emoji_cut = rappel::provider_text(std::string(198, 'a') + "🙂🙂");
  CHECK(emoji_cut == std::string(198, 'a') + "...");
}
