package nl.zicht.peer;

import java.util.Map;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;

/**
 * The bounded-memory RocksDB setup of the Kafka Streams memory-management
 * guide: one block cache and one write-buffer manager shared by every store
 * instance of the process, instead of 50 MB cache + 3 x 16 MB memtables per store.
 */
public final class BoundedMemoryRocksDBConfig implements RocksDBConfigSetter {
  static final long TOTAL_OFF_HEAP_BYTES = 128L << 20;
  static final long TOTAL_MEMTABLE_BYTES = 48L << 20;
  private static final Cache CACHE = new LRUCache(TOTAL_OFF_HEAP_BYTES, -1, false, 0.1);
  private static final WriteBufferManager WRITE_BUFFERS =
      new WriteBufferManager(TOTAL_MEMTABLE_BYTES, CACHE);

  @Override
  public void setConfig(String storeName, Options options, Map<String, Object> configs) {
    BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
    table.setBlockCache(CACHE);
    table.setCacheIndexAndFilterBlocks(true);
    table.setPinTopLevelIndexAndFilter(true);
    options.setWriteBufferManager(WRITE_BUFFERS);
    options.setTableFormatConfig(table);
  }

  @Override
  public void close(String storeName, Options options) {
    // The cache and write-buffer manager are shared: never closed per store.
  }
}
