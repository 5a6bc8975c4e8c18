// Router: pattern parsing and matching, percent-decoding of paths and queries.
#include "zicht/monitoring/router.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace zicht::monitoring {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    const size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = HexValue(s[i + 1]);
      const int lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      const char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return std::nullopt;
      out.push_back(decoded);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::map<std::string, std::string>> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), true);
    auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!key || !value) return std::nullopt;
    out[std::move(*key)] = std::move(*value);
  }
  return out;
}

Status Router::Add(std::string method, std::string pattern, HttpHandler handler,
                   RouteOptions options) {
  if (pattern.empty() || pattern.front() != '/') {
    return Status::InvalidArgument("route pattern must start with '/': " + pattern);
  }
  Route route;
  std::set<std::string> names;
  for (std::string_view part : SplitPath(pattern)) {
    Segment seg;
    const bool opens = part.find('{') != std::string_view::npos;
    const bool closes = part.find('}') != std::string_view::npos;
    if (opens || closes) {
      if (part.size() < 3 || part.front() != '{' || part.back() != '}' ||
          part.substr(1, part.size() - 2).find_first_of("{}/") != std::string_view::npos) {
        return Status::InvalidArgument("malformed parameter segment '" + std::string(part) +
                                       "' in route " + pattern);
      }
      seg.param = true;
      seg.text = std::string(part.substr(1, part.size() - 2));
      if (!names.insert(seg.text).second) {
        return Status::InvalidArgument("parameter {" + seg.text + "} repeated in route " + pattern);
      }
    } else {
      seg.text = std::string(part);
    }
    route.segments.push_back(std::move(seg));
  }
  for (const Route& r : routes_) {
    if (r.method == method && r.pattern == pattern) {
      return Status::InvalidArgument(fmt::format("route {} {} added twice", method, pattern));
    }
  }
  route.method = std::move(method);
  route.pattern = std::move(pattern);
  route.handler = std::move(handler);
  route.options = options;
  routes_.push_back(std::move(route));
  // Literal segments before parameters, position by position, so that
  // "/rules/reload" wins over "/rules/{id}" whatever the order of Add calls.
  std::stable_sort(routes_.begin(), routes_.end(), [](const Route& a, const Route& b) {
    const size_t n = std::min(a.segments.size(), b.segments.size());
    for (size_t i = 0; i < n; ++i) {
      if (a.segments[i].param != b.segments[i].param) return !a.segments[i].param;
    }
    return false;
  });
  return Status::Ok();
}

bool Router::Matches(const Route& route, const std::vector<std::string_view>& parts,
                     std::map<std::string, std::string>* params) {
  if (route.segments.size() != parts.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Segment& seg = route.segments[i];
    if (seg.param) {
      if (parts[i].empty()) return false;
      if (params != nullptr) (*params)[seg.text] = std::string(parts[i]);
    } else if (seg.text != parts[i]) {
      return false;
    }
  }
  return true;
}

std::optional<Router::Match> Router::Find(std::string_view method, std::string_view path,
                                          Miss* miss, std::vector<std::string>* allowed) const {
  std::vector<std::string> decoded;
  for (std::string_view part : SplitPath(path)) {
    auto d = PercentDecode(part, false);
    if (!d) {
      if (miss != nullptr) *miss = Miss::kBadPath;
      return std::nullopt;
    }
    decoded.push_back(std::move(*d));
  }
  std::vector<std::string_view> parts(decoded.begin(), decoded.end());
  std::vector<std::string> methods;
  for (const Route& route : routes_) {
    if (route.method != method) {
      if (Matches(route, parts, nullptr)) methods.push_back(route.method);
      continue;
    }
    Match match;
    if (!Matches(route, parts, &match.params)) continue;
    match.handler = &route.handler;
    match.pattern = &route.pattern;
    match.options = route.options;
    return match;
  }
  if (miss != nullptr) *miss = methods.empty() ? Miss::kNotFound : Miss::kMethodNotAllowed;
  if (allowed != nullptr) {
    std::sort(methods.begin(), methods.end());
    methods.erase(std::unique(methods.begin(), methods.end()), methods.end());
    *allowed = std::move(methods);
  }
  return std::nullopt;
}

}  // namespace zicht::monitoring
