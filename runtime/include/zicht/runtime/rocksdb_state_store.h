// RocksDbStateStore: the production StateStore (engine/state_store.h), one
// RocksDB column family per Family, every StateBatch one atomic WriteBatch.
#pragma once

#include <cstddef>
#include <string>

#include "zicht/base/status.h"
#include "zicht/engine/state_store.h"

namespace zicht::runtime {

using engine::StateStorePtr;

struct RocksDbOptions {
  size_t block_cache_bytes = 32u << 20;      // shared LRU block cache (default 32 MiB)
  size_t write_buffer_bytes = 16u << 20;     // per column family memtable (default 16 MiB)
  size_t memtable_budget_bytes = 48u << 20;  // all memtables together (default 48 MiB)
  bool sync_writes = false;                  // fsync each commit; the WAL already survives kill -9
  bool create_if_missing = true;
};

// Opens (or creates) a RocksDB state directory with every column family.
Result<StateStorePtr> OpenRocksDbStateStore(const std::string& dir,
                                            const RocksDbOptions& options = {});

}  // namespace zicht::runtime
