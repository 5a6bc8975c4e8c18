// BearerAuth: token loading and constant-time comparison.
#include "zicht/monitoring/bearer_auth.h"

#include <openssl/crypto.h>

#include <cstddef>
#include <cstdlib>

#include "zicht/base/file.h"
#include "zicht/base/sha256.h"

namespace zicht::monitoring {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const char x = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    const char y = (b[i] >= 'A' && b[i] <= 'Z') ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

}  // namespace

Result<BearerAuth> BearerAuth::FromToken(std::string token, size_t min_length) {
  const std::string_view t = Trim(token);
  if (t.size() < min_length) {
    return Status::InvalidArgument("admin token is shorter than " + std::to_string(min_length) +
                                   " characters");
  }
  for (char c : t) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Status::InvalidArgument("admin token contains a space or control character");
    }
  }
  BearerAuth auth(Sha256Hex(t));
  // Overwrite our copy; the caller's copies are its own business.
  OPENSSL_cleanse(token.data(), token.size());
  return auth;
}

Result<BearerAuth> BearerAuth::Load(const BearerAuthOptions& options) {
  if (!options.token_file.empty()) {
    Result<std::string> text = ReadFileToString(options.token_file, size_t{64} * 1024);
    if (!text.ok()) {
      return Status::IoError("cannot read admin token file " + options.token_file);
    }
    Result<BearerAuth> auth = FromToken(std::move(*text), options.min_length);
    if (!auth.ok()) {
      return Status::InvalidArgument(options.token_file + ": " + auth.status().message());
    }
    return auth;
  }
  if (!options.token_env.empty()) {
    const char* value = std::getenv(options.token_env.c_str());
    if (value == nullptr) {
      return Status::NotFound("environment variable " + options.token_env + " is not set");
    }
    Result<BearerAuth> auth = FromToken(value, options.min_length);
    if (!auth.ok()) {
      return Status::InvalidArgument(options.token_env + ": " + auth.status().message());
    }
    return auth;
  }
  return Status::InvalidArgument("admin token: set token_file or token_env");
}

std::optional<HttpResponse> BearerAuth::Check(const HttpRequest& request) const {
  const std::string_view header = Trim(request.header("authorization"));
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size() || !EqualsIgnoreCase(header.substr(0, 7), kScheme)) {
    HttpResponse r = HttpResponse::Error(401, "missing bearer token");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"zicht\"");
    return r;
  }
  const std::string digest = Sha256Hex(Trim(header.substr(kScheme.size())));
  if (digest.size() != digest_.size() ||
      CRYPTO_memcmp(digest.data(), digest_.data(), digest.size()) != 0) {
    return HttpResponse::Error(403, "invalid token");
  }
  return std::nullopt;
}

HttpHandler BearerAuth::Protect(HttpHandler handler) const {
  return [auth = *this, handler = std::move(handler)](const HttpRequest& request) {
    if (std::optional<HttpResponse> denied = auth.Check(request)) return std::move(*denied);
    return handler(request);
  };
}

}  // namespace zicht::monitoring
