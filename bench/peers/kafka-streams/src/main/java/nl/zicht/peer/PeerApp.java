package nl.zicht.peer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.IntegerDeserializer;
import org.apache.kafka.common.serialization.IntegerSerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The Kafka Streams peer of zicht's peer benchmark.
 *
 * <pre>
 * java -cp 'target/zicht-peer.jar:target/lib/*' nl.zicht.peer.PeerApp \
 *   --bootstrap 127.0.0.1:9092 --input zicht.events --municipalities municipalities.csv \
 *   [--app-id zicht-peer] [--alerts peer.alerts] [--national peer.national]
 *   [--dead-letter peer.dead-letter] [--state-dir DIR] [--threads N] [--stop-at-end]
 * </pre>
 *
 * With --stop-at-end it exits 0 once the group's committed offsets reach the
 * input's end offsets taken at start, and prints a JSON summary line.
 */
public final class PeerApp {
  static final String INPUT_PARTITIONS = "peer.input.partitions";

  public static void main(String[] args) throws Exception {
    Map<String, String> opt = new HashMap<>();
    Set<String> flags = Set.of("--stop-at-end");
    for (int i = 0; i < args.length; i++) {
      if (flags.contains(args[i])) {
        opt.put(args[i], "true");
      } else if (args[i].startsWith("--") && i + 1 < args.length) {
        opt.put(args[i], args[++i]);
      } else {
        System.err.println("peer: unexpected argument " + args[i]);
        System.exit(2);
      }
    }
    String bootstrap = required(opt, "--bootstrap");
    String input = opt.getOrDefault("--input", "zicht.events");
    String appId = opt.getOrDefault("--app-id", "zicht-peer");
    String alerts = opt.getOrDefault("--alerts", "peer.alerts");
    String nationalTopic = opt.getOrDefault("--national", appId + ".national");
    String deadLetter = opt.getOrDefault("--dead-letter", "peer.dead-letter");
    int threads = Integer.parseInt(opt.getOrDefault("--threads",
        String.valueOf(Runtime.getRuntime().availableProcessors())));
    Municipalities munis = new Municipalities(Path.of(required(opt, "--municipalities")));

    Map<TopicPartition, Long> endOffsets = new HashMap<>();
    int partitions;
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      TopicDescription d = admin.describeTopics(List.of(input)).allTopicNames().get().get(input);
      partitions = d.partitions().size();
      createIfMissing(admin, alerts, Map.of());
      createIfMissing(admin, deadLetter, Map.of());
      createIfMissing(admin, nationalTopic,
          Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (int p = 0; p < partitions; p++) latest.put(new TopicPartition(input, p), OffsetSpec.latest());
      for (Map.Entry<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> e :
          admin.listOffsets(latest).all().get().entrySet()) {
        endOffsets.put(e.getKey(), e.getValue().offset());
      }
    }

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
    props.put(StreamsConfig.STATE_DIR_CONFIG, opt.getOrDefault("--state-dir", "/tmp/zicht-peer"));
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    props.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedMemoryRocksDBConfig.class);
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG,
        Long.parseLong(opt.getOrDefault("--cache-bytes", String.valueOf(10L << 20))));
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Integer.parseInt(opt.getOrDefault("--commit-ms", "100")));
    props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
    props.put(INPUT_PARTITIONS, partitions);

    Topology topology = topology(munis, input, alerts, nationalTopic, deadLetter);
    KafkaStreams streams = new KafkaStreams(topology, props);
    long start = System.nanoTime();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> streams.close(Duration.ofSeconds(30))));
    streams.setUncaughtExceptionHandler(ex -> {
      ex.printStackTrace();
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    streams.start();
    if (!opt.containsKey("--stop-at-end")) return;

    long end;
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      while (true) {
        TimeUnit.MILLISECONDS.sleep(200);
        if (streams.state() == KafkaStreams.State.ERROR || streams.state() == KafkaStreams.State.NOT_RUNNING) {
          System.err.println("peer: streams stopped in state " + streams.state());
          System.exit(1);
        }
        Map<TopicPartition, OffsetAndMetadata> committed =
            admin.listConsumerGroupOffsets(appId).partitionsToOffsetAndMetadata().get();
        boolean done = true;
        for (Map.Entry<TopicPartition, Long> e : endOffsets.entrySet()) {
          OffsetAndMetadata c = committed.get(e.getKey());
          if (e.getValue() > 0 && (c == null || c.offset() < e.getValue())) done = false;
        }
        if (done) break;
      }
      end = System.nanoTime();
    }
    long events = endOffsets.values().stream().mapToLong(Long::longValue).sum();
    double seconds = (end - start) / 1e9;
    double processing = JobProcessor.firstRecordNanos == 0 ? seconds : (end - JobProcessor.firstRecordNanos) / 1e9;
    System.out.printf(
        "{\"events\":%d,\"accepted\":%d,\"too_late\":%d,\"invalid\":%d,\"alerts\":%d,"
            + "\"seconds_since_start\":%.3f,\"seconds_first_record_to_end\":%.3f,\"partitions\":%d,\"threads\":%d}%n",
        events, JobProcessor.ACCEPTED.sum(), JobProcessor.TOO_LATE.sum(), JobProcessor.INVALID.sum(),
        JobProcessor.ALERTS.sum(), seconds, processing, partitions, threads);
    System.out.flush();
    streams.close(Duration.ofSeconds(30));
    System.exit(0);
  }

  static Topology topology(Municipalities munis, String input, String alerts, String nationalTopic,
      String deadLetter) {
    Topology t = new Topology();
    t.addSource("events", new StringDeserializer(), new ByteArrayDeserializer(), input);
    t.addProcessor("job", () -> new JobProcessor(munis), "events");
    t.addStateStore(persistent(JobProcessor.MUNICIPALITIES, Serdes.Integer()), "job");
    t.addStateStore(persistent(JobProcessor.BUCKETS, Serdes.Long()), "job");
    t.addStateStore(persistent(JobProcessor.DAY_TOTALS, Serdes.Long()), "job");
    t.addStateStore(persistent(JobProcessor.META, Serdes.String()), "job");
    t.addSink(JobProcessor.ALERTS_SINK, alerts, new StringSerializer(), new ByteArraySerializer(), "job");
    t.addSink(JobProcessor.NATIONAL_SINK, nationalTopic, new IntegerSerializer(),
        new LongArraySerde().serializer(), "job");
    t.addSink(JobProcessor.DEAD_LETTER_SINK, deadLetter, new StringSerializer(), new ByteArraySerializer(), "job");
    // Every task reads every task's published national totals.
    StoreBuilder<KeyValueStore<Integer, long[]>> global = Stores.keyValueStoreBuilder(
        Stores.inMemoryKeyValueStore(JobProcessor.NATIONAL_GLOBAL), Serdes.Integer(), new LongArraySerde())
        .withLoggingDisabled();
    t.addGlobalStore(global, "national-source", new IntegerDeserializer(), new LongArraySerde().deserializer(),
        nationalTopic, "national-updater", NationalUpdater::new);
    return t;
  }

  private static <K> StoreBuilder<KeyValueStore<K, long[]>> persistent(String name,
      org.apache.kafka.common.serialization.Serde<K> keySerde) {
    return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(name), keySerde, new LongArraySerde())
        .withCachingEnabled()
        .withLoggingEnabled(Map.of());
  }

  /** Keeps the global national store equal to the compacted national topic. */
  static final class NationalUpdater implements Processor<Integer, long[], Void, Void> {
    private KeyValueStore<Integer, long[]> store;

    @Override
    public void init(org.apache.kafka.streams.processor.api.ProcessorContext<Void, Void> context) {
      store = context.getStateStore(JobProcessor.NATIONAL_GLOBAL);
    }

    @Override
    public void process(Record<Integer, long[]> record) {
      store.put(record.key(), record.value());
    }
  }

  private static void createIfMissing(Admin admin, String topic, Map<String, String> config) throws Exception {
    if (admin.listTopics().names().get().contains(topic)) return;
    NewTopic t = new NewTopic(topic, 1, (short) 1).configs(config);
    try {
      admin.createTopics(List.of(t)).all().get();
    } catch (java.util.concurrent.ExecutionException e) {
      if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) throw e;
    }
  }

  private static String required(Map<String, String> opt, String name) {
    String v = opt.get(name);
    if (v == null) {
      System.err.println("peer: " + name + " is required");
      System.exit(2);
    }
    return v;
  }
}
