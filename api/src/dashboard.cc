// The analyst dashboard (docs/dashboard.md): the files of api/dashboard/assets,
// embedded in the binary at build time (cmake/EmbedAssets.cmake), served at /.
#include "zicht/api/dashboard.h"

#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "zicht/monitoring/http_server.h"

namespace zicht::embedded {
// Defined by the source that cmake/EmbedAssets.cmake generates.
size_t DashboardCount();
bool DashboardAt(size_t i, const char** path, const char** content_type, const unsigned char** data,
                 size_t* size);
}  // namespace zicht::embedded

namespace zicht::api {
Status InstallDashboard(monitoring::HttpServer& server, bool local_only) {
  std::map<std::string, monitoring::StaticAsset> assets;
  for (size_t i = 0; i < embedded::DashboardCount(); ++i) {
    const char* path = nullptr;
    const char* type = nullptr;
    const unsigned char* data = nullptr;
    size_t size = 0;
    if (!embedded::DashboardAt(i, &path, &type, &data, &size)) break;
    assets[path] = {type, std::string(reinterpret_cast<const char*>(data), size)};
  }
  if (assets.find("/index.html") == assets.end()) {
    return Status::Internal("dashboard: index.html is not embedded (see api/CMakeLists.txt)");
  }
  if (!local_only) return server.ServeStatic("", std::move(assets));
  // http.api_localhost_only: the page is refused to other clients, as the API
  // it reads from is. (ServeStatic has no client check, so route it here.)
  for (auto& [path, asset] : assets) {
    auto shared = std::make_shared<const monitoring::StaticAsset>(std::move(asset));
    monitoring::HttpHandler serve = [shared](const monitoring::HttpRequest& request) {
      if (!request.from_loopback()) {
        return monitoring::HttpResponse::Error(403, "the dashboard answers local requests only");
      }
      monitoring::HttpResponse r;
      r.content_type = shared->content_type;
      r.body = shared->bytes;
      r.headers.emplace_back("Cache-Control", "no-cache");
      return r;
    };
    ZICHT_RETURN_IF_ERROR(server.Route("GET", path, serve));
    if (path == "/index.html") ZICHT_RETURN_IF_ERROR(server.Route("GET", "/", serve));
  }
  return Status::Ok();
}

}  // namespace zicht::api
