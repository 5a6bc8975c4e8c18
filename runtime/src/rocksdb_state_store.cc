#include "zicht/runtime/rocksdb_state_store.h"

#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <array>

namespace zicht::runtime {

using engine::Family;
using engine::FamilyName;
using engine::kFamilyCount;
using engine::StateBatch;
using engine::StateStore;
using engine::StateStoreStats;

namespace {

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return Status::NotFound(std::string(what));
  if (s.IsCorruption()) return Status::Corruption(fmt::format("{}: {}", what, s.ToString()));
  if (s.IsBusy() || s.IsTryAgain())
    return Status::TryAgain(fmt::format("{}: {}", what, s.ToString()));
  return Status::IoError(fmt::format("{}: {}", what, s.ToString()));
}

class RocksDbStateStore : public StateStore {
 public:
  ~RocksDbStateStore() override {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    delete db_;
  }

  static Result<StateStorePtr> Open(const std::string& dir, const RocksDbOptions& options) {
    auto store = std::make_unique<RocksDbStateStore>();
    store->sync_ = options.sync_writes;
    rocksdb::Options db_options;
    db_options.create_if_missing = options.create_if_missing;
    db_options.create_missing_column_families = true;
    db_options.max_background_jobs = 2;
    db_options.bytes_per_sync = 1 << 20;
    db_options.keep_log_file_num = 3;
    db_options.max_manifest_file_size = 64 << 20;
    // One budget for the memtables of all column families, so memory stays
    // bounded however the writes spread over them.
    db_options.write_buffer_manager =
        std::make_shared<rocksdb::WriteBufferManager>(options.memtable_budget_bytes);
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    table.cache_index_and_filter_blocks = true;
    rocksdb::ColumnFamilyOptions cf_options;
    cf_options.write_buffer_size = options.write_buffer_bytes;
    cf_options.max_write_buffer_number = 2;
    cf_options.compression = rocksdb::kLZ4Compression;
    cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    families.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
    for (int i = 0; i < kFamilyCount; ++i) {
      families.emplace_back(std::string(FamilyName(static_cast<Family>(i))), cf_options);
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::Status s = rocksdb::DB::Open(db_options, dir, families, &handles, &store->db_);
    if (!s.ok()) return FromRocks(s, fmt::format("opening state directory {}", dir));
    store->db_->DestroyColumnFamilyHandle(handles[0]);
    store->handles_.assign(handles.begin() + 1, handles.end());
    return StateStorePtr(std::move(store));
  }

  Status Write(const StateBatch& batch) override {
    rocksdb::WriteBatch wb;
    for (const StateBatch::Entry& e : batch.entries()) {
      auto* cf = handle(e.family);
      switch (e.op) {
        case StateBatch::Op::kPut:
          wb.Put(cf, e.key, e.value);
          break;
        case StateBatch::Op::kDelete:
          wb.Delete(cf, e.key);
          break;
        case StateBatch::Op::kDeleteRange:
          wb.DeleteRange(cf, e.key, e.value);
          break;
        case StateBatch::Op::kMirrorDelete:
          break;  // covered by a range delete
      }
    }
    rocksdb::WriteOptions wo;
    wo.sync = sync_;
    return FromRocks(db_->Write(wo, &wb), "state write");
  }

  Status Get(Family f, std::string_view key, std::string* value) override {
    return FromRocks(db_->Get(rocksdb::ReadOptions(), handle(f), key, value), "state get");
  }

  Status Scan(Family f, std::string_view begin, std::string_view end,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    rocksdb::ReadOptions ro;
    std::string end_copy(end);
    rocksdb::Slice upper(end_copy);
    if (!end.empty()) ro.iterate_upper_bound = &upper;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handle(f)));
    for (it->Seek(rocksdb::Slice(begin.data(), begin.size())); it->Valid(); it->Next()) {
      if (!fn(std::string_view(it->key().data(), it->key().size()),
              std::string_view(it->value().data(), it->value().size()))) {
        break;
      }
    }
    return FromRocks(it->status(), "state scan");
  }

  StateStoreStats Stats() override {
    StateStoreStats st;
    for (auto* h : handles_) {
      uint64_t v = 0;
      if (db_->GetIntProperty(h, rocksdb::DB::Properties::kEstimateLiveDataSize, &v))
        st.live_data_bytes += v;
      if (db_->GetIntProperty(h, rocksdb::DB::Properties::kTotalSstFilesSize, &v))
        st.total_sst_bytes += v;
      if (db_->GetIntProperty(h, rocksdb::DB::Properties::kCurSizeAllMemTables, &v))
        st.memtable_bytes += v;
      if (db_->GetIntProperty(h, rocksdb::DB::Properties::kEstimatePendingCompactionBytes, &v)) {
        st.pending_compaction_bytes += v;
      }
      if (db_->GetIntProperty(h, rocksdb::DB::Properties::kEstimateNumKeys, &v))
        st.estimated_keys += v;
    }
    return st;
  }

 private:
  rocksdb::ColumnFamilyHandle* handle(Family f) { return handles_[static_cast<size_t>(f)]; }

  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  bool sync_ = false;
};

}  // namespace

Result<StateStorePtr> OpenRocksDbStateStore(const std::string& dir, const RocksDbOptions& options) {
  return RocksDbStateStore::Open(dir, options);
}

}  // namespace zicht::runtime
