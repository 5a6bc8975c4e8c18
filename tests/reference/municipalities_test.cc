// MunicipalityTable: the one loader of the CBS municipality table.
#include "zicht/reference/municipalities.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "temp_file.h"

namespace zicht::reference {
namespace {

using testing_files::Write;

TEST(MunicipalityTableTest, LoadsTheShippedTable) {
  auto table = MunicipalityTable::Load(std::string(ZICHT_SOURCE_DIR) +
                                       "/config/reference/municipalities.csv");
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ((*table)->size(), 342u);
  EXPECT_EQ((*table)->total_population(), 17942942);
  const int amsterdam = (*table)->IndexOf("GM0363");
  ASSERT_GE(amsterdam, 0);
  EXPECT_EQ((*table)->at(static_cast<size_t>(amsterdam)).name, "Amsterdam");
  EXPECT_EQ((*table)->at(static_cast<size_t>(amsterdam)).population, 931298);
  EXPECT_EQ((*table)->IndexOf("GM9999"), -1);
  EXPECT_EQ((*table)->IndexOf("gm0363"), -1);
}

TEST(MunicipalityTableTest, ErrorsNameFileLineAndColumn) {
  const std::string path = Write("munis-bad-population.csv",
                                 "code,name,province,population,households,year\n"
                                 "GM0001,A,P,1000,,2024\n"
                                 "GM0002,B,P,-4,,2024\n");
  auto loaded = MunicipalityTable::Load(path);
  ASSERT_FALSE(loaded.ok());
  // Column 12: the population field starts after "GM0002,B,P,".
  EXPECT_NE(
      loaded.status().message().find(path + ":3:12: population '-4' is not a positive integer"),
      std::string::npos)
      << loaded.status().message();
  EXPECT_FALSE(MunicipalityTable::Load(path + ".missing").ok());

  auto dup = MunicipalityTable::Load(
      Write("munis-dup.csv", "code,name,population\nGM0001,A,5\nGM0001,B,6\n"));
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find(":3:1: duplicate code GM0001 (first on line 2)"),
            std::string::npos)
      << dup.status().message();
  auto bad = MunicipalityTable::Load(Write("munis-code.csv", "code,name,population\nGM01,A,5\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(":2:1: 'GM01' is not a CBS code"), std::string::npos);
  auto missing = MunicipalityTable::Load(Write("munis-cols.csv", "code,inhabitants\nGM0001,5\n"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(":1:1: missing column(s): name, population"),
            std::string::npos)
      << missing.status().message();
}

}  // namespace
}  // namespace zicht::reference
