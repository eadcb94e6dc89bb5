// GSM 03.38 preparation: French typography must stay in GSM-7 (one cheap, deliverable SMS), other
// scripts must fall back to UCS-2 unchanged, and segment counts must match what an SMSC bills.
#include <catch2/catch.hpp>

#include "daemon/content/gsm7.hpp"

using rappel::prepare_sms_text;

namespace {
std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}
}  // namespace

TEST_CASE("a French reminder already in GSM-7 is kept as written", "[gsm7]") {
  auto sms = prepare_sms_text("Rappel : RDV PMI le mardi 3/12 à 14h30");
  CHECK(sms.encoding == "gsm7");
  CHECK(sms.text == "Rappel : RDV PMI le mardi 3/12 à 14h30");
  CHECK(sms.characters == 38);
  CHECK(sms.units == 38);
  CHECK(sms.segments == 1);
}

TEST_CASE("French letters GSM-7 lacks are transliterated", "[gsm7]") {
  CHECK(prepare_sms_text("Françoise").text == "Francoise");
  CHECK(prepare_sms_text("FRANÇOISE").text == "FRANÇOISE");  // capital Ç is in the basic table
  CHECK(prepare_sms_text("cœur").text == "coeur");
  CHECK(prepare_sms_text("ŒUVRE").text == "OEUVRE");
  CHECK(prepare_sms_text("Hôtel-Dieu").text == "Hotel-Dieu");
  CHECK(prepare_sms_text("Noël").text == "Noel");
  CHECK(prepare_sms_text("Île-de-France, Être, À bientôt").text ==
        "Ile-de-France, Etre, A bientot");
  CHECK(prepare_sms_text("où, déjà, été, ÉCOLE").text == "où, déjà, été, ÉCOLE");
  CHECK(prepare_sms_text("maïs, naïve, aiguë, L’Haÿ-les-Roses").text ==
        "mais, naive, aigue, L'Hay-les-Roses");
  auto sms = prepare_sms_text("cœur");
  CHECK(sms.encoding == "gsm7");
  CHECK(sms.characters == 5);
}

TEST_CASE("typographic punctuation and spaces become plain GSM-7", "[gsm7]") {
  CHECK(prepare_sms_text("l’accueil").text == "l'accueil");
  CHECK(prepare_sms_text("« Maison des solidarités »").text == "\" Maison des solidarités \"");
  // French typography puts non-breaking spaces inside guillemets and before ":".
  CHECK(prepare_sms_text("«\u00A0PMI\u00A0»\u202F: 9h–12h…").text == "\" PMI \" : 9h-12h...");
  CHECK(prepare_sms_text("“RDV” — „ok“ ‘a’").text == "\"RDV\" - \"ok\" 'a'");
  CHECK(prepare_sms_text("n°\t12").text == "no 12");
  CHECK(prepare_sms_text("usager·ère").text == "usager.ère");
}

TEST_CASE("Latin letters of other languages map to their base letter", "[gsm7]") {
  auto sms = prepare_sms_text("Łukasz Wałęsa, Dvořák, Şahin, João, Zoë, Ștefan, Ñuño");
  CHECK(sms.encoding == "gsm7");
  CHECK(sms.text == "Lukasz Walesa, Dvorak, Sahin, Joao, Zoe, Stefan, Ñuño");
}

TEST_CASE("decomposed accents are composed before mapping", "[gsm7]") {
  // "é" typed as e + U+0301 (macOS) is the GSM-7 é; "ê" as e + U+0302 becomes e.
  CHECK(prepare_sms_text("Ade\u0301lie").text == "Adélie");
  CHECK(prepare_sms_text("fe\u0302te").text == "fete");
  CHECK(prepare_sms_text("Ade\u0301lie").characters == 6);
}

TEST_CASE("the euro sign and the extension table cost two septets", "[gsm7]") {
  auto euro = prepare_sms_text("€");
  CHECK(euro.encoding == "gsm7");
  CHECK(euro.characters == 1);
  CHECK(euro.units == 2);
  auto ext = prepare_sms_text("^{}\\[~]|€\f");
  CHECK(ext.characters == 10);
  CHECK(ext.units == 20);
  CHECK(prepare_sms_text("5 € [gratuit]").units == 16);
}

TEST_CASE("the whole GSM 03.38 basic table stays as is at one septet each", "[gsm7]") {
  std::string basic =
      "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ "
      "!\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
      "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  auto sms = prepare_sms_text(basic);
  CHECK(sms.encoding == "gsm7");
  CHECK(sms.text == basic);
  CHECK(sms.characters == 127);
  CHECK(sms.units == 127);
}

TEST_CASE("GSM-7 segment boundaries: 160 in one part, 153 per concatenated part", "[gsm7]") {
  CHECK(prepare_sms_text(repeat("a", 160)).segments == 1);
  CHECK(prepare_sms_text(repeat("a", 161)).segments == 2);
  CHECK(prepare_sms_text(repeat("a", 306)).segments == 2);
  CHECK(prepare_sms_text(repeat("a", 307)).segments == 3);
  CHECK(prepare_sms_text("").segments == 0);
  // Extension characters count 2: 158 + € = 160 septets fits, 159 + € does not.
  CHECK(prepare_sms_text(repeat("a", 158) + "€").segments == 1);
  CHECK(prepare_sms_text(repeat("a", 159) + "€").segments == 2);
  // Transliteration can lengthen: 158 letters + "…" -> 161 septets.
  CHECK(prepare_sms_text(repeat("a", 158) + "…").segments == 2);
}

TEST_CASE("an escape pair is never split across concatenated parts", "[gsm7]") {
  // 152 + 2 + 152 = 306 septets would be 2 parts by division, but "€" cannot straddle septets
  // 153-154: part 1 holds 152, part 2 "€" + 151, part 3 the last letter.
  auto sms = prepare_sms_text(repeat("a", 152) + "€" + repeat("a", 152));
  CHECK(sms.units == 306);
  CHECK(sms.segments == 3);
  // When the pair ends exactly on the boundary it stays in part 1.
  CHECK(prepare_sms_text(repeat("a", 151) + "€" + repeat("a", 153)).segments == 2);
}

TEST_CASE("non-Latin names fall back to UCS-2 and keep the text as written", "[gsm7]") {
  std::string text = "Bonjour Ольга, RDV à l’accueil le 3/12";
  auto sms = prepare_sms_text(text);
  CHECK(sms.encoding == "ucs2");
  CHECK(sms.text == text);  // no transliteration of ’ once the message is UCS-2
  CHECK(sms.characters == 38);
  CHECK(sms.units == 38);
  CHECK(sms.segments == 1);

  auto arabic = prepare_sms_text("RDV pour محمد");
  CHECK(arabic.encoding == "ucs2");
  CHECK(arabic.units == 13);

  std::string name = "Ольга ";                                        // 6 units
  CHECK(prepare_sms_text(repeat(name, 11) + "Ахме").segments == 1);   // 70 units
  CHECK(prepare_sms_text(repeat(name, 11) + "Ахмед").segments == 2);  // 71 units
  CHECK(prepare_sms_text(repeat(name, 22) + "Ол").segments == 2);     // 134 = 2 x 67
  CHECK(prepare_sms_text(repeat(name, 22) + "Оль").segments == 3);    // 135 units
}

TEST_CASE("emoji are UCS-2 and count two UTF-16 units, never split", "[gsm7]") {
  auto sms = prepare_sms_text("RDV demain 👍");
  CHECK(sms.encoding == "ucs2");
  CHECK(sms.characters == 12);
  CHECK(sms.units == 13);
  // 66 + 2 + 66 = 134 units: the pair cannot straddle units 67-68, so three parts, not two.
  auto split = prepare_sms_text(repeat("a", 66) + "😀" + repeat("a", 66));
  CHECK(split.units == 134);
  CHECK(split.segments == 3);
  CHECK(prepare_sms_text(repeat("a", 65) + "😀" + repeat("a", 67)).segments == 2);
}

TEST_CASE("zero-width characters are dropped", "[gsm7]") {
  auto sms = prepare_sms_text("\uFEFFBon\u200Bjour\u2060 Camille\u200D");
  CHECK(sms.encoding == "gsm7");
  CHECK(sms.text == "Bonjour Camille");
  CHECK(sms.characters == 15);
  auto ucs2 = prepare_sms_text("\uFEFFОль\u200Bга");
  CHECK(ucs2.encoding == "ucs2");
  CHECK(ucs2.text == "Ольга");
  CHECK(ucs2.units == 5);
}

TEST_CASE("invalid UTF-8 is replaced, never crashes", "[gsm7]") {
  // Truncated sequence, stray continuation, overlong '/', surrogate, byte FF.
  auto sms = prepare_sms_text("Caf\xC3 \x80 \xC0\xAF \xED\xA0\x80 \xFF!");
  CHECK(sms.encoding == "gsm7");
  CHECK(sms.text == "Caf? ? ?? ??? ?!");
  auto end = prepare_sms_text("RDV \xE2\x82");  // € cut in the middle
  CHECK(end.text == "RDV ?");
  auto ucs2 = prepare_sms_text("Ольга\xFF");
  CHECK(ucs2.encoding == "ucs2");
  CHECK(ucs2.text == "Ольга\uFFFD");
  CHECK(ucs2.units == 6);
}

TEST_CASE("CRLF becomes LF and control characters vanish", "[gsm7]") {
  auto sms = prepare_sms_text("Ligne 1\r\nLigne 2\x07");
  CHECK(sms.text == "Ligne 1\nLigne 2");
  CHECK(sms.units == 15);
}

TEST_CASE("CRLF with an invisible character between still becomes one LF", "[gsm7]") {
  // Found by fuzz/gsm7_fuzz: the CR was kept when a dropped character (here a zero-width space)
  // separated it from the LF, so the SMS carried an extra character and normalising twice
  // changed the text.
  auto sms = prepare_sms_text("RDV PMI\r\xE2\x80\x8B\nMelun");
  CHECK(sms.text == "RDV PMI\nMelun");
  CHECK(sms.units == 13);
  CHECK(prepare_sms_text(sms.text).text == sms.text);
}
