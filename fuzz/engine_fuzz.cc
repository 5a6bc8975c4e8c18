// Fuzz target (e): the whole engine on a stream of lines, as `zicht replay`
// runs it: decode, route, de-duplicate, window, evaluate, commit to a real
// RocksDB directory (on /dev/shm when there is one), drain, reopen. The first
// byte picks the number of emulated partitions (1-3: partitions wait for each
// other's national figures) and the commit cadence.
// Invariants: no error from Process/Commit/Drain on any input; after Drain
// every record is accepted, dead-lettered or skipped, nothing is held back;
// a reopened state resumes after the last record.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz_common.h"
#include "zicht/engine/engine.h"
#include "zicht/runtime/plan_loader.h"
#include "zicht/runtime/rocksdb_state_store.h"

namespace {

using zicht::Status;
using zicht::engine::Engine;

const zicht::engine::PlanPtr& Plan() {
  static auto* plan = [] {
    zicht::runtime::PlanSources setup;
    setup.rule_files = {zicht::fuzz::SourcePath("fuzz/data/engine_pack.yaml")};
    setup.municipalities_path = zicht::fuzz::SourcePath("config/reference/municipalities.csv");
    auto p = zicht::runtime::LoadPlan(setup);
    ZICHT_FUZZ_CHECK(p.ok(), "the fixed pack loads");
    return new zicht::engine::PlanPtr(*p);
  }();
  return *plan;
}

// Real RocksDB, small buffers: a fresh store per input must open quickly.
zicht::runtime::RocksDbOptions SmallStore() {
  zicht::runtime::RocksDbOptions o;
  o.block_cache_bytes = 1 << 20;
  o.write_buffer_bytes = 1 << 20;
  o.memtable_budget_bytes = 4 << 20;
  return o;
}

std::string StateBase() {
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec)) return "/dev/shm";
  return std::filesystem::temp_directory_path(ec).string();
}

#define CHECK_OK(expr, what)                                                     \
  do {                                                                           \
    Status _s = (expr);                                                          \
    if (!_s.ok()) std::fprintf(stderr, "%s: %s\n", what, _s.ToString().c_str()); \
    ZICHT_FUZZ_CHECK(_s.ok(), what);                                             \
  } while (0)

}  // namespace

extern "C" int ZICHT_FUZZ_ENTRY(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int partitions = 1 + data[0] % 3;
  const int64_t commit_every = 1 + (data[0] >> 2) % 16;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<std::string_view> lines;
  for (size_t start = 0; start <= input.size();) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    std::string_view line = input.substr(start, end - start);
    // The file source skips blank lines before the engine sees them.
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) lines.push_back(line);
    start = end + 1;
  }

  static const std::string base = StateBase();
  std::string dir = base + "/zicht-fuzz-engine-" + std::to_string(::getpid());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);

  zicht::engine::EngineOptions options;
  options.partitions = partitions;
  options.commit_every_records = commit_every;
  static const zicht::FakeClock clock(1800000000000);
  options.clock = &clock;
  zicht::connectors::MemorySink alerts, dead;
  int64_t offset = 0;
  {
    auto store = zicht::runtime::OpenRocksDbStateStore(dir, SmallStore());
    CHECK_OK(store.status(), "open state");
    Engine engine(Plan(), store->get(), &alerts, &dead, options);
    CHECK_OK(engine.Open(), "engine open");
    engine.SetSourceId(0, "fuzz");
    for (size_t i = 0; i < lines.size(); ++i) {
      zicht::connectors::SourceRecord r;
      r.payload = lines[i];
      r.offset = offset;
      offset += static_cast<int64_t>(lines[i].size()) + 1;
      r.next_offset = offset;
      r.line = static_cast<int64_t>(i) + 1;
      CHECK_OK(engine.Process(r, "fuzz.jsonl", /*route_by_municipality=*/true), "process");
      if ((i + 1) % static_cast<size_t>(commit_every) == 0) CHECK_OK(engine.Commit(), "commit");
    }
    CHECK_OK(engine.Drain(), "drain");
    CHECK_OK(engine.Commit(), "final commit");
    const auto& st = engine.stats();
    ZICHT_FUZZ_CHECK(st.records == static_cast<int64_t>(lines.size()), "every line is a record");
    ZICHT_FUZZ_CHECK(st.accepted + st.dead_letters + st.skipped_replayed == st.records,
                     "every record accepted, dead-lettered or skipped");
    ZICHT_FUZZ_CHECK(engine.HeldBack().empty(), "nothing held back after Drain");
    ZICHT_FUZZ_CHECK(engine.outbox_pending() == 0, "outbox delivered");
    ZICHT_FUZZ_CHECK(static_cast<int64_t>(dead.records.size()) == st.dead_letters,
                     "one dead letter per rejected record");
    ZICHT_FUZZ_CHECK(static_cast<int64_t>(alerts.records.size()) == st.alerts,
                     "every alert delivered");
    ZICHT_FUZZ_CHECK(engine.Position(0).next_offset == offset, "position after the last record");
  }
  {
    // Restart on the committed state: it must load and resume at the end.
    auto store = zicht::runtime::OpenRocksDbStateStore(dir, SmallStore());
    CHECK_OK(store.status(), "reopen state");
    zicht::connectors::MemorySink alerts2, dead2;
    Engine engine(Plan(), store->get(), &alerts2, &dead2, options);
    CHECK_OK(engine.Open(), "engine reopen");
    engine.SetSourceId(0, "fuzz");
    ZICHT_FUZZ_CHECK(engine.Position(0).next_offset == offset, "resumes after the last record");
  }
  std::filesystem::remove_all(dir, ec);
  return 0;
}
