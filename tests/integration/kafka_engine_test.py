#!/usr/bin/env python3
"""zicht run against the real Kafka broker of scripts/kafka (issue 5).

- end to end: a generated feed produced to a 6-partition topic, alerts read
  back from the alerts topic, equal to `zicht replay --partitions 6` of the
  same feed (same alert ids, same explanations), dead letters with reasons in
  headers;
- crash: kill -9 at 10 random moments, restarted each time on the same state:
  the same alert ids and explanations (no event lost or counted twice);
- scale-out: three instances share the topic, one is killed and an instance
  with an empty disk joins (restoring from the changelog): the single-instance
  alert ids;
- broker restart midway: the engine survives and catches up.

The feed carries CBS buurten and neighbourhood rules run beside the municipal
ones (SPEC 8.3); two municipalities merge into a new code in the middle of it,
and after the day part of their events name the new code. Producers key every
event by the code it names, so the old codes' events arrive on other
partitions than the new code's, and the engine forwards them (SPEC 8.3).

Environment: ZICHT_BIN (the zicht binary), ZICHT_KAFKA_DIR (the broker's dir,
whose `bootstrap` file names it; the ctest fixture sets it).
"""
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ZICHT = os.environ.get("ZICHT_BIN", os.path.join(REPO, "build", "zicht"))
KAFKA_DIR = os.environ.get("ZICHT_KAFKA_DIR", os.path.join(REPO, ".kafka"))
MUNIS = os.path.join(REPO, "config", "reference", "municipalities.csv")
PACK = os.path.join(REPO, "tests", "rules", "data", "spec_example.yaml")
# Neighbourhood rules (SPEC 8.3): events carry a CBS buurt, national figures
# of these indicators travel between instances per buurt.
BUURT_PACK = os.path.join(REPO, "tests", "engine", "data", "neighbourhood_pack.yaml")
PACKS = PACK + "," + BUURT_PACK
NEIGHBOURHOODS = os.path.join(REPO, "config", "reference", "neighbourhoods.csv")
PARTITIONS = 6
# A merger in the middle of the 150-day feed (SPEC 8.3).
MERGER_DAY = "2026-03-17"
MERGED = {"GM0484": "GM1999", "GM0489": "GM1999"}
MERGERS_CSV = "effective,old_code,new_code,new_name\n" + "".join(
    f"{MERGER_DAY},{old},{new},Rijnstreek\n" for old, new in sorted(MERGED.items()))


def bootstrap():
    if os.environ.get("ZICHT_KAFKA_BOOTSTRAP"):
        return os.environ["ZICHT_KAFKA_BOOTSTRAP"]
    with open(os.path.join(KAFKA_DIR, "bootstrap")) as f:
        return f.read().strip()


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def kafka_script(*args):
    env = dict(os.environ, ZICHT_KAFKA_DIR=KAFKA_DIR)
    return run([os.path.join(REPO, "scripts", "kafka"), *args], env=env)


def create_topic(name, partitions=PARTITIONS):
    kafka_script("topics", "--create", "--topic", name, "--partitions", str(partitions))


def produce(topic, feed):
    """Keyed by the municipality code as written, with Kafka's murmur2
    partitioner (the engine forwards merged codes to their new code's partition)."""
    keyed = feed + ".keyed"
    with open(feed) as src, open(keyed, "w") as out:
        for line in src:
            try:
                key = str(json.loads(line).get("municipality", ""))
            except (ValueError, AttributeError):
                key = "malformed"
            out.write(key.replace("\t", " ") + "\t" + line)
    with open(keyed) as f:
        subprocess.run(["kcat", "-P", "-b", bootstrap(), "-t", topic, "-K", "\t",
                        "-X", "partitioner=murmur2_random", "-z", "lz4"], stdin=f, check=True)


def consume(topic, fmt="%s\n"):
    out = run(["kcat", "-C", "-b", bootstrap(), "-t", topic, "-e", "-q", "-o", "beginning",
               "-X", "isolation.level=read_committed", "-f", fmt]).stdout
    return [l for l in out.split("\n") if l]


def strip(alert_json):
    a = json.loads(alert_json)
    a.pop("emitted_at", None)
    return a


class Fixture:
    """A generated feed, its replay, and scratch space."""

    def __init__(self, days=150, seed=21, clean=False):
        self.dir = tempfile.mkdtemp(prefix="zicht-kafka-test-")
        self.feed = os.path.join(self.dir, "events.jsonl")
        generated = self.feed + ".generated"
        args = [ZICHT, "generate", "--days", str(days), "--seed", str(seed), "--municipalities", MUNIS,
                "--neighbourhoods", NEIGHBOURHOODS, "-o", generated]
        if clean:
            args.append("--clean")
        run(args)
        # From the merger's day on, two of every three events of the old codes
        # name the new one; the rest keep the old code, which stays valid.
        with open(generated) as src, open(self.feed, "w") as out:
            for n, line in enumerate(src):
                for old, new in MERGED.items():
                    tag = f'"municipality":"{old}"'
                    if tag in line and line.split('"time":"')[-1][:10] >= MERGER_DAY and n % 3:
                        line = line.replace(tag, f'"municipality":"{new}"')
                out.write(line)
        self.mergers = os.path.join(self.dir, "mergers.csv")
        with open(self.mergers, "w") as f:
            f.write(MERGERS_CSV)
        alerts, dlq = os.path.join(self.dir, "replay-alerts.jsonl"), os.path.join(self.dir, "replay-dlq.jsonl")
        run([ZICHT, "replay", "--quiet", "--rules", PACKS, "--municipalities", MUNIS,
             "--neighbourhoods", NEIGHBOURHOODS, "--mergers", self.mergers, "--input", self.feed,
             "--alerts", alerts, "--dead-letter", dlq, "--partitions", str(PARTITIONS)])
        self.replay = {}
        with open(alerts) as f:
            for line in f:
                a = strip(line)
                self.replay[a["alert_id"]] = a
        with open(dlq) as f:
            self.replay_dead = sorted(json.loads(l)["reason"] for l in f)

    def config(self, name, topic, group, stop_at_end=True, extra=""):
        state = os.path.join(self.dir, "state-" + name)
        path = os.path.join(self.dir, name + ".yaml")
        with open(path, "w") as f:
            f.write(f"""source:
  kafka:
    bootstrap_servers: {bootstrap()}
    topic: {topic}
    group_id: {group}
    stop_at_end: {'true' if stop_at_end else 'false'}
    idle_timeout: 60s
    properties: {{ session.timeout.ms: "6000", heartbeat.interval.ms: "1000" }}
sinks:
  alerts: {{ kafka: {{ topic: {topic}.alerts }} }}
  dead_letter: {{ kafka: {{ topic: {topic}.dead-letter }} }}
state: {{ dir: {state} }}
rules: [{PACK}, {BUURT_PACK}]
reference: {{ municipalities: {MUNIS}, neighbourhoods: {NEIGHBOURHOODS}, mergers: {self.mergers} }}
http: {{ port: 0 }}
{extra}""")
        return path

    def start(self, config, log_name):
        with open(os.path.join(self.dir, log_name + ".log"), "a") as log:
            return subprocess.Popen([ZICHT, "run", "--config", config], stdout=log, stderr=subprocess.STDOUT)

    def log(self, log_name):
        with open(os.path.join(self.dir, log_name + ".log")) as f:
            return f.read()[-4000:]

    def cleanup(self):
        if os.environ.get("ZICHT_KEEP_TEST_DIR"):
            print(f"kept {self.dir}")
            return
        shutil.rmtree(self.dir, ignore_errors=True)


def wait(proc, timeout):
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


class KafkaEngineTest(unittest.TestCase):
    maxDiff = None
    @classmethod
    def setUpClass(cls):
        cls.fx = Fixture()
        assert len(cls.fx.replay) > 20, "the feed should raise alerts"
        alerts = cls.fx.replay.values()
        assert any("neighbourhood" in a for a in alerts), "and neighbourhood alerts"
        assert any(a["municipality"] == "GM1999" for a in alerts), "and alerts on the merged code"
        assert not any(a["municipality"] in MERGED and a["event_time"][:10] >= MERGER_DAY
                       for a in alerts), "no alert names an old code from the merger's day"

    @classmethod
    def tearDownClass(cls):
        cls.fx.cleanup()

    def topic(self, name):
        topic = f"t-{name}-{os.getpid()}-{random.randrange(1 << 30)}"
        create_topic(topic)
        produce(topic, self.fx.feed)
        return topic

    def assert_alerts_match_replay(self, topic, exact_count):
        got = {}
        values = consume(topic + ".alerts")
        for line in values:
            a = strip(line)
            # Redelivered alerts (at least once) carry the same explanation.
            if a["alert_id"] in got:
                self.assertEqual(got[a["alert_id"]], a)
            got[a["alert_id"]] = a
        if set(got) != set(self.fx.replay):
            def brief(a):
                return f"{a['rule']} {a['municipality']} {a['event_time']}"
            extra = [brief(got[i]) for i in sorted(set(got) - set(self.fx.replay))][:10]
            missing = [brief(self.fx.replay[i]) for i in sorted(set(self.fx.replay) - set(got))][:10]
            near = []
            for i in sorted(set(got) ^ set(self.fx.replay))[:5]:
                a = got.get(i) or self.fx.replay[i]
                near += [("replay " + brief(b)) for b in self.fx.replay.values()
                         if b["rule"] == a["rule"] and b["municipality"] == a["municipality"]][:6]
                near += [("kafka " + brief(b)) for b in got.values()
                         if b["rule"] == a["rule"] and b["municipality"] == a["municipality"]][:6]
            self.fail(f"{len(got)} alert ids from Kafka vs {len(self.fx.replay)} from replay\n"
                      f"extra: {extra}\nmissing: {missing}\nsame rule and municipality: {near}")
        for alert_id, a in got.items():
            self.assertEqual(a, self.fx.replay[alert_id], "explanation (counts, expected, rates) differs")
        if exact_count:
            self.assertEqual(len(values), len(got), "an uninterrupted run delivers each alert once")

    def test_end_to_end_equals_replay(self):
        topic = self.topic("e2e")
        proc = self.fx.start(self.fx.config("e2e", topic, "g-" + topic), "e2e")
        self.assertEqual(wait(proc, 180), 0, self.fx.log("e2e"))
        self.assert_alerts_match_replay(topic, exact_count=True)
        dead = consume(topic + ".dead-letter", "%h\n")
        reasons = sorted(h.split("zicht.reason=")[1].split(",")[0] for h in dead)
        self.assertEqual(reasons, self.fx.replay_dead)

    def test_kill_9_ten_times_loses_and_double_counts_nothing(self):
        topic = self.topic("crash")
        config = self.fx.config("crash", topic, "g-" + topic)
        rng = random.Random(5)
        for i in range(10):
            proc = self.fx.start(config, "crash")
            time.sleep(rng.uniform(1.0, 3.5))
            if proc.poll() is not None:
                break  # finished before the kill: nothing left to crash
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        proc = self.fx.start(config, "crash")
        self.assertEqual(wait(proc, 240), 0, self.fx.log("crash"))
        self.assert_alerts_match_replay(topic, exact_count=False)

    def test_scale_out_with_instances_leaving_and_joining(self):
        topic = self.topic("scale")
        group = "g-" + topic
        procs = {n: self.fx.start(self.fx.config(n, topic, group), n) for n in ("a", "b", "c")}
        time.sleep(4)
        procs["b"].send_signal(signal.SIGKILL)
        procs["b"].wait()
        # A new instance with an empty disk restores what it is given.
        procs["d"] = self.fx.start(self.fx.config("d", topic, group), "d")
        for n in ("a", "c", "d"):
            self.assertEqual(wait(procs[n], 300), 0, self.fx.log(n))
        self.assert_alerts_match_replay(topic, exact_count=False)

    def test_broker_restart_midway(self):
        topic = self.topic("restart")
        proc = self.fx.start(self.fx.config("restart", topic, "g-" + topic), "restart")
        time.sleep(2)
        kafka_script("restart")
        self.assertEqual(wait(proc, 300), 0, self.fx.log("restart"))
        self.assert_alerts_match_replay(topic, exact_count=False)


if __name__ == "__main__":
    unittest.main(verbosity=2)
