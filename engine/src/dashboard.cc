// The analyst dashboard (issue 7) is served from embedded assets; until it is
// built, / explains where the API is.
#include "zicht/engine/runtime.h"
#include "zicht/monitoring/http_server.h"

namespace zicht::engine {

Status InstallDashboard(monitoring::HttpServer& server, bool /*local_only*/) {
  std::map<std::string, monitoring::StaticAsset> assets;
  assets["/index.html"] = {"text/html; charset=utf-8",
                           "<!doctype html><title>zicht</title><p>zicht is running. JSON API: "
                           "<a href=\"/api/v1/rules\">/api/v1/rules</a>, metrics: "
                           "<a href=\"/metrics\">/metrics</a>.</p>"};
  return server.ServeStatic("", std::move(assets));
}

}  // namespace zicht::engine
