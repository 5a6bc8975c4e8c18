#!/usr/bin/env python3
"""zicht run over TLS + SASL/SCRAM-SHA-512 with its password in a file (issue 9).

A broker of its own (`scripts/kafka start --secure` in ZICHT_KAFKA_DIR) with a
SASL_SSL listener: a test CA, a broker certificate for 127.0.0.1, and a SCRAM
user created when the storage is formatted. zicht only gets the SASL_SSL
address; the password reaches it as `sasl.password: "${file:...}"`.

- end to end: a generated feed (plus malformed lines) produced over SASL_SSL is
  consumed, alerts and dead letters are produced over SASL_SSL, the alert ids
  equal `zicht replay` of the same feed and the dead letters carry the
  expected reasons;
- the password appears in no log line (librdkafka's security and
  configuration debug output included), on /metrics, in no API response, in
  no alert or dead letter, not in /proc/<pid>/cmdline or /proc/<pid>/environ,
  and not in the configuration file;
- a wrong password: zicht exits 1 with an authentication error, no crash, and
  the wrong password is not printed either.

Kafka 4.x brokers refuse SCRAM logins from librdkafka < 2.6.1 (a nonce bug,
fixed in librdkafka 2.6.1); Debian 12 ships 2.0.2. This test therefore runs
its broker as Kafka ZICHT_KAFKA_SECURE_VERSION (default 3.9.1), the newest
line that accepts them; docs/SECURITY.md says what to use with 4.x brokers.

Environment: ZICHT_BIN, ZICHT_KAFKA_DIR (this test's own broker dir).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ZICHT = os.environ.get("ZICHT_BIN", os.path.join(REPO, "build", "zicht"))
KAFKA_DIR = os.environ.get("ZICHT_KAFKA_DIR", os.path.join(REPO, ".kafka-secure"))
KAFKA_VERSION = os.environ.get("ZICHT_KAFKA_SECURE_VERSION", "3.9.1")
MUNIS = os.path.join(REPO, "config", "reference", "municipalities.csv")
PACK = os.path.join(REPO, "tests", "rules", "data", "spec_example.yaml")
SECURE = os.path.join(KAFKA_DIR, "secure")
PARTITIONS = 3

MALFORMED = [
    "this is not json",
    '{"type":"suspicious_transaction","id":"x-1","time":"2026-03-01T12:00:00Z","municipality":"GM9999",'
    '"amount_eur":1,"channel":"cash","sector":"money_transfer"}',
    '{"type":"tax_return","id":"x-2","time":"2026-03-01T12:00:00Z","municipality":"GM0363"}',
]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def kafka_script(*args, env_extra=None):
    env = dict(os.environ, ZICHT_KAFKA_DIR=KAFKA_DIR, ZICHT_KAFKA_VERSION=KAFKA_VERSION, **(env_extra or {}))
    return run([os.path.join(REPO, "scripts", "kafka"), *args], env=env)


def read(path):
    with open(path) as f:
        return f.read().strip()


def kcat_secure(*args, **kw):
    """kcat on the SASL_SSL listener (its credentials from kcat.conf, never argv)."""
    return subprocess.run(["kcat", "-F", os.path.join(SECURE, "kcat.conf"), "-b", read(os.path.join(SECURE, "bootstrap")),
                           *args], capture_output=True, check=True, **kw)


def http_get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def metric(text, name, labels=""):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{" if labels else name) and labels in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


class KafkaSecureTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        kafka_script("start", "--secure")
        cls.password = read(os.path.join(SECURE, "password"))
        assert len(cls.password) >= 16
        cls.dir = tempfile.mkdtemp(prefix="zicht-secure-test-")
        cls.feed = os.path.join(cls.dir, "events.jsonl")
        run([ZICHT, "generate", "--days", "120", "--seed", "9", "--municipalities", MUNIS, "-o", cls.feed])
        with open(cls.feed, "a") as f:
            for line in MALFORMED:
                f.write(line + "\n")
        with open(cls.feed) as f:
            cls.records = sum(1 for line in f if line.strip())
        alerts = os.path.join(cls.dir, "replay-alerts.jsonl")
        dlq = os.path.join(cls.dir, "replay-dlq.jsonl")
        run([ZICHT, "replay", "--quiet", "--rules", PACK, "--municipalities", MUNIS, "--input", cls.feed,
             "--alerts", alerts, "--dead-letter", dlq, "--partitions", str(PARTITIONS)])
        with open(alerts) as f:
            cls.replay_alerts = {json.loads(l)["alert_id"] for l in f}
        with open(dlq) as f:
            cls.replay_dead = sorted(json.loads(l)["reason"] for l in f)
        assert cls.replay_alerts and cls.replay_dead

    @classmethod
    def tearDownClass(cls):
        try:
            kafka_script("stop")
        finally:
            if os.environ.get("ZICHT_KEEP_TEST_DIR"):
                print(f"kept {cls.dir}")
            else:
                shutil.rmtree(cls.dir, ignore_errors=True)

    def topic(self, name):
        topic = f"secure-{name}-{os.getpid()}-{int(time.time() * 1000) % 100000}"
        kafka_script("topics", "--create", "--topic", topic, "--partitions", str(PARTITIONS))
        return topic

    def produce_feed(self, topic):
        keyed = bytearray()
        with open(self.feed, "rb") as f:
            for line in f:
                try:
                    key = str(json.loads(line).get("municipality", "")).encode()
                except (ValueError, AttributeError):
                    key = b"malformed"
                keyed += key.replace(b"\t", b" ") + b"\t" + line
        kcat_secure("-P", "-t", topic, "-K", "\t", "-X", "partitioner=murmur2_random", input=bytes(keyed))

    def config(self, name, topic, password_file, extra=""):
        path = os.path.join(self.dir, name + ".yaml")
        with open(path, "w") as f:
            f.write(f"""source:
  kafka:
    bootstrap_servers: {read(os.path.join(SECURE, "bootstrap"))}
    topic: {topic}
    group_id: g-{topic}
    idle_timeout: 60s
    properties:
      security.protocol: SASL_SSL
      sasl.mechanism: SCRAM-SHA-512
      sasl.username: {read(os.path.join(SECURE, "username"))}
      sasl.password: "${{file:{password_file}}}"
      ssl.ca.location: {os.path.join(SECURE, "ca.pem")}
      # librdkafka's own security and configuration debug output goes to the log too
      debug: security,conf,broker
      session.timeout.ms: "6000"
      heartbeat.interval.ms: "1000"
sinks:
  alerts: {{ kafka: {{ topic: {topic}.alerts }} }}
  dead_letter: {{ kafka: {{ topic: {topic}.dead-letter }} }}
state: {{ dir: {os.path.join(self.dir, "state-" + name)} }}
rules: [{PACK}]
reference: {{ municipalities: {MUNIS} }}
http: {{ port: 0, bind: 127.0.0.1 }}
log_level: debug
{extra}""")
        return path

    def start(self, config, log):
        out = open(log, "w")
        # A clean environment: nothing secret could come from it either.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        return subprocess.Popen([ZICHT, "run", "--config", config], stdout=out, stderr=subprocess.STDOUT, env=env)

    def wait_http_port(self, proc, log, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.assertIsNone(proc.poll(), read(log)[-3000:])
            m = re.search(r"http on [0-9.]+:(\d+)", read(log))
            if m:
                return int(m.group(1))
            time.sleep(0.2)
        self.fail("zicht run did not start its HTTP server:\n" + read(log)[-3000:])

    def test_run_over_sasl_ssl_with_password_from_file(self):
        topic = self.topic("e2e")
        self.produce_feed(topic)
        password_file = os.path.join(SECURE, "password")
        config = self.config("e2e", topic, password_file)
        log = os.path.join(self.dir, "e2e.log")
        proc = self.start(config, log)
        try:
            port = self.wait_http_port(proc, log)
            deadline = time.time() + 240
            metrics = ""
            while time.time() < deadline:
                self.assertIsNone(proc.poll(), read(log)[-3000:])
                _, metrics = http_get(port, "/metrics")
                if metric(metrics, "zicht_events_consumed_total") >= self.records:
                    break
                time.sleep(0.5)
            self.assertEqual(metric(metrics, "zicht_events_consumed_total"), self.records, read(log)[-3000:])
            # Everything an operator or a client can see while it runs.
            seen = {"metrics": metrics}
            for path in ("/healthz", "/readyz", "/api/v1/status", "/api/v1/rules", "/api/v1/municipalities",
                         "/api/v1/municipalities/GM0363", "/api/v1/indicators", "/api/v1/alerts?limit=1000",
                         "/api/v1/indicators/cash_reports", "/api/v1/municipalities/..%2f..%2fetc%2fpasswd"):
                seen[path] = http_get(port, path)[1]
            with open(f"/proc/{proc.pid}/cmdline", "rb") as f:
                seen["cmdline"] = f.read().decode("utf-8", "replace")
            with open(f"/proc/{proc.pid}/environ", "rb") as f:
                seen["environ"] = f.read().decode("utf-8", "replace")
            self.assertIn("run", seen["cmdline"])
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=120), 0, read(log)[-3000:])
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

        # Alerts and dead letters, read back over SASL_SSL.
        alerts = kcat_secure("-C", "-t", topic + ".alerts", "-e", "-q", "-o", "beginning",
                             "-X", "isolation.level=read_committed", "-f", "%s\n").stdout.decode()
        got = {json.loads(l)["alert_id"] for l in alerts.splitlines() if l}
        self.assertEqual(got, self.replay_alerts)
        dead = kcat_secure("-C", "-t", topic + ".dead-letter", "-e", "-q", "-o", "beginning",
                           "-f", "%h\t%s\n").stdout.decode("utf-8", "replace")
        reasons = sorted(re.search(r"zicht\.reason=([a-z_]+)", l).group(1) for l in dead.splitlines() if l)
        self.assertEqual(reasons, self.replay_dead)
        seen["alerts"] = alerts
        seen["dead letters"] = dead
        seen["log"] = read(log)
        seen["config"] = read(config)
        # The log really holds librdkafka's SASL debug lines: the check below is not vacuous.
        self.assertRegex(seen["log"], r"SASL|SCRAM")
        for where, text in seen.items():
            self.assertNotIn(self.password, text, f"the SASL password appears in {where}")

    def test_wrong_password_fails_clearly(self):
        topic = self.topic("wrong")
        wrong = os.path.join(self.dir, "wrong-password")
        with open(wrong, "w") as f:
            f.write("not-the-password-" + self.password[:4][::-1] + "x" * 12 + "\n")
        os.chmod(wrong, 0o600)
        wrong_password = read(wrong)
        log = os.path.join(self.dir, "wrong.log")
        proc = self.start(self.config("wrong", topic, wrong), log)
        try:
            rc = proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        text = read(log)
        self.assertEqual(rc, 1, "a failed login is a clean exit 1, not a crash or a hang:\n" + text[-3000:])
        self.assertRegex(text, r"(?i)authentication", text[-3000:])
        self.assertNotIn(wrong_password, text)
        self.assertNotIn(self.password, text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
