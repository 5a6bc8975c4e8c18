// Router: maps (method, path) to a handler; path patterns may have `{name}`
// segments, e.g. "/api/v1/municipalities/{code}".
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zicht/base/status.h"
#include "zicht/monitoring/http_types.h"

namespace zicht::monitoring {

// Per-route behaviour.
struct RouteOptions {
  // Run the handler on the I/O thread instead of the handler threads. Only
  // for handlers that never block (liveness and readiness probes stay
  // responsive when every handler thread is busy). Default false.
  bool inline_on_io_thread = false;
  // Subject to the per-client rate limit (default true; the built-in
  // /healthz and /readyz are not, so a busy client never fails a kubelet probe).
  bool rate_limited = true;
};

class Router {
 public:
  struct Match {
    const HttpHandler* handler = nullptr;
    const std::string* pattern = nullptr;  // for metrics labels (bounded, unlike paths)
    RouteOptions options;
    std::map<std::string, std::string> params;
  };
  enum class Miss { kNotFound, kMethodNotAllowed, kBadPath };

  // Adds a route. InvalidArgument for a pattern that does not start with '/',
  // has an empty or malformed `{}` segment, repeats a parameter name, or
  // duplicates an existing (method, pattern). Literal segments win over
  // `{name}` segments at the same position, whatever the order of Add calls.
  Status Add(std::string method, std::string pattern, HttpHandler handler,
             RouteOptions options = {});

  // Finds the route for a path as sent (percent-encoded, without the query);
  // segments are decoded one by one, so "%2F" never splits a segment. On a
  // miss, `miss` says why: no such path, the path exists for other methods
  // (listed in `allowed`), or a malformed escape.
  std::optional<Match> Find(std::string_view method, std::string_view path, Miss* miss = nullptr,
                            std::vector<std::string>* allowed = nullptr) const;

 private:
  struct Segment {
    bool param = false;
    std::string text;  // literal text or parameter name
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    HttpHandler handler;
    RouteOptions options;
  };
  static bool Matches(const Route& route, const std::vector<std::string_view>& parts,
                      std::map<std::string, std::string>* params);
  std::vector<Route> routes_;  // sorted: more literal segments first
};

// Splits "/a/b/" into {"a", "b", ""}; "/" into {""}.
std::vector<std::string_view> SplitPath(std::string_view path);
// Percent-decoding ('+' stays '+' in paths, becomes ' ' in queries).
// nullopt for a malformed escape or a decoded NUL byte.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space);
// "a=1&b=x%20y" -> {a:1, b:"x y"}; nullopt on a malformed escape.
std::optional<std::map<std::string, std::string>> ParseQuery(std::string_view query);

}  // namespace zicht::monitoring
