// PackParser: indicators (event and reference), where-clauses and reference sources.
#include <filesystem>
#include <set>

#include "pack_parser.h"

namespace zicht::rules::parse {

void PackParser::ParseIndicators(const Entry& list) {
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

void PackParser::ParseIndicator(const YAML::Node& item) {
  MapView m(ctx_, item,
            {"id", "title", "description", "event", "aggregate", "where", "field", "window", "per",
             "source", "baseline", "level"});
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
  if (const Entry* e = m.Find("baseline")) ParseBaseline(*e, &spec.baseline);
  if (const Entry* e = m.Find("level")) {
    spec.level_mark = e->value_mark;
    if (auto level = Enum(ctx_, *e, kLevels)) spec.level = *level;
    if (spec.level == Level::kNeighbourhood && spec.is_reference()) {
      ctx_.Error(e->value_mark,
                 "'level: neighbourhood' does not apply to a reference indicator (with "
                 "'source'): its table has one figure per municipality");
    }
  }
  if (register_id) indicators_.emplace(spec.id, info);
  pack_.indicators.push_back(std::move(spec));
}

void PackParser::ParseBaseline(const Entry& e, Baseline* out) {
  out->mark = e.value_mark;
  static constexpr std::string_view kForms =
      "national, leave_one_out or {peers: COLUMN} (a column of the municipalities file)";
  if (e.value.IsScalar()) {
    const std::string& t = e.value.Scalar();
    if (t == "national") {
      out->kind = BaselineKind::kNational;
    } else if (t == "leave_one_out") {
      out->kind = BaselineKind::kLeaveOneOut;
    } else if (t == "peers") {
      ctx_.Error(e.value_mark,
                 "baseline 'peers' needs the column that defines the groups: "
                 "{peers: urbanisation}");
    } else {
      std::string hint = Closest(t, std::vector<std::string>{"national", "leave_one_out"});
      ctx_.Error(e.value_mark,
                 fmt::format("unknown baseline '{}' (expected {}){}", Show(t), kForms,
                             hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint)));
    }
    return;
  }
  if (!e.value.IsMap()) {
    ctx_.Error(e.value_mark, fmt::format("baseline must be {}, not {}", kForms, KindOf(e.value)));
    return;
  }
  MapView m(ctx_, e.value, {"peers"});
  const Entry* peers = m.Require("peers", "baseline");
  if (peers == nullptr) return;
  auto column = Text(ctx_, *peers);
  if (!column) return;
  if (column->empty()) {
    ctx_.Error(peers->value_mark, "'peers' must name a column of the municipalities file");
    return;
  }
  out->kind = BaselineKind::kPeers;
  out->column = *column;
  out->mark = peers->value_mark;
  const auto& known = ctx_.options->municipality_columns;
  if (known && std::find(known->begin(), known->end(), *column) == known->end()) {
    std::string hint = Closest(*column, *known);
    ctx_.Error(peers->value_mark,
               fmt::format("the municipalities file has no column '{}' ({})", Show(*column),
                           hint.empty() ? fmt::format("columns: {}", JoinNames(*known))
                                        : fmt::format("did you mean '{}'?", hint)));
  }
}

void PackParser::ParseEventIndicator(const MapView& m, const std::string& what,
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
        ctx_.Error(e->value_mark, hint.empty()
                                      ? fmt::format("unknown event type '{}' (declare it under "
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
            ctx_.Error(e->value_mark,
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

SourceMark PackParser::agg_mark(const MapView& m) {
  const Entry* e = m.Find("aggregate");
  return e != nullptr ? e->value_mark : m.mark();
}

const FieldSpec* PackParser::FindField(const EventTypeSpec& type, std::string_view name,
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

std::optional<FilterClause> PackParser::ParseClause(const Entry& clause,
                                                    const EventTypeSpec* type) {
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
      ctx_.Error(
          clause.value_mark,
          fmt::format("'{}' has an empty list of values, which matches nothing", Show(clause.key)));
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
      ctx_.Error(vm, fmt::format("a value of '{}' must be a single value, not {}", Show(clause.key),
                                 KindOf(v)));
      ok = false;
      continue;
    }
    std::string text = v.Scalar();
    if (field != nullptr) {
      switch (field->type) {
        case FieldType::kString:
          if (!field->values.empty() &&
              std::find(field->values.begin(), field->values.end(), text) == field->values.end()) {
            std::string hint = Closest(text, field->values);
            ctx_.Error(vm,
                       fmt::format("'{}' is not a value of {}.{} ({}){}", Show(text), type->type,
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

void PackParser::ParseSource(const Entry& src, ReferenceSource* out) {
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
    ctx_.Error(file->value_mark,
               fmt::format("reference file '{}' not found (tried {})", Show(*f), JoinNames(tried)));
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
    ctx_.Error(column->value_mark,
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

std::optional<std::string> PackParser::ResolveReference(const std::string& file,
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
    fs::path dir = fs::path(ctx_.file()).parent_path();
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

}  // namespace zicht::rules::parse
