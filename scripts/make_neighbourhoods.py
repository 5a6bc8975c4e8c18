#!/usr/bin/env python3
"""Writes config/reference/neighbourhoods.csv: a SYNTHETIC CBS-style buurt table.

No package on the registries this project may use carries the real CBS buurt
list (Wijk- en Buurtkaart / Kerncijfers wijken en buurten 2024), so this script
makes a stand-in with the same shape (SPEC 8.3, see
config/reference/neighbourhoods.SOURCE.md). It is NOT CBS data: the codes
follow the CBS pattern but do not name real buurten, the names are plain
"<municipality> buurt N" labels and the populations are a random split.

For each municipality in config/reference/municipalities.csv:

- the number of buurten is 1 plus a share of the remaining (total - 342)
  buurten proportional to the municipality's population (largest-remainder
  rounding, ties to the lower code), so the file has exactly `--total` rows
  (14,500 by default, about the size of the real CBS division);
- the codes are BU + the municipality's four digits + a four-digit serial
  0000, 0001, ...; buurt N in the name has serial N-1 (BU03630000 is
  "Amsterdam buurt 1");
- the populations split the municipality's population exactly (integer
  largest-remainder rounding of random integer weights, so every buurt gets
  >= 0 and the sum per municipality is the municipality's population). In
  municipalities with 5 or more buurten about 2% of the buurten get weight 0
  (population 0), as real industrial estates and water areas have.

Everything is integer arithmetic on a random.Random seeded with a string
(sha512-based seeding, the same on every platform and Python 3 version), so
the output is byte-for-byte reproducible. Python standard library only.

Usage:
  scripts/make_neighbourhoods.py            # (re)write the CSV
  scripts/make_neighbourhoods.py --check    # validate the shipped files

--check validates config/reference/neighbourhoods.csv against
municipalities.csv (header, unique codes, code format, municipality exists,
code digits match the municipality, population sums per municipality, the
last reported as warnings) and config/reference/mergers.csv minimally
(header, field count, calendar dates YYYY-MM-DD, GM + 4 digit codes; the
engine's loader checks the rest, SPEC 8.3). It exits 1 on an error, 0
otherwise.
"""

import argparse
import csv
import datetime
import io
import os
import random
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = os.path.join(ROOT, "config", "reference")
MUNICIPALITIES = os.path.join(REF, "municipalities.csv")
NEIGHBOURHOODS = os.path.join(REF, "neighbourhoods.csv")
MERGERS = os.path.join(REF, "mergers.csv")

HEADER = ["code", "name", "municipality", "population"]
MERGERS_HEADER = ["effective", "old_code", "new_code", "new_name"]
DEFAULT_TOTAL = 14500
DEFAULT_SEED = "zicht-synthetic-buurten-2024-v1"
ZERO_SHARE_PERMILLE = 20  # 2% of buurten in municipalities with >= 5 buurten
ZERO_MIN_BUURTEN = 5
WEIGHT_MIN, WEIGHT_MAX = 30, 300

GM_RE = re.compile(r"^GM[0-9]{4}$")
BU_RE = re.compile(r"^BU[0-9]{8}$")
DATE_RE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")


def read_municipalities(path):
    """[(code, name, population)] in file order."""
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        for col in ("code", "name", "population"):
            if col not in (reader.fieldnames or []):
                raise SystemExit(f"{path}: missing column {col}")
        rows = []
        for rec in reader:
            rows.append((rec["code"], rec["name"], int(rec["population"])))
    return rows


def split_largest_remainder(total, weights):
    """Integer shares of `total` proportional to `weights`, summing to `total`.

    Each share is floor(total * w / W) plus one for the largest remainders;
    ties go to the lower index. Pure integer arithmetic.
    """
    wsum = sum(weights)
    if wsum <= 0:
        raise ValueError("weights must have a positive sum")
    shares = [total * w // wsum for w in weights]
    left = total - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % wsum), i))
    for i in order[:left]:
        shares[i] += 1
    return shares


def generate(municipalities, total, seed):
    n = len(municipalities)
    if total < n:
        raise SystemExit(f"--total {total} is below the number of municipalities ({n})")
    # Sort by code so the allocation does not depend on the file's row order.
    munis = sorted(municipalities)
    counts = split_largest_remainder(total - n, [p for _, _, p in munis])
    counts = [c + 1 for c in counts]
    rows = []
    for (code, name, population), count in zip(munis, counts):
        if count > 10000:
            raise SystemExit(f"{code}: {count} buurten do not fit a four-digit serial")
        rng = random.Random(f"{seed}:{code}")
        weights = [rng.randint(WEIGHT_MIN, WEIGHT_MAX) for _ in range(count)]
        if count >= ZERO_MIN_BUURTEN:
            for i in range(count):
                if rng.randrange(1000) < ZERO_SHARE_PERMILLE:
                    weights[i] = 0
            if not any(weights):
                weights[0] = WEIGHT_MIN
        pops = split_largest_remainder(population, weights)
        digits = code[2:]
        for serial, pop in enumerate(pops):
            rows.append((f"BU{digits}{serial:04d}", f"{name} buurt {serial + 1}", code, pop))
    rows.sort()
    return rows


def render(rows):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    for r in rows:
        writer.writerow(r)
    return buf.getvalue()


# ---------------------------------------------------------------- checks ----


class Report:
    def __init__(self):
        self.errors = 0
        self.warnings = 0

    def error(self, msg):
        self.errors += 1
        print(f"ERROR: {msg}")

    def warn(self, msg):
        self.warnings += 1
        print(f"WARNING: {msg}")


def check_neighbourhoods(path, munis, rep):
    pop_of = {code: pop for code, _, pop in munis}
    sums = {}
    counts = {}
    seen = {}
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header != HEADER:
            rep.error(f"{path}:1: header is {header}, expected {HEADER}")
            return
        prev = ""
        for lineno, rec in enumerate(reader, start=2):
            if len(rec) != len(HEADER):
                rep.error(f"{path}:{lineno}: {len(rec)} fields, expected {len(HEADER)}")
                continue
            code, name, muni, pop = rec
            if not BU_RE.match(code):
                rep.error(f"{path}:{lineno}: '{code}' is not BU + 8 digits")
            if code in seen:
                rep.error(f"{path}:{lineno}: duplicate code {code} (first on line {seen[code]})")
            else:
                seen[code] = lineno
            if code < prev:
                rep.warn(f"{path}:{lineno}: {code} is not in code order (after {prev})")
            prev = code
            if not name.strip():
                rep.error(f"{path}:{lineno}: empty name for {code}")
            if muni not in pop_of:
                rep.error(f"{path}:{lineno}: municipality {muni} is not in municipalities.csv")
            elif code[2:6] != muni[2:6]:
                rep.error(f"{path}:{lineno}: {code} does not lie in {muni} (digits {code[2:6]})")
            if not re.fullmatch(r"[0-9]+", pop):
                rep.error(f"{path}:{lineno}: population '{pop}' is not a non-negative integer")
                continue
            sums[muni] = sums.get(muni, 0) + int(pop)
            counts[muni] = counts.get(muni, 0) + 1
    for code, _, pop in sorted(munis):
        if code not in counts:
            rep.warn(f"{code} has no neighbourhoods")
        elif sums[code] != pop:
            rep.warn(f"{code}: neighbourhood populations sum to {sums[code]}, municipality has {pop}")
    total = sum(counts.values())
    print(f"{path}: {total} neighbourhoods in {len(counts)} municipalities, "
          f"population {sum(sums.values())} (municipalities: {sum(pop_of.values())})")


def is_calendar_date(text):
    """True for YYYY-MM-DD naming a real day (2025-02-30 is not one)."""
    if not DATE_RE.match(text):
        return False
    try:
        datetime.date(int(text[0:4]), int(text[5:7]), int(text[8:10]))
    except ValueError:
        return False
    return True


def check_mergers(path, rep):
    """Minimal checks of mergers.csv: header, field count, date and code format.

    Everything else (an old code merged twice, one date and name per new code,
    chains, cycles, clashes and populations against municipalities.csv) is
    checked by the engine's loader, MergerTable::Load (SPEC 8.3). An empty
    file or one with the header only is an empty table there too.
    """
    rows = 0
    mergers = set()
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next((rec for rec in reader if rec), None)
        if header is not None and header != MERGERS_HEADER:
            rep.error(f"{path}:1: header is {header}, expected {MERGERS_HEADER}")
            return
        for rec in reader:
            if not rec:
                continue  # a blank line
            lineno = reader.line_num
            rows += 1
            if len(rec) != len(MERGERS_HEADER):
                rep.error(f"{path}:{lineno}: {len(rec)} fields, expected {len(MERGERS_HEADER)}")
                continue
            eff, old, new, _ = rec
            if not is_calendar_date(eff):
                rep.error(f"{path}:{lineno}: effective '{eff}' is not a calendar date YYYY-MM-DD")
            for col, c in (("old_code", old), ("new_code", new)):
                if not GM_RE.match(c):
                    rep.error(f"{path}:{lineno}: {col} '{c}' is not GM + 4 digits")
            mergers.add((eff, new))
    print(f"{path}: {rows} rows, {len(mergers)} mergers")


def check_municipality_columns(path, rep):
    with open(path, encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    for col in ("riec_region", "police_unit"):
        if col not in header:
            rep.warn(f"{path}: no {col} column")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="validate the files instead of writing")
    ap.add_argument("--municipalities", default=MUNICIPALITIES)
    ap.add_argument("--out", "--neighbourhoods", dest="out", default=NEIGHBOURHOODS)
    ap.add_argument("--mergers", default=MERGERS)
    ap.add_argument("--total", type=int, default=DEFAULT_TOTAL)
    ap.add_argument("--seed", default=DEFAULT_SEED)
    args = ap.parse_args()

    munis = read_municipalities(args.municipalities)
    if not args.check:
        text = render(generate(munis, args.total, args.seed))
        with open(args.out, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        print(f"wrote {args.out}: {text.count(chr(10)) - 1} neighbourhoods")
        return 0

    rep = Report()
    check_municipality_columns(args.municipalities, rep)
    if os.path.exists(args.out):
        check_neighbourhoods(args.out, munis, rep)
        with open(args.out, encoding="utf-8", newline="") as f:
            same = f.read() == render(generate(munis, args.total, args.seed))
        print(f"{args.out}: {'identical to' if same else 'differs from'} the synthetic "
              f"generator output (seed {args.seed!r}, total {args.total})")
    else:
        rep.error(f"{args.out} does not exist")
    if os.path.exists(args.mergers):
        check_mergers(args.mergers, rep)
    else:
        rep.warn(f"{args.mergers} does not exist")
    print(f"check: {rep.errors} error(s), {rep.warnings} warning(s)")
    return 1 if rep.errors else 0


if __name__ == "__main__":
    sys.exit(main())
