// BearerAuth: token sources, 401 / 403, and that the token never shows up in messages.
#include "zicht/monitoring/bearer_auth.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace zicht::monitoring {
namespace {

BearerAuthOptions FromFile(std::string path) {
  BearerAuthOptions o;
  o.token_file = std::move(path);
  return o;
}

BearerAuthOptions FromEnv(std::string var) {
  BearerAuthOptions o;
  o.token_env = std::move(var);
  return o;
}

constexpr const char* kToken = "s3cr3t-admin-token-0123456789";

HttpRequest WithAuthorization(std::string value) {
  HttpRequest r;
  r.headers["authorization"] = std::move(value);
  return r;
}

TEST(BearerAuthTest, AcceptsOnlyTheRightBearerToken) {
  auto auth = BearerAuth::FromToken(kToken);
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  EXPECT_FALSE(auth->Check(WithAuthorization(std::string("Bearer ") + kToken)).has_value());
  EXPECT_FALSE(auth->Check(WithAuthorization(std::string("bearer  ") + kToken)).has_value());

  auto missing = auth->Check(HttpRequest{});
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->status, 401);
  ASSERT_EQ(missing->headers.size(), 1u);
  EXPECT_EQ(missing->headers[0].first, "WWW-Authenticate");
  EXPECT_EQ(auth->Check(WithAuthorization("Basic dXNlcjpwYXNz"))->status, 401);
  EXPECT_EQ(auth->Check(WithAuthorization("Bearer"))->status, 401);

  auto wrong = auth->Check(WithAuthorization("Bearer s3cr3t-admin-token-012345678X"));
  ASSERT_TRUE(wrong.has_value());
  EXPECT_EQ(wrong->status, 403);
  EXPECT_EQ(wrong->body.find(kToken), std::string::npos);
  // A prefix of the token is not the token.
  EXPECT_EQ(auth->Check(WithAuthorization("Bearer s3cr3t"))->status, 403);
}

TEST(BearerAuthTest, ProtectRunsTheHandlerOnlyWhenAuthorised) {
  auto auth = BearerAuth::FromToken(kToken);
  ASSERT_TRUE(auth.ok());
  int calls = 0;
  HttpHandler h = auth->Protect([&](const HttpRequest&) {
    ++calls;
    return HttpResponse::Text(200, "reloaded");
  });
  EXPECT_EQ(h(HttpRequest{}).status, 401);
  EXPECT_EQ(h(WithAuthorization("Bearer nope-nope-nope-nope")).status, 403);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(h(WithAuthorization(std::string("Bearer ") + kToken)).body, "reloaded");
  EXPECT_EQ(calls, 1);
}

TEST(BearerAuthTest, LoadsFromFileOrEnvironmentWithoutLeakingTheToken) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("zicht-auth-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "token").string();
  std::ofstream(file) << "  " << kToken << "\n";  // a mounted Secret often ends in a newline
  auto from_file = BearerAuth::Load(FromFile(file));
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_FALSE(from_file->Check(WithAuthorization(std::string("Bearer ") + kToken)).has_value());

  std::ofstream(file) << "short\n";
  auto too_short = BearerAuth::Load(FromFile(file));
  ASSERT_FALSE(too_short.ok());
  EXPECT_EQ(too_short.status().message().find("short\n"), std::string::npos);
  EXPECT_NE(too_short.status().message().find(file), std::string::npos);

  auto no_file = BearerAuth::Load(FromFile((dir / "absent").string()));
  EXPECT_EQ(no_file.status().code(), StatusCode::kIoError);

  ::setenv("ZICHT_TEST_ADMIN_TOKEN", kToken, 1);
  auto from_env = BearerAuth::Load(FromEnv("ZICHT_TEST_ADMIN_TOKEN"));
  ASSERT_TRUE(from_env.ok());
  EXPECT_FALSE(from_env->Check(WithAuthorization(std::string("Bearer ") + kToken)).has_value());
  ::setenv("ZICHT_TEST_ADMIN_TOKEN", "has space in the middle of it", 1);
  auto bad = BearerAuth::Load(FromEnv("ZICHT_TEST_ADMIN_TOKEN"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("middle"), std::string::npos);
  ::unsetenv("ZICHT_TEST_ADMIN_TOKEN");
  EXPECT_EQ(BearerAuth::Load(FromEnv("ZICHT_TEST_ADMIN_TOKEN")).status().code(),
            StatusCode::kNotFound);
  EXPECT_FALSE(BearerAuth::Load({}).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace zicht::monitoring
