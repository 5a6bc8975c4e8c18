// BearerAuth: `Authorization: Bearer <token>` for admin routes, with the
// token read from a file (a mounted Kubernetes Secret) or an environment
// variable. The token is never logged and never part of a Status message.
#pragma once

#include <optional>
#include <string>

#include "zicht/base/status.h"
#include "zicht/monitoring/http_types.h"

namespace zicht::monitoring {

struct BearerAuthOptions {
  // File that holds the token (surrounding whitespace ignored). Preferred:
  // a mounted Secret stays out of the process environment and command line.
  std::string token_file;
  // Environment variable that holds the token, used when token_file is empty.
  std::string token_env;
  // Tokens shorter than this are refused at load time (default 16 bytes).
  size_t min_length = 16;
};

class BearerAuth {
 public:
  // InvalidArgument when neither source is set, IoError when the file cannot
  // be read, NotFound when the variable is unset, InvalidArgument when the
  // token is shorter than min_length or contains a space or control character.
  static Result<BearerAuth> Load(const BearerAuthOptions& options);
  static Result<BearerAuth> FromToken(std::string token, size_t min_length = 16);

  // nullopt when the request carries the token; otherwise the response to
  // send: 401 with `WWW-Authenticate: Bearer` when the header is missing or
  // not a Bearer credential, 403 when the token is wrong. Constant time in
  // the token's content (both sides are hashed, the digests compared with
  // CRYPTO_memcmp).
  std::optional<HttpResponse> Check(const HttpRequest& request) const;

  // Wraps a handler so that it runs only for authorised requests.
  HttpHandler Protect(HttpHandler handler) const;

 private:
  explicit BearerAuth(std::string digest) : digest_(std::move(digest)) {}
  std::string digest_;  // SHA-256 of the token; the token itself is not kept
};

}  // namespace zicht::monitoring
