// HttpServer on Boost.Beast: one I/O thread (accept, read, write) and an Asio
// thread_pool for route handlers.
#include "zicht/monitoring/http_server.h"

#include <fmt/format.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cmath>
#include <mutex>
#include <optional>
#include <thread>

#include "zicht/base/json_writer.h"
#include "zicht/base/sha256.h"
#include "zicht/monitoring/metrics_registry.h"

namespace zicht::monitoring {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Route label for requests that matched no route (bounded, unlike paths).
constexpr std::string_view kUnmatched = "unmatched";

std::string Lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsHttpParseError(const beast::error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_target).category();
}

}  // namespace

Status HttpServerOptions::Validate() const {
  if (handler_threads < 1 || handler_threads > 64) {
    return Status::InvalidArgument("http: handler_threads must be 1..64");
  }
  if (max_body_bytes == 0) return Status::InvalidArgument("http: max_body_bytes must be > 0");
  if (max_header_bytes < 1024) {
    return Status::InvalidArgument("http: max_header_bytes must be >= 1024");
  }
  if (request_timeout.count() <= 0) {
    return Status::InvalidArgument("http: request_timeout must be > 0");
  }
  if (max_connections < 1) return Status::InvalidArgument("http: max_connections must be > 0");
  return rate_limit.Validate();
}

class HttpServer::Impl {
 public:
  class Session;

  Impl(HttpServerOptions o, MetricsRegistry* m)
      : options(std::move(o)), metrics(m), limiter(options.rate_limit), acceptor(ioc) {
    if (!options.log) {
      options.log = [](std::string_view msg) { fmt::print(stderr, "zicht http: {}\n", msg); };
    }
  }

  void Log(std::string_view msg) const { options.log(msg); }
  void Accept();
  void Count(std::string_view route, int status, double seconds);
  HttpResponse Readiness();
  HttpResponse RunHandler(const Router::Match& match, const HttpRequest& request);

  HttpServerOptions options;
  MetricsRegistry* metrics;
  Router router;
  RateLimiter limiter;
  std::mutex readiness_mutex;
  ReadinessCheck readiness;

  // Sessions still queued in ioc or pool decrement this when those go away,
  // so it is declared (and destroyed) outside them.
  std::atomic<int> connections{0};
  std::atomic<uint16_t> bound_port{0};
  net::io_context ioc{1};
  tcp::acceptor acceptor;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::unique_ptr<net::thread_pool> pool;  // destroyed before ioc (declared after it)
  std::thread io_thread;
  bool started = false;
  bool stopped = false;
};

class HttpServer::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Impl& server, tcp::socket socket, std::string peer)
      : server_(server), stream_(std::move(socket)), peer_(std::move(peer)) {
    server_.connections.fetch_add(1);
  }
  ~Session() { server_.connections.fetch_sub(1); }

  void Start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::Read, shared_from_this()));
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(server_.options.max_body_bytes);
    parser_->header_limit(server_.options.max_header_bytes);
    stream_.expires_after(server_.options.request_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t /*bytes*/) {
    started_ = std::chrono::steady_clock::now();
    if (ec == http::error::end_of_stream || ec == beast::error::timeout) return Close();
    if (ec == http::error::body_limit) {
      return Write(HttpResponse::Error(413, "request body too large"), kUnmatched, 11, true);
    }
    if (ec == http::error::header_limit) {
      return Write(HttpResponse::Error(431, "request header too large"), kUnmatched, 11, true);
    }
    if (ec && IsHttpParseError(ec)) {
      return Write(HttpResponse::Error(400, "malformed request"), kUnmatched, 11, true);
    }
    if (ec) return Close();
    Handle(parser_->release());
  }

  void Handle(http::request<http::string_body> req) {
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    HttpRequest request;
    request.method = std::string(req.method_string());
    const std::string_view target(req.target().data(), req.target().size());
    const size_t q = target.find('?');
    const std::string_view raw_path = target.substr(0, q);
    if (raw_path.empty() || raw_path.front() != '/') {
      return Write(HttpResponse::Error(400, "malformed request target"), kUnmatched, version_,
                   true);
    }
    if (q != std::string_view::npos) {
      auto query = ParseQuery(target.substr(q + 1));
      if (!query) {
        return Write(HttpResponse::Error(400, "malformed query string"), kUnmatched, version_,
                     false);
      }
      request.query = std::move(*query);
    }
    Router::Miss miss = Router::Miss::kNotFound;
    std::vector<std::string> allowed;
    std::optional<Router::Match> match =
        server_.router.Find(request.method, raw_path, &miss, &allowed);
    if (!match) {
      HttpResponse r;
      if (miss == Router::Miss::kMethodNotAllowed) {
        r = HttpResponse::Error(405, "method not allowed");
        std::string allow;
        for (const std::string& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
        r.headers.emplace_back("Allow", allow);
      } else if (miss == Router::Miss::kBadPath) {
        r = HttpResponse::Error(400, "malformed path");
      } else {
        r = HttpResponse::Error(404, "not found");
      }
      return Write(std::move(r), kUnmatched, version_, false);
    }
    if (match->options.rate_limited) {
      RateLimiter::Decision decision = server_.limiter.Allow(peer_);
      if (!decision.allowed) {
        HttpResponse r = HttpResponse::Error(429, "too many requests");
        r.headers.emplace_back(
            "Retry-After",
            std::to_string(static_cast<int64_t>(std::ceil(decision.retry_after_seconds))));
        return Write(std::move(r), *match->pattern, version_, false);
      }
    }
    request.path = std::string(raw_path);
    if (auto decoded = PercentDecode(raw_path, false)) request.path = std::move(*decoded);
    request.params = std::move(match->params);
    for (const auto& field : req) {
      std::string name =
          Lowercase(std::string_view(field.name_string().data(), field.name_string().size()));
      std::string value(field.value().data(), field.value().size());
      auto [it, inserted] = request.headers.emplace(std::move(name), value);
      if (!inserted) it->second += ", " + value;  // repeated headers fold into one list
    }
    request.body = std::move(req.body());
    request.peer = peer_;

    if (match->options.inline_on_io_thread) {
      HttpResponse r = server_.RunHandler(*match, request);
      return Write(std::move(r), *match->pattern, version_, false);
    }
    // Off the I/O thread: the handler may wait for the engine.
    net::post(*server_.pool, [self = shared_from_this(), match = std::move(*match),
                              request = std::move(request)]() mutable {
      HttpResponse r = self->server_.RunHandler(match, request);
      net::post(self->stream_.get_executor(),
                [self, r = std::move(r), pattern = match.pattern]() mutable {
                  self->Write(std::move(r), *pattern, self->version_, false);
                });
    });
  }

  void Write(HttpResponse r, std::string_view route, unsigned version, bool close) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version);
    res->result(static_cast<unsigned>(r.status));
    res->set(http::field::server, "zicht");
    res->set(http::field::content_type, r.content_type);
    res->set("X-Content-Type-Options", "nosniff");
    for (const auto& [name, value] : r.headers) res->set(name, value);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_ && !close);
    res->prepare_payload();
    server_.Count(
        route, r.status,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
    stream_.expires_after(server_.options.request_timeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, size_t) {
                        if (ec || !res->keep_alive()) return self->Close();
                        self->Read();
                      });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  Impl& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string peer_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  std::chrono::steady_clock::time_point started_;
};

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      Log(fmt::format("accept failed: {}", ec.message()));
    } else if (connections.load() >= options.max_connections) {
      beast::error_code ignored;
      socket.close(ignored);  // over the connection limit: refuse without a reply
    } else {
      beast::error_code peer_ec;
      auto endpoint = socket.remote_endpoint(peer_ec);
      std::string peer = peer_ec ? std::string("unknown") : endpoint.address().to_string();
      std::make_shared<Session>(*this, std::move(socket), std::move(peer))->Start();
    }
    Accept();
  });
}

void HttpServer::Impl::Count(std::string_view route, int status, double seconds) {
  if (metrics == nullptr) return;
  const std::string r(route);
  metrics->families()
      .http_requests->Add({{"route", r}, {"code", std::to_string(status)}})
      .Increment();
  metrics->families()
      .http_request_duration->Add({{"route", r}}, HttpRequestDurationBuckets())
      .Observe(seconds);
}

HttpResponse HttpServer::Impl::RunHandler(const Router::Match& match, const HttpRequest& request) {
  try {
    return (*match.handler)(request);
  } catch (const std::exception& e) {
    Log(fmt::format("handler for {} failed: {}", *match.pattern, e.what()));
  } catch (...) {
    Log(fmt::format("handler for {} failed", *match.pattern));
  }
  // Clients never see exception text or internal paths.
  return HttpResponse::Error(500, "internal error");
}

HttpResponse HttpServer::Impl::Readiness() {
  ReadinessCheck check;
  {
    std::lock_guard<std::mutex> lock(readiness_mutex);
    check = readiness;
  }
  std::vector<std::string> reasons;
  if (check) reasons = check();
  std::string body;
  JsonWriter w(&body);
  w.BeginObject().Key("ready").Bool(reasons.empty());
  if (!reasons.empty()) {
    w.Key("reasons").BeginArray();
    for (const std::string& r : reasons) w.String(r);
    w.EndArray();
  }
  w.EndObject();
  body.push_back('\n');
  if (metrics != nullptr) metrics->families().ready->Add({}).Set(reasons.empty() ? 1 : 0);
  return HttpResponse::Json(reasons.empty() ? 200 : 503, std::move(body));
}

HttpServer::HttpServer(HttpServerOptions options, MetricsRegistry* metrics)
    : impl_(std::make_unique<Impl>(std::move(options), metrics)) {
  RouteOptions probe;
  probe.inline_on_io_thread = true;  // kubelet probes answer even when handlers are busy
  probe.rate_limited = false;
  Status s = impl_->router.Add(
      "GET", "/healthz", [](const HttpRequest&) { return HttpResponse::Text(200, "ok\n"); }, probe);
  if (s.ok()) {
    s = impl_->router.Add(
        "GET", "/readyz", [impl = impl_.get()](const HttpRequest&) { return impl->Readiness(); },
        probe);
  }
  if (s.ok() && metrics != nullptr) {
    s = impl_->router.Add("GET", "/metrics", [metrics](const HttpRequest&) {
      HttpResponse r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = metrics->Render();
      return r;
    });
  }
  if (!s.ok()) impl_->Log("built-in routes: " + s.ToString());
}

HttpServer::~HttpServer() {
  Stop();
}

Status HttpServer::Route(std::string method, std::string pattern, HttpHandler handler,
                         RouteOptions options) {
  if (impl_->started) return Status::InvalidArgument("http: routes must be added before Start");
  return impl_->router.Add(std::move(method), std::move(pattern), std::move(handler), options);
}

// By value: every asset is moved into its handler (clang-tidy 14 misreads the
// structured binding below as a const use).
// NOLINTNEXTLINE(performance-unnecessary-value-param)
Status HttpServer::ServeStatic(std::string prefix, std::map<std::string, StaticAsset> assets) {
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  for (auto& [path, asset] : assets) {
    if (path.empty() || path.front() != '/' || path.find_first_of("{}?#") != std::string::npos) {
      return Status::InvalidArgument("static asset path must start with '/' and have no {}?#: " +
                                     path);
    }
    auto shared = std::make_shared<const StaticAsset>(std::move(asset));
    const std::string etag = "\"" + Sha256Hex(shared->bytes).substr(0, 32) + "\"";
    HttpHandler serve = [shared, etag](const HttpRequest& request) {
      HttpResponse r;
      r.headers.emplace_back("ETag", etag);
      r.headers.emplace_back("Cache-Control", "no-cache");
      if (request.header("if-none-match") == etag) {
        r.status = 304;
        r.content_type = shared->content_type;
        return r;
      }
      r.content_type = shared->content_type;
      r.body = shared->bytes;
      return r;
    };
    ZICHT_RETURN_IF_ERROR(Route("GET", prefix + path, serve));
    if (path == "/index.html") {
      if (!prefix.empty()) ZICHT_RETURN_IF_ERROR(Route("GET", prefix, serve));
      ZICHT_RETURN_IF_ERROR(Route("GET", prefix + "/", serve));
    }
  }
  return Status::Ok();
}

void HttpServer::SetReadinessCheck(ReadinessCheck check) {
  std::lock_guard<std::mutex> lock(impl_->readiness_mutex);
  impl_->readiness = std::move(check);
}

Status HttpServer::Start() {
  Impl& s = *impl_;
  if (s.started) return Status::InvalidArgument("http: server already started");
  ZICHT_RETURN_IF_ERROR(s.options.Validate());
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(s.options.bind_address, ec);
  if (ec) {
    return Status::InvalidArgument("http: bind_address is not an IP address: " +
                                   s.options.bind_address);
  }
  const tcp::endpoint endpoint(address, s.options.port);
  const std::string where = fmt::format("{}:{}", s.options.bind_address, s.options.port);
  if (s.acceptor.open(endpoint.protocol(), ec) ||
      s.acceptor.set_option(net::socket_base::reuse_address(true), ec) ||
      s.acceptor.bind(endpoint, ec) ||
      s.acceptor.listen(net::socket_base::max_listen_connections, ec)) {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    return Status::IoError("http: cannot listen on " + where + ": " + ec.message());
  }
  s.bound_port = s.acceptor.local_endpoint(ec).port();
  s.started = true;
  s.pool = std::make_unique<net::thread_pool>(static_cast<size_t>(s.options.handler_threads));
  s.work.emplace(s.ioc.get_executor());
  s.Accept();
  s.io_thread = std::thread([&s] { s.ioc.run(); });
  return Status::Ok();
}

void HttpServer::Stop() {
  Impl& s = *impl_;
  if (!s.started || s.stopped) return;
  s.stopped = true;
  net::post(s.ioc, [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
  });
  s.work.reset();
  // Running handlers finish (they may wait for the engine up to their own
  // timeout); their replies are dropped once the I/O thread has stopped.
  s.pool->join();
  s.ioc.stop();
  if (s.io_thread.joinable()) s.io_thread.join();
}

uint16_t HttpServer::port() const {
  return impl_->bound_port.load();
}
const HttpServerOptions& HttpServer::options() const {
  return impl_->options;
}

}  // namespace zicht::monitoring
