#include "zicht/base/csv.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

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

TEST(CsvWriterTest, QuotesOnlyWhatNeedsItAndParsesBack) {
  std::string out;
  CsvWriter w(&out);
  w.Field("code").Field("name").Field("note").EndRow();
  w.Field("GM0820").Field("Nuenen, Gerwen en Nederwetten").Field("zegt \"hoi\"").EndRow();
  w.Field("GM0518").Field("'s-Gravenhage").Field("twee\nregels").EndRow();
  w.Field("a;b").Field("tab\there").Empty().EndRow();
  EXPECT_EQ(out,
            "code,name,note\r\n"
            "GM0820,\"Nuenen, Gerwen en Nederwetten\",\"zegt \"\"hoi\"\"\"\r\n"
            "GM0518,'s-Gravenhage,\"twee\nregels\"\r\n"
            "\"a;b\",\"tab\there\",\r\n");
  auto t = ParseCsv(out, "out.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 3u);
  EXPECT_EQ(t->rows[0].fields,
            (std::vector<std::string>{"GM0820", "Nuenen, Gerwen en Nederwetten", "zegt \"hoi\""}));
  EXPECT_EQ(t->rows[1].fields[2], "twee\nregels");
  EXPECT_EQ(t->rows[2].fields, (std::vector<std::string>{"a;b", "tab\there", ""}));
}

TEST(CsvWriterTest, TextThatASpreadsheetWouldRunIsDefused) {
  std::string out;
  CsvWriter w(&out);
  w.Text("=HYPERLINK(\"http://x\")").Text("+31").Text("-2+3").Text("@SUM(A1)");
  w.Text("\tx").Text("\rx").Text("'s-Hertogenbosch").Text("a=b").Text("").EndRow();
  EXPECT_EQ(out,
            "\"'=HYPERLINK(\"\"http://x\"\")\",'+31,'-2+3,'@SUM(A1),\"'\tx\",\"'\rx\","
            "'s-Hertogenbosch,a=b,\r\n");
  // Numbers are not text: a negative z-score stays a number.
  out.clear();
  w.Double(-1.5).Int(-3).EndRow();
  EXPECT_EQ(out, "-1.5,-3\r\n");
}

TEST(CsvWriterTest, NumbersAndBooleans) {
  std::string out;
  CsvWriter w(&out);
  const double inf = std::numeric_limits<double>::infinity();
  w.Int(42).Double(0.1).Double(2e-05).Double(3.0).Double(std::nan("")).Double(inf).Double(-inf);
  w.Bool(true).Bool(false).EndRow();
  EXPECT_EQ(out, "42,0.1,2e-05,3,,Inf,-Inf,true,false\r\n");
}

}  // namespace
}  // namespace zicht
