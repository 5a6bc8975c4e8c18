// NeighbourhoodTable: loading CBS buurten against the municipality table.
#include "zicht/reference/neighbourhoods.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "temp_file.h"

namespace zicht::reference {
namespace {

using testing_files::Write;

MunicipalityTablePtr Munis() {
  const std::string path = Write("nb-munis.csv",
                                 "code,name,province,population\n"
                                 "GM0001,Aa,P,1000\n"
                                 "GM0002,Bee,P,500\n");
  auto t = MunicipalityTable::Load(path);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return *t;
}

TEST(NeighbourhoodTableTest, LoadsAndLooksUpCodes) {
  auto munis = Munis();
  const std::string path = Write("nb-ok.csv",
                                 "code,name,municipality,population\n"
                                 "BU00010000,Centrum,GM0001,600\n"
                                 "BU00010001,\"Noord, oost\",GM0001,400\n"
                                 "BU00020000,Dorp,GM0002,500\n");
  auto t = NeighbourhoodTable::Load(path, *munis);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->size(), 3u);
  EXPECT_EQ((*t)->IndexOf("BU00010001"), 1);
  EXPECT_EQ((*t)->at(1).name, "Noord, oost");
  EXPECT_EQ((*t)->at(2).municipality, 1);
  EXPECT_EQ((*t)->IndexOf("BU00019999"), -1);
  EXPECT_EQ((*t)->IndexOf("bu00010000"), -1);
  EXPECT_EQ((*t)->IndexOf("BU0001000"), -1);
  EXPECT_EQ((*t)->of_municipality(0), (std::vector<int>{0, 1}));
  EXPECT_EQ((*t)->total_population(), 1500);
  EXPECT_TRUE((*t)->warnings().empty());
}

struct BadCase {
  const char* row;
  const char* expected;  // substring of the error, with line:column
};

TEST(NeighbourhoodTableTest, ErrorsNameFileLineAndColumn) {
  auto munis = Munis();
  const BadCase cases[] = {
      {"BU0001000X,A,GM0001,1", ":3:1: 'BU0001000X' is not a CBS buurt code"},
      {"BU00010000,A,GM0001,1", ":3:1: duplicate code BU00010000 (first on line 2)"},
      {"BU00030000,A,GM0003,1", ":3:14: buurt BU00030000 lies in 'GM0003', which is not"},
      {"BU00020005,A,GM0001,1", ":3:1: buurt BU00020005 does not carry the digits"},
      {"BU00010001,A,GM0001,-1", ":3:21: population '-1' is not a non-negative integer"},
      {"BU00010001,,GM0001,1", ":3:12: empty name"},
  };
  for (const BadCase& c : cases) {
    const std::string path = Write("nb-bad.csv", std::string("code,name,municipality,population\n"
                                                             "BU00010000,Centrum,GM0001,600\n") +
                                                     c.row + "\n");
    auto t = NeighbourhoodTable::Load(path, *munis);
    ASSERT_FALSE(t.ok()) << c.row;
    EXPECT_NE(t.status().message().find(path + c.expected), std::string::npos)
        << t.status().message();
  }
  const std::string no_col = Write("nb-nocol.csv", "code,name,population\n");
  auto t = NeighbourhoodTable::Load(no_col, *munis);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find(":1:1: missing column(s): municipality"), std::string::npos);
}

TEST(NeighbourhoodTableTest, PopulationsThatDoNotAddUpAreWarnings) {
  auto munis = Munis();
  const std::string path = Write("nb-warn.csv",
                                 "code,name,municipality,population\n"
                                 "BU00010000,Centrum,GM0001,600\n"
                                 "BU00020000,Dorp,GM0002,500\n"
                                 "BU00010001,Noord,GM0001,300\n");
  auto t = NeighbourhoodTable::Load(path, *munis);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ((*t)->warnings().size(), 1u);
  EXPECT_EQ((*t)->warnings()[0], path +
                                     ":2:1: warning: the buurten of GM0001 (Aa) have 900 "
                                     "inhabitants, the municipality 1000");
}

}  // namespace
}  // namespace zicht::reference
