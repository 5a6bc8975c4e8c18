// The analyst dashboard (docs/dashboard.md): its static files, embedded in the
// binary at build time (cmake/EmbedAssets.cmake), served at / by the HTTP server.
#pragma once

#include "zicht/base/status.h"
#include "zicht/monitoring/http_server.h"

namespace zicht::api {

// Routes the embedded assets; `local_only` refuses clients not on loopback
// (http.api_localhost_only), as the API does.
Status InstallDashboard(monitoring::HttpServer& server, bool local_only);

}  // namespace zicht::api
