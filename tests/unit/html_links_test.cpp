// The links of HTML emails: only http(s) (and mailto:/tel:) stay links; others show as text.
#include <catch2/catch.hpp>

#include "daemon/content/html_links.hpp"

using rappel::is_safe_link;
using rappel::keep_safe_links;

TEST_CASE("http(s), mailto and tel are links; every other scheme is not", "[templates][links]") {
  for (const char* ok :
       {"https://www.rdv-solidarites.fr/r/4521", "http://example.fr", "HTTPS://EXAMPLE.FR",
        " https://example.fr", "mailto:pmi@77.fr", "tel:0164000000"})
    CHECK(is_safe_link(ok));
  for (const char* bad :
       {"javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:x",
        "data:text/html;base64,PHNjcmlwdD4=", "vbscript:x", "&#106;avascript:x", "https&colon;//x",
        "//evil.example", "/r/4521", "", "file:///etc/passwd"})
    CHECK_FALSE(is_safe_link(bad));
}

TEST_CASE("an anchor with a forbidden href becomes its text", "[templates][links]") {
  CHECK(keep_safe_links(R"x(<p>Voir <a href="javascript:alert(1)" style="x">ici</a>.</p>)x") ==
        "<p>Voir ici.</p>");
  CHECK(keep_safe_links("<A HREF='data:text/html,x'>lien</A> fin") == "lien fin");
  CHECK(keep_safe_links("<a class=b href=vbscript:x>t</a >") == "t");
  // The text inside (here the URL itself) stays, escaped as the template rendered it.
  CHECK(keep_safe_links(
            R"x(<a href="javascript:a(&apos;x&apos;)">javascript:a(&apos;x&apos;)</a>)x") ==
        "javascript:a(&apos;x&apos;)");
}

TEST_CASE("safe links, named anchors and other tags are left as they are", "[templates][links]") {
  const std::string html =
      R"x(<p><a href="https://rdv.fr/r?a=1&amp;b=2" style="color:#000091;">https://rdv.fr</a> )x"
      R"x(<a name="top">x</a> <abbr title="Protection">PMI</abbr> <a href="tel:0164">01 64</a></p>)x";
  CHECK(keep_safe_links(html) == html);
}

TEST_CASE("half-written markup loses nothing before it", "[templates][links]") {
  CHECK(keep_safe_links("avant <a href=\"javascript:x\"") == "avant <a href=\"javascript:x\"");
  CHECK(keep_safe_links("avant <a href=\"javascript:x\">texte sans fin") == "avant texte sans fin");
  CHECK(keep_safe_links("a < b et <a") == "a < b et <a");
}
