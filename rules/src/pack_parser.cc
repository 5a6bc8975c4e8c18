// PackParser: the pack as a whole, its metadata and declared event types, and
// the history check over all indicators.
#include "pack_parser.h"

#include <filesystem>
#include <set>

namespace zicht::rules::parse {

void PackParser::Parse(const YAML::Node& root) {
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

void PackParser::ParseMetadata(const Entry& meta) {
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

void PackParser::ParseEvents(const Entry& list) {
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

std::optional<FieldSpec> PackParser::ParseField(const Entry& e) {
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
    ctx_.Error(
        e.key_mark,
        fmt::format("'{}' is an envelope field (type, id, time, municipality, neighbourhood) and "
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
        ctx_.Error(values->key_mark, fmt::format("'values' is only for string fields; '{}' is a {}",
                                                 f.name, FieldTypeName(*t)));
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

bool PackParser::IsBuiltin(std::string_view type) {
  for (const EventTypeSpec& t : BuiltinEventTypes()) {
    if (t.type == type) return true;
  }
  return false;
}

void PackParser::BuildTypeIndex() {
  for (const EventTypeSpec& t : BuiltinEventTypes()) types_[t.type] = &t;
  for (const EventTypeSpec& t : pack_.events) types_[t.type] = &t;  // events_ is final now
}

bool PackParser::IndicatorIdSeen(std::string_view id) const {
  // An indicator whose id was invalid or duplicate: its own error says enough.
  return std::any_of(pack_.indicators.begin(), pack_.indicators.end(),
                     [&](const IndicatorSpec& i) { return i.id == id; });
}

void PackParser::CheckHistory() {
  for (const auto& [id, info] : indicators_) {
    if (!info.window_mark) continue;
    const IndicatorSpec& spec = pack_.indicators[info.index];
    auto trend = trend_users_.find(id);
    const TimeMs need = spec.window.ms() * (trend != trend_users_.end() ? 5 : 1);
    const TimeMs retention = ctx_.options->retention_ms;
    if (auto yoy = yoy_users_.find(id); yoy != yoy_users_.end()) {
      const TimeMs yoy_need = kYoyLagDays * kMsPerDay + spec.window.ms();
      if (yoy_need > retention) {
        ctx_.Error(*info.window_mark,
                   fmt::format("indicator '{}' needs {} of history (364 days + window {}, "
                               "because {} uses yoy_ratio on it), more than the retention of {}",
                               id, FormatMs(yoy_need), spec.window.ToString(), yoy->second,
                               FormatMs(retention)));
        continue;
      }
    }
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

}  // namespace zicht::rules::parse
