// Hot-path micro-benchmarks: decoding, window updates, measures, rule
// evaluation. Figures are relative (compare runs on one machine); the replay
// benchmark (bench/replay) gives end-to-end events/s.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <sstream>

#include "zicht/base/file.h"
#include "zicht/engine/decoder.h"
#include "zicht/engine/engine.h"
#include "zicht/engine/measure_math.h"
#include "zicht/engine/window_store.h"
#include "zicht/runtime/plan_loader.h"
#include "zicht/runtime/rocksdb_state_store.h"
#include "zicht/tools/generator.h"

namespace zicht::engine {
namespace {
using runtime::OpenRocksDbStateStore;
using runtime::PlanSources;
using tools::GenerateFeed;
using tools::GeneratorOptions;

const std::string kMunicipalities = ZICHT_SOURCE_DIR "/config/reference/municipalities.csv";

std::vector<std::string> Feed(int days, double scale = 1.0) {
  auto munis = reference::MunicipalityTable::Load(kMunicipalities);
  GeneratorOptions options;
  options.days = days;
  options.seed = 3;
  options.scale = scale;
  options.clean = true;
  std::stringstream out;
  (void)GenerateFeed(options, (*munis)->rows(), out, nullptr);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(out, line)) lines.push_back(line);
  return lines;
}

const std::vector<std::string>& Lines() {
  static const std::vector<std::string> lines = Feed(200);
  return lines;
}

PlanPtr LoadPlan(const std::string& pack) {
  PlanSources setup;
  setup.rule_files = {pack};
  setup.municipalities_path = kMunicipalities;
  auto plan = LoadPlan(setup);
  if (!plan.ok()) std::abort();
  return *plan;
}

// simdjson's own DOM parse of the same lines: the reference for Decode.
void BM_SimdjsonParse(benchmark::State& state) {
  const auto& lines = Lines();
  std::vector<simdjson::padded_string> padded(lines.begin(), lines.end());
  simdjson::dom::parser parser;
  size_t i = 0;
  for (auto _ : state) {
    simdjson::dom::element doc;
    benchmark::DoNotOptimize(parser.parse(padded[i]).get(doc));
    if (++i == padded.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SimdjsonParse);

void BM_Decode(benchmark::State& state) {
  const auto& lines = Lines();
  PlanPtr plan = LoadPlan(ZICHT_SOURCE_DIR "/tests/rules/data/spec_example.yaml");
  EventDecoder decoder(plan->schemas(), plan->municipalities_ptr());
  std::vector<simdjson::padded_string> padded(lines.begin(), lines.end());
  size_t i = 0;
  DecodedEvent ev;
  DecodeError err;
  for (auto _ : state) {
    benchmark::DoNotOptimize(decoder.Decode(padded[i], true, &ev, &err));
    if (++i == padded.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Decode);

void BM_WindowAdd(benchmark::State& state) {
  PlanPtr plan = LoadPlan(ZICHT_SOURCE_DIR "/tests/rules/data/spec_example.yaml");
  std::vector<int> munis(plan->municipalities().size());
  for (size_t i = 0; i < munis.size(); ++i) munis[i] = static_cast<int>(i);
  WindowStore ws(*plan, munis);
  TimeMs t = 20000 * kMsPerDay;
  ws.Advance(t);
  uint64_t x = 1;
  for (auto _ : state) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const int local = static_cast<int>((x >> 33) % munis.size());
    ws.Add(0, local, 20000, true, 0);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WindowAdd);

void BM_PoissonUpperTail(benchmark::State& state) {
  double lambda = 12.5;
  int64_t k = 30;
  for (auto _ : state) {
    benchmark::DoNotOptimize(PoissonUpperTail(k, lambda));
    k = 20 + (k + 7) % 40;
  }
}
BENCHMARK(BM_PoissonUpperTail);

void BM_PoissonCriticalCount(benchmark::State& state) {
  double lambda = 12.5;
  for (auto _ : state) {
    benchmark::DoNotOptimize(PoissonCriticalCount(lambda, 0.001));
    lambda += 0.01;
  }
}
BENCHMARK(BM_PoissonCriticalCount);

// Whole engine per event, in memory after warm-up, for a pack (arg: 0 = no
// rules, 1 = SPEC example).
class NullSink : public connectors::RecordSink {
 public:
  Status Send(uint64_t id, const connectors::OutRecord&) override {
    ids_.push_back(id);
    return Status::Ok();
  }
  Status Flush(std::vector<uint64_t>* acked, std::chrono::milliseconds) override {
    acked->insert(acked->end(), ids_.begin(), ids_.end());
    ids_.clear();
    return Status::Ok();
  }

 private:
  std::vector<uint64_t> ids_;
};

void BM_EngineProcess(benchmark::State& state) {
  const auto& lines = Lines();
  PlanPtr plan = LoadPlan(ZICHT_SOURCE_DIR "/tests/rules/data/spec_example.yaml");
  auto dir = TemporaryDirectory::Make("zicht-bench-");
  auto store = OpenRocksDbStateStore(dir->path());
  NullSink sink;
  EngineOptions options;
  options.commit_every_records = 1 << 30;
  Engine engine(plan, store->get(), &sink, &sink, options);
  (void)engine.Open();
  std::vector<simdjson::padded_string> padded(lines.begin(), lines.end());
  size_t i = 0;
  int64_t offset = 0;
  for (auto _ : state) {
    if (i == padded.size()) {
      // Second pass: same ids are duplicates; stop the benchmark loop instead.
      state.SkipWithError("feed exhausted");
      break;
    }
    connectors::SourceRecord r;
    r.payload = std::string_view(padded[i].data(), padded[i].size());
    r.padded = true;
    r.offset = offset;
    r.next_offset = ++offset;
    benchmark::DoNotOptimize(engine.Process(r, "bench", true));
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EngineProcess)->Iterations(400000);

}  // namespace
}  // namespace zicht::engine

BENCHMARK_MAIN();
