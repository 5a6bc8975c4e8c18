// TestFileParser: events (inline, repeated, from files), backgrounds and evaluation times.
#include <simdjson.h>

#include "test_file_parser.h"
#include "zicht/base/file.h"

namespace zicht::tools::rule_test {

std::vector<BackgroundSpec> TestFileParser::ParseBackground(const Entry& e) {
  std::vector<BackgroundSpec> out;
  if (e.value.IsSequence() && e.value.size() == 0) return out;  // `background: []`: none
  for (const YAML::Node& item : Items(e)) {
    BackgroundSpec b;
    b.line = diag_->Mark(item).line;
    MapView m(*diag_, item, {"type", "per_1000_per_day", "from", "to", "fields", "except", "only"},
              "a background");
    const rules::EventTypeSpec* type = nullptr;
    if (const auto* t = m.Find("type")) {
      if (auto s = Text(*diag_, *t)) {
        b.type = *s;
        type = EventType(*s);
        if (type == nullptr) {
          std::vector<std::string> names;
          for (const auto& et : plan_->rule_set().event_types()) names.push_back(et.type);
          diag_->Error(t->value, yaml::UnknownName("event type", *s, names));
        }
      }
    } else {
      diag_->Error(item, "a background needs 'type'");
    }
    if (const auto* r = m.Find("per_1000_per_day")) {
      if (auto v = Number(*diag_, *r)) {
        if (*v <= 0) diag_->Error(r->value, "'per_1000_per_day' must be above 0");
        b.per_1000_per_day = *v;
      }
    } else {
      diag_->Error(item,
                   "a background needs 'per_1000_per_day': events per 1000 inhabitants per day");
    }
    const auto* from = m.Find("from");
    const auto* to = m.Find("to");
    if (from == nullptr || to == nullptr) {
      diag_->Error(item, "a background needs 'from' and 'to' (a date 'to' includes that day)");
    } else {
      auto f = TimeOf(*diag_, *from, false);
      auto t = TimeOf(*diag_, *to, true);
      if (f && t) {
        b.from = *f;
        b.to = *t + 1;
        if (b.from >= b.to) diag_->Error(to->value, "'to' must be after 'from'");
      }
    }
    std::set<std::string> given;
    if (const auto* f = m.Find("fields")) {
      if (!f->value.IsMap()) {
        diag_->Error(f->value_mark, "'fields' must be a mapping of field values");
      } else {
        MapView fm(*diag_, f->value, {}, "fields");
        for (const Entry& fe : fm.entries()) {
          given.insert(fe.key);
          if (fe.key == "type" || fe.key == "id" || fe.key == "time" || fe.key == "municipality") {
            diag_->Error(fe.key_mark, fmt::format("'{}' is set by the background itself", fe.key));
            continue;
          }
          std::vector<std::string> values;
          for (const YAML::Node& v : ScalarList(*diag_, fe)) {
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
          diag_->Error(
              item, fmt::format("the background of {} needs a value for its field '{}' in 'fields'",
                                type->type, f.name));
        }
      }
    }
    const size_t n = plan_->municipalities().size();
    b.include.assign(n, true);
    if (const auto* o = m.Find("only")) {
      b.include.assign(n, false);
      for (const YAML::Node& v : ScalarList(*diag_, *o)) {
        std::string code = MunicipalityCode(v);
        if (!code.empty()) b.include[static_cast<size_t>(MunicipalityIndexOf(code))] = true;
      }
    }
    if (const auto* x = m.Find("except")) {
      for (const YAML::Node& v : ScalarList(*diag_, *x)) {
        std::string code = MunicipalityCode(v);
        if (!code.empty()) b.include[static_cast<size_t>(MunicipalityIndexOf(code))] = false;
      }
    }
    out.push_back(std::move(b));
  }
  return out;
}

void TestFileParser::CheckEventMunicipality(const YAML::Node& event) {
  const YAML::Node m = event["municipality"];
  if (!m || !m.IsScalar() || MunicipalityIndexOf(m.Scalar()) >= 0) return;
  auto it = municipality_by_name_.find(m.Scalar());
  if (it != municipality_by_name_.end()) {
    diag_->Error(m, fmt::format("events carry the CBS code of a municipality: write {} for {}",
                                it->second, m.Scalar()));
  }
}

void TestFileParser::AddEvent(std::string json, std::optional<TimeMs> time, int line,
                              std::vector<EventItem>* out) {
  EventItem item;
  item.sort_time = time ? *time : (out->empty() ? kMinTime : out->back().sort_time);
  item.json = std::move(json);
  item.source = fs::path(path_).filename().string();
  item.line = line;
  out->push_back(std::move(item));
}

void TestFileParser::ParseEvents(const Entry& e, std::vector<EventItem>* out) {
  if (!e.value.IsSequence()) {
    diag_->Error(e.value_mark, "'events' must be a list of events");
    return;
  }
  for (const YAML::Node& item : e.value) {
    if (!item.IsMap()) {
      diag_->Error(item, fmt::format("an event must be a mapping, not {}", KindOf(item)));
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
    AddEvent(std::move(json), time, diag_->Mark(item).line, out);
  }
}

void TestFileParser::ParseRepeat(const YAML::Node& item, std::vector<EventItem>* out) {
  MapView m(*diag_, item, {"repeat", "every", "event", "cycle"}, "a repeated event");
  std::optional<int64_t> n;
  if (const auto* r = m.Find("repeat")) n = Integer(*diag_, *r, 1);
  TimeMs every = kMsPerDay;
  if (const auto* e = m.Find("every")) {
    if (auto d = DurationMs(*diag_, *e)) every = *d;
  }
  const auto* ev = m.Find("event");
  if (ev == nullptr || !ev->value.IsMap()) {
    diag_->Error(ev == nullptr ? item : ev->value,
                 "a repeated event needs 'event': the event to repeat");
    return;
  }
  MapView fields(*diag_, ev->value, {}, "the repeated event");
  const auto* time = fields.Find("time");
  std::optional<TimeMs> start;
  if (time != nullptr && time->value.IsScalar()) start = ParseRfc3339(time->value.Scalar());
  if (!start) {
    diag_->Error(time == nullptr ? ev->value : time->value,
                 "a repeated event needs a 'time' in RFC 3339 (the first repetition's)");
    return;
  }
  CheckEventMunicipality(ev->value);
  const auto* id = fields.Find("id");
  if (id != nullptr && n && *n > 1 &&
      (!id->value.IsScalar() || id->value.Scalar().find("{i}") == std::string::npos)) {
    diag_->Error(id->value,
                 "the id of a repeated event needs '{i}' (replaced by 1, 2, ...) so that "
                 "the events are not duplicates");
    return;
  }
  std::vector<std::pair<std::string, std::vector<YAML::Node>>> cycle;
  if (const auto* c = m.Find("cycle")) {
    if (!c->value.IsMap()) {
      diag_->Error(c->value_mark, "'cycle' must map fields to lists of values");
    } else {
      MapView cm(*diag_, c->value, {}, "cycle");
      for (const Entry& ce : cm.entries()) {
        if (!ce.value.IsSequence() || ce.value.size() == 0) {
          diag_->Error(ce.value_mark,
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
    diag_->Error(item, fmt::format("repeat {} is more than the {} events a case may have", *n,
                                   options_.max_events));
    return;
  }
  const int line = diag_->Mark(item).line;
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
    for (const Entry& f : fields.entries()) {
      key(f.key);
      auto cyc =
          std::find_if(cycle.begin(), cycle.end(), [&](const auto& c) { return c.first == f.key; });
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

void TestFileParser::ReadEventsFile(const YAML::Node& node, std::vector<EventItem>* out) {
  const std::string path = Resolve(node.Scalar());
  auto text = ReadFileToString(path);
  if (!text.ok()) {
    diag_->Error(node,
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
      diag_->Error(node, fmt::format("'{}' has more than the {} events a case may have", path,
                                     options_.max_events));
      return;
    }
  }
}

void TestFileParser::ParseEvalAt(const Entry& e, std::vector<TimeMs>* out) {
  std::vector<YAML::Node> items;
  if (e.value.IsSequence()) {
    for (const YAML::Node& v : e.value) items.push_back(v);
  } else {
    items.push_back(e.value);
  }
  for (const YAML::Node& item : items) {
    if (item.IsScalar()) {
      auto t = yaml::ParseTimeOrDate(item.Scalar(), false);
      if (!t) {
        diag_->Error(item, fmt::format("an evaluation time must be RFC 3339 or a date, not '{}'",
                                       item.Scalar()));
        continue;
      }
      out->push_back(*t);
    } else if (item.IsMap()) {
      MapView m(*diag_, item, {"from", "to", "every"}, "an evaluation range");
      const auto* from = m.Find("from");
      const auto* to = m.Find("to");
      if (from == nullptr || to == nullptr) {
        diag_->Error(item,
                     "an evaluation range needs 'from', 'to' and optionally 'every' (default 1d)");
        continue;
      }
      auto f = TimeOf(*diag_, *from, false);
      auto t = TimeOf(*diag_, *to, true);
      TimeMs every = kMsPerDay;
      if (const auto* ev = m.Find("every")) {
        if (auto d = DurationMs(*diag_, *ev)) every = *d;
      }
      if (!f || !t) continue;
      if ((*t - *f) / every > 100000) {
        diag_->Error(item, "an evaluation range of more than 100000 times");
        continue;
      }
      for (TimeMs x = *f; x <= *t; x += every) out->push_back(x);
    } else {
      diag_->Error(item,
                   fmt::format("an evaluation time must be a time or {{from, to, every}}, not {}",
                               KindOf(item)));
    }
  }
  std::sort(out->begin(), out->end());
}

}  // namespace zicht::tools::rule_test
