// Router: patterns, priorities, decoding and misses.
#include "zicht/monitoring/router.h"

#include <gtest/gtest.h>

namespace zicht::monitoring {
namespace {

HttpHandler Named(std::string name) {
  return [name](const HttpRequest&) { return HttpResponse::Text(200, name); };
}

std::string Call(const Router& router, std::string_view method, std::string_view path) {
  auto m = router.Find(method, path);
  if (!m) return "<none>";
  return (*m->handler)(HttpRequest{}).body;
}

TEST(RouterTest, MatchesLiteralAndParameterSegments) {
  Router r;
  ASSERT_TRUE(r.Add("GET", "/api/v1/municipalities/{code}", Named("muni")).ok());
  ASSERT_TRUE(r.Add("GET", "/api/v1/indicators/{id}", Named("indicator")).ok());
  ASSERT_TRUE(r.Add("GET", "/healthz", Named("health")).ok());
  auto m = r.Find("GET", "/api/v1/municipalities/GM0363");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(*m->pattern, "/api/v1/municipalities/{code}");
  EXPECT_EQ(m->params.at("code"), "GM0363");
  EXPECT_EQ(Call(r, "GET", "/api/v1/indicators/cash_reports"), "indicator");
  EXPECT_EQ(Call(r, "GET", "/healthz"), "health");
  // Segment counts must agree; an empty parameter segment does not match.
  EXPECT_EQ(Call(r, "GET", "/api/v1/municipalities"), "<none>");
  EXPECT_EQ(Call(r, "GET", "/api/v1/municipalities/"), "<none>");
  EXPECT_EQ(Call(r, "GET", "/api/v1/municipalities/GM0363/x"), "<none>");
  EXPECT_EQ(Call(r, "GET", "/healthz/"), "<none>");
}

TEST(RouterTest, LiteralSegmentsWinWhateverTheOrderOfAdds) {
  Router r;
  ASSERT_TRUE(r.Add("POST", "/api/v1/rules/{id}", Named("by-id")).ok());
  ASSERT_TRUE(r.Add("POST", "/api/v1/rules/reload", Named("reload")).ok());
  EXPECT_EQ(Call(r, "POST", "/api/v1/rules/reload"), "reload");
  EXPECT_EQ(Call(r, "POST", "/api/v1/rules/other"), "by-id");
}

TEST(RouterTest, DecodesSegmentsOneByOne) {
  Router r;
  ASSERT_TRUE(r.Add("GET", "/files/{name}", Named("file")).ok());
  auto m = r.Find("GET", "/files/a%2Fb%20c");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->params.at("name"), "a/b c");  // %2F stays inside its segment
  Router::Miss miss = Router::Miss::kNotFound;
  EXPECT_FALSE(r.Find("GET", "/files/%zz", &miss).has_value());
  EXPECT_EQ(miss, Router::Miss::kBadPath);
  EXPECT_FALSE(r.Find("GET", "/files/a%00", &miss).has_value());
  EXPECT_EQ(miss, Router::Miss::kBadPath);
}

TEST(RouterTest, ReportsMethodNotAllowedWithTheAllowedMethods) {
  Router r;
  ASSERT_TRUE(r.Add("GET", "/api/v1/rules", Named("list")).ok());
  ASSERT_TRUE(r.Add("POST", "/api/v1/rules/reload", Named("reload")).ok());
  ASSERT_TRUE(r.Add("DELETE", "/api/v1/rules", Named("delete")).ok());
  Router::Miss miss = Router::Miss::kNotFound;
  std::vector<std::string> allowed;
  EXPECT_FALSE(r.Find("PUT", "/api/v1/rules", &miss, &allowed).has_value());
  EXPECT_EQ(miss, Router::Miss::kMethodNotAllowed);
  EXPECT_EQ(allowed, (std::vector<std::string>{"DELETE", "GET"}));
  EXPECT_FALSE(r.Find("GET", "/nope", &miss, &allowed).has_value());
  EXPECT_EQ(miss, Router::Miss::kNotFound);
  EXPECT_TRUE(allowed.empty());
}

TEST(RouterTest, RejectsMalformedPatterns) {
  Router r;
  EXPECT_FALSE(r.Add("GET", "relative", Named("x")).ok());
  EXPECT_FALSE(r.Add("GET", "", Named("x")).ok());
  EXPECT_FALSE(r.Add("GET", "/a/{}", Named("x")).ok());
  EXPECT_FALSE(r.Add("GET", "/a/{x", Named("x")).ok());
  EXPECT_FALSE(r.Add("GET", "/a/x}", Named("x")).ok());
  EXPECT_FALSE(r.Add("GET", "/a/pre{x}", Named("x")).ok());
  EXPECT_FALSE(r.Add("GET", "/a/{x}/{x}", Named("x")).ok());
  ASSERT_TRUE(r.Add("GET", "/a/{x}", Named("x")).ok());
  Status dup = r.Add("GET", "/a/{x}", Named("y"));
  EXPECT_FALSE(dup.ok());
  EXPECT_NE(dup.message().find("added twice"), std::string::npos);
  EXPECT_TRUE(r.Add("POST", "/a/{x}", Named("y")).ok());  // another method is another route
}

TEST(RouterTest, ParsesQueries) {
  auto q = ParseQuery("since=2026-03-01T00%3A00%3A00Z&limit=5&name=a+b&flag&&limit=7");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->at("since"), "2026-03-01T00:00:00Z");
  EXPECT_EQ(q->at("limit"), "7");  // last one wins
  EXPECT_EQ(q->at("name"), "a b");
  EXPECT_EQ(q->at("flag"), "");
  EXPECT_FALSE(ParseQuery("a=%4").has_value());
  EXPECT_FALSE(ParseQuery("a=%G1").has_value());
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(SplitPath("/"), (std::vector<std::string_view>{""}));
  EXPECT_EQ(SplitPath("/a/b/"), (std::vector<std::string_view>{"a", "b", ""}));
}

}  // namespace
}  // namespace zicht::monitoring
