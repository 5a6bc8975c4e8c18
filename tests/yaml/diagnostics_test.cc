// The YAML diagnostics layer the rule loader, the engine config and the
// rule-test runner share: located errors in file order, the cap, mapping
// views with unknown-key suggestions, and the scalar readers.
#include "zicht/yaml/diagnostics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "zicht/yaml/map_view.h"

namespace zicht::yaml {
namespace {

TEST(DiagnosticsTest, ErrorsComeInFileOrderWithTheirPosition) {
  Diagnostics d("pack.yaml");
  d.Error(d.Mark(7, 3), "second");
  d.Error(d.Mark(2, 9), "first");
  d.AddLocated("other.csv:1:1: from elsewhere");
  EXPECT_EQ(d.size(), 3u);
  const std::string text = d.TakeText();
  EXPECT_LT(text.find("pack.yaml:2:9: first"), text.find("pack.yaml:7:3: second")) << text;
  EXPECT_NE(text.find("other.csv:1:1: from elsewhere"), std::string::npos);
  EXPECT_TRUE(d.empty());
}

TEST(DiagnosticsTest, APathologicalFileIsCapped) {
  Diagnostics d("big.yaml");
  for (int i = 0; i < 1000; ++i) d.Error(d.Mark(i + 1, 1), "bad");
  std::vector<Diagnostic> all = d.Take();
  ASSERT_EQ(all.size(), kMaxDiagnostics + 1);  // the cap and a closing "too many" line
  EXPECT_NE(all.back().ToString().find("too many"), std::string::npos) << all.back().ToString();
}

TEST(DiagnosticsTest, ControlBytesInMessagesAreEscaped) {
  Diagnostics d("x.yaml");
  d.Error(d.Mark(1, 1), std::string("value 'a\nb\x01'"));
  const std::string text = d.TakeText();
  EXPECT_EQ(text.find('\x01'), std::string::npos);
  // One error, one line: the newline inside the quoted value is escaped too.
  EXPECT_LE(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_NE(text.find("x.yaml:1:1: value 'a"), std::string::npos) << text;
}

TEST(DiagnosticsTest, LoadDocumentRefusesEmptyAndSeveralDocuments) {
  for (const char* text : {"", "a: 1\n---\nb: 2\n", "a: [1, 2\n"}) {
    Diagnostics d("doc.yaml");
    YAML::Node node = LoadDocument(text, "configuration", d);
    EXPECT_FALSE(node.IsDefined() && !d.empty()) << text;
    EXPECT_FALSE(d.empty()) << text;
    EXPECT_NE(d.TakeText().find("doc.yaml:"), std::string::npos) << text;
  }
  Diagnostics ok("doc.yaml");
  EXPECT_TRUE(LoadDocument("a: 1\n", "configuration", ok).IsMap());
  EXPECT_TRUE(ok.empty());
}

TEST(MapViewTest, UnknownKeysGetASuggestionAndDuplicatesAreReported) {
  Diagnostics d("c.yaml");
  YAML::Node node = LoadDocument("windw: 3\nper: 10\nper: 20\n", "test", d);
  ASSERT_TRUE(d.empty());
  MapView view(d, node, {"window", "per", "event"}, "an indicator");
  ASSERT_NE(view.Find("per"), nullptr);
  EXPECT_EQ(view.Find("windw"), nullptr);
  const std::string text = d.TakeText();
  EXPECT_NE(text.find("c.yaml:1:1:"), std::string::npos) << text;
  EXPECT_NE(text.find("did you mean 'window'"), std::string::npos) << text;
  EXPECT_NE(text.find("c.yaml:3:1:"), std::string::npos) << text;  // the duplicate 'per'
}

TEST(MapViewTest, ReadersCheckTypesAndRanges) {
  Diagnostics d("r.yaml");
  YAML::Node node = LoadDocument("n: 12\nbig: 70000\nb: yes\nt: nope\nx: 1.5\n", "test", d);
  MapView view(d, node, {});
  EXPECT_EQ(Integer(d, *view.Find("n"), 0, 100), 12);
  EXPECT_FALSE(Integer(d, *view.Find("big"), 0, 65535).has_value());
  EXPECT_EQ(Bool(d, *view.Find("b")), true);
  EXPECT_FALSE(Bool(d, *view.Find("t")).has_value());
  EXPECT_EQ(Number(d, *view.Find("x")), 1.5);
  const std::string text = d.TakeText();
  EXPECT_NE(text.find("r.yaml:2:6: 'big' must be a whole number in 0..65535, got '70000'"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("r.yaml:4:"), std::string::npos) << text;
}

TEST(ScalarParsersTest, AcceptWhatYamlUsersWrite) {
  double v = 0;
  EXPECT_TRUE(ParseNumber("+2.5", &v));
  EXPECT_EQ(v, 2.5);
  EXPECT_FALSE(ParseNumber("inf", &v));
  int64_t i = 0;
  EXPECT_TRUE(ParseInteger("+42", &i));
  EXPECT_EQ(i, 42);
  EXPECT_FALSE(ParseInteger("4.2", &i));
  EXPECT_EQ(ParseBool("TRUE"), true);
  EXPECT_EQ(ParseBool("off"), false);
  EXPECT_FALSE(ParseBool("maybe").has_value());
  EXPECT_EQ(ParseTimeOrDate("2026-03-01", false), ParseTimeOrDate("2026-03-01T00:00:00Z", false));
  EXPECT_EQ(*ParseTimeOrDate("2026-03-01", true) + 1, *ParseTimeOrDate("2026-03-02", false));
  const std::vector<std::string_view> names = {"threshold", "window"};
  EXPECT_EQ(Closest("thresold", names), "threshold");
  EXPECT_EQ(DidYouMean("thresold", names), " (did you mean 'threshold'?)");
  EXPECT_EQ(DidYouMean("zzz", names), "");
}

}  // namespace
}  // namespace zicht::yaml
