#include "zicht/api/routes.h"

#include <memory>
#include <string>

#include "zicht/api/dashboard.h"

namespace zicht::api {
namespace {

monitoring::HttpResponse FromApi(const ApiResult& r) {
  if (r.status >= 400) return monitoring::HttpResponse::Error(r.status, r.body);
  monitoring::HttpResponse out = monitoring::HttpResponse::Json(r.status, r.body);
  out.headers.emplace_back("Cache-Control", "no-store");
  return out;
}

std::string Query(const monitoring::HttpRequest& req, const std::string& name) {
  auto it = req.query.find(name);
  return it == req.query.end() ? std::string() : it->second;
}

using Handler = std::function<ApiResult(engine::Engine&, const monitoring::HttpRequest&)>;

}  // namespace

Status InstallApiRoutes(monitoring::HttpServer& server, const RouteOptions& options,
                        EngineCall call) {
  auto route = [&](const char* pattern, Handler fn) {
    return server.Route("GET", pattern, [options, call, fn](const monitoring::HttpRequest& req) {
      if (options.local_only && !req.from_loopback()) {
        return monitoring::HttpResponse::Error(403, "the API answers local requests only");
      }
      auto result = std::make_shared<ApiResult>();
      Status s = call([&req, &fn, result](engine::Engine& e) { *result = fn(e, req); },
                      options.engine_timeout);
      if (!s.ok()) return monitoring::HttpResponse::Error(503, "the engine is busy; try again");
      return FromApi(*result);
    });
  };
  const ApiOptions api = options.api;
  ZICHT_RETURN_IF_ERROR(
      route("/api/v1/municipalities", [api](engine::Engine& e, const monitoring::HttpRequest&) {
        return MunicipalitiesJson(e, api);
      }));
  ZICHT_RETURN_IF_ERROR(route("/api/v1/municipalities/{code}",
                              [api](engine::Engine& e, const monitoring::HttpRequest& r) {
                                return MunicipalityJson(e, r.params.at("code"), api);
                              }));
  ZICHT_RETURN_IF_ERROR(
      route("/api/v1/indicators",
            [](engine::Engine& e, const monitoring::HttpRequest&) { return IndicatorsJson(e); }));
  ZICHT_RETURN_IF_ERROR(
      route("/api/v1/indicators/{id}", [api](engine::Engine& e, const monitoring::HttpRequest& r) {
        return IndicatorJson(e, r.params.at("id"), Query(r, "pack"), api);
      }));
  ZICHT_RETURN_IF_ERROR(
      route("/api/v1/alerts", [api](engine::Engine& e, const monitoring::HttpRequest& r) {
        return AlertsJson(e, Query(r, "since"), Query(r, "limit"), Query(r, "municipality"), api);
      }));
  ZICHT_RETURN_IF_ERROR(
      route("/api/v1/rules",
            [](engine::Engine& e, const monitoring::HttpRequest&) { return RulesJson(e); }));
  ZICHT_RETURN_IF_ERROR(
      route("/api/v1/status",
            [](engine::Engine& e, const monitoring::HttpRequest&) { return StatusJson(e); }));
  return InstallDashboard(server, options.local_only);
}

}  // namespace zicht::api
