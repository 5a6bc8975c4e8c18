#include "zicht/base/csv.h"

#include <gtest/gtest.h>

namespace zicht {
namespace {

TEST(CsvTest, ParsesQuotedFieldsAndLineEnds) {
  auto t = ParseCsv(
      "\xEF\xBB\xBF"
      "code,name,n\r\nGM0820,\"Nuenen, Gerwen en Nederwetten\",1\n"
      "GM0518,'s-Gravenhage,\"2\"\"\"\n\n",
      "m.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->header, (std::vector<std::string>{"code", "name", "n"}));
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[0].fields[1], "Nuenen, Gerwen en Nederwetten");
  EXPECT_EQ(t->rows[1].fields[1], "'s-Gravenhage");
  EXPECT_EQ(t->rows[1].fields[2], "2\"");
  EXPECT_EQ(t->rows[1].line, 3);
  EXPECT_EQ(t->Column("name"), 1);
  EXPECT_EQ(t->Column("nope"), -1);
}

TEST(CsvTest, ReportsErrorsWithPosition) {
  auto t = ParseCsv("a,b\n1,2,3\n", "x.csv");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "x.csv:2:1: expected 2 fields, found 3");
  EXPECT_FALSE(ParseCsv("a\n\"open\n", "x.csv").ok());
  EXPECT_FALSE(ParseCsv("a\nx\"y\"\n", "x.csv").ok());
  EXPECT_FALSE(ParseCsv("", "x.csv").ok());
}

TEST(CsvTest, ReadsTheShippedMunicipalities) {
  auto t = ReadCsvFile(ZICHT_SOURCE_DIR "/config/reference/municipalities.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->rows.size(), 342u);
}

}  // namespace
}  // namespace zicht
