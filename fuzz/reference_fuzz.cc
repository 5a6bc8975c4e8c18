// Fuzz target (c): reference data. The first byte picks the path: the CSV
// reader itself (ParseCsv), the municipality table (MunicipalityTable::Load,
// which reads a file), or a reference indicator's table (read by Plan::Build
// for a pack with `source: { file, column }`). The rest is the file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.h"
#include "zicht/base/csv.h"
#include "zicht/engine/plan.h"
#include "zicht/reference/municipalities.h"
#include "zicht/rules/loader.h"

namespace {

using zicht::engine::MunicipalityTable;

struct Fixture {
  zicht::fuzz::MemoryFile file{"zicht-fuzz-reference"};
  zicht::engine::MunicipalityTablePtr municipalities;
  std::shared_ptr<const zicht::rules::RuleSet> rule_set;  // one reference indicator on `file`
};

Fixture& Get() {
  static Fixture* f = [] {
    auto* out = new Fixture;
    auto table =
        MunicipalityTable::Load(zicht::fuzz::SourcePath("config/reference/municipalities.csv"));
    ZICHT_FUZZ_CHECK(table.ok(), "municipalities load");
    out->municipalities = *table;
    out->file.Write("municipality,share_pct\nGM0363,1\n");
    const std::string pack = R"(apiVersion: zicht/v1
kind: RulePack
metadata: { name: fuzz-reference, theme: fuzz }
indicators:
  - id: youth
    source: { file: )" + out->file.path() +
                             R"(, column: share_pct }
    aggregate: value
rules:
  - id: youth-high
    severity: low
    conditions:
      - { indicator: youth, measure: percentile, op: ">", value: 90 }
)";
    auto loaded = zicht::rules::LoadRulePackText(pack, "fuzz-reference.yaml");
    ZICHT_FUZZ_CHECK(loaded.pack.has_value(), "the fixed reference pack loads");
    auto set = zicht::rules::BuildRuleSet({*loaded.pack});
    ZICHT_FUZZ_CHECK(set.rule_set != nullptr, "the fixed reference rule set builds");
    out->rule_set = set.rule_set;
    return out;
  }();
  return *f;
}

void CheckTable(const MunicipalityTable& t) {
  ZICHT_FUZZ_CHECK(t.size() >= 1 && t.size() <= 9999, "table size");
  int64_t total = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    const auto& m = t.at(i);
    ZICHT_FUZZ_CHECK(t.IndexOf(m.code) == static_cast<int>(i), "code lookup finds its row");
    ZICHT_FUZZ_CHECK(m.population > 0 && !m.name.empty(), "population and name");
    ZICHT_FUZZ_CHECK(total <= INT64_MAX - m.population, "population total does not overflow");
    total += m.population;
  }
  ZICHT_FUZZ_CHECK(t.total_population() == total, "total population");
}

}  // namespace

extern "C" int ZICHT_FUZZ_ENTRY(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Fixture& f = Get();
  const int mode = data[0] % 3;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (mode) {
    case 0: {
      zicht::CsvOptions options;
      options.max_fields = 16;
      options.max_bytes = 1 << 16;
      auto csv = zicht::ParseCsv(text, "fuzz.csv", options);
      if (csv.ok()) {
        ZICHT_FUZZ_CHECK(csv->header.size() <= 16, "field limit");
        int last = 0;
        for (const auto& row : csv->rows) {
          ZICHT_FUZZ_CHECK(row.fields.size() == csv->header.size(), "rows as wide as the header");
          ZICHT_FUZZ_CHECK(row.line > last, "row lines increase");
          last = row.line;
        }
      } else {
        ZICHT_FUZZ_CHECK(csv.status().message().rfind("fuzz.csv:", 0) == 0, "error names the file");
      }
      break;
    }
    case 1: {
      auto table = MunicipalityTable::Load(f.file.Write(text));
      if (table.ok()) CheckTable(**table);
      break;
    }
    case 2: {
      f.file.Write(text);
      auto plan = zicht::engine::Plan::Build(f.rule_set, f.municipalities);
      if (plan.ok()) {
        ZICHT_FUZZ_CHECK((*plan)->references().size() == 1, "one reference table");
        ZICHT_FUZZ_CHECK(
            (*plan)->references()[0].by_municipality.size() == f.municipalities->size(),
            "a value slot per municipality");
      }
      break;
    }
  }
  return 0;
}
