// HttpServer: the process's HTTP endpoint (Boost.Beast): /metrics, /healthz,
// /readyz, static assets and the routes the engine adds (JSON API, admin).
// One I/O thread accepts and reads requests; route handlers run on a small
// fixed Asio thread pool so that a handler waiting for the engine never
// stalls other connections.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/monitoring/http_types.h"
#include "zicht/monitoring/rate_limiter.h"
#include "zicht/monitoring/router.h"

namespace zicht::monitoring {

class MetricsRegistry;

struct HttpServerOptions {
  // Address to listen on (default "0.0.0.0": all IPv4 interfaces, as a pod
  // needs; tests use "127.0.0.1"). "::" for IPv6.
  std::string bind_address = "0.0.0.0";
  // TCP port (default 9464, SPEC `http.port`); 0 picks a free port, see port().
  uint16_t port = 9464;
  // Threads that run route handlers (default 2).
  int handler_threads = 2;
  // Largest request body accepted (default 1 MiB); larger gets 413.
  size_t max_body_bytes = 1 << 20;
  // Largest request header block (default 16 KiB); larger gets 431.
  uint32_t max_header_bytes = 16 * 1024;
  // Time a client has to send a complete request, and the idle time of a
  // keep-alive connection (default 30 s). Also bounds writing a response.
  std::chrono::milliseconds request_timeout{30000};
  // Connections open at once (default 512); more are closed at accept.
  int max_connections = 512;
  // Per-client-address request rate limit (429 when exceeded).
  RateLimitOptions rate_limit;
  // Where server errors are reported (never with request bodies or tokens).
  // Default: standard error.
  std::function<void(std::string_view)> log;

  Status Validate() const;
};

// A static asset served by ServeStatic (bytes usually embedded in the binary).
struct StaticAsset {
  std::string content_type;
  std::string bytes;
};

// Readiness: returns the reasons the process is not ready; empty = ready.
// Runs on the I/O thread: must be quick and must not block.
using ReadinessCheck = std::function<std::vector<std::string>()>;

class HttpServer {
 public:
  // `metrics` (may be null: no /metrics route) must outlive the server.
  explicit HttpServer(HttpServerOptions options, MetricsRegistry* metrics = nullptr);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Adds a route before Start(); see Router::Add for patterns and errors.
  // Built in: GET /metrics, GET /healthz, GET /readyz.
  Status Route(std::string method, std::string pattern, HttpHandler handler,
               RouteOptions options = {});

  // Serves `assets` under `prefix` ("/ui"): GET prefix + key for every key of
  // the map (keys start with '/'), and GET prefix and prefix + "/" answer
  // with "/index.html" when the map has it. ETag + If-None-Match give 304.
  Status ServeStatic(std::string prefix, std::map<std::string, StaticAsset> assets);

  // /readyz answers 200 when the check returns no reasons, else 503 with
  // {"ready":false,"reasons":[...]}. Without a check /readyz says ready.
  // May be called at any time (also after Start).
  void SetReadinessCheck(ReadinessCheck check);

  // Binds, listens and starts the threads. IoError naming the address when
  // the port cannot be bound.
  Status Start();
  // Stops accepting, closes connections, waits for running handlers. Idempotent.
  void Stop();

  // The bound port (the chosen one when options.port was 0); 0 before Start.
  uint16_t port() const;
  const HttpServerOptions& options() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zicht::monitoring
