// SMS numbers through libphonenumber 8.12.57 (Debian 12). The numbers below were checked against
// that metadata: e.g. it validates Mayotte mobiles 0639 only in allocated blocks (0639 40.., 0639
// 69..), and Guadeloupe mobiles under 0690 (0691 only for 22..35).
#include <catch2/catch.hpp>

#include "daemon/content/phone.hpp"

using namespace rappel;

namespace {
PhoneCheck check(std::string_view raw, std::string_view region) {
  return normalize_sms_number(raw, region, default_allowed_regions());
}
bool contains_digit(const std::string& s) {
  return s.find_first_of("0123456789") != s.npos;
}
}  // namespace

TEST_CASE("metropolitan mobiles become E.164", "[phone]") {
  CHECK(check("06 12 34 56 78", "FR").e164 == "+33612345678");
  CHECK(check("07.81.23.45.67", "FR").e164 == "+33781234567");
  CHECK(check("+33 6 12 34 56 78", "FR").e164 == "+33612345678");
  CHECK(check("0033612345678", "FR").e164 == "+33612345678");
  CHECK(check("(+33) 06 12 34 56 78", "FR").e164 == "+33612345678");
}

TEST_CASE("overseas mobiles parse with their département's region", "[phone]") {
  CHECK(check("0692 12 34 56", region_of_department("974")).e164 == "+262692123456");
  CHECK(check("0690 12 34 56", region_of_department("971")).e164 == "+590690123456");
  CHECK(check("0696 12 34 56", region_of_department("972")).e164 == "+596696123456");
  CHECK(check("0694 20 12 34", region_of_department("973")).e164 == "+594694201234");
  CHECK(check("0639 69 12 34", region_of_department("976")).e164 == "+262639691234");
  // Mayotte shares +262 with La Réunion; libphonenumber tells them apart by the 639 prefix.
  CHECK(check("+262 639 40 12 34", "YT").e164 == "+262639401234");
  CHECK(normalize_sms_number("+262 639 40 12 34", "YT", {"YT"}).e164 == "+262639401234");
  CHECK_FALSE(normalize_sms_number("+262 639 40 12 34", "RE", {"RE"}).e164);
}

TEST_CASE("the French numbering plan spans metropolitan and overseas numbers", "[phone]") {
  // A metropolitan mobile registered in Guadeloupe, a Réunion mobile in Seine-et-Marne.
  CHECK(check("06 12 34 56 78", "GP").e164 == "+33612345678");
  CHECK(check("0692 12 34 56", "FR").e164 == "+262692123456");
  // +33 written in front of an overseas number still reaches the overseas operator
  // (docs/contract.md lists these).
  CHECK(check("+33 6 92 12 34 56", "FR").e164 == "+262692123456");
  CHECK(check("+33 693 00 12 34", "FR").e164 == "+262693001234");
  CHECK(check("+33 639 69 12 34", "FR").e164 == "+262639691234");
  CHECK(check("+33 690 12 34 56", "FR").e164 == "+590690123456");
  CHECK(check("+33 691 22 12 34", "FR").e164 == "+590691221234");
  CHECK(check("+33 696 12 34 56", "FR").e164 == "+596696123456");
  CHECK(check("+33 694 20 12 34", "FR").e164 == "+594694201234");
  // ...but only while the other territory is allowed.
  auto only_fr = normalize_sms_number("0692 12 34 56", "FR", {"FR"});
  CHECK_FALSE(only_fr.e164);
  CHECK(only_fr.error == "country not allowed: RE");
}

// What libphonenumber reads, every département reads alike: no département keeps a number
// format of its own.
TEST_CASE(
    "full-width digits and a country code written without + read as libphonenumber reads them",
    "[phone]") {
  // Full-width digits and plus, as Japanese or Chinese input methods type them.
  CHECK(check("\uFF10\uFF16\uFF11\uFF12\uFF13\uFF14\uFF15\uFF16\uFF17\uFF18", "FR").e164 ==
        "+33612345678");
  CHECK(check("\uFF0B\uFF13\uFF13 \uFF16 12 34 56 78", "FR").e164 == "+33612345678");
  CHECK(check("\uFF10\uFF16\uFF19\uFF12 12 34 56", "RE").e164 == "+262692123456");
  CHECK(check("\uFF10\uFF11 64 00 00 00", "FR").error == "not a mobile number (landline)");
  CHECK(check("\uFF10\uFF16", "FR").error == "invalid number");
  CHECK(check("\xEF\xBC", "FR").error == "no phone number");  // a cut sequence, read safely
  // 33 written without + or 00: the same number in Seine-et-Marne, Guadeloupe and La Réunion.
  for (const char* dept : {"77", "971", "972", "973", "974", "976"}) {
    INFO(dept);
    CHECK(check("33612345678", region_of_department(dept)).e164 == "+33612345678");
    CHECK(check("33 6 92 12 34 56", region_of_department(dept)).e164 == "+262692123456");
    CHECK(check("262692123456", region_of_department(dept)).e164 == "+262692123456");
    CHECK(check("590690123456", region_of_department(dept)).e164 == "+590690123456");
    CHECK(check("33164000000", region_of_department(dept)).error ==
          "not a mobile number (landline)");
    CHECK_FALSE(check("3361234567", region_of_department(dept)).e164);
  }
}

TEST_CASE("landlines and special numbers are refused with a clear reason", "[phone]") {
  auto landline = check("01 64 00 00 00", "FR");
  CHECK_FALSE(landline.e164);
  CHECK(landline.error == "not a mobile number (landline)");
  CHECK(check("0590 12 34 56", "GP").error == "not a mobile number (landline)");
  CHECK(check("0800 12 34 56", "FR").error == "not a mobile number (toll-free)");
  CHECK(check("09 12 34 56 78", "FR").error == "not a mobile number (VoIP)");
}

TEST_CASE("numbers of other countries are refused unless allowed", "[phone]") {
  auto comoros = check("+269 321 23 45", "YT");
  CHECK_FALSE(comoros.e164);
  CHECK(comoros.error == "country not allowed: KM");
  auto german = check("+49 151 12345678", "FR");
  CHECK_FALSE(german.e164);
  CHECK(german.error == "country not allowed: DE");
  auto allowed = default_allowed_regions();
  allowed.push_back("DE");
  CHECK(normalize_sms_number("+49 151 12345678", "FR", allowed).e164 == "+4915112345678");
  CHECK(normalize_sms_number("0049 151 12345678", "FR", allowed).e164 == "+4915112345678");
}

TEST_CASE("garbage and invalid numbers are refused without echoing digits", "[phone]") {
  for (const char* raw : {"", "abc", "06 12", "0612345678901234", "+33 1", "0691 12 34 56",
                          "0693 12 34 56", "0639 12 34 56", "téléphone : 06 xx"}) {
    INFO(raw);
    auto result = check(raw, raw == std::string_view("0691 12 34 56") ? "GP" : "FR");
    CHECK_FALSE(result.e164);
    CHECK_FALSE(result.error.empty());
    CHECK_FALSE(contains_digit(result.error));
  }
  CHECK(check("abc", "FR").error == "no phone number");
  CHECK(check("06 12", "FR").error == "invalid number");
}

TEST_CASE("national_number gives the digits French people dial", "[phone]") {
  CHECK(national_number("+33612345678") == "0612345678");
  CHECK(national_number("+262692123456") == "0692123456");
  CHECK(national_number("+262639401234") == "0639401234");
  CHECK(national_number("+590690123456") == "0690123456");
  CHECK(national_number("not a number").empty());
}

TEST_CASE("départements map to libphonenumber regions", "[phone]") {
  CHECK(region_of_department("971") == "GP");
  CHECK(region_of_department("972") == "MQ");
  CHECK(region_of_department("973") == "GF");
  CHECK(region_of_department("974") == "RE");
  CHECK(region_of_department("976") == "YT");
  CHECK(region_of_department("77") == "FR");
  CHECK(region_of_department("2A") == "FR");
  CHECK(default_allowed_regions() == std::vector<std::string>{"FR", "GP", "MQ", "GF", "RE", "YT"});
}
