// HttpRequest / HttpResponse: what route handlers of the HTTP server see and
// return, independent of the HTTP library underneath.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zicht::monitoring {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded path without the query, e.g. "/api/v1/municipalities/GM0363"
  std::map<std::string, std::string> params;   // `{name}` segments of the matched route
  std::map<std::string, std::string> query;    // decoded query parameters (last one wins)
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::string peer;  // client IP address

  // Header value or "" (name in lowercase).
  std::string_view header(std::string_view lowercase_name) const;
  // Whether the client is on this machine: 127.0.0.0/8, ::1 or an IPv4-mapped
  // loopback address (what http.api_localhost_only lets through).
  bool from_loopback() const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers

  static HttpResponse Text(int status, std::string body);
  static HttpResponse Json(int status, std::string body);
  // {"error":"<message>"} with the given status. The message is shown to
  // clients: never put internal paths or exception text in it.
  static HttpResponse Error(int status, std::string_view message);
};

// Route handlers run on the server's handler threads (not the accept/I/O
// thread); they may block briefly (the server keeps serving other requests),
// must not throw (an exception becomes a bare 500) and must be thread-safe.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Standard reason phrase of an HTTP status ("Not Found"), "" if unknown.
std::string_view HttpStatusText(int status);

}  // namespace zicht::monitoring
