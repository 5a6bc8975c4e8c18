// Rule tests: parse an analyst's YAML test file, run each case on a fresh
// engine (real RocksDB in a temporary directory) and compare the alerts.
#include "zicht/tools/rule_test.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "zicht/base/file.h"
#include "zicht/base/json_writer.h"
#include "zicht/base/text.h"
#include "zicht/connectors/record_sink.h"
#include "zicht/engine/engine.h"
#include "zicht/engine/event.h"
#include "zicht/reference/municipalities.h"
#include "zicht/engine/plan.h"
#include "zicht/runtime/plan_loader.h"
#include "zicht/runtime/rocksdb_state_store.h"
#include "zicht/engine/state_store.h"
#include "zicht/rules/loader.h"

namespace zicht::tools {

using engine::Engine;
using engine::PlanOptions;
using engine::RuleDef;
using engine::SourcePosition;
using engine::EngineOptions;
using engine::Plan;
using engine::PlanPtr;
using engine::Municipality;
using engine::MunicipalityTable;
using engine::MunicipalityTablePtr;
using engine::DeadLetterReason;
using engine::DeadLetterReasonName;
using engine::kDeadLetterReasonCount;
using engine::SchemaRegistry;
using engine::StateStorePtr;
using runtime::OpenRocksDbStateStore;
using runtime::PlanSources;
using runtime::LoadPlan;
namespace {

namespace fs = std::filesystem;

constexpr TimeMs kMaxTime = INT64_MAX / 4;
constexpr std::string_view kDefaultMunicipalities = "config/reference/municipalities.csv";
constexpr int64_t kCommitEvery = 100000;

// ---------------------------------------------------------------------------
// Diagnostics and YAML helpers

struct Mark {
  int line = 1;
  int column = 1;
};

Mark MarkOf(const YAML::Node& n) {
  YAML::Mark m = n.Mark();
  return Mark{std::max(m.line, 0) + 1, std::max(m.column, 0) + 1};
}

class Errors {
 public:
  explicit Errors(std::string file) : file_(std::move(file)) {}
  void Add(Mark m, std::string message) {
    if (list_.size() < 200) {
      list_.push_back(
          {m.line, m.column, fmt::format("{}:{}:{}: {}", file_, m.line, m.column, message)});
    }
  }
  void Add(const YAML::Node& n, std::string message) { Add(MarkOf(n), std::move(message)); }
  // A message that carries its own position (rule packs, tables).
  void AddRaw(std::string text) { list_.push_back({0, 0, std::move(text)}); }
  bool empty() const { return list_.empty(); }
  // The messages in file order.
  std::vector<std::string> Take() {
    std::stable_sort(list_.begin(), list_.end(), [](const Entry& a, const Entry& b) {
      return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    std::vector<std::string> out;
    for (Entry& e : list_) out.push_back(std::move(e.text));
    list_.clear();
    return out;
  }

 private:
  struct Entry {
    int line, column;
    std::string text;
  };
  std::string file_;
  std::vector<Entry> list_;
};

std::string_view KindOf(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "a value";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "an undefined node";
  }
}

// " (did you mean 'x'?)" for a close candidate, else "".
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  const size_t limit = word.size() <= 3 ? 1 : word.size() <= 6 ? 2 : 3;
  const std::string out = NearestName(word, candidates, limit);
  return out.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", out);
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

// The entries of a mapping, checked for unknown and duplicate keys.
class MapView {
 public:
  MapView(const YAML::Node& node, std::initializer_list<std::string_view> known,
          std::string_view what, Errors* errors)
      : node_(node) {
    std::vector<std::string> names(known.begin(), known.end());
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      // Copies: `it->` yields a proxy that dies with the expression.
      const YAML::Node k = it->first;
      const YAML::Node v = it->second;
      if (!k.IsScalar()) {
        errors->Add(k, fmt::format("a key of {} must be a name, not {}", what, KindOf(k)));
        continue;
      }
      const std::string key = k.Scalar();
      if (!seen.insert(key).second) {
        errors->Add(k, fmt::format("'{}' appears twice in {}", key, what));
        continue;
      }
      if (known.size() > 0 && std::find(names.begin(), names.end(), key) == names.end()) {
        errors->Add(k, fmt::format("unknown key '{}' in {}{} (known: {})", key, what,
                                   DidYouMean(key, names), Join(names)));
        continue;
      }
      entries_.push_back({key, k, v});
    }
  }
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };
  const Entry* Find(std::string_view key) const {
    for (const Entry& e : entries_) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }
  const std::vector<Entry>& entries() const { return entries_; }
  const YAML::Node& node() const { return node_; }

 private:
  YAML::Node node_;
  std::vector<Entry> entries_;
};

// Scalars -------------------------------------------------------------------

std::optional<std::string> Text(const MapView::Entry& e, Errors* errors) {
  if (!e.value.IsScalar()) {
    errors->Add(e.value.IsNull() ? e.key_node : e.value,
                fmt::format("'{}' needs a value, not {}", e.key, KindOf(e.value)));
    return std::nullopt;
  }
  return e.value.Scalar();
}

bool ParseDouble(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || errno != 0 || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

std::optional<double> Number(const MapView::Entry& e, Errors* errors) {
  auto t = Text(e, errors);
  if (!t) return std::nullopt;
  double v;
  if (!ParseDouble(*t, &v)) {
    errors->Add(e.value, fmt::format("'{}' must be a number, not '{}'", e.key, *t));
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> Integer(const MapView::Entry& e, int64_t min, Errors* errors) {
  auto v = Number(e, errors);
  if (!v) return std::nullopt;
  if (*v != std::floor(*v) || *v < static_cast<double>(min) || *v > 1e15) {
    errors->Add(e.value, fmt::format("'{}' must be a whole number of at least {}, not {}", e.key,
                                     min, e.value.Scalar()));
    return std::nullopt;
  }
  return static_cast<int64_t>(*v);
}

std::optional<bool> Bool(const MapView::Entry& e, Errors* errors) {
  auto t = Text(e, errors);
  if (!t) return std::nullopt;
  if (*t == "true" || *t == "True" || *t == "TRUE") return true;
  if (*t == "false" || *t == "False" || *t == "FALSE") return false;
  errors->Add(e.value, fmt::format("'{}' must be true or false, not '{}'", e.key, *t));
  return std::nullopt;
}

// A time: RFC 3339, or a date YYYY-MM-DD (midnight UTC). `end_of_day`: a
// date stands for its last millisecond (inclusive ends of ranges).
std::optional<TimeMs> ParseTimeText(const std::string& s, bool end_of_day) {
  if (s.size() == 10) {
    auto t = ParseRfc3339(s + "T00:00:00Z");
    if (t && end_of_day) return *t + kMsPerDay - 1;
    return t;
  }
  return ParseRfc3339(s);
}

std::optional<TimeMs> Time(const MapView::Entry& e, bool end_of_day, Errors* errors) {
  auto t = Text(e, errors);
  if (!t) return std::nullopt;
  auto v = ParseTimeText(*t, end_of_day);
  if (!v) {
    errors->Add(e.value,
                fmt::format("'{}' must be an RFC 3339 time (2026-03-01T12:00:00Z) or a date "
                            "(2026-03-01), not '{}'",
                            e.key, *t));
  }
  return v;
}

std::optional<TimeMs> DurationOf(const MapView::Entry& e, Errors* errors) {
  auto t = Text(e, errors);
  if (!t) return std::nullopt;
  auto d = ParseDuration(*t);
  if (!d || d->ms() <= 0) {
    errors->Add(
        e.value,
        fmt::format("'{}' must be a positive duration like 1d, 12h or 30m, not '{}'", e.key, *t));
    return std::nullopt;
  }
  return d->ms();
}

// A scalar or a list of scalars, as texts with their nodes.
std::vector<YAML::Node> ScalarList(const MapView::Entry& e, Errors* errors) {
  std::vector<YAML::Node> out;
  if (e.value.IsScalar()) {
    out.push_back(e.value);
  } else if (e.value.IsSequence() && e.value.size() > 0) {
    for (const YAML::Node& v : e.value) {
      if (!v.IsScalar()) {
        errors->Add(v, fmt::format("an item of '{}' must be a value, not {}", e.key, KindOf(v)));
        continue;
      }
      out.push_back(v);
    }
  } else {
    errors->Add(e.value.IsNull() ? e.key_node : e.value,
                fmt::format("'{}' needs a value or a non-empty list of values", e.key));
  }
  return out;
}

// JSON ----------------------------------------------------------------------

bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size()) return false;
  if (s[i] == '0') {
    ++i;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  } else {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t digits = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == digits) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t digits = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == digits) return false;
  }
  return i == s.size();
}

std::string ReplaceIndex(std::string text, int64_t index) {
  if (index < 0) return text;
  const std::string number = std::to_string(index);
  for (size_t at = text.find("{i}"); at != std::string::npos;
       at = text.find("{i}", at + number.size())) {
    text.replace(at, 3, number);
  }
  return text;
}

// Appends a YAML node as JSON. Plain scalars that read as JSON numbers,
// true/false or null keep that type; quoted scalars are always strings.
// `index` >= 0 replaces "{i}" in strings (repeated events).
void AppendJson(const YAML::Node& n, int64_t index, std::string* out) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar: {
      std::string text = ReplaceIndex(n.Scalar(), index);
      if (n.Tag() == "?") {
        if (IsJsonNumber(text)) {
          out->append(text);
          return;
        }
        if (text == "true" || text == "True" || text == "TRUE") {
          out->append("true");
          return;
        }
        if (text == "false" || text == "False" || text == "FALSE") {
          out->append("false");
          return;
        }
        if (text == "null" || text == "~") {
          out->append("null");
          return;
        }
      }
      out->push_back('"');
      JsonWriter::Escape(text, out);
      out->push_back('"');
      return;
    }
    case YAML::NodeType::Sequence: {
      out->push_back('[');
      bool first = true;
      for (const YAML::Node& v : n) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(v, index, out);
      }
      out->push_back(']');
      return;
    }
    case YAML::NodeType::Map: {
      out->push_back('{');
      bool first = true;
      for (auto it = n.begin(); it != n.end(); ++it) {
        if (!first) out->push_back(',');
        first = false;
        out->push_back('"');
        JsonWriter::Escape(it->first.IsScalar() ? it->first.Scalar() : std::string(), out);
        out->append("\":");
        AppendJson(it->second, index, out);
      }
      out->push_back('}');
      return;
    }
    default:
      out->append("null");
      return;
  }
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  JsonWriter::Escape(s, &out);
  out.push_back('"');
  return out;
}

// ---------------------------------------------------------------------------
// The test file model

struct EventItem {
  TimeMs sort_time = kMinTime;  // event time, or that of the event before it
  std::string json;
  std::string source;  // file name for dead-letter sources
  int64_t line = 0;
};

struct BackgroundSpec {
  int line = 0;
  std::string type;
  double per_1000_per_day = 0;
  TimeMs from = 0, to = 0;  // [from, to)
  // Field name -> JSON values, taken in turn by consecutive events.
  std::vector<std::pair<std::string, std::vector<std::string>>> fields;
  std::vector<bool> include;  // per municipality
};

struct ConditionCheck {
  std::string id, indicator, measure;
  std::optional<bool> held;
  std::optional<double> observed_ge, observed_gt, observed_le, observed_lt;
  std::optional<int64_t> count, count_ge, count_le;
};

struct AlertExpectation {
  int line = 0;
  std::string rule, pack, municipality;
  TimeMs from = kMinTime, to = kMaxTime;
  std::optional<int64_t> count;
  std::string severity;
  std::optional<double> score_ge, score_le;
  std::vector<ConditionCheck> conditions;
  std::vector<std::string> evidence;
};

struct NoAlertExpectation {
  int line = 0;
  std::string rule, pack, municipality;
  TimeMs from = kMinTime, to = kMaxTime;
};

struct DeadLetterExpectation {
  int line = 0;
  std::string reason, id;
  std::optional<int64_t> count;
};

struct TestCase {
  std::string name;
  int line = 0;
  std::vector<BackgroundSpec> background;
  std::vector<EventItem> events;
  std::vector<TimeMs> eval_at;
  std::vector<AlertExpectation> expect_alerts;
  std::vector<NoAlertExpectation> expect_no_alerts;
  std::vector<DeadLetterExpectation> expect_dead_letters;
  bool ignore_other_alerts = false;
  // Alerts before this time are not compared (windows still filling up).
  TimeMs ignore_alerts_before = kMinTime;
};

// ---------------------------------------------------------------------------
// Parsing

class TestFileParser {
 public:
  TestFileParser(const std::string& path, const RuleTestOptions& options, Errors* errors)
      : path_(path), options_(options), errors_(errors) {
    dir_ = fs::path(path).parent_path();
  }

  // Everything up to the plan; false when the file or its packs are invalid.
  bool LoadHeader(const YAML::Node& root) {
    if (!root.IsMap()) {
      errors_->Add(root,
                   fmt::format("a rule test file must be a mapping with 'rule_files' and 'tests', "
                               "not {}",
                               KindOf(root)));
      return false;
    }
    root_ = std::make_unique<MapView>(
        root,
        std::initializer_list<std::string_view>{"rule_files", "municipalities", "allowed_lateness",
                                                "background", "tests"},
        "the test file", errors_);
    const MapView& m = *root_;
    std::vector<std::string> packs;
    if (const auto* e = m.Find("rule_files")) {
      for (const YAML::Node& v : ScalarList(*e, errors_)) packs.push_back(Resolve(v.Scalar()));
    } else {
      errors_->Add(root,
                   "missing 'rule_files': the rule pack(s) under test, relative to this file");
    }
    std::string municipalities;
    if (const auto* e = m.Find("municipalities")) {
      if (auto t = Text(*e, errors_)) municipalities = Resolve(*t);
    } else {
      municipalities = FindDefaultMunicipalities();
      if (municipalities.empty()) {
        errors_->Add(root, fmt::format("no 'municipalities' given and {} not found above {} or the "
                                       "working directory",
                                       kDefaultMunicipalities, dir_.empty() ? "." : dir_.string()));
      }
    }
    if (const auto* e = m.Find("allowed_lateness")) {
      if (auto t = Text(*e, errors_)) {
        auto d = ParseDuration(*t);
        if (!d) {
          errors_->Add(
              e->value,
              fmt::format("'allowed_lateness' must be a duration like 1d or 12h, not '{}'", *t));
        } else {
          allowed_lateness_ = d->ms();
        }
      }
    }
    if (!m.Find("tests")) errors_->Add(root, "missing 'tests': a list of test cases");
    if (!errors_->empty()) return false;

    rules::LoadOptions load;
    load.reference_base_dir = repo_root_.empty() ? std::string() : repo_root_.string();
    rules::RuleSetLoadResult loaded = rules::LoadRuleSet(packs, load);
    if (!loaded.rule_set) {
      for (const rules::Diagnostic& d : loaded.errors) errors_->AddRaw(d.ToString());
      if (loaded.errors.empty()) errors_->Add(root, "the rule packs could not be loaded");
      return false;
    }
    auto table = MunicipalityTable::Load(municipalities);
    if (!table.ok()) {
      errors_->AddRaw(table.status().message());
      return false;
    }
    PlanOptions plan_options;
    plan_options.allowed_lateness_ms = allowed_lateness_;
    auto plan = Plan::Build(loaded.rule_set, *table, plan_options);
    if (!plan.ok()) {
      errors_->AddRaw(plan.status().message());
      return false;
    }
    plan_ = *plan;
    for (size_t i = 0; i < plan_->municipalities().size(); ++i) {
      const Municipality& row = plan_->municipalities().at(i);
      municipality_by_name_.emplace(row.name, row.code);
    }
    return true;
  }

  std::vector<TestCase> ParseCases() {
    std::vector<BackgroundSpec> file_background;
    if (const auto* e = root_->Find("background")) file_background = ParseBackground(*e);
    std::vector<TestCase> cases;
    const auto* tests = root_->Find("tests");
    if (!tests->value.IsSequence() || tests->value.size() == 0) {
      errors_->Add(tests->value.IsNull() ? tests->key_node : tests->value,
                   "'tests' must be a non-empty list of test cases");
      return cases;
    }
    std::set<std::string> names;
    for (const YAML::Node& item : tests->value) {
      if (!item.IsMap()) {
        errors_->Add(item, fmt::format("a test case must be a mapping, not {}", KindOf(item)));
        continue;
      }
      TestCase c = ParseCase(item, file_background);
      if (!c.name.empty() && !names.insert(c.name).second) {
        errors_->Add(item, fmt::format("two test cases are named '{}'", c.name));
      }
      cases.push_back(std::move(c));
    }
    return cases;
  }

  const PlanPtr& plan() const { return plan_; }
  TimeMs allowed_lateness() const { return allowed_lateness_; }

 private:
  std::string Resolve(const std::string& file) const {
    fs::path p(file);
    if (p.is_absolute() || dir_.empty()) return p.lexically_normal().string();
    return (dir_ / p).lexically_normal().string();
  }

  // The first config/reference/municipalities.csv above the test file, then
  // above the search directory; remembers the directory holding it (the
  // repository root) for reference tables named like config/reference/x.csv.
  std::string FindDefaultMunicipalities() {
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

  int MunicipalityIndexOf(const std::string& code) const {
    return plan_->municipalities().IndexOf(code);
  }

  // A CBS code or a municipality name -> the code ("" when unknown).
  std::string MunicipalityCode(const YAML::Node& node) {
    const std::string text = node.Scalar();
    if (MunicipalityIndexOf(text) >= 0) return text;
    auto it = municipality_by_name_.find(text);
    if (it != municipality_by_name_.end()) return it->second;
    errors_->Add(node, fmt::format("'{}' is not a municipality code or name in {}", text,
                                   plan_->municipalities().source()));
    return {};
  }

  const rules::EventTypeSpec* EventType(const std::string& type) const {
    for (const rules::EventTypeSpec& t : plan_->rule_set().event_types()) {
      if (t.type == type) return &t;
    }
    return nullptr;
  }

  // A rule by id (in `pack` when given): index into plan rules, or -1.
  int RuleIndex(const std::string& rule, const std::string& pack) const {
    const auto& rules = plan_->rules();
    for (size_t r = 0; r < rules.size(); ++r) {
      if (rules[r].spec->id == rule && (pack.empty() || rules[r].pack == pack))
        return static_cast<int>(r);
    }
    return -1;
  }

  bool CheckRule(const MapView::Entry* rule, const MapView::Entry* pack, std::string* rule_out,
                 std::string* pack_out) {
    if (pack != nullptr) {
      if (auto t = Text(*pack, errors_)) {
        *pack_out = *t;
        bool found = false;
        std::vector<std::string> names;
        for (const rules::RulePack& p : plan_->rule_set().packs()) {
          names.push_back(p.name);
          found = found || p.name == *t;
        }
        if (!found) {
          errors_->Add(pack->value, fmt::format("no pack named '{}' is under test{} (packs: {})",
                                                *t, DidYouMean(*t, names), Join(names)));
          return false;
        }
      }
    }
    if (rule == nullptr) return true;
    auto t = Text(*rule, errors_);
    if (!t) return false;
    *rule_out = *t;
    if (RuleIndex(*t, *pack_out) < 0) {
      std::vector<std::string> names;
      for (const RuleDef& r : plan_->rules()) names.push_back(r.spec->id);
      errors_->Add(rule->value, fmt::format("no rule '{}' in the packs under test{} (rules: {})",
                                            *t, DidYouMean(*t, names), Join(names)));
      return false;
    }
    return true;
  }

  // from/to/at of an expectation (inclusive; a date covers its whole day).
  void ParseRange(const MapView& m, TimeMs* from, TimeMs* to) {
    const auto* at = m.Find("at");
    if (at != nullptr) {
      if (m.Find("from") || m.Find("to")) {
        errors_->Add(at->key_node, "use either 'at' or 'from'/'to', not both");
      }
      auto text = Text(*at, errors_);
      if (!text) return;
      auto start = ParseTimeText(*text, false);
      if (!start) {
        errors_->Add(
            at->value,
            fmt::format("'at' must be a date (2026-03-01) or an RFC 3339 time, not '{}'", *text));
        return;
      }
      *from = *start;
      *to = text->size() == 10 ? *start + kMsPerDay - 1 : *start;
      return;
    }
    if (const auto* e = m.Find("from")) {
      if (auto t = Time(*e, false, errors_)) *from = *t;
    }
    if (const auto* e = m.Find("to")) {
      if (auto t = Time(*e, true, errors_)) *to = *t;
    }
    if (*from > *to) errors_->Add(m.node(), "'from' is after 'to'");
  }

  TestCase ParseCase(const YAML::Node& node, const std::vector<BackgroundSpec>& file_background) {
    TestCase c;
    c.line = MarkOf(node).line;
    MapView m(
        node,
        {"name", "background", "events", "events_file", "eval_at", "expect_alerts",
         "expect_no_alerts", "expect_dead_letters", "ignore_other_alerts", "ignore_alerts_before"},
        "a test case", errors_);
    if (const auto* e = m.Find("name")) {
      if (auto t = Text(*e, errors_)) c.name = *t;
    } else {
      errors_->Add(node, "a test case needs a 'name'");
    }
    if (const auto* e = m.Find("background")) {
      c.background = ParseBackground(*e);
    } else {
      c.background = file_background;
    }
    if (const auto* e = m.Find("events")) ParseEvents(*e, &c.events);
    if (const auto* e = m.Find("events_file")) {
      for (const YAML::Node& v : ScalarList(*e, errors_)) ReadEventsFile(v, &c.events);
    }
    if (const auto* e = m.Find("eval_at")) ParseEvalAt(*e, &c.eval_at);
    if (const auto* e = m.Find("expect_alerts")) {
      for (const YAML::Node& item : Items(*e))
        c.expect_alerts.push_back(ParseAlertExpectation(item));
    }
    if (const auto* e = m.Find("expect_no_alerts")) {
      for (const YAML::Node& item : Items(*e)) c.expect_no_alerts.push_back(ParseNoAlert(item));
    }
    if (const auto* e = m.Find("expect_dead_letters")) {
      for (const YAML::Node& item : Items(*e))
        c.expect_dead_letters.push_back(ParseDeadLetter(item));
    }
    if (const auto* e = m.Find("ignore_other_alerts")) {
      if (auto b = Bool(*e, errors_)) c.ignore_other_alerts = *b;
    }
    if (const auto* e = m.Find("ignore_alerts_before")) {
      if (auto t = Time(*e, false, errors_)) c.ignore_alerts_before = *t;
    }
    if (c.events.empty() && c.background.empty()) {
      errors_->Add(node, "a test case needs 'events', 'events_file' or 'background'");
    }
    return c;
  }

  // The mappings of a list.
  std::vector<YAML::Node> Items(const MapView::Entry& e) {
    std::vector<YAML::Node> out;
    if (!e.value.IsSequence()) {
      errors_->Add(e.value.IsNull() ? e.key_node : e.value,
                   fmt::format("'{}' must be a list, not {}", e.key, KindOf(e.value)));
      return out;
    }
    for (const YAML::Node& item : e.value) {
      if (!item.IsMap()) {
        errors_->Add(item,
                     fmt::format("an item of '{}' must be a mapping, not {}", e.key, KindOf(item)));
        continue;
      }
      out.push_back(item);
    }
    return out;
  }

  std::vector<BackgroundSpec> ParseBackground(const MapView::Entry& e) {
    std::vector<BackgroundSpec> out;
    if (e.value.IsSequence() && e.value.size() == 0) return out;  // `background: []`: none
    for (const YAML::Node& item : Items(e)) {
      BackgroundSpec b;
      b.line = MarkOf(item).line;
      MapView m(item, {"type", "per_1000_per_day", "from", "to", "fields", "except", "only"},
                "a background", errors_);
      const rules::EventTypeSpec* type = nullptr;
      if (const auto* t = m.Find("type")) {
        if (auto s = Text(*t, errors_)) {
          b.type = *s;
          type = EventType(*s);
          if (type == nullptr) {
            std::vector<std::string> names;
            for (const auto& et : plan_->rule_set().event_types()) names.push_back(et.type);
            errors_->Add(t->value, fmt::format("unknown event type '{}'{} (types: {})", *s,
                                               DidYouMean(*s, names), Join(names)));
          }
        }
      } else {
        errors_->Add(item, "a background needs 'type'");
      }
      if (const auto* r = m.Find("per_1000_per_day")) {
        if (auto v = Number(*r, errors_)) {
          if (*v <= 0) errors_->Add(r->value, "'per_1000_per_day' must be above 0");
          b.per_1000_per_day = *v;
        }
      } else {
        errors_->Add(item,
                     "a background needs 'per_1000_per_day': events per 1000 inhabitants per day");
      }
      const auto* from = m.Find("from");
      const auto* to = m.Find("to");
      if (from == nullptr || to == nullptr) {
        errors_->Add(item, "a background needs 'from' and 'to' (a date 'to' includes that day)");
      } else {
        auto f = Time(*from, false, errors_);
        auto t = Time(*to, true, errors_);
        if (f && t) {
          b.from = *f;
          b.to = *t + 1;
          if (b.from >= b.to) errors_->Add(to->value, "'to' must be after 'from'");
        }
      }
      std::set<std::string> given;
      if (const auto* f = m.Find("fields")) {
        if (!f->value.IsMap()) {
          errors_->Add(f->value.IsNull() ? f->key_node : f->value,
                       "'fields' must be a mapping of field values");
        } else {
          MapView fm(f->value, {}, "fields", errors_);
          for (const MapView::Entry& fe : fm.entries()) {
            given.insert(fe.key);
            if (fe.key == "type" || fe.key == "id" || fe.key == "time" ||
                fe.key == "municipality") {
              errors_->Add(fe.key_node,
                           fmt::format("'{}' is set by the background itself", fe.key));
              continue;
            }
            std::vector<std::string> values;
            for (const YAML::Node& v : ScalarList(fe, errors_)) {
              std::string json;
              AppendJson(v, -1, &json);
              values.push_back(std::move(json));
            }
            if (!values.empty()) b.fields.emplace_back(fe.key, std::move(values));
          }
        }
      }
      if (type != nullptr) {
        for (const rules::FieldSpec& f : type->fields) {
          if (!f.optional && !given.count(f.name)) {
            errors_->Add(
                item,
                fmt::format("the background of {} needs a value for its field '{}' in 'fields'",
                            type->type, f.name));
          }
        }
      }
      const size_t n = plan_->municipalities().size();
      b.include.assign(n, true);
      if (const auto* o = m.Find("only")) {
        b.include.assign(n, false);
        for (const YAML::Node& v : ScalarList(*o, errors_)) {
          std::string code = MunicipalityCode(v);
          if (!code.empty()) b.include[static_cast<size_t>(MunicipalityIndexOf(code))] = true;
        }
      }
      if (const auto* x = m.Find("except")) {
        for (const YAML::Node& v : ScalarList(*x, errors_)) {
          std::string code = MunicipalityCode(v);
          if (!code.empty()) b.include[static_cast<size_t>(MunicipalityIndexOf(code))] = false;
        }
      }
      out.push_back(std::move(b));
    }
    return out;
  }

  // Events reach the engine as written, so a municipality written by name
  // would only be dead-lettered; say which code is meant instead.
  void CheckEventMunicipality(const YAML::Node& event) {
    const YAML::Node m = event["municipality"];
    if (!m || !m.IsScalar() || MunicipalityIndexOf(m.Scalar()) >= 0) return;
    auto it = municipality_by_name_.find(m.Scalar());
    if (it != municipality_by_name_.end()) {
      errors_->Add(m, fmt::format("events carry the CBS code of a municipality: write {} for {}",
                                  it->second, m.Scalar()));
    }
  }

  void AddEvent(std::string json, std::optional<TimeMs> time, int line,
                std::vector<EventItem>* out) {
    EventItem item;
    item.sort_time = time ? *time : (out->empty() ? kMinTime : out->back().sort_time);
    item.json = std::move(json);
    item.source = fs::path(path_).filename().string();
    item.line = line;
    out->push_back(std::move(item));
  }

  void ParseEvents(const MapView::Entry& e, std::vector<EventItem>* out) {
    if (!e.value.IsSequence()) {
      errors_->Add(e.value.IsNull() ? e.key_node : e.value, "'events' must be a list of events");
      return;
    }
    for (const YAML::Node& item : e.value) {
      if (!item.IsMap()) {
        errors_->Add(item, fmt::format("an event must be a mapping, not {}", KindOf(item)));
        continue;
      }
      if (item["repeat"]) {
        ParseRepeat(item, out);
        continue;
      }
      CheckEventMunicipality(item);
      std::string json;
      AppendJson(item, -1, &json);
      std::optional<TimeMs> time;
      if (const YAML::Node t = item["time"]; t && t.IsScalar()) time = ParseRfc3339(t.Scalar());
      AddEvent(std::move(json), time, MarkOf(item).line, out);
    }
  }

  // {repeat: N, every: 1d, event: {...}, cycle: {field: [values]}}
  void ParseRepeat(const YAML::Node& item, std::vector<EventItem>* out) {
    MapView m(item, {"repeat", "every", "event", "cycle"}, "a repeated event", errors_);
    std::optional<int64_t> n;
    if (const auto* r = m.Find("repeat")) n = Integer(*r, 1, errors_);
    TimeMs every = kMsPerDay;
    if (const auto* e = m.Find("every")) {
      if (auto d = DurationOf(*e, errors_)) every = *d;
    }
    const auto* ev = m.Find("event");
    if (ev == nullptr || !ev->value.IsMap()) {
      errors_->Add(ev == nullptr ? item : ev->value,
                   "a repeated event needs 'event': the event to repeat");
      return;
    }
    MapView fields(ev->value, {}, "the repeated event", errors_);
    const auto* time = fields.Find("time");
    std::optional<TimeMs> start;
    if (time != nullptr && time->value.IsScalar()) start = ParseRfc3339(time->value.Scalar());
    if (!start) {
      errors_->Add(time == nullptr ? ev->value : time->value,
                   "a repeated event needs a 'time' in RFC 3339 (the first repetition's)");
      return;
    }
    CheckEventMunicipality(ev->value);
    const auto* id = fields.Find("id");
    if (id != nullptr && n && *n > 1 &&
        (!id->value.IsScalar() || id->value.Scalar().find("{i}") == std::string::npos)) {
      errors_->Add(id->value,
                   "the id of a repeated event needs '{i}' (replaced by 1, 2, ...) so that "
                   "the events are not duplicates");
      return;
    }
    std::vector<std::pair<std::string, std::vector<YAML::Node>>> cycle;
    if (const auto* c = m.Find("cycle")) {
      if (!c->value.IsMap()) {
        errors_->Add(c->value.IsNull() ? c->key_node : c->value,
                     "'cycle' must map fields to lists of values");
      } else {
        MapView cm(c->value, {}, "cycle", errors_);
        for (const MapView::Entry& ce : cm.entries()) {
          if (!ce.value.IsSequence() || ce.value.size() == 0) {
            errors_->Add(ce.value.IsNull() ? ce.key_node : ce.value,
                         fmt::format("'{}' in 'cycle' must be a non-empty list of values", ce.key));
            continue;
          }
          std::vector<YAML::Node> values;
          for (const YAML::Node& v : ce.value) values.push_back(v);
          cycle.emplace_back(ce.key, std::move(values));
        }
      }
    }
    if (!n) return;
    if (*n > options_.max_events) {
      errors_->Add(item, fmt::format("repeat {} is more than the {} events a case may have", *n,
                                     options_.max_events));
      return;
    }
    const int line = MarkOf(item).line;
    for (int64_t i = 0; i < *n; ++i) {
      const TimeMs t = *start + i * every;
      std::string json = "{";
      bool first = true;
      auto key = [&](const std::string& k) {
        if (!first) json.push_back(',');
        first = false;
        json += JsonString(k);
        json.push_back(':');
      };
      for (const MapView::Entry& f : fields.entries()) {
        key(f.key);
        auto cyc = std::find_if(cycle.begin(), cycle.end(),
                                [&](const auto& c) { return c.first == f.key; });
        if (f.key == "time") {
          json += JsonString(FormatRfc3339(t));
        } else if (cyc != cycle.end()) {
          AppendJson(cyc->second[static_cast<size_t>(i) % cyc->second.size()], i + 1, &json);
        } else {
          AppendJson(f.value, i + 1, &json);
        }
      }
      for (const auto& [name, values] : cycle) {
        if (fields.Find(name) != nullptr) continue;
        key(name);
        AppendJson(values[static_cast<size_t>(i) % values.size()], i + 1, &json);
      }
      json.push_back('}');
      AddEvent(std::move(json), t, line, out);
    }
  }

  void ReadEventsFile(const YAML::Node& node, std::vector<EventItem>* out) {
    const std::string path = Resolve(node.Scalar());
    auto text = ReadFileToString(path);
    if (!text.ok()) {
      errors_->Add(node,
                   fmt::format("cannot read events file '{}': {}", path, text.status().message()));
      return;
    }
    const std::string name = fs::path(path).filename().string();
    simdjson::dom::parser parser;
    size_t start = 0;
    int64_t line = 0;
    while (start < text->size()) {
      size_t end = text->find('\n', start);
      if (end == std::string::npos) end = text->size();
      ++line;
      std::string_view raw(text->data() + start, end - start);
      start = end + 1;
      if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
      if (raw.find_first_not_of(" \t") == std::string_view::npos) continue;
      std::optional<TimeMs> time;
      simdjson::dom::element doc;
      if (!parser.parse(raw.data(), raw.size(), true).get(doc)) {
        std::string_view t;
        if (!doc["time"].get_string().get(t)) time = ParseRfc3339(t);
      }
      AddEvent(std::string(raw), time, static_cast<int>(line), out);
      out->back().source = name;
      if (static_cast<int64_t>(out->size()) > options_.max_events) {
        errors_->Add(node, fmt::format("'{}' has more than the {} events a case may have", path,
                                       options_.max_events));
        return;
      }
    }
  }

  void ParseEvalAt(const MapView::Entry& e, std::vector<TimeMs>* out) {
    std::vector<YAML::Node> items;
    if (e.value.IsSequence()) {
      for (const YAML::Node& v : e.value) items.push_back(v);
    } else {
      items.push_back(e.value);
    }
    for (const YAML::Node& item : items) {
      if (item.IsScalar()) {
        auto t = ParseTimeText(item.Scalar(), false);
        if (!t) {
          errors_->Add(item, fmt::format("an evaluation time must be RFC 3339 or a date, not '{}'",
                                         item.Scalar()));
          continue;
        }
        out->push_back(*t);
      } else if (item.IsMap()) {
        MapView m(item, {"from", "to", "every"}, "an evaluation range", errors_);
        const auto* from = m.Find("from");
        const auto* to = m.Find("to");
        if (from == nullptr || to == nullptr) {
          errors_->Add(
              item, "an evaluation range needs 'from', 'to' and optionally 'every' (default 1d)");
          continue;
        }
        auto f = Time(*from, false, errors_);
        auto t = Time(*to, true, errors_);
        TimeMs every = kMsPerDay;
        if (const auto* ev = m.Find("every")) {
          if (auto d = DurationOf(*ev, errors_)) every = *d;
        }
        if (!f || !t) continue;
        if ((*t - *f) / every > 100000) {
          errors_->Add(item, "an evaluation range of more than 100000 times");
          continue;
        }
        for (TimeMs x = *f; x <= *t; x += every) out->push_back(x);
      } else {
        errors_->Add(item,
                     fmt::format("an evaluation time must be a time or {{from, to, every}}, not {}",
                                 KindOf(item)));
      }
    }
    std::sort(out->begin(), out->end());
  }

  ConditionCheck ParseConditionCheck(const YAML::Node& node, int rule) {
    ConditionCheck c;
    MapView m(node,
              {"id", "indicator", "measure", "held", "observed_ge", "observed_gt", "observed_le",
               "observed_lt", "count", "count_ge", "count_le"},
              "a condition check", errors_);
    if (const auto* e = m.Find("id")) {
      if (auto t = Text(*e, errors_)) c.id = *t;
    }
    if (const auto* e = m.Find("indicator")) {
      if (auto t = Text(*e, errors_)) c.indicator = *t;
    }
    if (c.id.empty() && c.indicator.empty())
      errors_->Add(node, "a condition check needs 'indicator' or 'id'");
    if (const auto* e = m.Find("measure")) {
      if (auto t = Text(*e, errors_)) {
        c.measure = *t;
        std::vector<std::string> names;
        for (int i = 0; i <= static_cast<int>(rules::Measure::kTrendRatio); ++i) {
          names.emplace_back(rules::MeasureName(static_cast<rules::Measure>(i)));
        }
        if (std::find(names.begin(), names.end(), *t) == names.end()) {
          errors_->Add(e->value, fmt::format("unknown measure '{}'{} (measures: {})", *t,
                                             DidYouMean(*t, names), Join(names)));
        }
      }
    }
    if (rule >= 0) {
      const rules::RuleSpec& spec = *plan_->rules()[static_cast<size_t>(rule)].spec;
      bool found = false;
      std::vector<std::string> indicators, ids;
      for (const rules::ConditionSpec& cs : spec.conditions) {
        indicators.push_back(cs.indicator);
        if (!cs.id.empty()) ids.push_back(cs.id);
        found = found || ((c.indicator.empty() || cs.indicator == c.indicator) &&
                          (c.id.empty() || cs.id == c.id) &&
                          (c.measure.empty() || rules::MeasureName(cs.measure) == c.measure));
      }
      if (!found && (!c.indicator.empty() || !c.id.empty())) {
        std::string what = !c.id.empty() ? fmt::format("id '{}'", c.id)
                                         : fmt::format("indicator '{}'", c.indicator);
        if (!c.measure.empty()) what += fmt::format(" and measure {}", c.measure);
        errors_->Add(
            node,
            fmt::format("rule {} has no condition with {} (its conditions read {}{})", spec.id,
                        what, Join(indicators), ids.empty() ? "" : "; ids " + Join(ids)));
      }
    }
    if (const auto* e = m.Find("held")) c.held = Bool(*e, errors_);
    if (const auto* e = m.Find("observed_ge")) c.observed_ge = Number(*e, errors_);
    if (const auto* e = m.Find("observed_gt")) c.observed_gt = Number(*e, errors_);
    if (const auto* e = m.Find("observed_le")) c.observed_le = Number(*e, errors_);
    if (const auto* e = m.Find("observed_lt")) c.observed_lt = Number(*e, errors_);
    if (const auto* e = m.Find("count")) c.count = Integer(*e, 0, errors_);
    if (const auto* e = m.Find("count_ge")) c.count_ge = Integer(*e, 0, errors_);
    if (const auto* e = m.Find("count_le")) c.count_le = Integer(*e, 0, errors_);
    return c;
  }

  AlertExpectation ParseAlertExpectation(const YAML::Node& node) {
    AlertExpectation x;
    x.line = MarkOf(node).line;
    MapView m(node,
              {"rule", "pack", "municipality", "at", "from", "to", "count", "severity", "score_ge",
               "score_le", "conditions", "evidence"},
              "an expected alert", errors_);
    const auto* rule = m.Find("rule");
    if (rule == nullptr) errors_->Add(node, "an expected alert needs 'rule'");
    const bool rule_ok = CheckRule(rule, m.Find("pack"), &x.rule, &x.pack);
    if (const auto* e = m.Find("municipality")) {
      if (e->value.IsScalar()) {
        x.municipality = MunicipalityCode(e->value);
      } else {
        errors_->Add(e->value, "'municipality' needs a code (GM0363) or a name");
      }
    } else {
      errors_->Add(node, "an expected alert needs 'municipality'");
    }
    ParseRange(m, &x.from, &x.to);
    if (const auto* e = m.Find("count")) x.count = Integer(*e, 0, errors_);
    if (const auto* e = m.Find("severity")) {
      if (auto t = Text(*e, errors_)) {
        x.severity = *t;
        std::vector<std::string> names;
        for (int i = 0; i <= static_cast<int>(rules::Severity::kCritical); ++i) {
          names.emplace_back(rules::SeverityName(static_cast<rules::Severity>(i)));
        }
        if (std::find(names.begin(), names.end(), *t) == names.end()) {
          errors_->Add(e->value,
                       fmt::format("unknown severity '{}' (severities: {})", *t, Join(names)));
        }
      }
    }
    if (const auto* e = m.Find("score_ge")) x.score_ge = Number(*e, errors_);
    if (const auto* e = m.Find("score_le")) x.score_le = Number(*e, errors_);
    if (const auto* e = m.Find("conditions")) {
      const int r = rule_ok && !x.rule.empty() ? RuleIndex(x.rule, x.pack) : -1;
      for (const YAML::Node& item : Items(*e)) x.conditions.push_back(ParseConditionCheck(item, r));
    }
    if (const auto* e = m.Find("evidence")) {
      for (const YAML::Node& v : ScalarList(*e, errors_)) x.evidence.push_back(v.Scalar());
    }
    return x;
  }

  NoAlertExpectation ParseNoAlert(const YAML::Node& node) {
    NoAlertExpectation x;
    x.line = MarkOf(node).line;
    MapView m(node, {"rule", "pack", "municipality", "at", "from", "to"},
              "an expectation of no alerts", errors_);
    CheckRule(m.Find("rule"), m.Find("pack"), &x.rule, &x.pack);
    if (const auto* e = m.Find("municipality")) {
      if (e->value.IsScalar()) {
        x.municipality = MunicipalityCode(e->value);
      } else {
        errors_->Add(e->value, "'municipality' needs a code (GM0363) or a name");
      }
    }
    if (!m.Find("rule") && !m.Find("municipality") && !m.Find("pack")) {
      errors_->Add(node, "an expectation of no alerts needs 'rule', 'pack' and/or 'municipality'");
    }
    ParseRange(m, &x.from, &x.to);
    return x;
  }

  DeadLetterExpectation ParseDeadLetter(const YAML::Node& node) {
    DeadLetterExpectation x;
    x.line = MarkOf(node).line;
    MapView m(node, {"reason", "id", "count"}, "an expected dead letter", errors_);
    if (const auto* e = m.Find("reason")) {
      if (auto t = Text(*e, errors_)) {
        x.reason = *t;
        std::vector<std::string> names;
        for (int i = 0; i < kDeadLetterReasonCount; ++i) {
          names.emplace_back(DeadLetterReasonName(static_cast<DeadLetterReason>(i)));
        }
        if (std::find(names.begin(), names.end(), *t) == names.end()) {
          errors_->Add(e->value, fmt::format("unknown dead-letter reason '{}'{} (reasons: {})", *t,
                                             DidYouMean(*t, names), Join(names)));
        }
      }
    } else {
      errors_->Add(node, "an expected dead letter needs 'reason'");
    }
    if (const auto* e = m.Find("id")) {
      if (auto t = Text(*e, errors_)) x.id = *t;
    }
    if (const auto* e = m.Find("count")) x.count = Integer(*e, 0, errors_);
    return x;
  }

  std::string path_;
  fs::path dir_;
  fs::path repo_root_;
  const RuleTestOptions& options_;
  Errors* errors_;
  std::unique_ptr<MapView> root_;
  TimeMs allowed_lateness_ = kMsPerDay;
  PlanPtr plan_;
  std::map<std::string, std::string> municipality_by_name_;
};

// ---------------------------------------------------------------------------
// Running a case

struct GotCondition {
  std::string id, indicator, measure, op, window;
  double value = 0;
  std::optional<double> observed;
  std::optional<double> expected;
  int64_t count = 0;
  bool held = false;
};

struct GotAlert {
  std::string rule, pack, severity, municipality, municipality_name, event_time_text;
  TimeMs event_time = 0;
  double score = 0;
  std::vector<GotCondition> conditions;
  std::vector<std::string> evidence;
};

struct GotDeadLetter {
  std::string reason, detail, source, id;
};

std::optional<double> NumberOrNull(simdjson::dom::element e) {
  double d;
  if (!e.get_double().get(d)) return d;
  int64_t i;
  if (!e.get_int64().get(i)) return static_cast<double>(i);
  uint64_t u;
  if (!e.get_uint64().get(u)) return static_cast<double>(u);
  std::string_view s;
  if (!e.get_string().get(s)) {
    if (s == "+Inf") return std::numeric_limits<double>::infinity();
    if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  }
  return std::nullopt;
}

std::string StringOf(simdjson::dom::element obj, const char* key) {
  std::string_view s;
  if (obj[key].get_string().get(s)) return {};
  return std::string(s);
}

Result<GotAlert> ParseAlert(simdjson::dom::parser& parser, const std::string& json) {
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc))
    return Status::Internal("an alert the engine wrote is not JSON: " + json);
  GotAlert a;
  a.rule = StringOf(doc, "rule");
  a.pack = StringOf(doc, "pack");
  a.severity = StringOf(doc, "severity");
  a.municipality = StringOf(doc, "municipality");
  a.municipality_name = StringOf(doc, "municipality_name");
  a.event_time_text = StringOf(doc, "event_time");
  a.event_time = ParseRfc3339(a.event_time_text).value_or(0);
  a.score = NumberOrNull(doc["score"]).value_or(0);
  simdjson::dom::array conditions;
  if (!doc["conditions"].get_array().get(conditions)) {
    for (simdjson::dom::element c : conditions) {
      GotCondition g;
      g.id = StringOf(c, "id");
      g.indicator = StringOf(c, "indicator");
      g.measure = StringOf(c, "measure");
      g.op = StringOf(c, "op");
      g.window = StringOf(c, "window");
      g.value = NumberOrNull(c["value"]).value_or(0);
      g.observed = NumberOrNull(c["observed"]);
      g.expected = NumberOrNull(c["expected"]);
      g.count = static_cast<int64_t>(NumberOrNull(c["count"]).value_or(0));
      bool held = false;
      if (!c["held"].get_bool().get(held)) g.held = held;
      a.conditions.push_back(std::move(g));
    }
  }
  simdjson::dom::array evidence;
  if (!doc["evidence"].get_array().get(evidence)) {
    for (simdjson::dom::element e : evidence) {
      std::string_view s;
      if (!e.get_string().get(s)) a.evidence.emplace_back(s);
    }
  }
  return a;
}

std::string Num(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{:.6g}", v);
}

std::string DescribeAlert(const GotAlert& a) {
  std::string out = fmt::format("{} {} ({}) at {}, score {}, severity {}", a.rule, a.municipality,
                                a.municipality_name, a.event_time_text, Num(a.score), a.severity);
  for (const GotCondition& c : a.conditions) {
    std::string name = c.id.empty() ? "" : c.id + ": ";
    out += fmt::format("\n        {}{} {} {} {}: observed {}, count {}{}{}", name, c.indicator,
                       c.measure, c.op, Num(c.value), c.observed ? Num(*c.observed) : "-", c.count,
                       c.expected ? ", expected " + Num(*c.expected) : "",
                       c.held ? ", held" : ", not held");
  }
  return out;
}

std::string DescribeRange(TimeMs from, TimeMs to) {
  if (from == kMinTime && to == kMaxTime) return "";
  auto text = [](TimeMs t, bool end) {
    if (!end && t % kMsPerDay == 0) return FormatDate(t);
    if (end && (t + 1) % kMsPerDay == 0) return FormatDate(t);
    return FormatRfc3339(t);
  };
  if (from != kMinTime && to != kMaxTime && to - from == kMsPerDay - 1 && from % kMsPerDay == 0) {
    return " on " + FormatDate(from);
  }
  if (from == to) return " at " + FormatRfc3339(from);
  if (from == kMinTime) return " until " + text(to, true);
  if (to == kMaxTime) return " from " + text(from, false);
  return fmt::format(" from {} to {}", text(from, false), text(to, true));
}

std::string DescribeCheck(const ConditionCheck& c) {
  std::vector<std::string> parts;
  if (!c.id.empty()) parts.push_back("id " + c.id);
  if (!c.indicator.empty()) parts.push_back(c.indicator);
  if (!c.measure.empty()) parts.push_back(c.measure);
  if (c.held) parts.push_back(*c.held ? "held" : "not held");
  if (c.observed_ge) parts.push_back("observed >= " + Num(*c.observed_ge));
  if (c.observed_gt) parts.push_back("observed > " + Num(*c.observed_gt));
  if (c.observed_le) parts.push_back("observed <= " + Num(*c.observed_le));
  if (c.observed_lt) parts.push_back("observed < " + Num(*c.observed_lt));
  if (c.count) parts.push_back(fmt::format("count {}", *c.count));
  if (c.count_ge) parts.push_back(fmt::format("count >= {}", *c.count_ge));
  if (c.count_le) parts.push_back(fmt::format("count <= {}", *c.count_le));
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : " ") + p;
  return out;
}

std::string DescribeExpectation(const AlertExpectation& x, const MunicipalityTable& table) {
  int m = table.IndexOf(x.municipality);
  std::string out =
      fmt::format("{} {}{}{}", x.rule, x.municipality,
                  m >= 0 ? fmt::format(" ({})", table.at(static_cast<size_t>(m)).name) : "",
                  DescribeRange(x.from, x.to));
  if (x.count) out += fmt::format(", count {}", *x.count);
  if (!x.severity.empty()) out += ", severity " + x.severity;
  if (x.score_ge) out += ", score >= " + Num(*x.score_ge);
  if (x.score_le) out += ", score <= " + Num(*x.score_le);
  for (const ConditionCheck& c : x.conditions) out += ", [" + DescribeCheck(c) + "]";
  if (!x.evidence.empty()) out += ", evidence includes " + Join(x.evidence);
  out += fmt::format("  (line {})", x.line);
  return out;
}

bool InRange(TimeMs t, TimeMs from, TimeMs to) {
  return t >= from && t <= to;
}

bool FilterMatches(const AlertExpectation& x, const GotAlert& a) {
  return a.rule == x.rule && (x.pack.empty() || a.pack == x.pack) &&
         a.municipality == x.municipality && InRange(a.event_time, x.from, x.to);
}

bool NoAlertMatches(const NoAlertExpectation& x, const GotAlert& a) {
  return (x.rule.empty() || a.rule == x.rule) && (x.pack.empty() || a.pack == x.pack) &&
         (x.municipality.empty() || a.municipality == x.municipality) &&
         InRange(a.event_time, x.from, x.to);
}

// Why a condition of the alert does not satisfy the check ("" when one does).
std::string CheckCondition(const ConditionCheck& c, const GotAlert& a) {
  std::string why;
  bool any = false;
  for (const GotCondition& g : a.conditions) {
    if (!c.id.empty() && g.id != c.id) continue;
    if (!c.indicator.empty() && g.indicator != c.indicator) continue;
    if (!c.measure.empty() && g.measure != c.measure) continue;
    any = true;
    std::vector<std::string> failed;
    const std::string observed = g.observed ? Num(*g.observed) : "-";
    auto obs = [&](const std::optional<double>& bound, std::string_view op, bool ok) {
      if (bound && !ok)
        failed.push_back(fmt::format("observed {} is not {} {}", observed, op, Num(*bound)));
    };
    if (c.held && g.held != *c.held) failed.push_back(g.held ? "it held" : "it did not hold");
    obs(c.observed_ge, ">=", g.observed && c.observed_ge && *g.observed >= *c.observed_ge);
    obs(c.observed_gt, ">", g.observed && c.observed_gt && *g.observed > *c.observed_gt);
    obs(c.observed_le, "<=", g.observed && c.observed_le && *g.observed <= *c.observed_le);
    obs(c.observed_lt, "<", g.observed && c.observed_lt && *g.observed < *c.observed_lt);
    if (c.count && g.count != *c.count)
      failed.push_back(fmt::format("count {} is not {}", g.count, *c.count));
    if (c.count_ge && g.count < *c.count_ge)
      failed.push_back(fmt::format("count {} is not >= {}", g.count, *c.count_ge));
    if (c.count_le && g.count > *c.count_le)
      failed.push_back(fmt::format("count {} is not <= {}", g.count, *c.count_le));
    if (failed.empty()) return {};
    if (why.empty()) why = fmt::format("{} {}: {}", g.indicator, g.measure, Join(failed));
  }
  if (!any) return fmt::format("no condition matches [{}]", DescribeCheck(c));
  return why;
}

// Why an alert that passes the filter fails the expectation's checks ("" = it passes).
std::string CheckAlert(const AlertExpectation& x, const GotAlert& a) {
  if (!x.severity.empty() && a.severity != x.severity) {
    return fmt::format("severity {} is not {}", a.severity, x.severity);
  }
  if (x.score_ge && !(a.score >= *x.score_ge))
    return fmt::format("score {} is not >= {}", Num(a.score), Num(*x.score_ge));
  if (x.score_le && !(a.score <= *x.score_le))
    return fmt::format("score {} is not <= {}", Num(a.score), Num(*x.score_le));
  for (const ConditionCheck& c : x.conditions) {
    std::string why = CheckCondition(c, a);
    if (!why.empty()) return why;
  }
  for (const std::string& id : x.evidence) {
    if (std::find(a.evidence.begin(), a.evidence.end(), id) == a.evidence.end()) {
      return fmt::format("evidence does not include {}", id);
    }
  }
  return {};
}

// Deterministic, evenly spread background events: for each municipality a
// regular series at its population's rate, offset by a golden-ratio phase so
// that municipalities do not all report at the same instant.
void GenerateBackground(const BackgroundSpec& b, const MunicipalityTable& table, int index,
                        std::vector<EventItem>* out) {
  constexpr double kGolden = 0.6180339887498949;
  for (size_t m = 0; m < table.size(); ++m) {
    if (!b.include[m]) continue;
    const Municipality& row = table.at(m);
    const double per_day = b.per_1000_per_day * static_cast<double>(row.population) / 1000.0;
    if (!(per_day > 0)) continue;
    const double interval = static_cast<double>(kMsPerDay) / per_day;
    double phase = static_cast<double>(m + 1) * kGolden;
    phase -= std::floor(phase);
    for (int64_t k = 0;; ++k) {
      const TimeMs t =
          b.from + static_cast<TimeMs>((static_cast<double>(k) + phase) * interval) / 1000 * 1000;
      if (t >= b.to) break;
      std::string json = "{\"type\":" + JsonString(b.type);
      json += fmt::format(",\"id\":\"bg{}-{}-{}-{}\"", index, b.type, row.code, k + 1);
      json += ",\"time\":\"" + FormatRfc3339(t) + "\",\"municipality\":\"" + row.code + "\"";
      for (const auto& [name, values] : b.fields) {
        // Each municipality starts its cycle elsewhere, so that the national
        // mix is the intended one from the first day on.
        json += "," + JsonString(name) + ":" + values[(static_cast<size_t>(k) + m) % values.size()];
      }
      json.push_back('}');
      out->push_back(EventItem{t, std::move(json), "background", b.line});
    }
  }
}

// An upper bound of the events a background generates (in double: a
// mistyped rate may be astronomically large).
double BackgroundSize(const BackgroundSpec& b, const MunicipalityTable& table) {
  double n = 0;
  for (size_t m = 0; m < table.size(); ++m) {
    if (b.include[m]) {
      n += b.per_1000_per_day * static_cast<double>(table.at(m).population) / 1000.0 *
               static_cast<double>(b.to - b.from) / static_cast<double>(kMsPerDay) +
           1;
    }
  }
  return n;
}

class CaseRunner {
 public:
  CaseRunner(const PlanPtr& plan, TimeMs allowed_lateness, const RuleTestOptions& options)
      : plan_(plan), allowed_lateness_(allowed_lateness), options_(options) {}

  RuleTestCaseResult Run(const TestCase& c) {
    RuleTestCaseResult result;
    result.name = c.name;
    result.line = c.line;
    std::vector<EventItem> events;
    double planned = static_cast<double>(c.events.size());
    for (const BackgroundSpec& b : c.background)
      planned += BackgroundSize(b, plan_->municipalities());
    if (!(planned <= static_cast<double>(options_.max_events))) {
      result.failure = fmt::format(
          "    the case would feed about {:.3g} events, more than the limit of {}; lower "
          "per_1000_per_day or shorten the background",
          planned, options_.max_events);
      return result;
    }
    events.reserve(static_cast<size_t>(planned));
    for (size_t i = 0; i < c.background.size(); ++i) {
      GenerateBackground(c.background[i], plan_->municipalities(), static_cast<int>(i + 1),
                         &events);
    }
    events.insert(events.end(), c.events.begin(), c.events.end());
    std::stable_sort(events.begin(), events.end(), [](const EventItem& a, const EventItem& b) {
      return a.sort_time < b.sort_time;
    });
    result.events = static_cast<int64_t>(events.size());

    connectors::MemorySink alerts, dead_letters;
    if (Status s = Feed(c, events, &alerts, &dead_letters); !s.ok()) {
      result.failure = "    engine error: " + s.ToString();
      return result;
    }
    std::vector<GotAlert> got;
    simdjson::dom::parser parser;
    for (const connectors::OutRecord& r : alerts.records) {
      auto a = ParseAlert(parser, r.value);
      if (!a.ok()) {
        result.failure = "    " + a.status().message();
        return result;
      }
      if (a->event_time < c.ignore_alerts_before) continue;  // warm-up
      got.push_back(std::move(*a));
    }
    std::stable_sort(got.begin(), got.end(), [](const GotAlert& a, const GotAlert& b) {
      return a.event_time != b.event_time ? a.event_time < b.event_time : a.rule < b.rule;
    });
    std::vector<GotDeadLetter> dead;
    for (const connectors::OutRecord& r : dead_letters.records) {
      GotDeadLetter d;
      d.reason = std::string(r.header(connectors::kReasonHeader));
      d.detail = std::string(r.header(connectors::kDetailHeader));
      d.source = std::string(r.header(connectors::kSourceHeader));
      simdjson::dom::element doc;
      std::string_view id;
      if (!parser.parse(r.value).get(doc) && !doc["id"].get_string().get(id))
        d.id = std::string(id);
      dead.push_back(std::move(d));
    }
    result.alerts = static_cast<int64_t>(got.size());
    result.ignored_alerts = static_cast<int64_t>(alerts.records.size() - got.size());
    result.dead_letters = static_cast<int64_t>(dead.size());
    result.failure = Compare(c, got, dead);
    result.passed = result.failure.empty();
    return result;
  }

 private:
  Status Feed(const TestCase& c, const std::vector<EventItem>& events,
              connectors::MemorySink* alerts, connectors::MemorySink* dead_letters) {
    auto dir = TemporaryDirectory::Make("zicht-rules-test-");
    if (!dir.ok()) return dir.status();
    auto store = OpenRocksDbStateStore(dir->path());
    if (!store.ok()) return store.status();
    EngineOptions engine_options;
    engine_options.allowed_lateness_ms = allowed_lateness_;
    const TimeMs emitted_at = options_.emitted_at;
    engine_options.wall_clock = [emitted_at] { return emitted_at; };
    Engine engine(plan_, store->get(), alerts, dead_letters, engine_options);
    ZICHT_RETURN_IF_ERROR(engine.Open());
    size_t tick = 0;
    int64_t offset = 0;
    for (const EventItem& e : events) {
      while (tick < c.eval_at.size() && c.eval_at[tick] < e.sort_time) {
        ZICHT_RETURN_IF_ERROR(engine.AdvanceTo(c.eval_at[tick++]));
      }
      connectors::SourceRecord record;
      record.payload = e.json;
      record.offset = offset;
      record.next_offset = ++offset;
      record.line = e.line;
      ZICHT_RETURN_IF_ERROR(engine.Process(record, e.source, /*route_by_municipality=*/true));
      if (offset % kCommitEvery == 0) ZICHT_RETURN_IF_ERROR(engine.Commit());
    }
    while (tick < c.eval_at.size()) ZICHT_RETURN_IF_ERROR(engine.AdvanceTo(c.eval_at[tick++]));
    ZICHT_RETURN_IF_ERROR(engine.Drain());
    return engine.Commit();
  }

  std::string Compare(const TestCase& c, const std::vector<GotAlert>& got,
                      const std::vector<GotDeadLetter>& dead) {
    const MunicipalityTable& table = plan_->municipalities();
    std::string missing, other, unexpected, forbidden, dead_text;
    std::vector<bool> claimed(got.size(), false);
    for (const AlertExpectation& x : c.expect_alerts) {
      int64_t matched = 0;
      std::string near;
      for (size_t i = 0; i < got.size(); ++i) {
        const GotAlert& a = got[i];
        if (!FilterMatches(x, a)) continue;
        claimed[i] = true;
        std::string why = CheckAlert(x, a);
        if (why.empty()) {
          ++matched;
        } else {
          near += fmt::format("\n        got {} at {}, but {}", a.rule, a.event_time_text, why);
        }
      }
      const bool ok = x.count ? matched == *x.count : matched >= 1;
      if (ok) continue;
      missing += "\n    - " + DescribeExpectation(x, table);
      missing += x.count ? fmt::format("\n        matched {} alert{}, expected {}", matched,
                                       matched == 1 ? "" : "s", *x.count)
                         : std::string("\n        no alert matched");
      missing += near;
      // Alerts of the same rule and municipality at other times help to see
      // whether the timing is off.
      std::vector<std::string> times;
      for (const GotAlert& a : got) {
        if (a.rule == x.rule && a.municipality == x.municipality &&
            !InRange(a.event_time, x.from, x.to)) {
          times.push_back(a.event_time_text);
        }
      }
      if (!times.empty()) {
        missing += fmt::format("\n        {} fired for {} at other times: {}", x.rule,
                               x.municipality, Join(times));
      }
    }
    std::vector<bool> reported(got.size(), false);
    for (const NoAlertExpectation& x : c.expect_no_alerts) {
      for (size_t i = 0; i < got.size(); ++i) {
        if (!NoAlertMatches(x, got[i])) continue;
        reported[i] = true;
        forbidden += fmt::format("\n    + {}\n        (expect_no_alerts at line {})",
                                 DescribeAlert(got[i]), x.line);
      }
    }
    if (!c.ignore_other_alerts) {
      for (size_t i = 0; i < got.size(); ++i) {
        if (!claimed[i] && !reported[i]) unexpected += "\n    + " + DescribeAlert(got[i]);
      }
    }
    // Dead letters: each must be expected; each expectation must be met.
    std::vector<bool> dead_claimed(dead.size(), false);
    for (const DeadLetterExpectation& x : c.expect_dead_letters) {
      int64_t n = 0;
      for (size_t i = 0; i < dead.size(); ++i) {
        if (dead[i].reason == x.reason && (x.id.empty() || dead[i].id == x.id)) {
          dead_claimed[i] = true;
          ++n;
        }
      }
      const bool ok = x.count ? n == *x.count : n >= 1;
      if (!ok) {
        dead_text += fmt::format("\n    - dead letter {}{}: {} found, expected {}  (line {})",
                                 x.reason, x.id.empty() ? "" : " of " + x.id, n,
                                 x.count ? std::to_string(*x.count) : "at least 1", x.line);
      }
    }
    // Unexpected ones, grouped: a mistake in a repeated event rejects every copy.
    std::vector<std::pair<size_t, int64_t>> groups;  // first index, how many
    for (size_t i = 0; i < dead.size(); ++i) {
      if (dead_claimed[i]) continue;
      auto same = std::find_if(groups.begin(), groups.end(), [&](const auto& g) {
        return dead[g.first].reason == dead[i].reason && dead[g.first].detail == dead[i].detail &&
               dead[g.first].source == dead[i].source;
      });
      if (same != groups.end()) {
        ++same->second;
      } else {
        groups.emplace_back(i, 1);
      }
    }
    for (const auto& [i, n] : groups) {
      dead_text += fmt::format("\n    + dead letter {} at {}: {}{}", dead[i].reason, dead[i].source,
                               dead[i].detail, n > 1 ? fmt::format(" ({} events)", n) : "");
    }
    if (missing.empty() && unexpected.empty() && forbidden.empty() && dead_text.empty()) return {};
    std::string out;
    if (!missing.empty()) out += "\n    missing alerts (expected, not received):" + missing;
    if (!forbidden.empty()) out += "\n    alerts that expect_no_alerts forbids:" + forbidden;
    if (!unexpected.empty())
      out += "\n    unexpected alerts (received, not expected):" + unexpected;
    if (!dead_text.empty())
      out += "\n    dead letters (test events the engine rejected):" + dead_text;
    out += fmt::format("\n    received {} alert{}:", got.size(), got.size() == 1 ? "" : "s");
    if (got.empty()) out += " none";
    for (const GotAlert& a : got) out += "\n      " + DescribeAlert(a);
    return out.substr(1);
  }

  PlanPtr plan_;
  TimeMs allowed_lateness_;
  const RuleTestOptions& options_;
};

}  // namespace

bool RuleTestFileResult::passed() const {
  return errors.empty() && failed_cases() == 0;
}

int RuleTestFileResult::failed_cases() const {
  int n = 0;
  for (const RuleTestCaseResult& c : cases) n += c.passed ? 0 : 1;
  return n;
}

RuleTestFileResult RunRuleTestFile(const std::string& path, const RuleTestOptions& options) {
  RuleTestFileResult result;
  result.file = path;
  Errors errors(path);
  auto text = ReadFileToString(path, 16u << 20);
  if (!text.ok()) {
    result.errors.push_back(fmt::format("{}:1:1: {}", path, text.status().message()));
    return result;
  }
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    errors.Add(Mark{std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1}, e.msg);
    result.errors = errors.Take();
    return result;
  }
  TestFileParser parser(path, options, &errors);
  std::vector<TestCase> cases;
  try {
    if (parser.LoadHeader(root)) cases = parser.ParseCases();
  } catch (const YAML::Exception& e) {
    // yaml-cpp throws on malformed node access; report rather than crash.
    errors.Add(Mark{std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1}, e.msg);
  }
  if (!errors.empty()) {
    result.errors = errors.Take();
    return result;
  }
  CaseRunner runner(parser.plan(), parser.allowed_lateness(), options);
  for (const TestCase& c : cases) result.cases.push_back(runner.Run(c));
  return result;
}

std::string FormatRuleTestResult(const RuleTestFileResult& result) {
  std::string out = result.file + "\n";
  if (!result.errors.empty()) {
    out += "  invalid test file:\n";
    for (const std::string& e : result.errors) out += "  " + e + "\n";
    return out;
  }
  for (const RuleTestCaseResult& c : result.cases) {
    out += fmt::format("  {}  {} (line {}; {} events, {} alert{}{})\n", c.passed ? "PASS" : "FAIL",
                       c.name, c.line, c.events, c.alerts, c.alerts == 1 ? "" : "s",
                       c.ignored_alerts > 0
                           ? fmt::format(", {} before ignore_alerts_before", c.ignored_alerts)
                           : "");
    if (!c.passed) out += c.failure + "\n";
  }
  const int failed = result.failed_cases();
  out += fmt::format("  {} passed, {} failed\n", static_cast<int>(result.cases.size()) - failed,
                     failed);
  return out;
}

}  // namespace zicht::tools
