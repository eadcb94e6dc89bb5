// Phone numbers for SMS, through libphonenumber (its metadata knows which prefixes are mobiles).
//
// A number is usable when it parses, is valid, is a mobile (or a number the plan cannot tell from
// one) and belongs to an allowed region. One French subtlety: the overseas départements share the
// national numbering plan, so "0692 12 34 56" typed in Seine-et-Marne is a Réunion mobile
// (+262692123456) and "06 12 34 56 78" typed in Guadeloupe is a metropolitan one (+33612345678).
// libphonenumber parses national numbers with one region only, so for national (and +33) numbers
// we try every French territory, overseas first: their metadata only validates the blocks
// allocated to them, and a metropolitan reading of an overseas block would route the SMS wrong.
//
// Errors never contain the number's digits: they end up in logs and delivery reports.
#include "daemon/content/phone.hpp"

#include <algorithm>
#include <cctype>

#include <phonenumbers/phonenumberutil.h>

namespace rappel {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

PhoneNumberUtil& util() {
  return *PhoneNumberUtil::GetInstance();
}

constexpr std::string_view kOverseasRegions[] = {"GP", "MQ", "GF", "RE", "YT"};

bool is_french_region(std::string_view r) {
  return r == "FR" || std::find(std::begin(kOverseasRegions), std::end(kOverseasRegions), r) !=
                          std::end(kOverseasRegions);
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::optional<PhoneNumber> parse(std::string_view raw, std::string_view region) {
  PhoneNumber n;
  if (util().Parse(std::string(raw), std::string(region), &n) != PhoneNumberUtil::NO_PARSING_ERROR)
    return std::nullopt;
  return n;
}

// Full-width digits and plus (U+FF10..U+FF19, U+FF0B: what Japanese and Chinese input methods
// type) as ASCII, so that the checks below see the digits libphonenumber would read.
std::string ascii_digits(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    bool wide = i + 2 < raw.size() && static_cast<unsigned char>(raw[i]) == 0xEF &&
                static_cast<unsigned char>(raw[i + 1]) == 0xBC;
    auto last = wide ? static_cast<unsigned char>(raw[i + 2]) : 0;
    if ((last >= 0x90 && last <= 0x99) || last == 0x8B) {
      out += last == 0x8B ? '+' : static_cast<char>('0' + (last - 0x90));
      i += 2;
    } else {
      out += raw[i];
    }
  }
  return out;
}

// "+..." and "00..." carry their country; anything else is national to the département's region.
bool written_internationally(std::string_view raw) {
  auto first = raw.find_first_not_of(" \t(");
  if (first == std::string_view::npos) return false;
  raw.remove_prefix(first);
  return raw.starts_with("+") || raw.starts_with("00");
}

// One reading of a number: its type in its region's plan (UNKNOWN when the plan has no such
// number: libphonenumber's IsValidNumber is exactly "type != UNKNOWN").
struct Reading {
  PhoneNumber number;
  PhoneNumberUtil::PhoneNumberType type = PhoneNumberUtil::UNKNOWN;
};

Reading read_as_is(const PhoneNumber& number) {
  return {number, util().GetNumberType(number)};
}

// The French territory of a number of the national plan: overseas regions first (the
// département's own first), then metropolitan France; the first valid reading wins, because
// the overseas metadata only validates the blocks allocated to each territory while a
// metropolitan reading of an overseas block would route the SMS wrong. The number is parsed once:
// the territories share the national prefix "0" and the 9-digit significant number, so a reading
// only swaps the country code. Parsing and validating are libphonenumber's costly parts (ICU
// regular expressions), and intake does this for every SMS.
Reading resolve_french(const PhoneNumber& parsed, std::string_view region) {
  std::vector<std::string_view> order;
  if (region != "FR") order.push_back(region);
  for (auto r : kOverseasRegions)
    if (r != region) order.push_back(r);
  order.push_back("FR");
  PhoneNumber number = parsed;
  number.clear_raw_input();
  number.clear_country_code_source();
  for (auto r : order) {
    number.set_country_code(util().GetCountryCodeForRegion(std::string(r)));
    if (auto reading = read_as_is(number); reading.type != PhoneNumberUtil::UNKNOWN) return reading;
  }
  return {parsed, PhoneNumberUtil::UNKNOWN};
}

// A French country code written without "+" or "00" ("33612345678", "262692123456"):
// libphonenumber strips only the code of the region it parses with, so 33... read in Seine-et-Marne
// but not in Guadeloupe. Each French code is tried, so every département reads it alike, and the
// code read is then treated as if written with "+" (33 re-homed like +33). Only for numbers no
// national reading validates: parsing is the costly part.
Reading with_written_country_code(std::string_view raw, std::string_view region) {
  for (std::string_view r : {"FR", "GP", "MQ", "GF", "RE"}) {  // 33, 590, 596, 594, 262 (and YT)
    auto number = parse(raw, r);
    if (!number) continue;
    Reading reading =
        number->country_code() == 33 ? resolve_french(*number, region) : read_as_is(*number);
    if (reading.type != PhoneNumberUtil::UNKNOWN) return reading;
  }
  return {};
}

std::string type_name(PhoneNumberUtil::PhoneNumberType t) {
  switch (t) {
    case PhoneNumberUtil::FIXED_LINE:
      return "landline";
    case PhoneNumberUtil::TOLL_FREE:
      return "toll-free";
    case PhoneNumberUtil::PREMIUM_RATE:
      return "premium-rate";
    case PhoneNumberUtil::SHARED_COST:
      return "shared-cost";
    case PhoneNumberUtil::VOIP:
      return "VoIP";
    case PhoneNumberUtil::PERSONAL_NUMBER:
      return "personal number";
    case PhoneNumberUtil::PAGER:
      return "pager";
    case PhoneNumberUtil::UAN:
      return "company number";
    case PhoneNumberUtil::VOICEMAIL:
      return "voicemail";
    default:
      return "unknown type";
  }
}

PhoneCheck rejected(std::string why) {
  return {std::nullopt, std::move(why)};
}

}  // namespace

PhoneCheck normalize_sms_number(std::string_view raw_in, std::string_view region_in,
                                const std::vector<std::string>& allowed_regions) {
  std::string raw = ascii_digits(raw_in);
  if (raw.find_first_of("0123456789") == std::string_view::npos) return rejected("no phone number");
  if (raw.size() > 64) return rejected("invalid number (too long)");
  std::string region = upper(region_in);
  auto number = parse(raw, region);
  if (!number) return rejected("invalid number");

  bool national = !written_internationally(raw) && is_french_region(region);
  Reading reading = national || number->country_code() == 33 ? resolve_french(*number, region)
                                                             : read_as_is(*number);
  if (reading.type == PhoneNumberUtil::UNKNOWN && national)
    reading = with_written_country_code(raw, region);
  if (reading.type == PhoneNumberUtil::UNKNOWN) return rejected("invalid number");

  std::string number_region;
  util().GetRegionCodeForNumber(reading.number, &number_region);
  bool allowed = std::any_of(allowed_regions.begin(), allowed_regions.end(),
                             [&](const std::string& r) { return upper(r) == number_region; });
  if (!allowed) return rejected("country not allowed: " + number_region);

  if (reading.type != PhoneNumberUtil::MOBILE &&
      reading.type != PhoneNumberUtil::FIXED_LINE_OR_MOBILE)
    return rejected("not a mobile number (" + type_name(reading.type) + ")");

  std::string e164;
  util().Format(reading.number, PhoneNumberUtil::E164, &e164);
  return {e164, {}};
}

std::string national_number(std::string_view e164) {
  auto number = parse(e164, "ZZ");
  if (!number) return {};
  std::string formatted, digits;
  util().Format(*number, PhoneNumberUtil::NATIONAL, &formatted);
  for (char c : formatted)
    if (c >= '0' && c <= '9') digits += c;
  return digits;
}

std::string region_of_department(std::string_view code) {
  while (!code.empty() && code.front() == ' ') code.remove_prefix(1);
  while (!code.empty() && code.back() == ' ') code.remove_suffix(1);
  if (code == "971") return "GP";
  if (code == "972") return "MQ";
  if (code == "973") return "GF";
  if (code == "974") return "RE";
  if (code == "976") return "YT";
  if (code == "975") return "PM";
  return "FR";
}

std::vector<std::string> default_allowed_regions() {
  return {"FR", "GP", "MQ", "GF", "RE", "YT"};
}

std::string e164_digits(std::string_view e164) {
  std::string out;
  for (char c : e164)
    if (c >= '0' && c <= '9') out += c;
  return out;
}

std::string national_digits(std::string_view e164) {
  std::string national = national_number(e164);
  if (national.empty()) throw std::invalid_argument("the number has no national format");
  return national;
}

}  // namespace rappel
