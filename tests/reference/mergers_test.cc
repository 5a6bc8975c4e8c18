// MergerTable: loading municipal mergers against the municipality table, and
// the extended table (added rows, aliases, steps) the engine works with.
#include "zicht/reference/mergers.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "temp_file.h"

namespace zicht::reference {
namespace {

constexpr const char* kHeader = "effective,old_code,new_code,new_name\n";

using testing_files::Write;

// Four municipalities with an extra column, so that cells can be followed.
MunicipalityTablePtr Munis() {
  const std::string path = Write("mg-munis.csv",
                                 "code,name,province,population,households,year,riec_region\n"
                                 "GM0001,Aa,P1,1000,400,2024,R1\n"
                                 "GM0002,Bee,P2,500,,2024,R2\n"
                                 "GM0003,Cee,P3,250,,2024,R3\n"
                                 "GM0363,Amsterdam,Noord-Holland,931298,,2024,R4\n");
  auto t = MunicipalityTable::Load(path);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return *t;
}

MergerTablePtr LoadOk(const std::string& name, const std::string& rows,
                      const MunicipalityTable& munis) {
  auto t = MergerTable::Load(Write(name, kHeader + rows), munis);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : nullptr;
}

MergerTable::Extended ExtendOk(const MergerTable& mergers, const MunicipalityTable& munis) {
  auto e = mergers.Extend(munis);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(*e) : MergerTable::Extended{};
}

TEST(MergerTableTest, EmptyAndHeaderOnlyFilesAreEmptyTables) {
  auto munis = Munis();
  for (const char* text : {"", "\n\n", "\r\n", "effective,old_code,new_code,new_name\n",
                           "effective,old_code,new_code,new_name\r\n\r\n",
                           "\xEF\xBB\xBF"
                           "effective,old_code,new_code,new_name"}) {
    const std::string path = Write("mg-empty.csv", text);
    auto t = MergerTable::Load(path, *munis);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_TRUE((*t)->empty());
    EXPECT_EQ((*t)->source(), path);
    auto e = ExtendOk(**t, *munis);
    ASSERT_NE(e.municipalities, nullptr);
    EXPECT_EQ(e.municipalities->size(), munis->size());
    EXPECT_TRUE(e.steps.empty());
  }
  EXPECT_FALSE(MergerTable::Load(testing::TempDir() + "/mg-missing.csv", *munis).ok());
}

TEST(MergerTableTest, TheShippedFileLoadsAgainstTheShippedMunicipalities) {
  const std::string ref = std::string(ZICHT_SOURCE_DIR) + "/config/reference/";
  auto munis = MunicipalityTable::Load(ref + "municipalities.csv");
  ASSERT_TRUE(munis.ok()) << munis.status().ToString();
  auto t = MergerTable::Load(ref + "mergers.csv", **munis);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto e = ExtendOk(**t, **munis);
  ASSERT_NE(e.municipalities, nullptr);
  // The real 2021-2023 mergers: every new code is in the 2024 file and no old
  // one is, so nothing is added and every old code is an alias.
  EXPECT_EQ((*t)->rows().size(), 17u);
  EXPECT_EQ(e.municipalities->size(), (*munis)->size());
  EXPECT_EQ(e.steps.size(), 7u);
  EXPECT_EQ(e.municipalities->IndexOf("GM0457"), e.municipalities->IndexOf("GM0363"));  // Weesp
  EXPECT_EQ(e.municipalities->IndexOf("GM0501"), e.municipalities->IndexOf("GM1992"));
  for (const MergerStep& step : e.steps) EXPECT_TRUE(step.old_units.empty()) << step.key;
}

struct BadCase {
  const char* row;       // line 3, after "2025-01-01,GM0001,GM1992,Nieuw" on line 2
  std::string expected;  // the message after "path"
};

TEST(MergerTableTest, ErrorsNameFileLineAndColumn) {
  auto munis = Munis();
  const std::string munis_source = munis->source();
  // Columns: effective 1, old_code 12, new_code 19, new_name 26.
  const BadCase cases[] = {
      {"2025-02-30,GM0002,GM1993,X",
       ":3:1: effective '2025-02-30' is not a calendar date YYYY-MM-DD"},
      {"2023-02-29,GM0002,GM1993,X",
       ":3:1: effective '2023-02-29' is not a calendar date YYYY-MM-DD"},
      {"2025-13-01,GM0002,GM1993,X",
       ":3:1: effective '2025-13-01' is not a calendar date YYYY-MM-DD"},
      {"2025-1-01,GM0002,GM1993,X", ":3:1: effective '2025-1-01' is not a calendar date"},
      {"0000-01-01,GM0002,GM1993,X", ":3:1: effective '0000-01-01' is not a calendar date"},
      {"2025-01-00,GM0002,GM1993,X", ":3:1: effective '2025-01-00' is not a calendar date"},
      {"2025/01/01,GM0002,GM1993,X", ":3:1: effective '2025/01/01' is not a calendar date"},
      {"2025-01-01T00:00:00Z,GM0002,GM1993,X", ":3:1: effective '2025-01-01T00:00:00Z' is not"},
      {"2025-01-01,GM02,GM1993,X", ":3:12: 'GM02' is not a CBS code (GM + 4 digits)"},
      {"2025-01-01,GM0002,gm1993,X", ":3:19: 'gm1993' is not a CBS code (GM + 4 digits)"},
      {"2025-01-01,GM0002,GM0002,X", ":3:19: old code GM0002 is its own new code"},
      {"2025-01-01,GM0002,GM1993,", ":3:26: empty new_name"},
      {"2026-01-01,GM0001,GM1993,X", ":3:12: old code GM0001 merged twice (first on line 2)"},
      {"2026-01-01,GM0002,GM1992,Nieuw",
       ":3:1: new code GM1992 has two dates: 2026-01-01 and 2025-01-01 (line 2)"},
      {"2025-01-01,GM0002,GM1992,Anders",
       ":3:26: new code GM1992 has two names: 'Anders' and 'Nieuw' (line 2)"},
      {"2026-01-01,GM1992,GM0001,Aa", ":3:19: cycle: GM1992 -> GM0001 -> GM1992"},
      {"2024-01-01,GM1992,GM1993,X",
       ":3:12: new code GM1992 clashes: it is merged away on 2024-01-01, on or before the day it "
       "is created (2025-01-01, line 2)"},
      {"2025-01-01,GM1992,GM1993,X",
       ":3:12: new code GM1992 clashes: it is merged away on 2025-01-01, on or before the day it "
       "is created (2025-01-01, line 2)"},
      {"2025-01-01,GM0002,GM0003,Andere",
       ":3:26: new code GM0003 clashes: it is 'Cee' in " + munis_source + ", not 'Andere'"},
      {"2025-01-01,GM8001,GM1993,X", ":3:19: new code GM1993 has no population: it is not in"},
      {"2025-01-01,GM0002,GM1993", ":3:1: expected 4 fields, found 3"},
      {"2025-01-01,GM0002,GM1993,X,Y", ":3:1: expected 4 fields, found 5"},
  };
  for (const BadCase& c : cases) {
    const std::string path = Write(
        "mg-bad.csv", std::string(kHeader) + "2025-01-01,GM0001,GM1992,Nieuw\n" + c.row + "\n");
    auto t = MergerTable::Load(path, *munis);
    ASSERT_FALSE(t.ok()) << c.row;
    EXPECT_NE(t.status().message().find(path + c.expected), std::string::npos)
        << c.row << "\n"
        << t.status().message();
  }
}

TEST(MergerTableTest, NoPopulationNamesTheOldCodes) {
  auto munis = Munis();
  const std::string path = Write("mg-nopop.csv", std::string(kHeader) +
                                                     "2025-01-01,GM8002,GM1993,X\n"
                                                     "2025-01-01,GM8001,GM1993,X\n");
  auto t = MergerTable::Load(path, *munis);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            path + ":2:19: new code GM1993 has no population: it is not in " + munis->source() +
                " and none of its old codes (GM8001, GM8002) has a row there or is a new code "
                "before it");
}

TEST(MergerTableTest, HeaderErrors) {
  auto munis = Munis();
  const std::pair<const char*, const char*> cases[] = {
      {"effective,old,new_code,new_name\n",
       ":1:11: column 'old' where 'old_code' belongs (the header is "
       "effective,old_code,new_code,new_name)"},
      {"effective,old_code,new_code,name\n", ":1:29: column 'name' where 'new_name' belongs"},
      {"effective,old_code,new_code\n",
       ":1:1: the header has 3 columns, expected effective,old_code,new_code,new_name"},
      {"effective,old_code,new_code,new_name,note\n", ":1:1: the header has 5 columns"},
      {"old_code,effective,new_code,new_name\n", ":1:1: column 'old_code' where 'effective'"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string path = Write("mg-header.csv", text);
    auto t = MergerTable::Load(path, *munis);
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_NE(t.status().message().find(path + expected), std::string::npos)
        << t.status().message();
  }
}

TEST(MergerTableTest, ACycleOverThreeStepsIsReportedAtTheRowClosingIt) {
  auto munis = Munis();
  const std::string path = Write("mg-cycle.csv", std::string(kHeader) +
                                                     "2024-01-01,GM0001,GM1990,B\n"
                                                     "2025-01-01,GM1990,GM1991,C\n"
                                                     "2026-01-01,GM1991,GM0001,Aa\n");
  auto t = MergerTable::Load(path, *munis);
  ASSERT_FALSE(t.ok());
  // Also a chain that runs back in time; the cycle is checked first.
  EXPECT_EQ(t.status().message(), path + ":4:19: cycle: GM1991 -> GM0001 -> GM1990 -> GM1991");
}

TEST(MergerTableTest, EmptyLinesAndCrlfAreTolerated) {
  auto munis = Munis();
  const std::string path = Write("mg-crlf.csv",
                                 "effective,old_code,new_code,new_name\r\n"
                                 "\r\n"
                                 "2025-01-01,GM0001,GM1992,\"Nieuw, met komma\"\r\n"
                                 "\r\n"
                                 "2025-01-01,GM0002,GM1992,\"Nieuw, met komma\"\r\n");
  auto t = MergerTable::Load(path, *munis);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ((*t)->rows().size(), 2u);
  EXPECT_EQ((*t)->rows()[0].line, 3);
  EXPECT_EQ((*t)->rows()[1].line, 5);
  EXPECT_EQ((*t)->rows()[1].new_name, "Nieuw, met komma");
  EXPECT_EQ((*t)->rows()[1].effective, "2025-01-01");
  EXPECT_EQ((*t)->rows()[1].effective_day, 20089);  // 2025-01-01 is day 20089 since 1970-01-01
}

TEST(MergerTableTest, RowsAreOrderedByDayNewCodeAndOldCode) {
  auto munis = Munis();
  auto t = LoadOk("mg-order.csv",
                  "2026-01-01,GM0363,GM1995,Groot\n"
                  "2025-01-01,GM0003,GM1994,Z\n"
                  "2025-01-01,GM0002,GM1993,Y\n"
                  "2025-01-01,GM0001,GM1994,Z\n",
                  *munis);
  ASSERT_NE(t, nullptr);
  std::vector<std::string> order;
  for (const MergerRow& r : t->rows())
    order.push_back(r.effective + " " + r.new_code + " " + r.old_code);
  EXPECT_EQ(order,
            (std::vector<std::string>{"2025-01-01 GM1993 GM0002", "2025-01-01 GM1994 GM0001",
                                      "2025-01-01 GM1994 GM0003", "2026-01-01 GM1995 GM0363"}));
  auto e = ExtendOk(*t, *munis);
  ASSERT_EQ(e.steps.size(), 3u);
  EXPECT_EQ(e.steps[0].key, "2025-01-01>GM1993");
  EXPECT_EQ(e.steps[1].key, "2025-01-01>GM1994");
  EXPECT_EQ(e.steps[2].key, "2026-01-01>GM1995");
  EXPECT_EQ(e.steps[2].effective, "2026-01-01");
  EXPECT_EQ(e.steps[2].effective_day, 20089 + 365);
  // Added rows in step order, after the four of the file.
  EXPECT_EQ(e.steps[0].new_unit, 4);
  EXPECT_EQ(e.steps[1].new_unit, 5);
  EXPECT_EQ(e.steps[2].new_unit, 6);
  EXPECT_EQ(e.steps[1].old_units, (std::vector<int>{0, 2}));
}

TEST(MergerTableTest, ExtendAddsANewCodeAfterTheRowsOfTheFile) {
  auto munis = Munis();
  auto t = LoadOk("mg-merge.csv",
                  "2025-01-01,GM0002,GM1992,Nieuw\n"
                  "2025-01-01,GM0001,GM1992,Nieuw\n",
                  *munis);
  ASSERT_NE(t, nullptr);
  auto e = ExtendOk(*t, *munis);
  ASSERT_NE(e.municipalities, nullptr);
  const MunicipalityTable& x = *e.municipalities;
  ASSERT_EQ(x.size(), 5u);
  // The rows, columns and cells of the file are kept, with their indices.
  EXPECT_EQ(x.columns(), munis->columns());
  for (size_t r = 0; r < munis->size(); ++r) {
    EXPECT_EQ(x.at(r).code, munis->at(r).code);
    EXPECT_EQ(x.at(r).population, munis->at(r).population);
    EXPECT_EQ(x.at(r).households, munis->at(r).households);
    for (size_t c = 0; c < munis->columns().size(); ++c) {
      EXPECT_EQ(x.Cell(r, static_cast<int>(c)), munis->Cell(r, static_cast<int>(c)));
    }
    EXPECT_EQ(x.IndexOf(munis->at(r).code), static_cast<int>(r));
  }
  const Municipality& added = x.at(4);
  EXPECT_EQ(added.code, "GM1992");
  EXPECT_EQ(added.name, "Nieuw");
  EXPECT_EQ(added.province, "P1");  // of GM0001, the first old code
  EXPECT_EQ(added.population, 1500);
  EXPECT_FALSE(added.households.has_value());
  EXPECT_EQ(added.year, 2025);
  EXPECT_EQ(x.IndexOf("GM1992"), 4);
  EXPECT_EQ(x.total_population(), munis->total_population() + 1500);
  std::vector<std::string> cells;
  for (size_t c = 0; c < x.columns().size(); ++c)
    cells.emplace_back(x.Cell(4, static_cast<int>(c)));
  EXPECT_EQ(cells, (std::vector<std::string>{"GM1992", "Nieuw", "P1", "1500", "", "2025", "R1"}));
  EXPECT_EQ(x.source(), munis->source());
  ASSERT_EQ(e.steps.size(), 1u);
  const MergerStep& s = e.steps[0];
  EXPECT_EQ(s.key, "2025-01-01>GM1992");
  EXPECT_EQ(s.effective, "2025-01-01");
  EXPECT_EQ(s.effective_day, 20089);
  EXPECT_EQ(s.new_unit, 4);
  EXPECT_TRUE(s.new_unit_added);
  EXPECT_EQ(s.old_units, (std::vector<int>{0, 1}));
}

TEST(MergerTableTest, AnAnnexationIntoAMunicipalityOfTheFileAddsNoRow) {
  auto munis = Munis();
  auto t =
      LoadOk("mg-annex.csv", "2025-01-01,GM0002,GM0001,Aa\n2025-01-01,GM0003,GM0001,Aa\n", *munis);
  ASSERT_NE(t, nullptr);
  auto e = ExtendOk(*t, *munis);
  ASSERT_NE(e.municipalities, nullptr);
  EXPECT_EQ(e.municipalities->size(), 4u);
  // The new code keeps its own row: population and cells of the file.
  EXPECT_EQ(e.municipalities->at(0).population, 1000);
  EXPECT_EQ(e.municipalities->Cell(0, 4), "400");
  ASSERT_EQ(e.steps.size(), 1u);
  EXPECT_EQ(e.steps[0].new_unit, 0);
  EXPECT_FALSE(e.steps[0].new_unit_added);
  EXPECT_EQ(e.steps[0].old_units, (std::vector<int>{1, 2}));
  EXPECT_EQ(e.steps[0].key, "2025-01-01>GM0001");
}

TEST(MergerTableTest, OldCodesWithoutARowAreAliasesOfTheirNewCode) {
  auto munis = Munis();
  // GM8001 into GM0003 (of the file, same name); GM0004 (not in the file,
  // first in code order) and GM0002 into the new GM1994.
  auto t = LoadOk("mg-alias.csv",
                  "2023-01-01,GM8001,GM0003,Cee\n"
                  "2025-01-01,GM0004,GM1994,Vier\n"
                  "2025-01-01,GM0002,GM1994,Vier\n",
                  *munis);
  ASSERT_NE(t, nullptr);
  auto e = ExtendOk(*t, *munis);
  ASSERT_NE(e.municipalities, nullptr);
  const MunicipalityTable& x = *e.municipalities;
  ASSERT_EQ(x.size(), 5u);
  EXPECT_EQ(x.IndexOf("GM8001"), 2);
  EXPECT_EQ(x.IndexOf("GM0004"), 4);
  EXPECT_EQ(x.IndexOf("GM0002"), 1);  // a row of its own: a unit until the step
  EXPECT_EQ(x.at(4).population, 500);
  EXPECT_EQ(x.at(4).province, "P2");  // GM0004 is no unit; GM0002 is the first that is
  EXPECT_EQ(x.Cell(4, 6), "R2");
  EXPECT_EQ(x.aliases(), (std::vector<std::pair<std::string, int>>{{"GM8001", 2}, {"GM0004", 4}}));
  EXPECT_EQ(x.total_population(), munis->total_population() + 500);
  ASSERT_EQ(e.steps.size(), 2u);
  EXPECT_EQ(e.steps[0].key, "2023-01-01>GM0003");
  EXPECT_EQ(e.steps[0].new_unit, 2);
  EXPECT_TRUE(e.steps[0].old_units.empty());
  EXPECT_FALSE(e.steps[0].new_unit_added);
  EXPECT_EQ(e.steps[1].new_unit, 4);
  EXPECT_EQ(e.steps[1].old_units, (std::vector<int>{1}));
  EXPECT_TRUE(e.steps[1].new_unit_added);
}

TEST(MergerTableTest, ChainsSumExtendedPopulations) {
  auto munis = Munis();
  // A -> B on 2024-01-01, then B and GM0002 -> C on 2025-01-01, then a rename
  // of C on 2026-01-01.
  auto t = LoadOk("mg-chain.csv",
                  "2025-01-01,GM1990,GM1991,C\n"
                  "2024-01-01,GM0001,GM1990,B\n"
                  "2026-01-01,GM1991,GM1999,D\n"
                  "2025-01-01,GM0002,GM1991,C\n",
                  *munis);
  ASSERT_NE(t, nullptr);
  auto e = ExtendOk(*t, *munis);
  ASSERT_NE(e.municipalities, nullptr);
  const MunicipalityTable& x = *e.municipalities;
  ASSERT_EQ(x.size(), 7u);
  EXPECT_EQ(x.at(4).code, "GM1990");
  EXPECT_EQ(x.at(4).population, 1000);
  EXPECT_EQ(x.at(4).year, 2024);
  EXPECT_EQ(x.at(5).code, "GM1991");
  EXPECT_EQ(x.at(5).population, 1500);
  EXPECT_EQ(x.at(5).province, "P2");  // GM0002 comes before GM1990
  EXPECT_EQ(x.at(6).code, "GM1999");
  EXPECT_EQ(x.at(6).population, 1500);
  EXPECT_EQ(x.at(6).province, "P2");
  EXPECT_EQ(x.Cell(6, 6), "R2");  // copied from GM1991, copied from GM0002
  EXPECT_TRUE(x.aliases().empty());
  ASSERT_EQ(e.steps.size(), 3u);
  EXPECT_EQ(e.steps[0].old_units, (std::vector<int>{0}));
  EXPECT_EQ(e.steps[1].old_units, (std::vector<int>{1, 4}));
  EXPECT_EQ(e.steps[2].old_units, (std::vector<int>{5}));
  EXPECT_EQ(e.steps[2].key, "2026-01-01>GM1999");
}

TEST(MergerTableTest, AChainThroughAnAliasStillNeedsAPopulation) {
  auto munis = Munis();
  // GM8001 is no unit, so GM1990 has no population, nor has GM1991 after it.
  const std::string path = Write("mg-chain-nopop.csv", std::string(kHeader) +
                                                           "2024-01-01,GM8001,GM1990,B\n"
                                                           "2025-01-01,GM1990,GM1991,C\n");
  auto t = MergerTable::Load(path, *munis);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find(path + ":2:19: new code GM1990 has no population"),
            std::string::npos)
      << t.status().message();
}

TEST(MergerTableTest, FromRowsRunsTheSameChecks) {
  auto munis = Munis();
  auto row = [](std::string effective, std::string old_code, std::string new_code,
                std::string new_name, int line = 0) {
    MergerRow r;
    r.effective = std::move(effective);
    r.old_code = std::move(old_code);
    r.new_code = std::move(new_code);
    r.new_name = std::move(new_name);
    r.line = line;
    return r;
  };
  auto ok = MergerTable::FromRows(
      {row("2025-01-01", "GM0002", "GM1992", "N"), row("2025-01-01", "GM0001", "GM1992", "N")},
      *munis);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)->source(), "mergers");
  ASSERT_EQ((*ok)->rows().size(), 2u);
  EXPECT_EQ((*ok)->rows()[0].old_code, "GM0001");
  EXPECT_EQ((*ok)->rows()[0].effective_day, 20089);

  auto leap = MergerTable::FromRows({row("2024-02-29", "GM0001", "GM1992", "N")}, *munis);
  ASSERT_TRUE(leap.ok()) << leap.status().ToString();
  EXPECT_EQ((*leap)->rows()[0].effective_day, 20089 - 307);  // 307 days before 2025-01-01

  auto bad = MergerTable::FromRows({row("2025-02-30", "GM0001", "GM1992", "N")}, *munis, "test");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "test: effective '2025-02-30' is not a calendar date YYYY-MM-DD");
  auto twice = MergerTable::FromRows(
      {row("2025-01-01", "GM0001", "GM1992", "N"), row("2026-01-01", "GM0001", "GM1993", "M")},
      *munis);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().message(),
            "mergers: old code GM0001 merged twice (first on the row GM0001 -> GM1992)");
  // Rows that carry a line are reported at it.
  auto lined = MergerTable::FromRows({row("2025-01-01", "GM0001", "GM19", "N", 7)}, *munis, "f");
  ASSERT_FALSE(lined.ok());
  EXPECT_EQ(lined.status().message(), "f:7:19: 'GM19' is not a CBS code (GM + 4 digits)");
}

TEST(MergerTableTest, ExtendAgainstAnotherTableReportsWhatNoLongerHolds) {
  auto munis = Munis();
  auto t = LoadOk("mg-other.csv", "2025-01-01,GM0001,GM1992,Nieuw\n", *munis);
  ASSERT_NE(t, nullptr);
  auto other = MunicipalityTable::FromRows({Municipality{"GM0002", "Bee", "P2", 500, {}, 2024}});
  ASSERT_TRUE(other.ok());
  auto e = t->Extend(**other);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find(":2:19: new code GM1992 has no population"),
            std::string::npos)
      << e.status().message();
}

TEST(MunicipalityAliasTest, AliasesLookUpTheirRow) {
  std::vector<Municipality> rows = {{"GM0001", "Aa", "P", 10, {}, 2024},
                                    {"GM0002", "Bee", "P", 20, {}, 2024}};
  auto t = MunicipalityTable::FromRows(rows, "src", {}, {}, {{"GM0501", 1}, {"GM0614", 1}});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->size(), 2u);
  EXPECT_EQ((*t)->IndexOf("GM0501"), 1);
  EXPECT_EQ((*t)->IndexOf("GM0614"), 1);
  EXPECT_EQ((*t)->IndexOf("GM0002"), 1);
  EXPECT_EQ((*t)->IndexOf("GM0003"), -1);
  EXPECT_EQ((*t)->total_population(), 30);
  EXPECT_EQ((*t)->aliases().size(), 2u);

  const std::pair<std::vector<std::pair<std::string, int>>, const char*> bad[] = {
      {{{"GM0002", 0}}, "alias GM0002 is a municipality code"},
      {{{"GM05", 0}}, "bad alias code 'GM05'"},
      {{{"GM0501", 2}}, "alias GM0501: no row 2"},
      {{{"GM0501", -1}}, "alias GM0501: no row -1"},
      {{{"GM0501", 0}, {"GM0501", 1}}, "duplicate alias GM0501"},
  };
  for (const auto& [aliases, expected] : bad) {
    auto b = MunicipalityTable::FromRows(rows, "src", {}, {}, aliases);
    ASSERT_FALSE(b.ok()) << expected;
    EXPECT_EQ(b.status().message(), expected);
  }
}

}  // namespace
}  // namespace zicht::reference
