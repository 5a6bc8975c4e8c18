// A small synchronous HTTP client for tests (Boost.Beast), plus raw socket
// helpers for requests a well-behaved client would not send.
#pragma once

// GCC 12 with -fsanitize and -O2 reports boost::optional inside Beast's
// response parser as maybe-uninitialized (a false positive in inlined Boost
// 1.74 code); the server side does not instantiate it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#pragma GCC diagnostic pop
#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace zicht::monitoring::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // as sent (Beast compares case-insensitively)
  std::string body;
  bool keep_alive = false;
  std::string header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (beast::iequals(k, name)) return v;
    }
    return "";
  }
};

// One connection; Send may be called several times (keep-alive).
class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }

  Reply Send(http::verb method, const std::string& target,
             const std::map<std::string, std::string>& headers = {}, const std::string& body = "") {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == http::verb::post) {
      req.body() = body;
      req.prepare_payload();
    }
    http::write(socket_, req);
    return ReadReply();
  }

  Reply ReadReply() {
    http::response<http::string_body> res;
    http::read(socket_, buffer_, res);
    Reply r;
    r.status = static_cast<int>(res.result_int());
    for (const auto& f : res) r.headers[std::string(f.name_string())] = std::string(f.value());
    r.body = res.body();
    r.keep_alive = res.keep_alive();
    return r;
  }

  void WriteRaw(const std::string& bytes) { net::write(socket_, net::buffer(bytes)); }

  // Reads until the server closes; returns what arrived.
  std::string ReadUntilClosed() {
    std::string out;
    beast::error_code ec;
    char chunk[4096];
    while (true) {
      size_t n = socket_.read_some(net::buffer(chunk), ec);
      out.append(chunk, n);
      if (ec) break;
    }
    return out;
  }

  tcp::socket& socket() { return socket_; }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

inline Reply Fetch(uint16_t port, http::verb method, const std::string& target,
                   const std::map<std::string, std::string>& headers = {},
                   const std::string& body = "") {
  Client c(port);
  return c.Send(method, target, headers, body);
}

inline Reply Get(uint16_t port, const std::string& target,
                 const std::map<std::string, std::string>& headers = {}) {
  return Fetch(port, http::verb::get, target, headers);
}

}  // namespace zicht::monitoring::testing
