// RuleSet: the packs the engine runs, checked together and indexed.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "zicht/base/sha256.h"
#include "zicht/rules/loader.h"

namespace zicht::rules {

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
          RuleSet::Indicator& read = set->indicators_[static_cast<size_t>(it->second)];
          if (c.measure == Measure::kTrendRatio) read.uses_trend = true;
          if (c.measure == Measure::kYoyRatio) read.uses_yoy = true;
          if (c.measure == Measure::kQValue) read.uses_q = true;
        }
        set->rules_.push_back(std::move(rule));
      }
    }
    for (RuleSet::Indicator& ind : set->indicators_) {
      if (ind.spec->is_reference()) continue;
      ind.history_ms = ind.spec->window.ms() * (ind.uses_trend ? 5 : 1);
      if (ind.uses_yoy) {
        ind.history_ms = std::max(ind.history_ms, kYoyLagDays * kMsPerDay + ind.spec->window.ms());
      }
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
