// Form and query-string decoding shared by the HTTP endpoint, receipt parsers and test servers.
#include <catch2/catch.hpp>

#include "daemon/net/form_encoding.hpp"

using rappel::decode_form;
using rappel::form_decode;

TEST_CASE("form_decode: '+' is a space, %XX a byte, a broken escape stays", "[form_encoding]") {
  CHECK(form_decode("Rendez-vous+%C3%A0+Melun") == "Rendez-vous à Melun");
  CHECK(form_decode("100%25") == "100%");
  CHECK(form_decode("50%") == "50%");
  CHECK(form_decode("%zz%4") == "%zz%4");
}

TEST_CASE("decode_form: pairs, empty values, the last of a repeated name", "[form_encoding]") {
  auto fields = decode_form("token=s%C3%A9cret&&status=3&flag&status=4");
  CHECK(fields.size() == 3);
  CHECK(fields["token"] == "sécret");
  CHECK(fields["flag"] == "");
  CHECK(fields["status"] == "4");
  CHECK(decode_form("").empty());
}
