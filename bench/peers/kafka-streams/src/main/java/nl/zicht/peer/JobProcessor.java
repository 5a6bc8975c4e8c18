package nl.zicht.peer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * One task's share of the job: events of the municipalities on its input
 * partition. Per event: one get/put of the municipality's live windows and one
 * of its day bucket; per new UTC day: roll every municipality of the task,
 * close the final day for the national totals, and evaluate every rule.
 *
 * <p>Stores (RocksDB, changelogged, cached):
 * <ul>
 *   <li>{@code municipalities}: municipality index -> live windows (SLOTS), window day,
 *       last alert time per rule;
 *   <li>{@code buckets}: (municipality, day) -> SLOTS counters;
 *   <li>{@code day-totals}: day -> SLOTS counters summed over the task's municipalities
 *       (written when the day closes; feeds the national windows);
 *   <li>{@code meta}: stream time T, current and final day, final-window totals, counters.
 * </ul>
 * National figures = this task's own final windows (exact) + the latest totals
 * other tasks published to the compacted national topic (global store).
 */
final class JobProcessor implements Processor<String, byte[], Object, Object> {
  static final String MUNICIPALITIES = "municipalities";
  static final String BUCKETS = "buckets";
  static final String DAY_TOTALS = "day-totals";
  static final String META = "meta";
  static final String NATIONAL_GLOBAL = "national-global";
  static final String ALERTS_SINK = "alerts";
  static final String NATIONAL_SINK = "national";
  static final String DEAD_LETTER_SINK = "dead-letter";

  /** Process-wide counters for the benchmark summary (all tasks, all threads). */
  static final LongAdder ACCEPTED = new LongAdder();
  static final LongAdder TOO_LATE = new LongAdder();
  static final LongAdder INVALID = new LongAdder();
  static final LongAdder ALERTS = new LongAdder();
  static volatile long firstRecordNanos = 0;

  // One reader for the whole process: ObjectReader is immutable and thread-safe.
  private static final ObjectReader READER = new ObjectMapper().readerFor(Event.class);
  private static final ObjectMapper WRITER = new ObjectMapper();

  // Municipality state layout.
  private static final int WINDOW_DAY = Job.SLOTS;
  private static final int LAST_ALERT = Job.SLOTS + 1;
  private static final int MUNI_LEN = LAST_ALERT + Job.RULES.length;
  private static final long NONE = Long.MIN_VALUE;
  // Meta layout.
  private static final int M_HAS_CLOCK = 0, M_T = 1, M_DAY = 2, M_FINAL = 3, M_TOTALS = 4;
  private static final int M_ACCEPTED = M_TOTALS + Job.SLOTS, M_TOO_LATE = M_ACCEPTED + 1,
      M_INVALID = M_ACCEPTED + 2, M_ALERTS = M_ACCEPTED + 3, META_LEN = M_ACCEPTED + 4;
  private static final String META_KEY = "meta";

  private final Municipalities munis;
  private ProcessorContext<Object, Object> context;
  private KeyValueStore<Integer, long[]> muniStore;
  private KeyValueStore<Long, long[]> buckets;
  private KeyValueStore<Long, long[]> dayTotals;
  private KeyValueStore<String, long[]> metaStore;
  private KeyValueStore<Integer, long[]> national;
  private int partition;
  private long ownPopulation;

  private long[] meta;
  private final long[] othersTotals = new long[Job.SLOTS];
  private long othersPopulation = 0;
  private final long[] delta = new long[Job.SLOTS];
  private long inputTimestamp;

  JobProcessor(Municipalities munis) {
    this.munis = munis;
  }

  @Override
  public void init(ProcessorContext<Object, Object> context) {
    this.context = context;
    muniStore = context.getStateStore(MUNICIPALITIES);
    buckets = context.getStateStore(BUCKETS);
    dayTotals = context.getStateStore(DAY_TOTALS);
    metaStore = context.getStateStore(META);
    national = context.getStateStore(NATIONAL_GLOBAL);
    partition = context.taskId().partition();
    int partitions = Integer.parseInt(String.valueOf(context.appConfigs().get(PeerApp.INPUT_PARTITIONS)));
    ownPopulation = munis.populationOfPartition(partition, partitions);
    meta = metaStore.get(META_KEY);
    if (meta == null) meta = new long[META_LEN];
    refreshNational();
    // Other tasks' national totals arrive through the global store at any
    // time; pick them up a few times a second, not per event.
    context.schedule(Duration.ofMillis(250), PunctuationType.WALL_CLOCK_TIME, ts -> refreshNational());
  }

  @Override
  public void process(Record<String, byte[]> record) {
    if (firstRecordNanos == 0) firstRecordNanos = System.nanoTime();
    inputTimestamp = record.timestamp();
    Event e;
    long t;
    int m;
    Arrays.fill(delta, 0);
    int rules;
    try {
      e = READER.readValue(record.value());
      m = munis.indexOf(e.municipality);
      rules = Job.contribution(e, delta);
      t = e.time == null ? NONE : Instant.parse(e.time).toEpochMilli();
    } catch (IOException | RuntimeException ex) {
      deadLetter(record, "invalid");
      return;
    }
    if (m < 0 || rules < 0 || t == NONE || e.id == null) {
      deadLetter(record, "invalid");
      return;
    }
    boolean hasClock = meta[M_HAS_CLOCK] != 0;
    if (hasClock && t < meta[M_T] - Job.ALLOWED_LATENESS_MS) {
      meta[M_TOO_LATE]++;
      TOO_LATE.increment();
      metaStore.put(META_KEY, meta);
      context.forward(new Record<Object, Object>(record.key(), record.value(), record.timestamp(),
          new RecordHeaders().add("reason", "too_late".getBytes(StandardCharsets.UTF_8))), DEAD_LETTER_SINK);
      return;
    }
    long day = Math.floorDiv(t, Job.DAY_MS);
    boolean dayChanged = !hasClock || day > meta[M_DAY];
    if (!hasClock) {
      meta[M_HAS_CLOCK] = 1;
      meta[M_T] = t;
      meta[M_DAY] = day;
      meta[M_FINAL] = day - 2; // F = day(T - 1d) - 1: nothing before the first event
    } else if (t > meta[M_T]) {
      if (dayChanged) advanceTo(day);
      meta[M_T] = t;
    }

    // Count the event: its day bucket and its municipality's live windows
    // (an accepted event is at most one day old, so inside every window).
    long bucketKey = bucketKey(m, day);
    long[] bucket = buckets.get(bucketKey);
    if (bucket == null) bucket = new long[Job.SLOTS];
    long[] state = muniStore.get(m);
    if (state == null) state = newMunicipality();
    for (int i = 0; i < Job.SLOTS; i++) {
      bucket[i] += delta[i];
      state[i] += delta[i];
    }
    buckets.put(bucketKey, bucket);
    meta[M_ACCEPTED]++;
    ACCEPTED.increment();

    if (dayChanged) {
      muniStore.put(m, state);
      evaluateAll();
    } else {
      for (int r = 0; r < Job.RULES.length; r++) {
        if ((rules & (1 << r)) != 0) evaluate(m, state, r);
      }
      muniStore.put(m, state);
    }
    metaStore.put(META_KEY, meta);
  }

  private long[] newMunicipality() {
    long[] s = new long[MUNI_LEN];
    s[WINDOW_DAY] = meta[M_DAY];
    Arrays.fill(s, LAST_ALERT, MUNI_LEN, NONE);
    return s;
  }

  private static long bucketKey(int municipality, long day) {
    return ((long) municipality << 32) | (day & 0xffffffffL);
  }

  private List<KeyValue<Integer, long[]>> allMunicipalities() {
    List<KeyValue<Integer, long[]>> all = new ArrayList<>(munis.size());
    try (KeyValueIterator<Integer, long[]> it = muniStore.all()) {
      while (it.hasNext()) all.add(it.next());
    }
    return all;
  }

  /** T enters `newDay`: roll live windows, close final days, publish national totals. */
  private void advanceTo(long newDay) {
    List<KeyValue<Integer, long[]>> all = allMunicipalities();
    long newFinal = newDay - 2;
    // Close the final days first (their buckets are complete) ...
    for (long f = meta[M_FINAL] + 1; f <= newFinal; f++) {
      long[] total = new long[Job.SLOTS];
      for (KeyValue<Integer, long[]> kv : all) {
        long[] b = buckets.get(bucketKey(kv.key, f));
        if (b != null) for (int i = 0; i < Job.SLOTS; i++) total[i] += b[i];
      }
      dayTotals.put(f, total);
      for (int i = 0; i < Job.SLOTS; i++) {
        long[] leaving = dayTotals.get(f - Job.WINDOW_DAYS[i]);
        meta[M_TOTALS + i] += total[i] - (leaving == null ? 0 : leaving[i]);
      }
      dayTotals.delete(f - Job.MAX_WINDOW_DAYS);
    }
    meta[M_FINAL] = Math.max(meta[M_FINAL], newFinal);
    meta[M_DAY] = newDay;
    // ... then move every municipality's live windows to the new day.
    long[] leaving = new long[Job.SLOTS];
    for (KeyValue<Integer, long[]> kv : all) {
      long[] s = kv.value;
      for (long d = s[WINDOW_DAY] + 1; d <= newDay; d++) {
        long[] last = null;
        int lastWindow = -1;
        for (int i = 0; i < Job.SLOTS; i++) {
          int w = Job.WINDOW_DAYS[i];
          if (w != lastWindow) {
            last = buckets.get(bucketKey(kv.key, d - w));
            lastWindow = w;
          }
          leaving[i] = last == null ? 0 : last[i];
        }
        for (int i = 0; i < Job.SLOTS; i++) s[i] -= leaving[i];
        buckets.delete(bucketKey(kv.key, d - Job.MAX_WINDOW_DAYS)); // left every window
      }
      s[WINDOW_DAY] = newDay;
      muniStore.put(kv.key, s);
    }
    long[] published = new long[2 + Job.SLOTS];
    published[0] = meta[M_FINAL];
    published[1] = ownPopulation;
    System.arraycopy(meta, M_TOTALS, published, 2, Job.SLOTS);
    context.forward(new Record<Object, Object>(partition, published, context.currentSystemTimeMs()), NATIONAL_SINK);
    refreshNational();
  }

  private void refreshNational() {
    Arrays.fill(othersTotals, 0);
    othersPopulation = 0;
    try (KeyValueIterator<Integer, long[]> it = national.all()) {
      while (it.hasNext()) {
        KeyValue<Integer, long[]> kv = it.next();
        if (kv.key == partition) continue;
        othersPopulation += kv.value[1];
        for (int i = 0; i < Job.SLOTS; i++) othersTotals[i] += kv.value[2 + i];
      }
    }
  }

  private void evaluateAll() {
    for (KeyValue<Integer, long[]> kv : allMunicipalities()) {
      boolean changed = false;
      for (int r = 0; r < Job.RULES.length; r++) changed |= evaluate(kv.key, kv.value, r);
      if (changed) muniStore.put(kv.key, kv.value);
    }
  }

  /** Evaluates rule r for municipality m at T; returns true when it fired (state changed). */
  private boolean evaluate(int m, long[] s, int r) {
    Job.Rule rule = Job.RULES[r];
    if (s[rule.countSlot()] < rule.minEvents()) return false;
    long natValue = meta[M_TOTALS + rule.valueSlot()] + othersTotals[rule.valueSlot()];
    double natPopulation = (double) (ownPopulation + othersPopulation);
    double natRate = rule.sum()
        ? ((double) natValue / Job.FIXED_SCALE) / natPopulation * rule.per()
        : (double) natValue / natPopulation * rule.per();
    if (!(natRate > 0)) return false; // national_ratio not computable
    double population = (double) munis.population[m];
    double rate = rule.sum()
        ? ((double) s[rule.valueSlot()] / Job.FIXED_SCALE) / population * rule.per()
        : (double) s[rule.valueSlot()] / population * rule.per();
    double ratio = rate / natRate;
    if (!(ratio >= rule.threshold())) return false;
    long now = meta[M_T];
    long last = s[LAST_ALERT + r];
    if (last != NONE && now - last < Job.COOLDOWN_MS) return false;
    s[LAST_ALERT + r] = now;
    emitAlert(m, s, r, ratio, rate, natRate);
    return true;
  }

  private void emitAlert(int m, long[] s, int r, double ratio, double rate, double natRate) {
    Job.Rule rule = Job.RULES[r];
    long now = meta[M_T];
    Map<String, Object> alert = new LinkedHashMap<>();
    alert.put("rule", rule.id());
    alert.put("municipality", munis.codes.get(m));
    alert.put("event_time", Instant.ofEpochMilli(now).toString());
    alert.put("day", LocalDate.ofEpochDay(Math.floorDiv(now, Job.DAY_MS)).toString());
    alert.put("national_ratio", ratio);
    alert.put("count", s[rule.countSlot()]);
    alert.put("rate", rate);
    alert.put("national_rate", natRate);
    alert.put("input_timestamp", inputTimestamp);
    alert.put("emitted_at", System.currentTimeMillis());
    byte[] json;
    try {
      json = WRITER.writeValueAsBytes(alert);
    } catch (IOException ex) {
      throw new IllegalStateException(ex);
    }
    meta[M_ALERTS]++;
    ALERTS.increment();
    context.forward(new Record<Object, Object>(munis.codes.get(m), json, inputTimestamp), ALERTS_SINK);
  }

  private void deadLetter(Record<String, byte[]> record, String reason) {
    meta[M_INVALID]++;
    INVALID.increment();
    metaStore.put(META_KEY, meta);
    context.forward(new Record<Object, Object>(record.key(), record.value(), record.timestamp(),
        new RecordHeaders().add("reason", reason.getBytes(StandardCharsets.UTF_8))), DEAD_LETTER_SINK);
  }
}
