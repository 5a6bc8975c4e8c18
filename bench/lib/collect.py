"""Gathers the raw outputs of one bench/run into OUT/results.json.

Each timed step left NAME.time = "wall user sys max_rss_kb exit_code" (GNU time);
the peer, pandas, latency and check steps also left JSON of their own.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess


def run(cmd):
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return done.stdout + done.stderr
    except Exception:  # noqa: BLE001 - a missing tool is just not reported
        return ""


def timing(out, name, events=None):
    path = os.path.join(out, name + ".time")
    if not os.path.exists(path):
        return None
    wall, user, sys_, rss, rc = open(path).read().split()
    t = {"seconds": float(wall), "user_seconds": float(user), "sys_seconds": float(sys_),
         "cpu_seconds": float(user) + float(sys_), "peak_rss_mb": int(rss) / 1024, "exit_code": int(rc)}
    if events and float(wall) > 0:
        t["events_per_s"] = events / float(wall)
    return t


def load(out, name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return None
    text = open(path).read().strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:  # a log with one JSON summary line at the end
        lines = [l for l in text.splitlines() if l.startswith("{")]
        return json.loads(lines[-1]) if lines else None


def main():
    ap = argparse.ArgumentParser()
    for k in ["out", "root", "command", "mode", "feed", "days", "scale", "partitions", "zicht",
              "peer-heap", "zicht-skip"]:
        ap.add_argument("--" + k, default="")
    a = ap.parse_args()
    out = a.out
    events = int(open(os.path.join(out, "events")).read()) if os.path.exists(os.path.join(out, "events")) else None

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
    os_name = next((l.split("=", 1)[1].strip().strip('"') for l in open("/etc/os-release")
                    if l.startswith("PRETTY_NAME")), platform.system())
    pom = open(os.path.join(a.root, "bench/peers/kafka-streams/pom.xml")).read()
    librdkafka = re.search(r"librdkafka ([\d.]+)", run(["kcat", "-V"]))
    try:
        import pandas
        pandas_version = pandas.__version__
    except ImportError:
        pandas_version = None
    r = {
        "timestamp": os.path.basename(out),
        "command": a.command,
        "mode": a.mode,
        "feed": {"file": os.path.basename(a.feed), "events": events, "days": int(a.days),
                 "scale": float(a.scale), "bytes": os.path.getsize(a.feed) if os.path.exists(a.feed) else None},
        "partitions": int(a.partitions),
        "machine": {"nproc": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem / 1048576, 1),
                    "os": os_name, "kernel": platform.release()},
        "versions": {
            "zicht_commit": run(["git", "-C", a.root, "rev-parse", "--short", "HEAD"]).strip() or None,
            "kafka_broker": os.environ.get("ZICHT_KAFKA_VERSION", "4.1.1"),
            "kafka_streams": re.search(r"<kafka.version>([^<]+)<", pom).group(1),
            "jackson": re.search(r"<jackson.version>([^<]+)<", pom).group(1),
            "java": (run(["java", "-version"]).splitlines() or ["?"])[0],
            "librdkafka": librdkafka.group(1) if librdkafka else None,
            "python": platform.python_version(),
            "pandas": pandas_version,
        },
        "peer_heap": a.peer_heap,
        "zicht_binary": os.path.relpath(a.zicht, a.root),
        "check": load(out, "check.json"),
    }

    raw = [timing(out, f"raw-consume-{i}", events) for i in (1, 2, 3)]
    raw = [x for x in raw if x]
    if raw:
        med = statistics.median(x["seconds"] for x in raw)
        r["raw_consume"] = {"runs": raw, "seconds": med, "events_per_s": events / med,
                            "peak_rss_mb": max(x["peak_rss_mb"] for x in raw),
                            "cpu_seconds": statistics.median(x["cpu_seconds"] for x in raw)}

    z = timing(out, "zicht", events)
    if z and z["exit_code"] == 0:
        r["zicht"] = {"status": "ok"} | z
    else:
        r["zicht"] = {"status": "skipped", "reason": a.zicht_skip or "not run"}

    p = timing(out, "peer", events)
    if p:
        r["peer"] = {"status": "ok" if p["exit_code"] == 0 else "failed"} | p
        r["peer"]["internal"] = load(out, "peer.json")
        sb = os.path.join(out, "peer.state_bytes")
        if os.path.exists(sb):
            r["peer"]["state_mb"] = int(open(sb).read()) / 1048576

    ratios = {}
    if "raw_consume" in r and p:
        ratios["peer_time_over_raw_consume"] = p["seconds"] / r["raw_consume"]["seconds"]
    if r["zicht"]["status"] == "ok":
        ratios["zicht_time_over_raw_consume"] = z["seconds"] / r["raw_consume"]["seconds"]
        if p:
            ratios["zicht_over_peer_throughput"] = p["seconds"] / z["seconds"]
            ratios["zicht_rss_over_peer_rss"] = z["peak_rss_mb"] / p["peak_rss_mb"]
            ratios["zicht_cpu_over_peer_cpu"] = z["cpu_seconds"] / p["cpu_seconds"]
    r["ratios"] = ratios
    r["throughput_compare"] = load(out, "throughput-compare.json")

    r["latency"] = {s: load(out, f"latency-{s}.json") for s in ("zicht", "peer")}

    pandas_t, replay_t = timing(out, "pandas", events), timing(out, "replay", events)
    if pandas_t:
        r["batch"] = {"pandas": pandas_t | {"result": load(out, "pandas.json")}, "replay": replay_t}
        if replay_t:
            r["batch"]["replay_speedup_over_pandas"] = pandas_t["seconds"] / replay_t["seconds"]
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(r, f, indent=2)


if __name__ == "__main__":
    main()
