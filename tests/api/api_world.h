// The engine behind the API tests: a municipalities table and a pack written
// to a temporary directory, a real RocksDB store, and a feed processed and
// committed, so that the API reads what a running engine would serve.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "zicht/base/clock.h"
#include "zicht/base/file.h"
#include "zicht/connectors/record_sink.h"
#include "zicht/engine/engine.h"
#include "zicht/runtime/plan_loader.h"
#include "zicht/runtime/rocksdb_state_store.h"

namespace zicht::api::testing {

struct World {
  TemporaryDirectory dir;
  engine::PlanPtr plan;
  std::unique_ptr<engine::StateStore> store;
  connectors::MemorySink alerts, dead;
  std::unique_ptr<engine::Engine> engine;
};

// Builds `world` from the table and pack texts (and `files`, name -> text,
// written beside them, such as a pack's reference table) and processes every
// line of `lines` (each must be accepted). Call through ASSERT_NO_FATAL_FAILURE.
inline void BuildWorld(World* world, const std::string& name, const char* municipalities,
                       const char* pack, const std::vector<std::string>& lines,
                       const std::map<std::string, std::string>& files = {}) {
  auto dir = TemporaryDirectory::Make("zicht-" + name + "-");
  ASSERT_TRUE(dir.ok());
  world->dir = std::move(*dir);
  const std::string root = world->dir.path();
  ASSERT_TRUE(WriteFileAtomic(root + "/municipalities.csv", municipalities).ok());
  ASSERT_TRUE(WriteFileAtomic(root + "/pack.yaml", pack).ok());
  for (const auto& [file, text] : files) ASSERT_TRUE(WriteFileAtomic(root + "/" + file, text).ok());
  runtime::PlanSources sources;
  sources.rule_files = {root + "/pack.yaml"};
  sources.municipalities_path = root + "/municipalities.csv";
  if (files.count("neighbourhoods.csv")) sources.neighbourhoods_path = root + "/neighbourhoods.csv";
  auto plan = runtime::LoadPlan(sources);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  world->plan = *plan;
  auto store = runtime::OpenRocksDbStateStore(root + "/state");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  world->store = std::move(*store);
  engine::EngineOptions options;
  static const FakeClock clock(1800000000000);
  options.clock = &clock;
  world->engine = std::make_unique<engine::Engine>(world->plan, world->store.get(), &world->alerts,
                                                   &world->dead, options);
  ASSERT_TRUE(world->engine->Open().ok());
  world->engine->SetSourceId(0, name);
  for (size_t i = 0; i < lines.size(); ++i) {
    connectors::SourceRecord r;
    r.payload = lines[i];
    r.offset = static_cast<int64_t>(i);
    r.next_offset = r.offset + 1;
    r.line = r.offset + 1;
    Status s = world->engine->Process(r, "feed", true);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  ASSERT_TRUE(world->engine->Commit().ok());
  ASSERT_EQ(world->engine->stats().accepted, static_cast<int64_t>(lines.size()));
}

}  // namespace zicht::api::testing
