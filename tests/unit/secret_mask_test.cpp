// The secret mask: what an account's ConfigMap records, and what the mask replaces.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "daemon/base/config_node.hpp"
#include "daemon/config/secret_mask.hpp"
#include "daemon/content/mime_encoding.hpp"

using rappel::ConfigMap;
using rappel::SecretMask;
using rappel::mime::base64;

TEST_CASE("an account's secrets are recorded with their encoded forms", "[secrets]") {
  setenv("RAPPEL_TEST_MASK_PASSWORD", "s3cr3t-pass", 1);
  YAML::Node root = YAML::Load(
      "providers:\n"
      "  a: {login: cd77, password: \"${RAPPEL_TEST_MASK_PASSWORD}\", receipts: {secret: "
      "literal-receipt-secret}}\n"
      "  b: {token: other-account-token}\n");
  ConfigMap section(root["providers"], "rappel.yaml", "providers");
  ConfigMap a = section.map("a");
  CHECK(a.string("login") == "cd77");
  CHECK(a.secret("password") == "s3cr3t-pass");
  CHECK(a.map("receipts").secret("secret") == "literal-receipt-secret");
  ConfigMap b = section.map("b");
  CHECK(b.secret("token") == "other-account-token");

  auto forms = secret_forms(a);
  auto has = [&](const std::string& f) {
    return std::find(forms.begin(), forms.end(), f) != forms.end();
  };
  CHECK(has("s3cr3t-pass"));
  CHECK(has("literal-receipt-secret"));  // read by a mapping under the account
  CHECK(has(base64("s3cr3t-pass")));
  CHECK(has(base64("cd77:s3cr3t-pass")));                      // basic auth
  CHECK(has(base64(std::string("\0cd77\0s3cr3t-pass", 17))));  // SMTP AUTH PLAIN
  CHECK_FALSE(has("other-account-token"));                     // another account's
  CHECK_FALSE(has("cd77"));                                    // not a secret
}

TEST_CASE("the mask replaces every occurrence, longest form first", "[secrets]") {
  SecretMask mask({"tok-123456", "tok-123456-long", "abc"});
  CHECK(mask.apply("Invalid token: Bearer tok-123456-long") == "Invalid token: Bearer [secret]");
  CHECK(mask.apply("tok-123456 and tok-123456") == "[secret] and [secret]");
  CHECK(mask.apply("abc is too short to mask") == "abc is too short to mask");
  CHECK(mask.apply("nothing here") == "nothing here");
  CHECK(SecretMask({"ab"}).empty());
}
