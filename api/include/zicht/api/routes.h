// The read API's routes on the HTTP server. Every handler runs on the engine
// thread (through the EngineCall the runtime provides), between records, so
// the engine needs no locks; a busy engine answers 503.
#pragma once

#include <chrono>
#include <functional>

#include "zicht/api/api.h"
#include "zicht/base/status.h"
#include "zicht/monitoring/http_server.h"

namespace zicht::api {

// Runs `task` on the engine thread and waits up to `timeout` for it;
// TryAgain when the engine thread did not get to it in time.
using EngineCall = std::function<Status(const std::function<void(engine::Engine&)>& task,
                                        std::chrono::milliseconds timeout)>;

struct RouteOptions {
  ApiOptions api;
  bool local_only = false;  // refuse clients not on loopback (403)
  std::chrono::milliseconds engine_timeout{5000};
};

enum class ResponseFormat { kJson, kCsv };

// The format a request for an exportable view (a ranking, the alerts, a
// municipality) asks for. `?format=json|csv` wins; without it the Accept
// header decides: CSV when it lists text/csv with a higher q than
// application/json (so */* and browsers' defaults get JSON, as before).
// InvalidArgument for any other ?format= (the route answers 400).
Result<ResponseFormat> RequestedFormat(const monitoring::HttpRequest& req);

// GET /api/v1/{municipalities,municipalities/{code},indicators,indicators/{id},
// indicators/{id}/funnel,regions,alerts,rules,status} and the dashboard at /.
// municipalities/{code}, indicators/{id}, regions and alerts also answer as CSV
// (RequestedFormat).
Status InstallApiRoutes(monitoring::HttpServer& server, const RouteOptions& options,
                        EngineCall call);

}  // namespace zicht::api
