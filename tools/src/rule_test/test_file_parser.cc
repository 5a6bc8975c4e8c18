// TestFileParser: the file header (packs, municipalities), the cases, rules and time ranges.
#include "test_file_parser.h"

#include "zicht/rules/loader.h"

namespace zicht::tools::rule_test {

TestFileParser::TestFileParser(const std::string& path, const RuleTestOptions& options,
                               yaml::Diagnostics* diagnostics)
    : path_(path), options_(options), diag_(diagnostics) {
  dir_ = fs::path(path).parent_path();
}

bool TestFileParser::LoadHeader(const YAML::Node& root) {
  if (!root.IsMap()) {
    diag_->Error(root,
                 fmt::format("a rule test file must be a mapping with 'rule_files' and 'tests', "
                             "not {}",
                             KindOf(root)));
    return false;
  }
  root_ = std::make_unique<MapView>(
      *diag_, root,
      std::initializer_list<std::string_view>{"rule_files", "municipalities", "neighbourhoods",
                                              "allowed_lateness", "background", "tests"},
      "the test file");
  const MapView& m = *root_;
  std::vector<std::string> packs;
  if (const auto* e = m.Find("rule_files")) {
    for (const YAML::Node& v : ScalarList(*diag_, *e)) packs.push_back(Resolve(v.Scalar()));
  } else {
    diag_->Error(root, "missing 'rule_files': the rule pack(s) under test, relative to this file");
  }
  std::string municipalities;
  if (const auto* e = m.Find("municipalities")) {
    if (auto t = Text(*diag_, *e)) municipalities = Resolve(*t);
  } else {
    municipalities = FindDefaultMunicipalities();
    if (municipalities.empty()) {
      diag_->Error(root, fmt::format("no 'municipalities' given and {} not found above {} or the "
                                     "working directory",
                                     kDefaultMunicipalities, dir_.empty() ? "." : dir_.string()));
    }
  }
  std::string neighbourhoods;  // optional (SPEC 8.3)
  if (const auto* e = m.Find("neighbourhoods")) {
    if (auto t = Text(*diag_, *e)) neighbourhoods = Resolve(*t);
  }
  if (const auto* e = m.Find("allowed_lateness")) {
    if (auto t = Text(*diag_, *e)) {
      auto d = ParseDuration(*t);
      if (!d) {
        diag_->Error(
            e->value,
            fmt::format("'allowed_lateness' must be a duration like 1d or 12h, not '{}'", *t));
      } else {
        allowed_lateness_ = d->ms();
      }
    }
  }
  if (!m.Find("tests")) diag_->Error(root, "missing 'tests': a list of test cases");
  if (!diag_->empty()) return false;

  auto table = MunicipalityTable::Load(municipalities);
  if (!table.ok()) {
    diag_->AddLocated(table.status().message());
    return false;
  }
  rules::LoadOptions load;
  load.reference_base_dir = repo_root_.empty() ? std::string() : repo_root_.string();
  load.municipality_columns = (*table)->columns();
  rules::RuleSetLoadResult loaded = rules::LoadRuleSet(packs, load);
  if (!loaded.rule_set) {
    for (const rules::Diagnostic& d : loaded.errors) diag_->Add(d);
    if (loaded.errors.empty()) diag_->Error(root, "the rule packs could not be loaded");
    return false;
  }
  PlanOptions plan_options;
  plan_options.allowed_lateness_ms = allowed_lateness_;
  if (!neighbourhoods.empty()) {
    auto buurten = reference::NeighbourhoodTable::Load(neighbourhoods, **table);
    if (!buurten.ok()) {
      diag_->AddLocated(buurten.status().message());
      return false;
    }
    plan_options.neighbourhoods = *buurten;
  }
  auto plan = Plan::Build(loaded.rule_set, *table, plan_options);
  if (!plan.ok()) {
    diag_->AddLocated(plan.status().message());
    return false;
  }
  plan_ = *plan;
  for (size_t i = 0; i < plan_->municipalities().size(); ++i) {
    const Municipality& row = plan_->municipalities().at(i);
    municipality_by_name_.emplace(row.name, row.code);
  }
  return true;
}

std::vector<TestCase> TestFileParser::ParseCases() {
  std::vector<BackgroundSpec> file_background;
  if (const auto* e = root_->Find("background")) file_background = ParseBackground(*e);
  std::vector<TestCase> cases;
  const auto* tests = root_->Find("tests");
  if (!tests->value.IsSequence() || tests->value.size() == 0) {
    diag_->Error(tests->value_mark, "'tests' must be a non-empty list of test cases");
    return cases;
  }
  std::set<std::string> names;
  for (const YAML::Node& item : tests->value) {
    if (!item.IsMap()) {
      diag_->Error(item, fmt::format("a test case must be a mapping, not {}", KindOf(item)));
      continue;
    }
    TestCase c = ParseCase(item, file_background);
    if (!c.name.empty() && !names.insert(c.name).second) {
      diag_->Error(item, fmt::format("two test cases are named '{}'", c.name));
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

std::string TestFileParser::Resolve(const std::string& file) const {
  fs::path p(file);
  if (p.is_absolute() || dir_.empty()) return p.lexically_normal().string();
  return (dir_ / p).lexically_normal().string();
}

std::string TestFileParser::FindDefaultMunicipalities() {
  std::vector<fs::path> starts;
  std::error_code ec;
  starts.push_back(fs::absolute(dir_.empty() ? fs::path(".") : dir_, ec));
  starts.push_back(options_.search_dir.empty() ? fs::current_path(ec)
                                               : fs::absolute(options_.search_dir, ec));
  for (const fs::path& start : starts) {
    for (fs::path d = start; !d.empty(); d = d.parent_path()) {
      fs::path candidate = d / kDefaultMunicipalities;
      if (fs::is_regular_file(candidate, ec)) {
        repo_root_ = d;
        return candidate.lexically_normal().string();
      }
      if (d == d.parent_path()) break;
    }
  }
  return {};
}

int TestFileParser::MunicipalityIndexOf(const std::string& code) const {
  return plan_->municipalities().IndexOf(code);
}

std::string TestFileParser::MunicipalityCode(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (MunicipalityIndexOf(text) >= 0) return text;
  auto it = municipality_by_name_.find(text);
  if (it != municipality_by_name_.end()) return it->second;
  diag_->Error(node, fmt::format("'{}' is not a municipality code or name in {}", text,
                                 plan_->municipalities().source()));
  return {};
}

const rules::EventTypeSpec* TestFileParser::EventType(const std::string& type) const {
  for (const rules::EventTypeSpec& t : plan_->rule_set().event_types()) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

int TestFileParser::RuleIndex(const std::string& rule, const std::string& pack) const {
  const auto& rules = plan_->rules();
  for (size_t r = 0; r < rules.size(); ++r) {
    if (rules[r].spec->id == rule && (pack.empty() || rules[r].pack == pack))
      return static_cast<int>(r);
  }
  return -1;
}

bool TestFileParser::CheckRule(const Entry* rule, const Entry* pack, std::string* rule_out,
                               std::string* pack_out) {
  if (pack != nullptr) {
    if (auto t = Text(*diag_, *pack)) {
      *pack_out = *t;
      bool found = false;
      std::vector<std::string> names;
      for (const rules::RulePack& p : plan_->rule_set().packs()) {
        names.push_back(p.name);
        found = found || p.name == *t;
      }
      if (!found) {
        diag_->Error(pack->value, fmt::format("no pack named '{}' is under test{} (packs: {})", *t,
                                              DidYouMean(*t, names), JoinNames(names)));
        return false;
      }
    }
  }
  if (rule == nullptr) return true;
  auto t = Text(*diag_, *rule);
  if (!t) return false;
  *rule_out = *t;
  if (RuleIndex(*t, *pack_out) < 0) {
    std::vector<std::string> names;
    for (const RuleDef& r : plan_->rules()) names.push_back(r.spec->id);
    diag_->Error(rule->value, fmt::format("no rule '{}' in the packs under test{} (rules: {})", *t,
                                          DidYouMean(*t, names), JoinNames(names)));
    return false;
  }
  return true;
}

void TestFileParser::ParseRange(const MapView& m, TimeMs* from, TimeMs* to) {
  const auto* at = m.Find("at");
  if (at != nullptr) {
    if (m.Find("from") || m.Find("to")) {
      diag_->Error(at->key_mark, "use either 'at' or 'from'/'to', not both");
    }
    auto text = Text(*diag_, *at);
    if (!text) return;
    auto start = yaml::ParseTimeOrDate(*text, false);
    if (!start) {
      diag_->Error(
          at->value,
          fmt::format("'at' must be a date (2026-03-01) or an RFC 3339 time, not '{}'", *text));
      return;
    }
    *from = *start;
    *to = text->size() == 10 ? *start + kMsPerDay - 1 : *start;
    return;
  }
  if (const auto* e = m.Find("from")) {
    if (auto t = TimeOf(*diag_, *e, false)) *from = *t;
  }
  if (const auto* e = m.Find("to")) {
    if (auto t = TimeOf(*diag_, *e, true)) *to = *t;
  }
  if (*from > *to) diag_->Error(m.mark(), "'from' is after 'to'");
}

TestCase TestFileParser::ParseCase(const YAML::Node& node,
                                   const std::vector<BackgroundSpec>& file_background) {
  TestCase c;
  c.line = diag_->Mark(node).line;
  MapView m(
      *diag_, node,
      {"name", "background", "events", "events_file", "eval_at", "expect_alerts",
       "expect_no_alerts", "expect_dead_letters", "ignore_other_alerts", "ignore_alerts_before"},
      "a test case");
  if (const auto* e = m.Find("name")) {
    if (auto t = Text(*diag_, *e)) c.name = *t;
  } else {
    diag_->Error(node, "a test case needs a 'name'");
  }
  if (const auto* e = m.Find("background")) {
    c.background = ParseBackground(*e);
  } else {
    c.background = file_background;
  }
  if (const auto* e = m.Find("events")) ParseEvents(*e, &c.events);
  if (const auto* e = m.Find("events_file")) {
    for (const YAML::Node& v : ScalarList(*diag_, *e)) ReadEventsFile(v, &c.events);
  }
  if (const auto* e = m.Find("eval_at")) ParseEvalAt(*e, &c.eval_at);
  if (const auto* e = m.Find("expect_alerts")) {
    for (const YAML::Node& item : Items(*e)) c.expect_alerts.push_back(ParseAlertExpectation(item));
  }
  if (const auto* e = m.Find("expect_no_alerts")) {
    for (const YAML::Node& item : Items(*e)) c.expect_no_alerts.push_back(ParseNoAlert(item));
  }
  if (const auto* e = m.Find("expect_dead_letters")) {
    for (const YAML::Node& item : Items(*e)) c.expect_dead_letters.push_back(ParseDeadLetter(item));
  }
  if (const auto* e = m.Find("ignore_other_alerts")) {
    if (auto b = Bool(*diag_, *e)) c.ignore_other_alerts = *b;
  }
  if (const auto* e = m.Find("ignore_alerts_before")) {
    if (auto t = TimeOf(*diag_, *e, false)) c.ignore_alerts_before = *t;
  }
  if (c.events.empty() && c.background.empty()) {
    diag_->Error(node, "a test case needs 'events', 'events_file' or 'background'");
  }
  return c;
}

std::vector<YAML::Node> TestFileParser::Items(const Entry& e) {
  std::vector<YAML::Node> out;
  if (!e.value.IsSequence()) {
    diag_->Error(e.value_mark, fmt::format("'{}' must be a list, not {}", e.key, KindOf(e.value)));
    return out;
  }
  for (const YAML::Node& item : e.value) {
    if (!item.IsMap()) {
      diag_->Error(item,
                   fmt::format("an item of '{}' must be a mapping, not {}", e.key, KindOf(item)));
      continue;
    }
    out.push_back(item);
  }
  return out;
}

}  // namespace zicht::tools::rule_test
