"""Event-to-alert latency under a fixed produce rate, in steady state.

The system under test is already running against an empty input topic.
1. Warm-up: the first WARMUP_DAYS days of the feed are produced as fast as
   possible, and we wait until the system has committed them (its group's
   offsets reach the end), or at most CATCHUP_SECONDS. A fresh feed starts
   with immature windows that make nearly every municipality alert in its
   first days; those alerts, and JIT/cache warm-up, are not what a running
   deployment sees.
2. Measurement: the next RATE x SECONDS events are produced at RATE events/s,
   keyed by municipality (murmur2, as bench/lib/load-topic), while a
   read_committed consumer in a second process records the wall time at
   which each alert becomes visible on the alert topic.

Latency of an alert = its receive time - the produce time of the event that
set the stream time T it was raised at: the first event produced with event
time == the alert's event_time on the partition of the alert's municipality.
(An alert is raised while processing that event, or a later one with an older
or equal time, so this is the time from "the deciding event was sent" to "a
downstream consumer can see the alert", commit intervals included.)

Alerts are rare in steady state (a few per event-time week on this feed), so
the same path is also measured on dead letters: an event more than a day late
is dropped as too_late and its original bytes go to the dead-letter topic
through the same commit (zicht's outbox, the peer's transaction) as alerts.
The producer knows which events will be too late (it tracks each partition's
newest event time), and a dead letter's latency = its receive time - the
produce time of that very event (by id): about 0.05 % of the events, so
hundreds of samples a minute.

Only outputs caused by events of the measurement phase count.
Writes a JSON object: rate, produced, alerts, matched, p50_ms, p99_ms, max_ms,
dead_letters_matched, dead_letter_p50_ms, dead_letter_p99_ms, dead_letter_max_ms.
"""
import argparse
import datetime
import json
import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafka_keys import partition_of  # noqa: E402

from confluent_kafka import Consumer, ConsumerGroupState, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402


def alive(pid):
    if not pid:
        return True
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def wait_for_group(bootstrap, group, timeout, pid):
    """Until the system under test has joined its group and holds its partitions."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    deadline = time.time() + timeout
    while time.time() < deadline and alive(pid):
        try:
            d = admin.describe_consumer_groups([group])[group].result(timeout=5)
            if d.state == ConsumerGroupState.STABLE and any(m.assignment.topic_partitions for m in d.members):
                return True
        except Exception:  # noqa: BLE001 - group not there yet
            pass
        time.sleep(0.5)
    return False


def wait_committed(bootstrap, group, topic, partitions, timeout, pid):
    """Until the group's committed offsets reach the topic's end offsets."""
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
    admin = AdminClient({"bootstrap.servers": bootstrap})
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": f"probe-{time.time_ns()}"})
    ends = {p: probe.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)}
    probe.close()
    deadline = time.time() + timeout
    while time.time() < deadline and alive(pid):
        try:
            req = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in range(partitions)])
            got = admin.list_consumer_group_offsets([req])[group].result(timeout=5)
            if all(tp.offset >= ends[tp.partition] for tp in got.topic_partitions):
                return True
        except Exception:  # noqa: BLE001 - no offsets yet
            pass
        time.sleep(0.5)
    return False


def consume_outputs(bootstrap, topics, out_path, stop, ready):
    c = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": f"latency-{os.getpid()}-{time.time_ns()}",
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "enable.auto.commit": False,
        "fetch.wait.max.ms": 5,
    })
    c.subscribe(topics, on_assign=lambda *_: ready.set())
    with open(out_path, "w") as out:
        while not stop.is_set():
            for msg in c.consume(num_messages=1000, timeout=0.05):
                now = time.time()
                if msg.error():
                    continue
                value = msg.value().decode(errors="replace").replace("\t", " ").replace("\n", " ")
                out.write(f"{now:.6f}\t{msg.topic()}\t{value}\n")
            out.flush()
    c.close()


def key_of(line):
    i = line.index('"municipality":"') + 16
    return line[i:i + 6]


def time_of(line):
    i = line.index('"time":"') + 8
    return line[i:i + 19]  # YYYY-MM-DDTHH:MM:SS


def id_of(line):
    i = line.index('"id":"') + 6
    return line[i:line.index('"', i)]


def minus_one_day(stamp):
    t = datetime.datetime.fromisoformat(stamp) - datetime.timedelta(days=1)
    return t.isoformat()[:19]


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(round(q / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--feed", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--partitions", type=int, required=True)
    ap.add_argument("--alerts-topic", required=True)
    ap.add_argument("--dead-letter-topic", required=True)
    ap.add_argument("--group", required=True, help="consumer group of the system under test")
    ap.add_argument("--rate", type=float, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--drain-seconds", type=float, default=10)
    ap.add_argument("--warmup-days", type=int, default=60)
    ap.add_argument("--catchup-seconds", type=float, default=120,
                    help="longest wait for the system to finish the warm-up")
    ap.add_argument("--pid", type=int, default=0, help="the system under test: stop waiting if it exits")
    ap.add_argument("--raw", required=True, help="file for the received alerts")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    stop, ready = multiprocessing.Event(), multiprocessing.Event()
    consumer = multiprocessing.Process(target=consume_outputs,
                                       args=(a.bootstrap, [a.alerts_topic, a.dead_letter_topic], a.raw, stop, ready))
    consumer.start()
    ready.wait(30)
    if not wait_for_group(a.bootstrap, a.group, 120, a.pid):
        stop.set()
        consumer.join(10)
        sys.exit(f"latency: group {a.group} did not become stable (system exited: {not alive(a.pid)})")
    time.sleep(1)

    p = Producer({
        "bootstrap.servers": a.bootstrap,
        "partitioner": "murmur2_random",
        "enable.idempotence": True,
        "linger.ms": 1,
        "queue.buffering.max.messages": 1000000,
    })
    partitions = {}
    feed = open(a.feed)

    # 1. warm-up: the first days as fast as the producer goes.
    first = feed.readline()
    cutoff = None
    warmup = 0
    line = first
    t_warm = time.time()
    while line:
        stamp = time_of(line)
        if cutoff is None:
            d = datetime.date.fromisoformat(stamp[:10]) + datetime.timedelta(days=a.warmup_days)
            cutoff = d.isoformat()
        if stamp[:10] >= cutoff:
            break
        line = line.rstrip("\n")
        while True:
            try:
                p.produce(a.topic, value=line, key=key_of(line))
                break
            except BufferError:
                p.poll(0.01)
        warmup += 1
        line = feed.readline()
    p.flush(60)
    caught_up = wait_committed(a.bootstrap, a.group, a.topic, a.partitions, a.catchup_seconds, a.pid)
    warm_seconds = time.time() - t_warm
    print(f"latency: warm-up {warmup} events ({a.warmup_days} days) in {warm_seconds:.1f} s, "
          f"{'caught up' if caught_up else 'NOT confirmed caught up'}", file=sys.stderr)
    time.sleep(2)
    pending = line  # the first event of the measurement phase

    # 2. measurement at a fixed rate.
    total = int(a.rate * a.seconds)
    produced_at = {}  # (partition, event time) -> first produce wall time
    late_at = {}  # id of an event that will be too late -> its produce wall time
    newest = {}  # partition -> newest event time produced (stream time T, to the second)
    n = 0
    start = time.time()
    while n < total:
        due = min(total, int((time.time() - start) * a.rate) + 1)
        while n < due:
            line, pending = (pending, None) if pending else (feed.readline(), None)
            if not line:
                total = n
                break
            line = line.rstrip("\n")
            key = key_of(line)
            part = partitions.get(key)
            if part is None:
                part = partitions[key] = partition_of(key, a.partitions)
            now = time.time()
            stamp = time_of(line)
            produced_at.setdefault((part, stamp), now)
            top = newest.get(part)
            if top is None or stamp > top:
                newest[part] = stamp
            elif stamp < minus_one_day(top):
                late_at[id_of(line)] = now
            while True:
                try:
                    p.produce(a.topic, value=line, key=key)
                    break
                except BufferError:
                    p.poll(0.001)
            n += 1
        p.poll(0)
        if n < total:
            time.sleep(0.0005)
    produce_seconds = time.time() - start
    p.flush(30)

    # Wait until alerts stop arriving (the system has caught up).
    last_size, quiet_since = -1, time.time()
    deadline = time.time() + 120
    while time.time() < deadline:
        size = os.path.getsize(a.raw) if os.path.exists(a.raw) else 0
        if size != last_size:
            last_size, quiet_since = size, time.time()
        elif time.time() - quiet_since >= a.drain_seconds:
            break
        time.sleep(0.2)
    stop.set()
    consumer.join(30)

    feed.close()
    latencies, unmatched, alerts = [], 0, 0
    dl_latencies, dead_letters = [], 0
    with open(a.raw) as f:
        for row in f:
            recv, topic, value = row.rstrip("\n").split("\t", 2)
            if topic == a.dead_letter_topic:
                # The value is the original event: its own produce time.
                dead_letters += 1
                try:
                    sent = late_at.get(json.loads(value).get("id"))
                except ValueError:
                    sent = None
                if sent is not None:
                    dl_latencies.append((float(recv) - sent) * 1000)
                continue
            alert = json.loads(value)
            alerts += 1
            muni = alert["municipality"]
            part = partitions.get(muni)
            if part is None:
                part = partition_of(muni, a.partitions)
            sent = produced_at.get((part, alert["event_time"][:19]))
            if sent is None:
                unmatched += 1
                continue
            latencies.append((float(recv) - sent) * 1000)
    latencies.sort()
    dl_latencies.sort()
    result = {
        "warmup_events": warmup,
        "warmup_days": a.warmup_days,
        "warmup_caught_up": caught_up,
        "rate": a.rate,
        "produced": n,
        "produce_seconds": produce_seconds,
        "achieved_rate": n / produce_seconds if produce_seconds > 0 else None,
        "alerts": alerts,
        "matched": len(latencies),
        "unmatched": unmatched,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "max_ms": latencies[-1] if latencies else None,
        "late_events_produced": len(late_at),
        "dead_letters": dead_letters,
        "dead_letters_matched": len(dl_latencies),
        "dead_letter_p50_ms": percentile(dl_latencies, 50),
        "dead_letter_p99_ms": percentile(dl_latencies, 99),
        "dead_letter_max_ms": dl_latencies[-1] if dl_latencies else None,
    }
    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
