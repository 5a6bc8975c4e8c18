#include "zicht/base/text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace zicht {
namespace {

TEST(TextTest, Utf8SequenceLengthAcceptsValidAndRejectsInvalidSequences) {
  EXPECT_EQ(Utf8SequenceLength("a", 0), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xc3\xa9", 0), 2u);          // é
  EXPECT_EQ(Utf8SequenceLength("\xe2\x82\xac", 0), 3u);      // €
  EXPECT_EQ(Utf8SequenceLength("\xf0\x9f\x98\x80", 0), 4u);  // U+1F600
  EXPECT_EQ(Utf8SequenceLength("\xc0\xaf", 0), 0u);          // overlong '/'
  EXPECT_EQ(Utf8SequenceLength("\xed\xa0\x80", 0), 0u);      // surrogate
  EXPECT_EQ(Utf8SequenceLength("\xf4\x90\x80\x80", 0), 0u);  // past U+10FFFF
  EXPECT_EQ(Utf8SequenceLength("\xe2\x82", 0), 0u);          // cut short
  EXPECT_EQ(Utf8SequenceLength("\xff", 0), 0u);
}

TEST(TextTest, PrintableTextEscapesControlBytesAndInvalidUtf8AndCuts) {
  EXPECT_EQ(PrintableText("Súdwest-Fryslân"), "Súdwest-Fryslân");
  EXPECT_EQ(PrintableText(std::string("a\nb\0c\x7f", 6)), "a\\x0ab\\x00c\\x7f");
  EXPECT_EQ(PrintableText("\xff\xc3"), "\\xff\\xc3");
  EXPECT_EQ(PrintableText("abcdef", 3), "abc...");
  EXPECT_EQ(PrintableText(std::string(200, 'x')).size(), 163u);
  EXPECT_EQ(PrintableText(std::string(200, 'x'), std::string::npos).size(), 200u);
}

TEST(TextTest, EditDistanceCountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("htp", "http"), 1u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("rules", ""), 5u);
  EXPECT_EQ(EditDistance(std::string(65, 'a'), "a"), SIZE_MAX);  // only names are compared
}

TEST(TextTest, NearestNameTakesTheClosestWithinTheLimitAndTheFirstOfEquals) {
  const std::vector<std::string> names = {"", "http", "state", "stats", "rules"};
  EXPECT_EQ(NearestName("htp", names, 1), "http");
  EXPECT_EQ(NearestName("htp", names, 0), "");
  EXPECT_EQ(NearestName("statz", names, 2), "state");  // state and stats are both 1 away
  EXPECT_EQ(NearestName("x", names, 1), "");           // the empty candidate is never offered
  EXPECT_EQ(NearestName("reference", names, 3), "");
}

}  // namespace
}  // namespace zicht
