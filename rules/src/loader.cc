// Loading and validating rule packs: YAML with source marks, every error as
// file:line:column, all errors at once; RuleSet checks packs together.
#include "zicht/rules/loader.h"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <set>
#include <sstream>

#include "zicht/base/csv.h"
#include "zicht/base/file.h"
#include "zicht/base/sha256.h"
#include "zicht/base/text.h"

namespace zicht::rules {

std::string Diagnostic::ToString() const {
  return fmt::format("{}:{}:{}: {}", mark.file, mark.line, mark.column, message);
}

namespace {

using Keys = std::initializer_list<std::string_view>;

constexpr std::string_view kApiVersion = "zicht/v1";
// A pathological file could produce one error per line; past this many the
// rest adds nothing for the reader.
constexpr size_t kMaxDiagnostics = 200;
constexpr size_t kMaxIdLength = 128;
constexpr std::string_view kEnvelopeFields[] = {"type", "id", "time", "municipality"};

// ---------------------------------------------------------------------------
// Text helpers

// The closest candidate close enough to be a typo, or "".
template <typename Range>
std::string Closest(std::string_view word, const Range& candidates) {
  // Short words are close to everything; only suggest what is likely meant.
  const size_t limit = word.size() <= 2 ? 0 : word.size() <= 3 ? 1 : word.size() <= 6 ? 2 : 3;
  return NearestName(word, candidates, limit);
}

template <typename Range>
std::string DidYouMean(std::string_view word, const Range& candidates) {
  std::string c = Closest(word, candidates);
  return c.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", c);
}

template <typename Range>
std::string JoinNames(const Range& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

// User text inside a message: one readable line whatever the input.
std::string Show(std::string_view s) {
  return PrintableText(s);
}

// Where the YAML documents in `text` start, at most `most` of them. Not
// YAML::LoadAll: on some malformed inputs yaml-cpp 0.7 keeps reporting
// documents without consuming input, and LoadAll collects them until memory
// runs out (fuzz finding); here every call to the parser counts.
class DocumentStartRecorder : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
  std::vector<YAML::Mark> starts;
};

std::vector<YAML::Mark> DocumentStarts(const std::string& text, size_t most) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStartRecorder recorder;
  for (size_t calls = 0; calls < most && parser.HandleNextDocument(recorder); ++calls) {
  }
  return recorder.starts;
}

std::string FormatMs(TimeMs ms) {
  if (ms % kMsPerDay == 0) return fmt::format("{}d", ms / kMsPerDay);
  if (ms % kMsPerHour == 0) return fmt::format("{}h", ms / kMsPerHour);
  if (ms % kMsPerMinute == 0) return fmt::format("{}m", ms / kMsPerMinute);
  if (ms % kMsPerSecond == 0) return fmt::format("{}s", ms / kMsPerSecond);
  return fmt::format("{}ms", ms);
}

bool ParseNumber(std::string_view s, double* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty() || s.front() == '+') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(*out);
}

bool ParseInteger(std::string_view s, int64_t* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

std::optional<bool> ParseBool(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

// Indicator, rule and condition ids: [a-z0-9][a-z0-9_-]*.
bool IsId(std::string_view s) {
  if (s.empty() || s.size() > kMaxIdLength) return false;
  auto ok = [](char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (!first && (c == '_' || c == '-'));
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (!ok(s[i], i == 0)) return false;
  }
  return true;
}

// metadata.name: a DNS label (RFC 1123): [a-z0-9]([a-z0-9-]*[a-z0-9])?, ≤ 63.
bool IsDnsLabel(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// Event type names: [a-z][a-z0-9_]* (like the built-in ones).
bool IsTypeName(std::string_view s) {
  if (s.empty() || s.size() > kMaxIdLength || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Field names are JSON keys of events: [A-Za-z_][A-Za-z0-9_]*.
bool IsFieldName(std::string_view s) {
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (s.empty() || s.size() > kMaxIdLength || !alpha(s[0])) return false;
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

template <typename E>
struct Named {
  std::string_view name;
  E value;
};

template <typename E, size_t N>
std::optional<E> Lookup(const Named<E> (&table)[N], std::string_view s) {
  for (const auto& n : table) {
    if (n.name == s) return n.value;
  }
  return std::nullopt;
}

template <typename E, size_t N>
std::vector<std::string_view> NamesOf(const Named<E> (&table)[N]) {
  std::vector<std::string_view> out;
  for (const auto& n : table) out.push_back(n.name);
  return out;
}

constexpr Named<Aggregate> kAggregates[] = {{"count", Aggregate::kCount},
                                            {"sum", Aggregate::kSum},
                                            {"mean", Aggregate::kMean},
                                            {"share", Aggregate::kShare},
                                            {"value", Aggregate::kValue}};
constexpr Named<Measure> kMeasures[] = {{"value", Measure::kValue},
                                        {"rate", Measure::kRate},
                                        {"national_ratio", Measure::kNationalRatio},
                                        {"national_zscore", Measure::kNationalZscore},
                                        {"poisson_p", Measure::kPoissonP},
                                        {"percentile", Measure::kPercentile},
                                        {"trend_ratio", Measure::kTrendRatio}};
constexpr Named<Op> kOps[] = {{">=", Op::kGe}, {">", Op::kGt},  {"<=", Op::kLe},
                              {"<", Op::kLt},  {"==", Op::kEq}, {"!=", Op::kNe}};
constexpr Named<Severity> kSeverities[] = {{"info", Severity::kInfo},
                                           {"low", Severity::kLow},
                                           {"medium", Severity::kMedium},
                                           {"high", Severity::kHigh},
                                           {"critical", Severity::kCritical}};
constexpr Named<FieldType> kFieldTypes[] = {
    {"string", FieldType::kString}, {"number", FieldType::kNumber}, {"bool", FieldType::kBool}};

// ---------------------------------------------------------------------------
// Diagnostics and YAML access

struct Ctx {
  std::string file;
  const LoadOptions* options = nullptr;
  std::vector<Diagnostic> errors;
  bool truncated = false;

  SourceMark Mark(const YAML::Node& n) const {
    YAML::Mark m = n.Mark();
    return SourceMark{file, std::max(m.line, 0) + 1, std::max(m.column, 0) + 1};
  }
  void Error(const SourceMark& mark, std::string message) {
    if (errors.size() >= kMaxDiagnostics) {
      truncated = true;
      return;
    }
    errors.push_back(Diagnostic{mark, std::move(message)});
  }
};

std::string_view KindOf(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a single value";
    default:
      return "nothing";
  }
}

struct Entry {
  std::string key;
  YAML::Node value;
  SourceMark key_mark;
  SourceMark value_mark;  // the key's mark when the value is empty (yaml-cpp marks
                          // an empty value at the next token, often the next line)
};

// The entries of one YAML mapping, with unknown and duplicate keys reported.
class MapView {
 public:
  // `known` empty: any key is allowed (labels, where, weights, fields).
  MapView(Ctx& ctx, const YAML::Node& map, Keys known) : ctx_(ctx), mark_(ctx.Mark(map)) {
    std::map<std::string, int, std::less<>> first_line;
    // Copies, not references: yaml-cpp's it->first lives in a temporary proxy.
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node k = it->first;
      const YAML::Node v = it->second;
      Entry e;
      e.key_mark = ctx.Mark(k);
      if (!k.IsScalar()) {
        ctx.Error(e.key_mark, fmt::format("a key must be a plain name, not {}", KindOf(k)));
        continue;
      }
      e.key = k.Scalar();
      e.value = v;
      e.value_mark = v.IsNull() ? e.key_mark : ctx.Mark(v);
      auto [pos, inserted] = first_line.emplace(e.key, e.key_mark.line);
      if (!inserted) {
        ctx.Error(e.key_mark,
                  fmt::format("duplicate key '{}' (first at line {})", Show(e.key), pos->second));
        continue;
      }
      if (known.size() != 0 && std::find(known.begin(), known.end(), e.key) == known.end()) {
        std::string hint = Closest(e.key, known);
        ctx.Error(e.key_mark, hint.empty() ? fmt::format("unknown key '{}' (expected one of: {})",
                                                         Show(e.key), JoinNames(known))
                                           : fmt::format("unknown key '{}' (did you mean '{}'?)",
                                                         Show(e.key), hint));
        continue;
      }
      entries_.push_back(std::move(e));
    }
  }

  const Entry* Find(std::string_view key) const {
    for (const Entry& e : entries_) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }
  // Reports a missing key at the mapping, naming `what` ("indicator 'x'").
  const Entry* Require(std::string_view key, std::string_view what) const {
    const Entry* e = Find(key);
    if (e == nullptr) ctx_.Error(mark_, fmt::format("{} is missing required key '{}'", what, key));
    return e;
  }
  const std::vector<Entry>& entries() const { return entries_; }
  const SourceMark& mark() const { return mark_; }

 private:
  Ctx& ctx_;
  SourceMark mark_;
  std::vector<Entry> entries_;
};

// The scalar text of an entry's value, or an error.
std::optional<std::string> Text(Ctx& ctx, const Entry& e) {
  if (e.value.IsScalar()) return e.value.Scalar();
  if (e.value.IsNull() || !e.value.IsDefined()) {
    ctx.Error(e.value_mark, fmt::format("'{}' needs a value", Show(e.key)));
  } else {
    ctx.Error(e.value_mark,
              fmt::format("'{}' must be a single value, not {}", Show(e.key), KindOf(e.value)));
  }
  return std::nullopt;
}

std::optional<double> Number(Ctx& ctx, const Entry& e) {
  auto t = Text(ctx, e);
  if (!t) return std::nullopt;
  double v;
  if (!ParseNumber(*t, &v)) {
    ctx.Error(e.value_mark, fmt::format("'{}' must be a number, got '{}'", e.key, Show(*t)));
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> Integer(Ctx& ctx, const Entry& e) {
  auto t = Text(ctx, e);
  if (!t) return std::nullopt;
  int64_t v;
  if (!ParseInteger(*t, &v)) {
    ctx.Error(e.value_mark, fmt::format("'{}' must be a whole number, got '{}'", e.key, Show(*t)));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> Bool(Ctx& ctx, const Entry& e) {
  auto t = Text(ctx, e);
  if (!t) return std::nullopt;
  auto b = ParseBool(*t);
  if (!b) {
    ctx.Error(e.value_mark, fmt::format("'{}' must be true or false, got '{}'", e.key, Show(*t)));
  }
  return b;
}

// `what` names the value in messages ("field type"); default: the key.
template <typename E, size_t N>
std::optional<E> Enum(Ctx& ctx, const Entry& e, const Named<E> (&table)[N],
                      std::string_view what = {}) {
  auto t = Text(ctx, e);
  if (!t) return std::nullopt;
  auto v = Lookup(table, *t);
  if (!v) {
    if (what.empty()) what = e.key;
    auto names = NamesOf(table);
    std::string hint = Closest(*t, names);
    ctx.Error(e.value_mark, hint.empty() ? fmt::format("unknown {} '{}' (expected one of: {})",
                                                       what, Show(*t), JoinNames(names))
                                         : fmt::format("unknown {} '{}' (did you mean '{}'?)", what,
                                                       Show(*t), hint));
  }
  return v;
}

std::optional<Duration> DurationOf(Ctx& ctx, const Entry& e) {
  auto t = Text(ctx, e);
  if (!t) return std::nullopt;
  auto d = ParseDuration(*t);
  if (!d) {
    ctx.Error(e.value_mark,
              fmt::format("'{}' must be a duration like 14d, 12h, 30m or 10s, got '{}'", e.key,
                          Show(*t)));
  }
  return d;
}

// A list value; a missing or empty (null) entry is an empty list.
bool IsListOrEmpty(Ctx& ctx, const Entry& e) {
  if (e.value.IsSequence() || e.value.IsNull()) return true;
  ctx.Error(e.value_mark, fmt::format("'{}' must be a list, not {}", Show(e.key), KindOf(e.value)));
  return false;
}

bool IsMap(Ctx& ctx, const Entry& e) {
  if (e.value.IsMap()) return true;
  ctx.Error(e.value_mark,
            fmt::format("'{}' must be a mapping, not {}", Show(e.key), KindOf(e.value)));
  return false;
}

// ---------------------------------------------------------------------------
// The pack

// What later parts need to know about an indicator, also when it had errors
// (so that a bad indicator does not make every rule that reads it fail too).
struct IndicatorInfo {
  size_t index = 0;  // into RulePack::indicators
  bool aggregate_known = false;
  SourceMark id_mark;
  std::optional<SourceMark> window_mark;  // set when the window is valid
};

class PackParser {
 public:
  PackParser(Ctx& ctx, RulePack* pack) : ctx_(ctx), pack_(*pack) {}

  void Parse(const YAML::Node& root) {
    if (!root.IsMap()) {
      ctx_.Error(ctx_.Mark(root),
                 fmt::format("a rule pack must be a mapping with apiVersion, kind, metadata, "
                             "indicators and rules, not {}",
                             KindOf(root)));
      return;
    }
    MapView top(ctx_, root, {"apiVersion", "kind", "metadata", "events", "indicators", "rules"});
    if (const Entry* e = top.Require("apiVersion", "the rule pack")) {
      if (auto t = Text(ctx_, *e)) {
        pack_.api_version = *t;
        if (*t != kApiVersion) {
          ctx_.Error(e->value_mark, fmt::format("unsupported apiVersion '{}' (expected '{}')",
                                                Show(*t), kApiVersion));
        }
      }
    }
    if (const Entry* e = top.Require("kind", "the rule pack")) {
      if (auto t = Text(ctx_, *e); t && *t != "RulePack") {
        ctx_.Error(e->value_mark, fmt::format("kind must be 'RulePack', got '{}'", Show(*t)));
      }
    }
    if (const Entry* e = top.Require("metadata", "the rule pack")) ParseMetadata(*e);
    if (const Entry* e = top.Find("events"); e && IsListOrEmpty(ctx_, *e)) ParseEvents(*e);
    BuildTypeIndex();
    if (const Entry* e = top.Find("indicators"); e && IsListOrEmpty(ctx_, *e)) {
      ParseIndicators(*e);
    }
    if (const Entry* e = top.Find("rules"); e && IsListOrEmpty(ctx_, *e)) ParseRules(*e);
    CheckHistory();
  }

 private:
  void ParseMetadata(const Entry& meta) {
    if (!IsMap(ctx_, meta)) return;
    MapView m(ctx_, meta.value, {"name", "theme", "title", "description", "owner"});
    for (const Entry& e : m.entries()) {
      if (auto t = Text(ctx_, e)) pack_.metadata[e.key] = *t;
    }
    if (const Entry* e = m.Require("name", "metadata")) {
      if (auto it = pack_.metadata.find("name"); it != pack_.metadata.end()) {
        pack_.name = it->second;
        pack_.mark = e->value_mark;
        if (!IsDnsLabel(pack_.name)) {
          ctx_.Error(e->value_mark,
                     fmt::format("invalid metadata.name '{}': use lowercase letters, digits and "
                                 "'-', at most 63 characters, not starting or ending with '-'",
                                 Show(pack_.name)));
        }
      }
    }
    if (auto it = pack_.metadata.find("theme"); it != pack_.metadata.end()) {
      pack_.theme = it->second;
    }
  }

  // --- events -------------------------------------------------------------

  void ParseEvents(const Entry& list) {
    std::map<std::string, int> first_line;
    for (const YAML::Node& item : list.value) {
      if (!item.IsMap()) {
        ctx_.Error(ctx_.Mark(item),
                   fmt::format("an event declaration must be a mapping with 'type' and "
                               "'fields', not {}",
                               KindOf(item)));
        continue;
      }
      MapView m(ctx_, item, {"type", "title", "description", "fields"});
      EventTypeSpec spec;
      spec.mark = m.mark();
      const Entry* type = m.Require("type", "an event declaration");
      if (type == nullptr) continue;
      auto name = Text(ctx_, *type);
      if (!name) continue;
      spec.type = *name;
      spec.mark = type->value_mark;
      bool ok = true;
      if (!IsTypeName(spec.type)) {
        ctx_.Error(type->value_mark,
                   fmt::format("invalid event type '{}': use lowercase letters, digits and '_', "
                               "starting with a letter",
                               Show(spec.type)));
        ok = false;
      } else if (IsBuiltin(spec.type)) {
        ctx_.Error(type->value_mark,
                   fmt::format("event type '{}' is built in and cannot be redeclared", spec.type));
        ok = false;
      } else if (auto [it, inserted] = first_line.emplace(spec.type, type->value_mark.line);
                 !inserted) {
        ctx_.Error(type->value_mark, fmt::format("event type '{}' is declared twice (first at "
                                                 "line {})",
                                                 spec.type, it->second));
        ok = false;
      }
      if (const Entry* fields = m.Find("fields")) {
        if (fields->value.IsNull()) {
          // `fields:` with nothing: a type with envelope fields only.
        } else if (IsMap(ctx_, *fields)) {
          MapView fm(ctx_, fields->value, {});
          for (const Entry& f : fm.entries()) {
            if (auto field = ParseField(f)) spec.fields.push_back(std::move(*field));
          }
        }
      }
      if (ok) pack_.events.push_back(std::move(spec));
    }
  }

  std::optional<FieldSpec> ParseField(const Entry& e) {
    FieldSpec f;
    f.name = e.key;
    f.mark = e.key_mark;
    if (!IsFieldName(f.name)) {
      ctx_.Error(e.key_mark, fmt::format("invalid field name '{}': use letters, digits and '_', "
                                         "not starting with a digit",
                                         Show(f.name)));
      return std::nullopt;
    }
    if (std::find(std::begin(kEnvelopeFields), std::end(kEnvelopeFields), f.name) !=
        std::end(kEnvelopeFields)) {
      ctx_.Error(e.key_mark,
                 fmt::format("'{}' is an envelope field (type, id, time, municipality) and "
                             "cannot be declared",
                             f.name));
      return std::nullopt;
    }
    if (e.value.IsMap()) {
      MapView m(ctx_, e.value, {"type", "values", "optional", "description"});
      const Entry* type = m.Require("type", fmt::format("field '{}'", f.name));
      std::optional<FieldType> t;
      if (type != nullptr) t = Enum(ctx_, *type, kFieldTypes, "field type");
      if (const Entry* opt = m.Find("optional")) {
        if (auto b = Bool(ctx_, *opt)) f.optional = *b;
      }
      if (const Entry* values = m.Find("values")) {
        if (t && *t != FieldType::kString) {
          ctx_.Error(values->key_mark,
                     fmt::format("'values' is only for string fields; '{}' is a {}", f.name,
                                 FieldTypeName(*t)));
        } else if (!values->value.IsSequence() || values->value.size() == 0) {
          ctx_.Error(values->value_mark,
                     fmt::format("'values' must be a non-empty list of allowed strings"));
        } else {
          std::map<std::string, int> seen;
          for (const YAML::Node& v : values->value) {
            SourceMark vm = ctx_.Mark(v);
            if (!v.IsScalar() || v.Scalar().empty()) {
              ctx_.Error(vm, fmt::format("an allowed value must be a non-empty string, not {}",
                                         v.IsScalar() ? "an empty one" : KindOf(v)));
              continue;
            }
            if (auto [it, inserted] = seen.emplace(v.Scalar(), vm.line); !inserted) {
              ctx_.Error(vm, fmt::format("value '{}' is listed twice (first at line {})",
                                         Show(v.Scalar()), it->second));
              continue;
            }
            f.values.push_back(v.Scalar());
          }
        }
      }
      if (!t) return std::nullopt;
      f.type = *t;
      return f;
    }
    auto t = Enum(ctx_, e, kFieldTypes, "field type");
    if (!t) return std::nullopt;
    f.type = *t;
    return f;
  }

  static bool IsBuiltin(std::string_view type) {
    for (const EventTypeSpec& t : BuiltinEventTypes()) {
      if (t.type == type) return true;
    }
    return false;
  }

  void BuildTypeIndex() {
    for (const EventTypeSpec& t : BuiltinEventTypes()) types_[t.type] = &t;
    for (const EventTypeSpec& t : pack_.events) types_[t.type] = &t;  // events_ is final now
  }

  // --- indicators ---------------------------------------------------------

  void ParseIndicators(const Entry& list) {
    size_t n = 0;
    for (const YAML::Node& item : list.value) {
      if (++n == ctx_.options->max_indicators + 1) {
        ctx_.Error(ctx_.Mark(item),
                   fmt::format("more than {} indicators in one pack (LoadOptions::max_indicators)",
                               ctx_.options->max_indicators));
      }
      if (!item.IsMap()) {
        ctx_.Error(ctx_.Mark(item),
                   fmt::format("an indicator must be a mapping, not {}", KindOf(item)));
        continue;
      }
      ParseIndicator(item);
    }
  }

  void ParseIndicator(const YAML::Node& item) {
    MapView m(ctx_, item,
              {"id", "title", "description", "event", "aggregate", "where", "field", "window",
               "per", "source"});
    IndicatorSpec spec;
    spec.mark = m.mark();
    IndicatorInfo info;
    info.index = pack_.indicators.size();
    info.id_mark = m.mark();
    std::string what = "an indicator";
    bool register_id = false;
    if (const Entry* e = m.Require("id", what)) {
      if (auto t = Text(ctx_, *e)) {
        spec.id = *t;
        info.id_mark = e->value_mark;
        what = fmt::format("indicator '{}'", Show(spec.id));
        if (!IsId(spec.id)) {
          ctx_.Error(e->value_mark,
                     fmt::format("invalid indicator id '{}': {}", Show(spec.id), kIdRule));
        } else if (auto it = indicators_.find(spec.id); it != indicators_.end()) {
          ctx_.Error(e->value_mark, fmt::format("duplicate indicator id '{}' (first at line {})",
                                                spec.id, it->second.id_mark.line));
        } else {
          register_id = true;
        }
      }
    }
    if (const Entry* e = m.Find("title")) {
      if (auto t = Text(ctx_, *e)) spec.title = *t;
    }
    const Entry* agg = m.Require("aggregate", what);
    std::optional<Aggregate> aggregate;
    if (agg != nullptr) aggregate = Enum(ctx_, *agg, kAggregates);
    if (aggregate) {
      spec.aggregate = *aggregate;
      info.aggregate_known = true;
    }

    if (const Entry* src = m.Find("source")) {
      spec.source = ReferenceSource{};
      if (aggregate && *aggregate != Aggregate::kValue) {
        ctx_.Error(agg->value_mark,
                   fmt::format("a reference indicator (with 'source') needs 'aggregate: value', "
                               "got '{}'",
                               AggregateName(*aggregate)));
      }
      for (std::string_view key : {"event", "window", "where", "field", "per"}) {
        if (const Entry* e = m.Find(key)) {
          ctx_.Error(e->key_mark,
                     fmt::format("'{}' does not apply to a reference indicator (with 'source'): "
                                 "its figure is read from the table",
                                 key));
        }
      }
      ParseSource(*src, &*spec.source);
    } else {
      if (aggregate && *aggregate == Aggregate::kValue) {
        ctx_.Error(agg->value_mark,
                   "'aggregate: value' is for reference indicators; add a 'source: {file, "
                   "column}' table or use count, sum, mean or share");
      }
      ParseEventIndicator(m, what, aggregate, &spec, &info);
    }
    if (register_id) indicators_.emplace(spec.id, info);
    pack_.indicators.push_back(std::move(spec));
  }

  void ParseEventIndicator(const MapView& m, const std::string& what,
                           std::optional<Aggregate> aggregate, IndicatorSpec* spec,
                           IndicatorInfo* info) {
    const EventTypeSpec* type = nullptr;
    if (const Entry* e = m.Require("event", what)) {
      if (auto t = Text(ctx_, *e)) {
        spec->event = *t;
        if (auto it = types_.find(*t); it != types_.end()) {
          type = it->second;
        } else {
          std::vector<std::string> names;
          for (const auto& [name, unused] : types_) names.push_back(name);
          std::string hint = Closest(*t, names);
          ctx_.Error(e->value_mark,
                     hint.empty() ? fmt::format("unknown event type '{}' (declare it under "
                                                "'events:' or use one of: {})",
                                                Show(*t), JoinNames(names))
                                  : fmt::format("unknown event type '{}' (did you mean '{}'?)",
                                                Show(*t), hint));
        }
      }
    }
    if (const Entry* e = m.Require("window", what)) {
      if (auto d = DurationOf(ctx_, *e)) {
        if (d->count <= 0) {
          ctx_.Error(e->value_mark, "window must be longer than 0");
        } else if (d->unit != Duration::Unit::kDay && d->unit != Duration::Unit::kHour) {
          ctx_.Error(e->value_mark, fmt::format("window '{}' must be in days or hours, e.g. 90d "
                                                "or 12h",
                                                d->ToString()));
        } else {
          spec->window.count = d->count;
          spec->window.hours = d->unit == Duration::Unit::kHour;
          info->window_mark = e->value_mark;
        }
      }
    }
    if (const Entry* e = m.Find("per")) {
      if (auto v = Number(ctx_, *e)) {
        if (*v <= 0) {
          ctx_.Error(e->value_mark, fmt::format("'per' must be above 0, got {}", *v));
        } else {
          spec->per = *v;
        }
      }
    }
    const bool needs_field =
        aggregate && (*aggregate == Aggregate::kSum || *aggregate == Aggregate::kMean);
    if (const Entry* e = m.Find("field")) {
      if (aggregate && !needs_field) {
        ctx_.Error(e->key_mark, fmt::format("'field' is only used by sum and mean, not by {}",
                                            AggregateName(*aggregate)));
      } else if (auto t = Text(ctx_, *e)) {
        spec->field = *t;
        if (type != nullptr) {
          if (const FieldSpec* f = FindField(*type, *t, e->value_mark)) {
            if (f->type != FieldType::kNumber) {
              ctx_.Error(
                  e->value_mark,
                  fmt::format("field '{}' of {} is a {}; {} needs a number field", f->name,
                              type->type, FieldTypeName(f->type), AggregateName(*aggregate)));
            }
          }
        }
      }
    } else if (needs_field) {
      ctx_.Error(agg_mark(m), fmt::format("{} needs 'field': the number field to {}", what,
                                          *aggregate == Aggregate::kSum ? "add up" : "average"));
    }
    if (const Entry* e = m.Find("where")) {
      if (IsMap(ctx_, *e)) {
        MapView wm(ctx_, e->value, {});
        if (wm.entries().empty() && aggregate && *aggregate == Aggregate::kShare) {
          ctx_.Error(e->value_mark,
                     "share needs a non-empty 'where': the events to count as a "
                     "share of all events of the type");
        }
        for (const Entry& clause : wm.entries()) {
          if (auto c = ParseClause(clause, type)) spec->where.push_back(std::move(*c));
        }
      }
    } else if (aggregate && *aggregate == Aggregate::kShare) {
      ctx_.Error(agg_mark(m), fmt::format("{} needs 'where': share counts the events matching it "
                                          "as a share of all events of the type",
                                          what));
    }
  }

  static SourceMark agg_mark(const MapView& m) {
    const Entry* e = m.Find("aggregate");
    return e != nullptr ? e->value_mark : m.mark();
  }

  const FieldSpec* FindField(const EventTypeSpec& type, std::string_view name,
                             const SourceMark& mark) {
    for (const FieldSpec& f : type.fields) {
      if (f.name == name) return &f;
    }
    std::vector<std::string> names;
    for (const FieldSpec& f : type.fields) names.push_back(f.name);
    std::string hint = Closest(name, names);
    ctx_.Error(mark, hint.empty() ? fmt::format("event type '{}' has no field '{}' (fields: {})",
                                                type.type, Show(name), JoinNames(names))
                                  : fmt::format("event type '{}' has no field '{}' (did you mean "
                                                "'{}'?)",
                                                type.type, Show(name), hint));
    return nullptr;
  }

  std::optional<FilterClause> ParseClause(const Entry& clause, const EventTypeSpec* type) {
    FilterClause c;
    c.field = clause.key;
    c.mark = clause.key_mark;
    const FieldSpec* field =
        type != nullptr ? FindField(*type, clause.key, clause.key_mark) : nullptr;
    std::vector<YAML::Node> items;
    if (clause.value.IsScalar()) {
      items.push_back(clause.value);
    } else if (clause.value.IsSequence()) {
      for (const YAML::Node& v : clause.value) items.push_back(v);
      if (items.empty()) {
        ctx_.Error(clause.value_mark,
                   fmt::format("'{}' has an empty list of values, which matches nothing",
                               Show(clause.key)));
      }
    } else {
      ctx_.Error(clause.value_mark, fmt::format("'{}' needs a value or a list of values, not {}",
                                                Show(clause.key), KindOf(clause.value)));
      return std::nullopt;
    }
    bool ok = !items.empty();
    for (const YAML::Node& v : items) {
      SourceMark vm = ctx_.Mark(v);
      if (!v.IsScalar()) {
        ctx_.Error(vm, fmt::format("a value of '{}' must be a single value, not {}",
                                   Show(clause.key), KindOf(v)));
        ok = false;
        continue;
      }
      std::string text = v.Scalar();
      if (field != nullptr) {
        switch (field->type) {
          case FieldType::kString:
            if (!field->values.empty() && std::find(field->values.begin(), field->values.end(),
                                                    text) == field->values.end()) {
              std::string hint = Closest(text, field->values);
              ctx_.Error(
                  vm, fmt::format("'{}' is not a value of {}.{} ({}){}", Show(text), type->type,
                                  field->name, JoinNames(field->values),
                                  hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint)));
              ok = false;
            }
            break;
          case FieldType::kNumber: {
            double d;
            if (!ParseNumber(text, &d)) {
              ctx_.Error(vm, fmt::format("'{}' is not a number, but {}.{} is a number field",
                                         Show(text), type->type, field->name));
              ok = false;
            } else {
              text = fmt::format("{}", d);  // shortest round-trip form, so 1.50 == 1.5
            }
            break;
          }
          case FieldType::kBool: {
            auto b = ParseBool(text);
            if (!b) {
              ctx_.Error(vm, fmt::format("'{}' is not true or false, but {}.{} is a bool field",
                                         Show(text), type->type, field->name));
              ok = false;
            } else {
              text = *b ? "true" : "false";
            }
            break;
          }
        }
      }
      c.values.push_back(std::move(text));
    }
    if (!ok || field == nullptr) return std::nullopt;
    return c;
  }

  void ParseSource(const Entry& src, ReferenceSource* out) {
    if (!IsMap(ctx_, src)) return;
    MapView m(ctx_, src.value, {"file", "column"});
    const Entry* file = m.Require("file", "source");
    const Entry* column = m.Require("column", "source");
    std::optional<std::string> f, c;
    if (file != nullptr) f = Text(ctx_, *file);
    if (column != nullptr) c = Text(ctx_, *column);
    if (f) out->file = *f;
    if (c) out->column = *c;
    if (!f) return;
    if (f->empty()) {
      ctx_.Error(file->value_mark, "'file' must name a CSV file");
      return;
    }
    std::vector<std::string> tried;
    std::optional<std::string> path = ResolveReference(*f, &tried);
    if (!path) {
      ctx_.Error(file->value_mark, fmt::format("reference file '{}' not found (tried {})", Show(*f),
                                               JoinNames(tried)));
      return;
    }
    out->path = *path;
    auto table = ReadCsvFile(*path);
    if (!table.ok()) {
      ctx_.Error(file->value_mark, fmt::format("cannot read reference file '{}': {}", Show(*f),
                                               table.status().message()));
      return;
    }
    const int col_m = table->Column("municipality");
    if (col_m < 0) {
      ctx_.Error(file->value_mark, fmt::format("reference file '{}' has no 'municipality' column "
                                               "(columns: {})",
                                               Show(*f), Show(JoinNames(table->header))));
    }
    if (!c) return;
    const int col_v = table->Column(*c);
    if (col_v < 0) {
      std::string hint = Closest(*c, table->header);
      ctx_.Error(
          column->value_mark,
          fmt::format("reference file '{}' has no column '{}' ({})", Show(*f), Show(*c),
                      hint.empty() ? fmt::format("columns: {}", Show(JoinNames(table->header)))
                                   : fmt::format("did you mean '{}'?", hint)));
      return;
    }
    if (col_m < 0) return;
    // The engine reads the figures when it starts; a bad one is caught here already.
    std::map<std::string, int> seen;
    for (const CsvRow& row : table->rows) {
      if (static_cast<size_t>(std::max(col_m, col_v)) >= row.fields.size()) continue;
      const std::string& code = row.fields[static_cast<size_t>(col_m)];
      const std::string& text = row.fields[static_cast<size_t>(col_v)];
      double v;
      if (!text.empty() && !ParseNumber(text, &v)) {
        ctx_.Error(column->value_mark,
                   fmt::format("reference file '{}' line {}: '{}' in column '{}' is not a number",
                               Show(*f), row.line, Show(text), Show(*c)));
        return;
      }
      if (auto [it, inserted] = seen.emplace(code, row.line); !inserted) {
        ctx_.Error(file->value_mark,
                   fmt::format("reference file '{}' line {}: municipality '{}' appears twice "
                               "(first at line {})",
                               Show(*f), row.line, Show(code), it->second));
        return;
      }
    }
  }

  // Relative paths: the working directory, then reference_base_dir, then the
  // pack's own directory.
  std::optional<std::string> ResolveReference(const std::string& file,
                                              std::vector<std::string>* tried) {
    namespace fs = std::filesystem;
    fs::path p(file);
    std::vector<fs::path> candidates;
    if (p.is_absolute()) {
      candidates.push_back(p);
    } else {
      candidates.push_back(p);
      if (!ctx_.options->reference_base_dir.empty()) {
        candidates.push_back(fs::path(ctx_.options->reference_base_dir) / p);
      }
      fs::path dir = fs::path(ctx_.file).parent_path();
      if (!dir.empty()) candidates.push_back(dir / p);
    }
    for (const fs::path& c : candidates) {
      std::error_code ec;
      if (fs::is_regular_file(c, ec)) {
        fs::path abs = fs::absolute(c, ec);
        return (ec ? c : abs).lexically_normal().string();
      }
      tried->push_back(Show(c.string()));
    }
    return std::nullopt;
  }

  // --- rules --------------------------------------------------------------

  void ParseRules(const Entry& list) {
    size_t n = 0;
    std::map<std::string, int> first_line;
    for (const YAML::Node& item : list.value) {
      if (++n == ctx_.options->max_rules + 1) {
        ctx_.Error(ctx_.Mark(item), fmt::format("more than {} rules in one pack "
                                                "(LoadOptions::max_rules)",
                                                ctx_.options->max_rules));
      }
      if (!item.IsMap()) {
        ctx_.Error(ctx_.Mark(item), fmt::format("a rule must be a mapping, not {}", KindOf(item)));
        continue;
      }
      ParseRule(item, &first_line);
    }
  }

  void ParseRule(const YAML::Node& item, std::map<std::string, int>* first_line) {
    MapView m(ctx_, item,
              {"id", "title", "description", "severity", "match", "score", "conditions",
               "min_events", "for", "cooldown", "labels"});
    RuleSpec rule;
    rule.mark = m.mark();
    std::string what = "a rule";
    if (const Entry* e = m.Require("id", what)) {
      if (auto t = Text(ctx_, *e)) {
        rule.id = *t;
        rule.mark = e->value_mark;
        current_rule_hint_ = rule.id;
        what = fmt::format("rule '{}'", Show(rule.id));
        if (!IsId(rule.id)) {
          ctx_.Error(e->value_mark,
                     fmt::format("invalid rule id '{}': {}", Show(rule.id), kIdRule));
        } else if (auto [it, inserted] = first_line->emplace(rule.id, e->value_mark.line);
                   !inserted) {
          ctx_.Error(e->value_mark,
                     fmt::format("duplicate rule id '{}' (first at line {})", rule.id, it->second));
        }
      }
    }
    if (const Entry* e = m.Find("title")) {
      if (auto t = Text(ctx_, *e)) rule.title = *t;
    }
    if (const Entry* e = m.Find("severity")) {
      if (auto s = Enum(ctx_, *e, kSeverities)) rule.severity = *s;
    }
    const Entry* match = m.Find("match");
    const Entry* score = m.Find("score");
    std::optional<SourceMark> at_least_mark;
    if (match != nullptr && score != nullptr) {
      ctx_.Error(score->key_mark,
                 "'match' and 'score' are exclusive: a rule either matches its "
                 "conditions (all, any, at_least) or scores them");
    } else if (match != nullptr) {
      at_least_mark = ParseMatch(*match, &rule);
    }
    const MapView* score_view = nullptr;
    std::optional<MapView> score_map;
    if (score != nullptr && match == nullptr) {
      rule.match = MatchKind::kScore;
      if (IsMap(ctx_, *score)) {
        score_map.emplace(ctx_, score->value, Keys{"weights", "alert_at"});
        score_view = &*score_map;
      }
    }

    const Entry* conds = m.Require("conditions", what);
    std::vector<SourceMark> id_marks;
    if (conds != nullptr && IsListOrEmpty(ctx_, *conds)) {
      if (conds->value.size() == 0) {
        ctx_.Error(conds->value_mark, fmt::format("{} needs at least one condition", what));
      }
      std::map<std::string, int> seen_ids;
      size_t n = 0;
      for (const YAML::Node& c : conds->value) {
        if (++n == ctx_.options->max_conditions + 1) {
          ctx_.Error(ctx_.Mark(c), fmt::format("more than {} conditions in one rule "
                                               "(LoadOptions::max_conditions)",
                                               ctx_.options->max_conditions));
        }
        if (!c.IsMap()) {
          ctx_.Error(ctx_.Mark(c), fmt::format("a condition must be a mapping, not {}", KindOf(c)));
          continue;
        }
        ConditionSpec cond;
        SourceMark id_mark;
        ParseCondition(c, &cond, &id_mark, &seen_ids);
        rule.conditions.push_back(std::move(cond));
        id_marks.push_back(id_mark);
      }
    }
    const size_t n_conditions = rule.conditions.size();

    if (at_least_mark && rule.match == MatchKind::kAtLeast && n_conditions > 0) {
      if (rule.at_least < 1) {
        ctx_.Error(*at_least_mark,
                   fmt::format("at_least must be at least 1, got {}", rule.at_least));
      } else if (static_cast<size_t>(rule.at_least) > n_conditions) {
        ctx_.Error(*at_least_mark,
                   fmt::format("at_least {} is more than the {} condition{} of this rule",
                               rule.at_least, n_conditions, n_conditions == 1 ? "" : "s"));
      }
    }
    if (score_view != nullptr) ParseScore(*score_view, id_marks, &rule);

    if (const Entry* e = m.Find("min_events")) {
      if (auto v = Integer(ctx_, *e)) {
        if (*v < 0) {
          ctx_.Error(e->value_mark, fmt::format("min_events must be 0 or more, got {}", *v));
        } else {
          rule.min_events = *v;
        }
      }
    }
    if (const Entry* e = m.Find("for")) {
      if (auto d = DurationOf(ctx_, *e)) rule.for_ms = d->ms();
    }
    if (const Entry* e = m.Find("cooldown")) {
      if (auto d = DurationOf(ctx_, *e)) rule.cooldown_ms = d->ms();
    }
    if (const Entry* e = m.Find("labels"); e != nullptr && !e->value.IsNull() && IsMap(ctx_, *e)) {
      MapView lm(ctx_, e->value, {});
      for (const Entry& l : lm.entries()) {
        if (l.key.empty()) {
          ctx_.Error(l.key_mark, "a label name must not be empty");
          continue;
        }
        if (auto t = Text(ctx_, l)) rule.labels[l.key] = *t;
      }
    }
    pack_.rules.push_back(std::move(rule));
  }

  // Returns the mark of at_least's value, checked once the conditions are counted.
  std::optional<SourceMark> ParseMatch(const Entry& match, RuleSpec* rule) {
    if (match.value.IsMap()) {
      MapView mm(ctx_, match.value, {"at_least"});
      const Entry* n = mm.Require("at_least", "match");
      if (n == nullptr) return std::nullopt;
      if (auto v = Integer(ctx_, *n)) {
        rule->match = MatchKind::kAtLeast;
        rule->at_least = static_cast<int>(std::clamp<int64_t>(*v, -1, INT32_MAX));
        return n->value_mark;
      }
      return std::nullopt;
    }
    auto t = Text(ctx_, match);
    if (!t) return std::nullopt;
    if (*t == "all") {
      rule->match = MatchKind::kAll;
    } else if (*t == "any") {
      rule->match = MatchKind::kAny;
    } else {
      std::string hint = Closest(*t, std::vector<std::string>{"all", "any"});
      ctx_.Error(match.value_mark,
                 fmt::format("match must be all, any or {{at_least: N}}, got '{}'{}", Show(*t),
                             hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    return std::nullopt;
  }

  void ParseCondition(const YAML::Node& node, ConditionSpec* cond, SourceMark* id_mark,
                      std::map<std::string, int>* seen_ids) {
    MapView m(ctx_, node, {"id", "indicator", "measure", "op", "value"});
    cond->mark = m.mark();
    *id_mark = m.mark();
    if (const Entry* e = m.Find("id")) {
      if (auto t = Text(ctx_, *e)) {
        *id_mark = e->value_mark;
        if (!IsId(*t)) {
          ctx_.Error(e->value_mark,
                     fmt::format("invalid condition id '{}': {}", Show(*t), kIdRule));
        } else if (auto [it, inserted] = seen_ids->emplace(*t, e->value_mark.line); !inserted) {
          ctx_.Error(e->value_mark, fmt::format("duplicate condition id '{}' in this rule (first "
                                                "at line {})",
                                                *t, it->second));
        } else {
          cond->id = *t;
        }
      }
    }
    const std::string what =
        cond->id.empty() ? "a condition" : fmt::format("condition '{}'", cond->id);
    const IndicatorInfo* ind = nullptr;
    if (const Entry* e = m.Require("indicator", what)) {
      if (auto t = Text(ctx_, *e)) {
        cond->indicator = *t;
        if (auto it = indicators_.find(*t); it != indicators_.end()) {
          ind = &it->second;
        } else if (!IndicatorIdSeen(*t)) {
          std::vector<std::string> ids;
          for (const auto& [id, unused] : indicators_) ids.push_back(id);
          ctx_.Error(e->value_mark,
                     fmt::format("unknown indicator '{}'{}", Show(*t), DidYouMean(*t, ids)));
        }
      }
    }
    std::optional<Measure> measure;
    const Entry* measure_entry = m.Require("measure", what);
    if (measure_entry != nullptr) measure = Enum(ctx_, *measure_entry, kMeasures);
    if (measure) cond->measure = *measure;
    if (const Entry* e = m.Require("op", what)) {
      // Unquoted `!=` is a YAML tag with an empty value; take it as meant.
      if (e->value.IsScalar() && e->value.Scalar().empty() && e->value.Tag() == "!=") {
        cond->op = Op::kNe;
      } else if (auto t = Text(ctx_, *e)) {
        if (auto op = Lookup(kOps, *t)) {
          cond->op = *op;
        } else {
          ctx_.Error(e->value_mark, fmt::format("unknown op '{}' (expected one of: >=, >, <=, <, "
                                                "==, !=)",
                                                Show(*t)));
        }
      }
    }
    if (const Entry* e = m.Require("value", what)) {
      if (auto v = Number(ctx_, *e)) {
        cond->value = *v;
        if (measure == Measure::kPercentile && (*v < 0 || *v > 100)) {
          ctx_.Error(e->value_mark, fmt::format("a percentile lies between 0 and 100, got {}", *v));
        } else if (measure == Measure::kPoissonP && (*v < 0 || *v > 1)) {
          ctx_.Error(e->value_mark,
                     fmt::format("a poisson_p probability lies between 0 and 1, got {}", *v));
        }
      }
    }
    if (ind != nullptr && measure && ind->aggregate_known) {
      const IndicatorSpec& spec = pack_.indicators[ind->index];
      if ((*measure == Measure::kNationalZscore || *measure == Measure::kPoissonP) &&
          spec.aggregate != Aggregate::kCount && spec.aggregate != Aggregate::kShare) {
        ctx_.Error(
            measure_entry->value_mark,
            fmt::format("measure '{}' needs a count or share indicator; '{}' is {}",
                        MeasureName(*measure), spec.id,
                        spec.is_reference() ? "a reference indicator"
                                            : fmt::format("a {}", AggregateName(spec.aggregate))));
      } else if (*measure == Measure::kTrendRatio && spec.is_reference()) {
        ctx_.Error(measure_entry->value_mark,
                   fmt::format("measure 'trend_ratio' does not apply to reference indicator '{}': "
                               "a table has no history of windows",
                               spec.id));
      }
      if (*measure == Measure::kTrendRatio) {
        trend_users_.emplace(spec.id, fmt::format("rule '{}'", current_rule_hint_));
      }
    }
  }

  void ParseScore(const MapView& score, const std::vector<SourceMark>& id_marks, RuleSpec* rule) {
    const Entry* weights = score.Require("weights", "score");
    const Entry* alert_at = score.Require("alert_at", "score");
    if (alert_at != nullptr) {
      if (auto v = Number(ctx_, *alert_at)) {
        rule->alert_at = *v;
        if (*v <= 0) {
          ctx_.Error(alert_at->value_mark,
                     fmt::format("alert_at must be above 0, got {}: at 0 the rule would fire "
                                 "while no condition holds",
                                 *v));
        } else if (*v > 1) {
          ctx_.Error(alert_at->value_mark,
                     fmt::format("alert_at {} can never be reached: the score (sum of the "
                                 "weights of the conditions that hold / sum of all weights) is "
                                 "at most 1",
                                 *v));
        }
      }
    }
    if (weights == nullptr || !IsMap(ctx_, *weights)) return;
    MapView wm(ctx_, weights->value, {});
    std::vector<std::string> ids;
    for (const ConditionSpec& c : rule->conditions) ids.push_back(c.id);
    double total = 0;
    bool all_numbers = true;
    for (const Entry& w : wm.entries()) {
      auto v = Number(ctx_, w);
      if (!v) {
        all_numbers = false;
      } else if (*v < 0) {
        ctx_.Error(w.value_mark,
                   fmt::format("weight of '{}' must be 0 or more, got {}", Show(w.key), *v));
        all_numbers = false;
      } else {
        rule->weights[w.key] = *v;
        total += *v;
      }
      if (std::find(ids.begin(), ids.end(), w.key) == ids.end()) {
        ctx_.Error(w.key_mark, fmt::format("weight for unknown condition '{}'{}", Show(w.key),
                                           DidYouMean(w.key, ids)));
      }
    }
    for (size_t i = 0; i < rule->conditions.size(); ++i) {
      const ConditionSpec& c = rule->conditions[i];
      if (c.id.empty()) {
        ctx_.Error(id_marks[i],
                   "a condition of a score rule needs an 'id': its weight is "
                   "looked up by id in score.weights");
      } else if (wm.Find(c.id) == nullptr) {
        ctx_.Error(id_marks[i], fmt::format("condition '{}' has no weight in score.weights", c.id));
      }
    }
    if (all_numbers && !wm.entries().empty() && total <= 0) {
      ctx_.Error(weights->value_mark,
                 "the weights add up to 0, so no score can be computed; give at least one "
                 "condition a weight above 0");
    } else if (wm.entries().empty()) {
      ctx_.Error(weights->value_mark, "score.weights needs a weight per condition id");
    }
  }

  bool IndicatorIdSeen(std::string_view id) const {
    // An indicator whose id was invalid or duplicate: its own error says enough.
    return std::any_of(pack_.indicators.begin(), pack_.indicators.end(),
                       [&](const IndicatorSpec& i) { return i.id == id; });
  }

  // --- history ------------------------------------------------------------

  void CheckHistory() {
    for (const auto& [id, info] : indicators_) {
      if (!info.window_mark) continue;
      const IndicatorSpec& spec = pack_.indicators[info.index];
      auto trend = trend_users_.find(id);
      const TimeMs need = spec.window.ms() * (trend != trend_users_.end() ? 5 : 1);
      const TimeMs retention = ctx_.options->retention_ms;
      if (need <= retention) continue;
      if (trend == trend_users_.end()) {
        ctx_.Error(*info.window_mark,
                   fmt::format("window {} of indicator '{}' is longer than the retention of {}",
                               spec.window.ToString(), id, FormatMs(retention)));
      } else {
        ctx_.Error(*info.window_mark,
                   fmt::format("indicator '{}' needs {} of history (5 x window {}, because {} "
                               "uses trend_ratio on it), more than the retention of {}",
                               id, FormatMs(need), spec.window.ToString(), trend->second,
                               FormatMs(retention)));
      }
    }
  }

  static constexpr std::string_view kIdRule =
      "use lowercase letters, digits, '_' and '-', starting with a letter or digit";

  Ctx& ctx_;
  RulePack& pack_;
  std::map<std::string, const EventTypeSpec*, std::less<>> types_;
  std::map<std::string, IndicatorInfo, std::less<>> indicators_;
  // Indicator id -> the first rule that reads its trend_ratio.
  std::map<std::string, std::string> trend_users_;
  std::string current_rule_hint_;  // id of the rule being parsed, for messages
};

}  // namespace

PackLoadResult LoadRulePackText(std::string_view yaml, const std::string& file_name,
                                const LoadOptions& options) {
  PackLoadResult result;
  Ctx ctx;
  ctx.file = file_name;
  ctx.options = &options;
  if (yaml.size() > options.max_pack_bytes) {
    ctx.Error(SourceMark{file_name, 1, 1},
              fmt::format("rule pack is {} bytes, more than the limit of {} "
                          "(LoadOptions::max_pack_bytes)",
                          yaml.size(), options.max_pack_bytes));
    result.errors = std::move(ctx.errors);
    return result;
  }
  RulePack pack;
  pack.file = file_name;
  try {
    const std::string text(yaml);
    const std::vector<YAML::Mark> starts = DocumentStarts(text, 2);
    YAML::Node doc = starts.size() == 1 ? YAML::Load(text) : YAML::Node();
    if (starts.empty() || (starts.size() == 1 && doc.IsNull())) {
      ctx.Error(SourceMark{file_name, 1, 1}, "the rule pack is empty");
    } else if (starts.size() > 1) {
      ctx.Error(SourceMark{file_name, starts[1].line + 1, starts[1].column + 1},
                "a rule pack is one YAML document; found a second one (remove the '---')");
    } else {
      PackParser parser(ctx, &pack);
      parser.Parse(doc);
    }
  } catch (const YAML::Exception& e) {
    // yaml-cpp marks are 0-based (and -1 when unknown).
    SourceMark mark{file_name, std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1};
    std::string message = e.msg;
    if (message.find("block scalar") != std::string::npos) {
      message += " (an unquoted '>' or '|' starts a YAML block text; quote it, e.g. op: \">=\")";
    }
    ctx.Error(mark, "invalid YAML: " + message);
  } catch (const std::exception& e) {
    ctx.Error(SourceMark{file_name, 1, 1}, fmt::format("cannot load the rule pack: {}", e.what()));
  }
  if (ctx.truncated) {
    ctx.errors.push_back(
        Diagnostic{SourceMark{file_name, ctx.errors.back().mark.line, 1},
                   fmt::format("too many errors; stopped after {}", kMaxDiagnostics)});
  }
  std::stable_sort(
      ctx.errors.begin(), ctx.errors.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return std::tie(a.mark.line, a.mark.column) < std::tie(b.mark.line, b.mark.column);
      });
  if (ctx.errors.empty()) {
    FinalizePack(&pack);
    result.pack = std::move(pack);
  }
  result.errors = std::move(ctx.errors);
  return result;
}

PackLoadResult LoadRulePackFile(const std::string& path, const LoadOptions& options) {
  auto text = ReadFileToString(path, options.max_pack_bytes + 1);
  if (!text.ok()) {
    PackLoadResult result;
    std::string message = text.status().message();
    // base says "path: reason"; the mark names the file already.
    if (message.rfind(path + ": ", 0) == 0) message.erase(0, path.size() + 2);
    if (text.status().code() == StatusCode::kInvalidArgument) {
      message = fmt::format(
          "rule pack is more than the limit of {} bytes "
          "(LoadOptions::max_pack_bytes)",
          options.max_pack_bytes);
    } else {
      message = "cannot read the rule pack: " + message;
    }
    result.errors.push_back(Diagnostic{SourceMark{path, 1, 1}, message});
    return result;
  }
  return LoadRulePackText(*text, path, options);
}

// ---------------------------------------------------------------------------
// RuleSet

int RuleSet::EventTypeIndex(std::string_view type) const {
  for (size_t i = 0; i < event_types_.size(); ++i) {
    if (event_types_[i].type == type) return static_cast<int>(i);
  }
  return -1;
}

int RuleSet::IndicatorIndex(std::string_view pack_name, std::string_view indicator_id) const {
  for (size_t i = 0; i < indicators_.size(); ++i) {
    const Indicator& ind = indicators_[i];
    if (ind.spec->id == indicator_id && packs_[static_cast<size_t>(ind.pack)].name == pack_name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

struct RuleSetBuilder {
  static SourceMark PackMark(const RulePack& pack) {
    if (!pack.mark.file.empty()) return pack.mark;
    return SourceMark{pack.file.empty() ? pack.name : pack.file, 1, 1};
  }
  static SourceMark MarkOr(const SourceMark& m, const RulePack& pack) {
    return m.file.empty() ? PackMark(pack) : m;
  }

  // Cross-pack checks and global indices. Appends to `errors`; returns the
  // set only when `errors` is empty at the end.
  static std::shared_ptr<const RuleSet> Build(std::vector<RulePack> packs,
                                              std::vector<Diagnostic>* errors) {
    auto set = std::make_shared<RuleSet>();
    // packs_ is filled once, before any pointer into it is taken.
    set->packs_ = std::move(packs);
    for (RulePack& p : set->packs_) FinalizePack(&p);
    const std::vector<RulePack>& ps = set->packs_;

    std::map<std::string, size_t> by_name;
    for (size_t i = 0; i < ps.size(); ++i) {
      auto [it, inserted] = by_name.emplace(ps[i].name, i);
      if (!inserted) {
        const SourceMark first = PackMark(ps[it->second]);
        errors->push_back(Diagnostic{
            PackMark(ps[i]), fmt::format("pack name '{}' is already used by {}:{}:{}", ps[i].name,
                                         first.file, first.line, first.column)});
      }
    }

    set->event_types_ = BuiltinEventTypes();
    std::map<std::string, std::pair<size_t, std::string>> declared;  // type -> (pack, canonical)
    for (size_t i = 0; i < ps.size(); ++i) {
      for (const EventTypeSpec& t : ps[i].events) {
        if (set->EventTypeIndex(t.type) >= 0 && declared.find(t.type) == declared.end()) {
          errors->push_back(Diagnostic{
              MarkOr(t.mark, ps[i]),
              fmt::format("event type '{}' is built in and cannot be redeclared", t.type)});
          continue;
        }
        std::string canonical = CanonicalText(t);
        auto [it, inserted] = declared.emplace(t.type, std::make_pair(i, canonical));
        if (inserted) {
          EventTypeSpec copy = t;
          copy.builtin = false;
          set->event_types_.push_back(std::move(copy));
        } else if (it->second.second != canonical) {
          const RulePack& other = ps[it->second.first];
          int idx = set->EventTypeIndex(t.type);
          const SourceMark om = MarkOr(set->event_types_[static_cast<size_t>(idx)].mark, other);
          errors->push_back(Diagnostic{
              MarkOr(t.mark, ps[i]),
              fmt::format("event type '{}' is declared differently by pack '{}' ({}:{}:{}); a "
                          "type declared by several packs must be declared identically",
                          t.type, other.name, om.file, om.line, om.column)});
        }
      }
    }

    std::map<std::pair<size_t, std::string>, int> indicator_index;
    for (size_t i = 0; i < ps.size(); ++i) {
      for (const IndicatorSpec& spec : ps[i].indicators) {
        if (!spec.is_reference() && set->EventTypeIndex(spec.event) < 0) {
          errors->push_back(Diagnostic{
              MarkOr(spec.mark, ps[i]),
              fmt::format("indicator '{}' counts unknown event type '{}'", spec.id, spec.event)});
        }
        RuleSet::Indicator ind;
        ind.pack = static_cast<int>(i);
        ind.spec = &spec;
        ind.key = ps[i].name + "/" + spec.id;
        indicator_index.emplace(std::make_pair(i, spec.id),
                                static_cast<int>(set->indicators_.size()));
        set->indicators_.push_back(std::move(ind));
      }
    }
    for (size_t i = 0; i < ps.size(); ++i) {
      for (const RuleSpec& spec : ps[i].rules) {
        RuleSet::Rule rule;
        rule.pack = static_cast<int>(i);
        rule.spec = &spec;
        for (const ConditionSpec& c : spec.conditions) {
          auto it = indicator_index.find(std::make_pair(i, c.indicator));
          if (it == indicator_index.end()) {
            errors->push_back(Diagnostic{
                MarkOr(c.mark, ps[i]),
                fmt::format("rule '{}' reads unknown indicator '{}'", spec.id, c.indicator)});
            rule.condition_indicator.push_back(-1);
            continue;
          }
          rule.condition_indicator.push_back(it->second);
          if (c.measure == Measure::kTrendRatio) {
            set->indicators_[static_cast<size_t>(it->second)].uses_trend = true;
          }
        }
        set->rules_.push_back(std::move(rule));
      }
    }
    for (RuleSet::Indicator& ind : set->indicators_) {
      ind.history_ms =
          ind.spec->is_reference() ? 0 : ind.spec->window.ms() * (ind.uses_trend ? 5 : 1);
    }
    std::string versions;
    for (const RulePack& p : ps) versions += p.version + "\n";
    set->version_ = Sha256Hex(versions).substr(0, 16);
    if (!errors->empty()) return nullptr;
    return set;
  }
};

RuleSetLoadResult BuildRuleSet(std::vector<RulePack> packs) {
  RuleSetLoadResult result;
  result.rule_set = RuleSetBuilder::Build(std::move(packs), &result.errors);
  return result;
}

RuleSetLoadResult LoadRuleSet(const std::vector<std::string>& paths, const LoadOptions& options) {
  RuleSetLoadResult result;
  std::vector<RulePack> packs;
  for (const std::string& path : paths) {
    PackLoadResult loaded = LoadRulePackFile(path, options);
    for (Diagnostic& d : loaded.errors) result.errors.push_back(std::move(d));
    if (loaded.pack) packs.push_back(std::move(*loaded.pack));
  }
  if (paths.empty()) {
    result.errors.push_back(Diagnostic{SourceMark{"<rules>", 1, 1}, "no rule pack given"});
  }
  // Cross-pack checks run on the packs that loaded, so one run shows everything.
  std::vector<Diagnostic> cross;
  auto set = RuleSetBuilder::Build(std::move(packs), &cross);
  for (Diagnostic& d : cross) result.errors.push_back(std::move(d));
  if (result.errors.empty()) result.rule_set = std::move(set);
  return result;
}

}  // namespace zicht::rules
