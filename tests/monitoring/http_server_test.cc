// HttpServer: built-in routes, routing, limits, auth, keep-alive, handler
// threads, static assets, against a real server on a loopback port.
#include "zicht/monitoring/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>

#include "http_client.h"
#include "zicht/monitoring/bearer_auth.h"
#include "zicht/monitoring/metrics_registry.h"

namespace zicht::monitoring {
namespace {

using testing::Client;
using testing::Fetch;
using testing::Get;
using testing::http::verb;

HttpServerOptions LoopbackOptions() {
  HttpServerOptions o;
  o.bind_address = "127.0.0.1";
  o.port = 0;
  o.log = [](std::string_view) {};
  return o;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options = LoopbackOptions()) {
    server_ = std::make_unique<HttpServer>(std::move(options), &registry_);
    AddRoutes();
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_NE(server_->port(), 0);
  }
  virtual void AddRoutes() {
    ASSERT_TRUE(server_
                    ->Route("GET", "/api/v1/municipalities/{code}",
                            [](const HttpRequest& r) {
                              std::string body = r.params.at("code");
                              for (const auto& [k, v] : r.query) body += "|" + k + "=" + v;
                              body += "|ua=" + std::string(r.header("user-agent"));
                              body += "|peer=" + r.peer;
                              return HttpResponse::Json(200, body);
                            })
                    .ok());
    ASSERT_TRUE(server_
                    ->Route("POST", "/echo",
                            [](const HttpRequest& r) {
                              return HttpResponse::Text(200, std::to_string(r.body.size()));
                            })
                    .ok());
  }
  uint16_t port() const { return server_->port(); }

  MetricsRegistry registry_{MetricsRegistryOptions{"test", "c0ffee"}};
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, HealthzReadyzAndMetrics) {
  StartServer();
  auto health = Get(port(), "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");

  auto ready = Get(port(), "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "{\"ready\":true}\n");
  server_->SetReadinessCheck([] {
    return std::vector<std::string>{"rules not loaded", "consumer lag 1200 > 1000"};
  });
  auto not_ready = Get(port(), "/readyz");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_EQ(not_ready.header("Content-Type"), "application/json");
  EXPECT_EQ(not_ready.body,
            "{\"ready\":false,\"reasons\":[\"rules not loaded\",\"consumer lag 1200 > 1000\"]}\n");

  auto metrics = Get(port(), "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(metrics.body.find("zicht_build_info{commit=\"c0ffee\",version=\"test\"} 1"),
            std::string::npos);
  // /readyz mirrors itself into zicht_ready, and requests are counted per route pattern.
  EXPECT_NE(metrics.body.find("\nzicht_ready 0"), std::string::npos);
  EXPECT_NE(metrics.body.find("zicht_http_requests_total{code=\"503\",route=\"/readyz\"} 1"),
            std::string::npos)
      << metrics.body;
}

TEST_F(HttpServerTest, RoutesWithParametersQueryAndHeaders) {
  StartServer();
  auto r = Get(port(), "/api/v1/municipalities/GM0363?since=2026-03-01T00%3A00%3A00Z&limit=5",
               {{"User-Agent", "zicht-test"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.body, "GM0363|limit=5|since=2026-03-01T00:00:00Z|ua=zicht-test|peer=127.0.0.1");
  auto text = Get(port(), registry_.Render().empty() ? "" : "/metrics").body;
  EXPECT_NE(text.find("route=\"/api/v1/municipalities/{code}\""), std::string::npos);
  EXPECT_EQ(text.find("GM0363"), std::string::npos);  // never a path in a label
}

TEST_F(HttpServerTest, NotFoundMethodNotAllowedAndMalformedRequests) {
  StartServer();
  auto missing = Get(port(), "/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, "{\"error\":\"not found\"}\n");
  auto wrong_method = Fetch(port(), verb::delete_, "/healthz");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.header("Allow"), "GET");
  EXPECT_EQ(Get(port(), "/api/v1/municipalities/%zz").status, 400);
  EXPECT_EQ(Get(port(), "/api/v1/municipalities/GM0363?a=%4").status, 400);

  Client raw(port());
  raw.WriteRaw("THIS IS NOT HTTP\r\n\r\n");
  const std::string reply = raw.ReadUntilClosed();
  EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
}

TEST_F(HttpServerTest, BodyAndHeaderLimits) {
  HttpServerOptions o = LoopbackOptions();
  o.max_body_bytes = 1024;
  o.max_header_bytes = 2048;
  StartServer(o);
  EXPECT_EQ(Fetch(port(), verb::post, "/echo", {}, std::string(1024, 'x')).body, "1024");
  auto too_big = Fetch(port(), verb::post, "/echo", {}, std::string(1025, 'x'));
  EXPECT_EQ(too_big.status, 413);
  EXPECT_FALSE(too_big.keep_alive);
  auto big_header = Get(port(), "/healthz", {{"X-Padding", std::string(4000, 'p')}});
  EXPECT_EQ(big_header.status, 431);
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  Client c(port());
  for (int i = 0; i < 5; ++i) {
    auto r = c.Send(verb::get, "/healthz");
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.keep_alive);
  }
  auto r = c.Send(verb::get, "/api/v1/municipalities/GM0599", {{"Connection", "close"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.keep_alive);
}

TEST_F(HttpServerTest, RateLimitAnswers429ButNeverBlocksProbes) {
  HttpServerOptions o = LoopbackOptions();
  o.rate_limit.requests_per_second = 0.01;
  o.rate_limit.burst = 3;
  StartServer(o);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Get(port(), "/api/v1/municipalities/GM0363").status, 200);
  auto limited = Get(port(), "/api/v1/municipalities/GM0363");
  EXPECT_EQ(limited.status, 429);
  EXPECT_GE(std::stoi(limited.header("Retry-After")), 1);
  EXPECT_EQ(Get(port(), "/healthz").status, 200);
  EXPECT_EQ(Get(port(), "/readyz").status, 200);
}

TEST_F(HttpServerTest, HandlerExceptionsBecomeA500WithoutDetails) {
  std::vector<std::string> logged;
  std::mutex mu;
  HttpServerOptions o = LoopbackOptions();
  o.log = [&](std::string_view m) {
    std::lock_guard<std::mutex> l(mu);
    logged.emplace_back(m);
  };
  server_ = std::make_unique<HttpServer>(o, &registry_);
  ASSERT_TRUE(server_
                  ->Route("GET", "/boom",
                          [](const HttpRequest&) -> HttpResponse {
                            throw std::runtime_error("/var/lib/zicht/secret.db corrupt");
                          })
                  .ok());
  ASSERT_TRUE(server_->Start().ok());
  auto r = Get(port(), "/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "{\"error\":\"internal error\"}\n");
  server_->Stop();
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_NE(logged[0].find("/boom"), std::string::npos);
}

TEST_F(HttpServerTest, AdminRouteNeedsTheBearerToken) {
  auto auth = BearerAuth::FromToken("admin-token-for-tests-only");
  ASSERT_TRUE(auth.ok());
  server_ = std::make_unique<HttpServer>(LoopbackOptions(), &registry_);
  ASSERT_TRUE(server_
                  ->Route("POST", "/api/v1/rules/reload", auth->Protect([](const HttpRequest&) {
                    return HttpResponse::Json(200, "{\"outcome\":\"reloaded\"}");
                  }))
                  .ok());
  ASSERT_TRUE(server_->Start().ok());
  auto none = Fetch(port(), verb::post, "/api/v1/rules/reload");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.header("WWW-Authenticate"), "Bearer realm=\"zicht\"");
  auto wrong = Fetch(port(), verb::post, "/api/v1/rules/reload",
                     {{"Authorization", "Bearer admin-token-for-tests-onlY"}});
  EXPECT_EQ(wrong.status, 403);
  auto right = Fetch(port(), verb::post, "/api/v1/rules/reload",
                     {{"Authorization", "Bearer admin-token-for-tests-only"}});
  EXPECT_EQ(right.status, 200);
  EXPECT_EQ(right.body, "{\"outcome\":\"reloaded\"}");
}

TEST_F(HttpServerTest, BlockedHandlersDoNotStallOtherRequests) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> waiting{0};
  HttpServerOptions o = LoopbackOptions();
  o.handler_threads = 2;
  server_ = std::make_unique<HttpServer>(o, &registry_);
  ASSERT_TRUE(server_
                  ->Route("GET", "/slow",
                          [&](const HttpRequest&) {
                            ++waiting;
                            std::unique_lock<std::mutex> l(mu);
                            cv.wait(l, [&] { return release; });
                            return HttpResponse::Text(200, "slow done");
                          })
                  .ok());
  ASSERT_TRUE(server_
                  ->Route("GET", "/fast",
                          [](const HttpRequest&) { return HttpResponse::Text(200, "fast"); })
                  .ok());
  ASSERT_TRUE(server_->Start().ok());
  auto slow = std::async(std::launch::async, [&] { return Get(port(), "/slow").body; });
  while (waiting.load() == 0) std::this_thread::yield();
  // One handler thread is stuck; the probe (I/O thread) and another route
  // (the second handler thread) still answer.
  EXPECT_EQ(Get(port(), "/healthz").status, 200);
  EXPECT_EQ(Get(port(), "/fast").body, "fast");
  {
    std::lock_guard<std::mutex> l(mu);
    release = true;
  }
  cv.notify_all();
  EXPECT_EQ(slow.get(), "slow done");
}

TEST_F(HttpServerTest, IncompleteRequestsAreClosedAfterTheTimeout) {
  HttpServerOptions o = LoopbackOptions();
  o.request_timeout = std::chrono::milliseconds(200);
  StartServer(o);
  Client c(port());
  c.WriteRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // header never finished
  EXPECT_EQ(c.ReadUntilClosed(), "");                  // closed, nothing served
  EXPECT_EQ(Get(port(), "/healthz").status, 200);
}

TEST_F(HttpServerTest, ServesStaticAssetsWithETags) {
  server_ = std::make_unique<HttpServer>(LoopbackOptions(), &registry_);
  std::map<std::string, StaticAsset> assets;
  assets["/index.html"] = {"text/html; charset=utf-8", "<html>zicht</html>"};
  assets["/app.js"] = {"text/javascript", "console.log(1)"};
  ASSERT_TRUE(server_->ServeStatic("/ui/", assets).ok());
  EXPECT_FALSE(server_->ServeStatic("/x", {{"no-slash", {"text/plain", ""}}}).ok());
  ASSERT_TRUE(server_->Start().ok());
  for (const char* path : {"/ui", "/ui/", "/ui/index.html"}) {
    auto r = Get(port(), path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, "<html>zicht</html>") << path;
    EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8");
  }
  auto js = Get(port(), "/ui/app.js");
  EXPECT_EQ(js.body, "console.log(1)");
  const std::string etag = js.header("ETag");
  ASSERT_FALSE(etag.empty());
  auto cached = Get(port(), "/ui/app.js", {{"If-None-Match", etag}});
  EXPECT_EQ(cached.status, 304);
  EXPECT_EQ(cached.body, "");
  EXPECT_EQ(Get(port(), "/ui/missing.js").status, 404);
}

TEST_F(HttpServerTest, PortInUseIsAClearError) {
  StartServer();
  HttpServerOptions o = LoopbackOptions();
  o.port = port();
  HttpServer second(o);
  Status s = second.Start();
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("127.0.0.1:" + std::to_string(port())), std::string::npos);
  HttpServerOptions bad = LoopbackOptions();
  bad.bind_address = "not-an-address";
  EXPECT_EQ(HttpServer(bad).Start().code(), StatusCode::kInvalidArgument);
  bad = LoopbackOptions();
  bad.handler_threads = 0;
  EXPECT_FALSE(HttpServer(bad).Start().ok());
}

TEST_F(HttpServerTest, RoutesCannotBeAddedAfterStart) {
  StartServer();
  EXPECT_FALSE(
      server_->Route("GET", "/late", [](const HttpRequest&) { return HttpResponse{}; }).ok());
  server_->Stop();
  server_->Stop();  // idempotent
}

}  // namespace
}  // namespace zicht::monitoring
