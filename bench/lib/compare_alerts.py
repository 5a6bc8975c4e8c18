"""Compares two alert files by (rule, municipality, UTC day of T) triples.

Usage: compare_alerts.py ZICHT.jsonl PEER.jsonl OUT.json
Both files hold one alert JSON object per line with rule, municipality and
event_time (zicht's SPEC alert, the peer's own record). Prints a summary and
writes the counts and up to 50 differing triples of each side to OUT.json.
Exit 0 when the triples are identical, 1 otherwise.
"""
import json
import sys


def triples(path):
    out = set()
    with open(path) as f:
        for line in f:
            if line.strip():
                a = json.loads(line)
                out.add((a["rule"], a["municipality"], a["event_time"][:10]))
    return out


def main():
    z, p = triples(sys.argv[1]), triples(sys.argv[2])
    both = z & p
    result = {
        "zicht": len(z), "peer": len(p), "both": len(both),
        "only_zicht": sorted(z - p)[:50], "only_peer": sorted(p - z)[:50],
        "identical": z == p,
    }
    with open(sys.argv[3], "w") as f:
        json.dump(result, f, indent=2)
    print(f"alert triples: zicht {len(z)}, peer {len(p)}, in both {len(both)}, "
          f"only zicht {len(z - p)}, only peer {len(p - z)}")
    for t in sorted(z - p)[:10]:
        print("  only zicht:", *t)
    for t in sorted(p - z)[:10]:
        print("  only peer: ", *t)
    sys.exit(0 if z == p else 1)


if __name__ == "__main__":
    main()
