#include "zicht/api/routes.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>
#include <string>
#include <string_view>

#include "zicht/api/dashboard.h"

namespace zicht::api {
namespace {

using monitoring::HttpRequest;
using monitoring::HttpResponse;

HttpResponse FromApi(const ApiResult& r) {
  if (r.status >= 400) return HttpResponse::Error(r.status, r.body);
  HttpResponse out = HttpResponse::Json(r.status, r.body);
  out.content_type = r.content_type;
  out.headers.emplace_back("Cache-Control", "no-store");
  if (!r.filename.empty()) {
    // The name holds only [A-Za-z0-9._-] (csv_export.cc): no escaping needed.
    out.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + r.filename + "\"");
  }
  return out;
}

std::string Query(const HttpRequest& req, const std::string& name) {
  auto it = req.query.find(name);
  return it == req.query.end() ? std::string() : it->second;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The q of one Accept element ("text/csv;q=0.5"); 1 without one. A malformed
// q counts as absent rather than refusing the request.
double Quality(std::string_view params) {
  while (!params.empty()) {
    const size_t semi = params.find(';');
    const std::string_view param = Trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') continue;
    double q = 1;
    const std::string_view v = param.substr(2);
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), q);
    if (ec == std::errc() && p == v.data() + v.size() && q >= 0 && q <= 1) return q;
  }
  return 1;
}

// Whether Accept prefers text/csv to application/json; only those two exact
// types are weighed (wildcards name neither, and JSON stays the default).
bool AcceptsCsvFirst(std::string_view accept) {
  double csv = 0, json = 0;
  while (!accept.empty()) {
    const size_t comma = accept.find(',');
    const std::string_view element = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    const size_t semi = element.find(';');
    const std::string type = Lower(Trim(element.substr(0, semi)));
    const double q = semi == std::string_view::npos ? 1 : Quality(element.substr(semi + 1));
    if (type == "text/csv") csv = std::max(csv, q);
    if (type == "application/json") json = std::max(json, q);
  }
  return csv > 0 && csv > json;
}

using Handler = std::function<ApiResult(engine::Engine&, const HttpRequest&)>;

HttpResponse LocalOnly() {
  return HttpResponse::Error(403, "the API answers local requests only");
}

// Runs `fn` on the engine thread and answers with what it returns.
HttpResponse Serve(const RouteOptions& options, const EngineCall& call, const HttpRequest& req,
                   const Handler& fn) {
  auto result = std::make_shared<ApiResult>();
  Status s = call([&req, &fn, result](engine::Engine& e) { *result = fn(e, req); },
                  options.engine_timeout);
  if (!s.ok()) return HttpResponse::Error(503, "the engine is busy; try again");
  return FromApi(*result);
}

}  // namespace

Result<ResponseFormat> RequestedFormat(const HttpRequest& req) {
  const std::string format = Lower(Query(req, "format"));
  if (format == "csv") return ResponseFormat::kCsv;
  if (format == "json") return ResponseFormat::kJson;
  if (!format.empty()) return Status::InvalidArgument("format: expected json or csv");
  return AcceptsCsvFirst(req.header("accept")) ? ResponseFormat::kCsv : ResponseFormat::kJson;
}

Status InstallApiRoutes(monitoring::HttpServer& server, const RouteOptions& options,
                        EngineCall call) {
  auto route = [&](const char* pattern, const Handler& fn) {
    return server.Route("GET", pattern, [options, call, fn](const HttpRequest& req) {
      if (options.local_only && !req.from_loopback()) return LocalOnly();
      return Serve(options, call, req, fn);
    });
  };
  // A view a spreadsheet can take: JSON or CSV of the same figures. Errors
  // (also a bad ?format=) are JSON whatever was asked for.
  auto exportable = [&](const char* pattern, const Handler& json, const Handler& csv) {
    return server.Route("GET", pattern, [options, call, json, csv](const HttpRequest& req) {
      if (options.local_only && !req.from_loopback()) return LocalOnly();
      const Result<ResponseFormat> format = RequestedFormat(req);
      HttpResponse out =
          format.ok() ? Serve(options, call, req, *format == ResponseFormat::kCsv ? csv : json)
                      : HttpResponse::Error(400, format.status().message());
      out.headers.emplace_back("Vary", "Accept");
      return out;
    });
  };
  const ApiOptions api = options.api;
  ZICHT_RETURN_IF_ERROR(
      route("/api/v1/municipalities",
            [api](engine::Engine& e, const HttpRequest&) { return MunicipalitiesJson(e, api); }));
  ZICHT_RETURN_IF_ERROR(exportable(
      "/api/v1/municipalities/{code}",
      [api](engine::Engine& e, const HttpRequest& r) {
        return MunicipalityJson(e, r.params.at("code"), api);
      },
      [api](engine::Engine& e, const HttpRequest& r) {
        return MunicipalityCsv(e, r.params.at("code"), api);
      }));
  ZICHT_RETURN_IF_ERROR(route("/api/v1/municipalities/{code}/neighbourhoods",
                              [api](engine::Engine& e, const HttpRequest& r) {
                                return NeighbourhoodsJson(e, r.params.at("code"), api);
                              }));
  ZICHT_RETURN_IF_ERROR(route("/api/v1/indicators", [](engine::Engine& e, const HttpRequest&) {
    return IndicatorsJson(e);
  }));
  ZICHT_RETURN_IF_ERROR(exportable(
      "/api/v1/indicators/{id}",
      [api](engine::Engine& e, const HttpRequest& r) {
        return IndicatorJson(e, r.params.at("id"), Query(r, "pack"), api, Query(r, "by"));
      },
      [api](engine::Engine& e, const HttpRequest& r) {
        return IndicatorCsv(e, r.params.at("id"), Query(r, "pack"), api, Query(r, "by"));
      }));
  ZICHT_RETURN_IF_ERROR(
      route("/api/v1/indicators/{id}/funnel", [api](engine::Engine& e, const HttpRequest& r) {
        return FunnelJson(e, r.params.at("id"), Query(r, "pack"), api);
      }));
  ZICHT_RETURN_IF_ERROR(exportable(
      "/api/v1/regions",
      [api](engine::Engine& e, const HttpRequest& r) {
        return RegionsJson(e, Query(r, "by"), Query(r, "indicator"), Query(r, "pack"), api);
      },
      [api](engine::Engine& e, const HttpRequest& r) {
        return RegionsCsv(e, Query(r, "by"), Query(r, "indicator"), Query(r, "pack"), api);
      }));
  ZICHT_RETURN_IF_ERROR(exportable(
      "/api/v1/alerts",
      [api](engine::Engine& e, const HttpRequest& r) {
        return AlertsJson(e, Query(r, "since"), Query(r, "limit"), Query(r, "municipality"), api);
      },
      [api](engine::Engine& e, const HttpRequest& r) {
        return AlertsCsv(e, Query(r, "since"), Query(r, "limit"), Query(r, "municipality"), api);
      }));
  ZICHT_RETURN_IF_ERROR(
      route("/api/v1/rules", [](engine::Engine& e, const HttpRequest&) { return RulesJson(e); }));
  ZICHT_RETURN_IF_ERROR(
      route("/api/v1/status", [](engine::Engine& e, const HttpRequest&) { return StatusJson(e); }));
  return InstallDashboard(server, options.local_only);
}

}  // namespace zicht::api
