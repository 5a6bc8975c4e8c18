// Monitoring benchmarks: the probe's hot-path calls, rendering /metrics for a
// realistic registry, and HTTP round trips on /healthz.
//
//   monitoring_bench                       google-benchmark suites
//   monitoring_bench --serve SECONDS       serve /healthz and /metrics on a free
//                                          loopback port (printed) for wrk
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "../tests/monitoring/http_client.h"
#include "zicht/engine/plan.h"
#include "zicht/monitoring/http_server.h"
#include "zicht/monitoring/metrics_registry.h"
#include "zicht/runtime/plan_loader.h"
#include "zicht/runtime/prometheus_probe.h"

namespace zicht {
namespace {

engine::PlanPtr SpecPlan() {
  runtime::PlanSources o;
  o.rule_files = {ZICHT_SOURCE_DIR "/tests/rules/data/spec_example.yaml"};
  o.municipalities_path = ZICHT_SOURCE_DIR "/config/reference/municipalities.csv";
  auto plan = runtime::LoadPlan(o);
  if (!plan.ok()) {
    std::fprintf(stderr, "%s\n", plan.status().ToString().c_str());
    std::exit(1);
  }
  return *plan;
}

// A registry the size of a production instance: 20 event types, 100 rules,
// 12 partitions, 10 HTTP routes, every dead-letter reason, all histograms.
void FillRealistic(monitoring::MetricsRegistry& registry) {
  const auto& f = registry.families();
  for (int t = 0; t < 20; ++t) {
    for (const char* result : {"accepted", "dead_letter"}) {
      f.events_consumed->Add({{"type", "type_" + std::to_string(t)}, {"result", result}})
          .Increment(1000 + t);
    }
  }
  const char* severities[] = {"info", "low", "medium", "high", "critical"};
  for (int r = 0; r < 100; ++r) {
    f.alerts_emitted->Add({{"rule", "rule-" + std::to_string(r)}, {"severity", severities[r % 5]}})
        .Increment(r);
  }
  for (int p = 0; p < 12; ++p) {
    const std::string label = std::to_string(p);
    f.consumer_lag->Add({{"partition", label}}).Set(p * 10);
    f.watermark_lag->Add({{"partition", label}}).Set(86400 + p);
    f.event_time->Add({{"partition", label}}).Set(1.78e9);
  }
  for (int route = 0; route < 10; ++route) {
    const std::string r = "/api/v1/route" + std::to_string(route);
    for (const char* code : {"200", "400", "404", "429", "500"}) {
      f.http_requests->Add({{"route", r}, {"code", code}}).Increment();
    }
    f.http_request_duration->Add({{"route", r}}, monitoring::HttpRequestDurationBuckets())
        .Observe(0.001);
  }
}

struct ProbeFixture {
  engine::PlanPtr plan = SpecPlan();
  monitoring::MetricsRegistry registry;
  runtime::PrometheusEngineProbe probe{&registry, *plan};
  int type = plan->schemas()->TypeIndex("property_sale");
};

void BM_NullProbeEventAccepted(benchmark::State& state) {
  engine::EngineProbe null_probe;
  engine::EngineProbe* probe = &null_probe;
  benchmark::DoNotOptimize(probe);
  for (auto _ : state) probe->EventAccepted(1);
}
BENCHMARK(BM_NullProbeEventAccepted);

void BM_ProbeEventAccepted(benchmark::State& state) {
  ProbeFixture fx;
  engine::EngineProbe* probe = &fx.probe;
  benchmark::DoNotOptimize(probe);
  for (auto _ : state) probe->EventAccepted(fx.type);
}
BENCHMARK(BM_ProbeEventAccepted);

void BM_ProbeEventDeadLettered(benchmark::State& state) {
  ProbeFixture fx;
  engine::EngineProbe* probe = &fx.probe;
  benchmark::DoNotOptimize(probe);
  for (auto _ : state) probe->EventDeadLettered(-1, engine::DeadLetterReason::kBadType);
}
BENCHMARK(BM_ProbeEventDeadLettered);

void BM_ProbeWatermark(benchmark::State& state) {
  ProbeFixture fx;
  engine::EngineProbe* probe = &fx.probe;
  benchmark::DoNotOptimize(probe);
  TimeMs t = 1'780'000'000'000;
  for (auto _ : state) {
    ++t;
    probe->Watermark(0, t, t - kMsPerDay);
  }
}
BENCHMARK(BM_ProbeWatermark);

void BM_ProbeAlertEmitted(benchmark::State& state) {
  ProbeFixture fx;
  engine::EngineProbe* probe = &fx.probe;
  benchmark::DoNotOptimize(probe);
  for (auto _ : state) probe->AlertEmitted(0, 250);  // counter + histogram
}
BENCHMARK(BM_ProbeAlertEmitted);

void BM_ProbeEventProcessed(benchmark::State& state) {
  ProbeFixture fx;
  engine::EngineProbe* probe = &fx.probe;
  benchmark::DoNotOptimize(probe);
  for (auto _ : state) probe->EventProcessed(0.003);  // histogram
}
BENCHMARK(BM_ProbeEventProcessed);

void BM_RenderMetrics(benchmark::State& state) {
  ProbeFixture fx;
  FillRealistic(fx.registry);
  size_t bytes = 0, series = 0;
  for (auto _ : state) {
    std::string text = fx.registry.Render();
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  const std::string text = fx.registry.Render();
  for (size_t at = 0; (at = text.find('\n', at)) != std::string::npos; ++at) {
    if (at + 1 < text.size() && text[at + 1] != '#') ++series;
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["series"] = static_cast<double>(series);
}
BENCHMARK(BM_RenderMetrics)->Unit(benchmark::kMicrosecond);

void BM_HttpHealthzKeepAlive(benchmark::State& state) {
  monitoring::MetricsRegistry registry;
  monitoring::HttpServerOptions options;
  options.bind_address = "127.0.0.1";
  options.port = 0;
  options.rate_limit.requests_per_second = 0;
  monitoring::HttpServer server(options, &registry);
  if (!server.Start().ok()) return state.SkipWithError("server did not start");
  monitoring::testing::Client client(server.port());
  for (auto _ : state) {
    auto reply = client.Send(monitoring::testing::http::verb::get, "/healthz");
    if (reply.status != 200) return state.SkipWithError("not 200");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HttpHealthzKeepAlive)->Unit(benchmark::kMicrosecond);

int Serve(int seconds) {
  ProbeFixture fx;
  FillRealistic(fx.registry);
  monitoring::HttpServerOptions options;
  options.bind_address = "127.0.0.1";
  options.port = 0;
  options.rate_limit.requests_per_second = 0;  // wrk is one client
  monitoring::HttpServer server(options, &fx.registry);
  Status s = server.Start();
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("%d\n", server.port());
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  return 0;
}

}  // namespace
}  // namespace zicht

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--serve") == 0) return zicht::Serve(std::atoi(argv[2]));
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
