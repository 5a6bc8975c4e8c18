#!/usr/bin/env python3
"""Writes tests/engine/data/stat_vectors.json: reference values for the indicator statistics.

Each scenario is one indicator (aggregate count, share, sum or mean; a rate per
`per` inhabitants; a national, leave-one-out or peer-group baseline) over a set
of municipalities, each with the window at the last closed day ("final", which
the baselines are pooled from) and its current window ("live", used only when
that municipality is the one evaluated). For evaluated municipalities the file
holds the baseline rate, the own rate, the expected count, the ratio to the
baseline, the z-score, the Poisson and binomial upper-tail p-values, the funnel
z (the standard normal quantile of 1 - p), the percentile among the other
municipalities, the empirical-Bayes shrunk ratio and the Benjamini-Hochberg
q-value. A second list holds year-over-year ratio cases over day buckets.

The values are computed independently of the C++ code (which works in doubles,
with Boost's incomplete gamma and beta functions and a fast q-value method):
rates, expected counts, percentiles and the shrinkage are exact rationals
(fractions.Fraction); the tails are mpmath sums of Poisson and binomial terms
at 60 significant digits, each cross-checked against a sum from the other side
and against mpmath's regularized incomplete gamma and beta functions; the
funnel z solves Q(z) = p by a safeguarded Newton iteration, cross-checked
against mpmath.erfinv at 150 digits; the q-values are computed naively (the
whole set sorted for every evaluated municipality) and cross-checked against a
second, differently written Benjamini-Hochberg. Any disagreement beyond 1e-30
relative stops the script.

Inputs whose answer a double-precision engine could legitimately get
differently are refused: a p-value within 1e-9 of 1 but not 1 (its funnel z
from a double p would be -inf or inaccurate), a shrinkage variance within 1e-9
of 0 (its sign picks the formula), a near tie in the percentile, and for sums
and means an exact tie from different inputs (sums pass through micro-units /
1e6). Hand-made scenarios avoid them; a random draw that hits one is drawn
again from the next seed.

Non-finite values are written as the strings "nan", "+inf" and "-inf". A
scenario has "p_underflows": true when some evaluated p-value is positive but
rounds to 0.0 as a double (so its funnel z, finite here, may come out "+inf"
from a double-precision engine). The random inputs come from fixed seeds, so
the output is reproducible. It is committed, so CI needs no mpmath; run this
only to change the vectors:

    pip install mpmath
    python3 scripts/make_stat_vectors.py > tests/engine/data/stat_vectors.json
"""

import json
import math
import random
import sys
from fractions import Fraction

import mpmath

mpmath.mp.dps = 60

NAN = "nan"  # the marker for "does not hold" inside the script; written as "nan"
TOL = mpmath.mpf("1e-30")
AGGREGATES = ("count", "share", "sum", "mean")
BASELINES = ("national", "leave_one_out", "peers")
FIELDS = ("baseline_rate", "rate", "expected", "national_ratio", "national_zscore",
          "poisson_p", "binomial_p", "funnel_z", "percentile", "shrunk_ratio", "q_value")


def fail(message):
    sys.exit("make_stat_vectors.py: " + message)


def agree(a, b, what, tol=TOL):
    if a == b:
        return
    if abs(a - b) > tol * max(abs(a), abs(b)):
        fail(f"{what}: {mpmath.nstr(a, 40)} vs {mpmath.nstr(b, 40)}")


def mp(x):
    """A Fraction (or int) as an mpf at the working precision."""
    if isinstance(x, Fraction):
        return mpmath.mpf(x.numerator) / x.denominator
    return mpmath.mpf(x)


# ---------------------------------------------------------------------------
# Tails. Each returns (upper, lower) = (P(X >= k), P(X <= k - 1)), the small
# one summed directly and the other as its complement, so both are accurate.

def _poisson_pmf(j, lam):
    return mpmath.exp(-lam + j * mpmath.log(lam) - mpmath.loggamma(j + 1))


def poisson_upper_sum(k, lam):
    term = _poisson_pmf(k, lam)
    total = mpmath.mpf(0)
    j = k
    while True:
        total += term
        j += 1
        term *= lam / j
        if j > lam and term <= total * mpmath.mpf("1e-50"):
            return total


def poisson_lower_sum(k, lam):
    """P(X <= k - 1), summed downwards from j = k - 1."""
    j = k - 1
    term = _poisson_pmf(j, lam)
    total = mpmath.mpf(0)
    while j >= 0:
        total += term
        if j < lam and term <= total * mpmath.mpf("1e-50"):
            break
        term *= j / lam
        j -= 1
    return total


def poisson_tails(k, lam):
    lam = mp(lam)
    if lam <= 0:
        fail("poisson_tails needs a positive mean")
    if k <= 0:
        return mpmath.mpf(1), mpmath.mpf(0)
    if k > lam:
        upper = poisson_upper_sum(k, lam)
        lower = 1 - upper
    else:
        lower = poisson_lower_sum(k, lam)
        upper = 1 - lower
    # Cross-checks: the regularized incomplete gamma, and near the mean (where
    # neither sum cancels) the sum from the other side.
    if lam <= 2000:
        agree(upper, mpmath.gammainc(k, 0, lam, regularized=True),
              f"Poisson sum vs gammainc at k={k} lambda={lam}")
    if abs(k - lam) < 3 * mpmath.sqrt(lam) + 3:
        agree(poisson_upper_sum(k, lam), 1 - poisson_lower_sum(k, lam),
              f"Poisson upward vs downward sum at k={k} lambda={lam}")
    return upper, lower


def _binomial_pmf(j, n, p):
    return mpmath.exp(mpmath.loggamma(n + 1) - mpmath.loggamma(j + 1) - mpmath.loggamma(n - j + 1)
                      + j * mpmath.log(p) + (n - j) * mpmath.log1p(-p))


def binomial_upper_sum(k, n, p):
    term = _binomial_pmf(k, n, p)
    total = mpmath.mpf(0)
    odds = p / (1 - p)
    j = k
    while True:
        total += term
        if j == n:
            return total
        term *= (n - j) * odds / (j + 1)
        j += 1
        if j > n * p and term <= total * mpmath.mpf("1e-50"):
            return total


def binomial_lower_sum(k, n, p):
    """P(X <= k - 1), summed downwards from j = k - 1."""
    j = k - 1
    term = _binomial_pmf(j, n, p)
    total = mpmath.mpf(0)
    inverse_odds = (1 - p) / p
    while j >= 0:
        total += term
        if j < n * p and term <= total * mpmath.mpf("1e-50"):
            break
        term *= j * inverse_odds / (n - j + 1)
        j -= 1
    return total


def binomial_tails(k, n, p):
    """P(X >= k) for X ~ Binomial(n, p), p a Fraction in (0, 1]."""
    if not (0 < p <= 1) or n <= 0 or not (0 <= k <= n):
        fail(f"binomial_tails out of range: k={k} n={n} p={p}")
    if k == 0 or p == 1:
        return mpmath.mpf(1), mpmath.mpf(0)  # X >= 0 always; X = n >= k surely
    pm = mp(p)
    if k > n * p:
        upper = binomial_upper_sum(k, n, pm)
        lower = 1 - upper
    else:
        lower = binomial_lower_sum(k, n, pm)
        upper = 1 - lower
    if n <= 5000:
        agree(upper, mpmath.betainc(k, n - k + 1, 0, pm, regularized=True),
              f"binomial sum vs betainc at k={k} n={n} p={p}")
    if n <= 60:  # tiny n: every term, as exact integers and a rational p
        exact = sum(Fraction(math.comb(n, j)) * p ** j * (1 - p) ** (n - j) for j in range(k, n + 1))
        agree(upper, mp(exact), f"binomial sum vs exact rational sum at k={k} n={n} p={p}")
    if abs(k - n * p) < 3 * math.sqrt(float(n * p * (1 - p))) + 3:
        agree(binomial_upper_sum(k, n, pm), 1 - binomial_lower_sum(k, n, pm),
              f"binomial upward vs downward sum at k={k} n={n} p={p}")
    return upper, lower


# ---------------------------------------------------------------------------
# The normal quantile: z with Q(z) = P(Z >= z) = p, from both tails exactly.

def _log_q(z):
    return mpmath.log(mpmath.erfc(z / mpmath.sqrt(2)) / 2)


def _upper_quantile_small(q):
    """z >= 0 with Q(z) = q for 0 < q <= 1/2: Newton on log Q, kept in a bracket."""
    target = mpmath.log(q)
    lo, hi = mpmath.mpf(0), mpmath.sqrt(-2 * target) + 2
    z = max(lo, mpmath.sqrt(-2 * target) - mpmath.mpf(1))
    for _ in range(400):
        g = _log_q(z) - target
        if g > 0:
            lo = z
        else:
            hi = z
        phi = mpmath.exp(-z * z / 2) / mpmath.sqrt(2 * mpmath.pi)
        slope = -phi / mpmath.exp(_log_q(z))
        step = z - g / slope
        z_new = step if lo < step < hi else (lo + hi) / 2
        if abs(z_new - z) <= mpmath.mpf("1e-55") * max(1, abs(z_new)):
            z = z_new
            break
        z = z_new
    else:
        fail(f"normal quantile did not converge for q={mpmath.nstr(q, 20)}")
    agree(mpmath.exp(_log_q(z)), q, "Q(z) round trip", mpmath.mpf("1e-45"))
    if q > mpmath.mpf("1e-100"):
        with mpmath.workdps(150):
            ref = mpmath.sqrt(2) * mpmath.erfinv(1 - 2 * q)
        agree(z, ref, f"normal quantile vs erfinv at q={mpmath.nstr(q, 20)}")
    return z


def funnel_z(upper, lower):
    """Phi^-1(1 - p) for p = upper, lower = 1 - p."""
    if upper == 0:
        return mpmath.inf
    if lower == 0:
        return -mpmath.inf
    if upper <= lower:
        return _upper_quantile_small(upper)
    return -_upper_quantile_small(lower)


# ---------------------------------------------------------------------------
# Rates and baselines, exact.

def window_rate(aggregate, w, population, per):
    if aggregate == "count":
        return Fraction(w["n_match"] * per, population)
    if aggregate == "sum":
        return Fraction(w["sum_micro"] * per, population * 10 ** 6)
    if aggregate == "mean":
        return Fraction(w["sum_micro"], w["n_match"] * 10 ** 6) if w["n_match"] else NAN
    if w["n_all"] == 0:
        return NAN
    return Fraction(w["n_match"], w["n_all"])


def pooled_rate(aggregate, per, members):
    """The rate pooled over the FINAL windows of `members`, or NAN if not valid."""
    if not members:
        return NAN
    n_match = sum(u["final"]["n_match"] for u in members)
    n_all = sum(u["final"]["n_all"] for u in members)
    micro = sum(u["final"]["sum_micro"] for u in members)
    population = sum(u["population"] for u in members)
    if aggregate == "count":
        rate = Fraction(n_match * per, population)
        return rate if rate > 0 else NAN
    if aggregate == "sum":
        rate = Fraction(micro * per, population * 10 ** 6)
        return rate if rate != 0 else NAN
    if aggregate == "mean":
        if n_match == 0:
            return NAN
        rate = Fraction(micro, n_match * 10 ** 6)
        return rate if rate != 0 else NAN
    if n_all == 0:
        return NAN
    rate = Fraction(n_match, n_all)
    return rate if rate > 0 else NAN


def baseline_members(sc, m):
    units = sc["units"]
    if sc["baseline"] == "national":
        return units
    if sc["baseline"] == "leave_one_out":
        return [u for i, u in enumerate(units) if i != m]
    group = units[m]["group"]
    if group is None:
        return []
    return [u for i, u in enumerate(units) if i != m and u["group"] == group]


def baseline_rates(sc):
    rates = [pooled_rate(sc["aggregate"], sc["per"], baseline_members(sc, m))
             for m in range(len(sc["units"]))]
    # Second path: totals once, then subtract (leave-one-out) or per group.
    agg, per, units = sc["aggregate"], sc["per"], sc["units"]

    def from_totals(t):
        n_match, n_all, micro, population = t
        if population == 0:
            return NAN
        if agg == "count":
            r = Fraction(n_match * per, population)
            return r if r > 0 else NAN
        if agg == "sum":
            r = Fraction(micro * per, population * 10 ** 6)
            return r if r != 0 else NAN
        if agg == "mean":
            r = Fraction(micro, n_match * 10 ** 6) if n_match else 0
            return r if r != 0 else NAN
        r = Fraction(n_match, n_all) if n_all else 0
        return r if r > 0 else NAN

    def totals(us):
        t = [0, 0, 0, 0]
        for u in us:
            f = u["final"]
            t[0] += f["n_match"]
            t[1] += f["n_all"]
            t[2] += f["sum_micro"]
            t[3] += u["population"]
        return t

    everyone = totals(units)
    groups = {}
    for u in units:
        if u["group"] is not None:
            groups.setdefault(u["group"], []).append(u)
    group_totals = {g: totals(us) for g, us in groups.items()}
    for m, u in enumerate(units):
        f = u["final"]
        mine = [f["n_match"], f["n_all"], f["sum_micro"], u["population"]]
        if sc["baseline"] == "national":
            other = from_totals(everyone)
        elif sc["baseline"] == "leave_one_out":
            other = from_totals([a - b for a, b in zip(everyone, mine)])
        elif u["group"] is None:
            other = NAN
        else:
            other = from_totals([a - b for a, b in zip(group_totals[u["group"]], mine)])
        if other != rates[m]:
            fail(f"{sc['name']}: baseline of {m} differs between the two ways: {other} vs {rates[m]}")
    return rates


def expected_count(aggregate, base, w, population, per):
    if base is NAN or aggregate not in ("count", "share"):
        return NAN
    if aggregate == "count":
        return base * population / per
    return base * w["n_all"]


def tails_for(aggregate, base, w, population, per):
    """(poisson (upper, lower) or NAN, binomial (upper, lower) or NAN, expected)."""
    e = expected_count(aggregate, base, w, population, per)
    k = w["n_match"]
    poisson = poisson_tails(k, e) if e is not NAN and e > 0 else NAN
    binomial = NAN
    if aggregate == "share" and base is not NAN and w["n_all"] > 0:
        binomial = binomial_tails(k, w["n_all"], base)
    return poisson, binomial, e


def test_p(aggregate, poisson, binomial):
    tails = poisson if aggregate == "count" else binomial if aggregate == "share" else NAN
    return tails


# ---------------------------------------------------------------------------
# Benjamini-Hochberg, two ways.

def bh_sorted(ps, mine):
    """The q of entry `mine`: sort, then q_(k) = min over j >= k of min(1, n p_(j) / j)."""
    n = len(ps)
    order = sorted(range(n), key=lambda i: (ps[i], i))
    q = [None] * n
    running = mpmath.mpf(1)
    for rank in range(n, 0, -1):
        i = order[rank - 1]
        running = min(running, n * ps[i] / rank)
        q[i] = running
    # The q of the whole tie group is its lowest (running min reaches it at the
    # group's last rank and only decreases towards the front), so it does not
    # depend on the order among equal p.
    return q[mine]


def bh_by_values(ps, mine):
    """The same q: min over every value v >= p_mine of n v / #{p <= v}, capped at 1."""
    n = len(ps)
    target = ps[mine]
    best = mpmath.mpf(1)
    for v in set(ps):
        if v >= target:
            best = min(best, n * v / sum(1 for p in ps if p <= v))
    return best


# ---------------------------------------------------------------------------
# One scenario.

def shrinkage(sc):
    """(R, m_hat, s2) over FINAL windows against the national rate; None if not defined."""
    agg, per, units = sc["aggregate"], sc["per"], sc["units"]
    if agg not in ("count", "share"):
        return None
    r = pooled_rate(agg, per, units)
    if r is NAN:
        return None
    pairs = []
    for u in units:
        e = r * u["population"] / per if agg == "count" else r * u["final"]["n_all"]
        if e > 0:
            pairs.append((Fraction(u["final"]["n_match"]), e))
    if not pairs:
        return None
    sum_o = sum(o for o, _ in pairs)
    sum_e = sum(e for _, e in pairs)
    m_hat = sum_o / sum_e
    e_bar = sum_e / len(pairs)
    s2 = sum(e * (o / e - m_hat) ** 2 for o, e in pairs) / sum_e - m_hat / e_bar
    # A second way: the same moments from raw sums (sum O^2/E - 2 m sum O + m^2 sum E).
    s2_b = (sum(o * o / e for o, e in pairs) - 2 * m_hat * sum_o + m_hat ** 2 * sum_e) / sum_e \
        - m_hat * len(pairs) / sum_e
    if s2 != s2_b:
        fail(f"{sc['name']}: shrinkage variance differs between the two ways")
    return r, m_hat, s2


def evaluate(sc, indices):
    agg, per, units = sc["aggregate"], sc["per"], sc["units"]
    n = len(units)
    bases = baseline_rates(sc)
    shrink = shrinkage(sc)
    # p of every municipality's FINAL window against its own baseline (nan -> 1).
    final_p = []
    for i, u in enumerate(units):
        poisson, binomial, _ = tails_for(agg, bases[i], u["final"], u["population"], per)
        tails = test_p(agg, poisson, binomial)
        final_p.append(mpmath.mpf(1) if tails is NAN else tails[0])
    final_rates = [window_rate(agg, u["final"], u["population"], per) for u in units]

    results, notes = [], {"underflow": False}
    for m in indices:
        u = units[m]
        live, pop = u["live"], u["population"]
        base = bases[m]
        rate = window_rate(agg, live, pop, per)
        poisson, binomial, e = tails_for(agg, base, live, pop, per)
        row = {"index": m, "baseline_rate": base, "rate": rate, "expected": e}
        row["national_ratio"] = NAN if base is NAN or rate is NAN else rate / base
        if agg in ("count", "share") and e is not NAN and e > 0:
            row["national_zscore"] = (live["n_match"] - mp(e)) / mpmath.sqrt(mp(e))
        else:
            row["national_zscore"] = NAN
        row["poisson_p"] = NAN if poisson is NAN else poisson[0]
        row["binomial_p"] = NAN if binomial is NAN else binomial[0]
        tails = test_p(agg, poisson, binomial)
        row["funnel_z"] = NAN if tails is NAN else funnel_z(*tails)
        if tails is not NAN:
            upper, lower = tails
            if upper > 0 and float(upper) == 0.0:
                notes["underflow"] = True
            if 0 < lower < mpmath.mpf("1e-9"):
                raise Unreproducible(f"{sc['name']}: p of {m} is within 1e-9 of 1 but not 1"
                                     f" ({mpmath.nstr(lower, 5)}); a double engine cannot reproduce its funnel z")
        # Percentile among the other municipalities' FINAL rates.
        if rate is NAN or n == 1:
            row["percentile"] = NAN
        else:
            below = ties = 0
            for i in range(n):
                r = final_rates[i]
                if i == m or r is NAN:
                    continue
                if r == rate:
                    ties += 1
                    check_tie(sc, agg, units[i]["final"], units[i]["population"], live, pop, m, i)
                    continue
                if abs(r - rate) <= Fraction(1, 10 ** 9) * max(abs(r), abs(rate)):
                    raise Unreproducible(f"{sc['name']}: rates of {m} (live) and {i} (final) are a near tie")
                if r < rate:
                    below += 1
            row["percentile"] = Fraction(100 * (2 * below + ties), 2 * (n - 1))
        # Shrunk ratio against the national rate.
        if shrink is None:
            row["shrunk_ratio"] = NAN
        else:
            r_nat, m_hat, s2 = shrink
            if s2 != 0 and abs(s2) <= Fraction(1, 10 ** 9) * m_hat:
                raise Unreproducible(f"{sc['name']}: shrinkage variance {float(s2)} is too close to 0")
            if s2 <= 0:
                row["shrunk_ratio"] = m_hat
            else:
                o = live["n_match"]
                e_own = r_nat * pop / per if agg == "count" else r_nat * live["n_all"]
                row["shrunk_ratio"] = (o + m_hat ** 2 / s2) / (e_own + m_hat / s2)
        # q-value: m's live p among everyone else's final p.
        if agg in ("count", "share"):
            ps = list(final_p)
            ps[m] = mpmath.mpf(1) if tails is NAN else tails[0]
            q = bh_sorted(ps, m)
            agree(q, bh_by_values(ps, m), f"{sc['name']}: BH q of {m} by the two ways")
            # Shuffling the set must not change the answer (ties, sort stability).
            perm = list(range(n))
            random.Random(m).shuffle(perm)
            shuffled = [ps[i] for i in perm]
            if bh_sorted(shuffled, perm.index(m)) != q:
                fail(f"{sc['name']}: BH q of {m} depends on the order of the set")
            row["q_value"] = q
        else:
            row["q_value"] = NAN
        results.append(row)
    return results, notes


def check_tie(sc, agg, wi, pop_i, wm, pop_m, m, i):
    """Exact ties in the percentile must also be ties in doubles.

    Count and share rates are one correctly rounded division of integers (n/pop
    then times per, or n*per/pop; n_match/n_all), so equal ratios are equal
    doubles. Sums pass through micro-units / 1e6 first, so for sum and mean only
    identical inputs (or a zero rate) are accepted as ties.
    """
    if agg in ("count", "share"):
        return
    if agg == "sum":
        same = (wi["sum_micro"], pop_i) == (wm["sum_micro"], pop_m) or wi["sum_micro"] == 0
    else:
        same = (wi["sum_micro"], wi["n_match"]) == (wm["sum_micro"], wm["n_match"]) or wi["sum_micro"] == 0
    if not same:
        raise Unreproducible(f"{sc['name']}: {m} and {i} tie exactly from different inputs")


class Unreproducible(Exception):
    """Inputs whose answer a double-precision engine could get differently (near ties, p ~ 1)."""


# ---------------------------------------------------------------------------
# Output.

def out(x):
    if x is NAN:
        return "nan"
    if isinstance(x, Fraction):
        return float(x)
    if isinstance(x, mpmath.mpf):
        if mpmath.isnan(x):
            return "nan"
        if mpmath.isinf(x):
            return "+inf" if x > 0 else "-inf"
        return float(x)
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "+inf" if x > 0 else "-inf"
        return x
    return x


def window_json(w):
    return {"n_match": w["n_match"], "n_all": w["n_all"], "sum": w["sum_micro"] / 10 ** 6}


def validate(sc):
    if sc["aggregate"] not in AGGREGATES or sc["baseline"] not in BASELINES:
        fail(f"{sc['name']}: bad aggregate or baseline")
    for i, u in enumerate(sc["units"]):
        if not (isinstance(u["population"], int) and u["population"] > 0):
            fail(f"{sc['name']}: population of {i}")
        for w in (u["final"], u["live"]):
            if not (0 <= w["n_match"] <= w["n_all"]):
                fail(f"{sc['name']}: n_match > n_all at {i}")
            if sc["aggregate"] in ("count", "share") and w["sum_micro"] != 0:
                fail(f"{sc['name']}: a sum on a {sc['aggregate']} indicator at {i}")
            if sc["aggregate"] == "count" and w["n_all"] != w["n_match"]:
                fail(f"{sc['name']}: count with n_all != n_match at {i}")


def scenario_json(sc, indices):
    validate(sc)
    rows, notes = evaluate(sc, indices)
    return {
        "name": sc["name"],
        "aggregate": sc["aggregate"],
        "per": sc["per"],
        "baseline": sc["baseline"],
        "p_underflows": notes["underflow"],
        "municipalities": [{"population": u["population"], "group": u["group"],
                            "final": window_json(u["final"]), "live": window_json(u["live"])}
                           for u in sc["units"]],
        "expected": [{k: out(v) for k, v in row.items()} for row in rows],
    }


# ---------------------------------------------------------------------------
# Hand-made scenarios.

def W(n_match, n_all=None, sum_micro=0):
    return {"n_match": n_match, "n_all": n_match if n_all is None else n_all, "sum_micro": sum_micro}


def U(population, group, final, live=None):
    return {"population": population, "group": group, "final": final,
            "live": dict(final) if live is None else live}


def S(name, aggregate, per, baseline, units):
    return {"name": name, "aggregate": aggregate, "per": per, "baseline": baseline, "units": units}


def hand_units(aggregate):
    """A varied set of nine municipalities for one aggregate; groups "a" (4), "b" (3), "c" (1), null (1)."""
    groups = ["a", "a", "b", "a", "b", "c", "a", "b", None]
    pops = [12000, 45000, 3100, 250000, 8000, 61000, 1500, 98000, 20000]
    if aggregate == "count":
        finals = [W(30), W(95), W(4), W(640), W(21), W(150), W(0), W(230), W(48)]
        lives = [W(34), W(95), W(9), W(655), W(0), W(151), W(3), W(231), W(48)]
    elif aggregate == "share":
        finals = [W(12, 40), W(30, 170), W(1, 6), W(210, 900), W(5, 22), W(44, 300), W(0, 0),
                  W(60, 310), W(9, 50)]
        lives = [W(15, 42), W(30, 170), W(4, 7), W(212, 905), W(0, 23), W(44, 301), W(0, 0),
                 W(61, 312), W(9, 50)]
    else:
        # Event counts with amounts in micro-units (some negative: refunds).
        finals = [W(30, 33, 1512_250000), W(95, 95, 4020_000001), W(4, 5, 190_500000),
                  W(640, 700, 33120_123456), W(21, 21, -250_000000), W(150, 160, 7050_999999),
                  W(0, 0, 0), W(230, 240, 11000_000000), W(48, 50, 2400_000000)]
        lives = [W(34, 37, 1790_750000), W(95, 95, 4020_000001), W(9, 10, 900_000000),
                 W(655, 716, 33900_000000), W(21, 22, -250_000000), W(151, 161, 7100_000000),
                 W(2, 2, 75_000000), W(231, 241, 11055_500000), W(0, 0, 0)]
    return [U(p, g, f, l) for p, g, f, l in zip(pops, groups, finals, lives)]


def hand_scenarios():
    out_list = []
    for agg in AGGREGATES:
        per = 1000 if agg in ("count", "sum") else 10000
        for base in BASELINES:
            out_list.append(S(f"{agg}-{base.replace('_', '-')}-basic", agg, per, base, hand_units(agg)))

    # Every O/E identical (final rate equal everywhere) -> s2 < 0 -> shrunk = m_hat for all.
    flat = [U(1000 * a, None, W(5 * a), W(5 * a + extra)) for a, extra in
            [(1, 0), (2, 3), (3, 0), (5, 9), (8, 0), (13, 1)]]
    out_list.append(S("count-shrink-flat", "count", 1000, "national", flat))
    flat_share = [U(5000 * a, "1", W(2 * a, 10 * a), W(2 * a + extra, 10 * a + extra)) for a, extra in
                  [(1, 0), (2, 4), (4, 0), (7, 2), (9, 0)]]
    out_list.append(S("share-shrink-flat", "share", 1000, "leave_one_out", flat_share))
    # Widely scattered O/E -> s2 > 0.
    spread = [U(10000, "1", W(k), W(k + extra)) for k, extra in
              [(14, 0), (40, 5), (11, 0), (90, 0), (25, 30), (0, 0), (60, 1)]]
    out_list.append(S("count-shrink-spread", "count", 1000, "national", spread))

    # BH ties: identical windows and populations; live == final, and one live much larger.
    ties = [U(20000, "1", W(30)) for _ in range(5)] + \
           [U(20000, "1", W(30), W(120))] + \
           [U(5000, "2", W(3)), U(5000, "2", W(3)), U(80000, "2", W(200)), U(80000, "2", W(200))]
    out_list.append(S("count-bh-ties", "count", 1000, "national", ties))
    out_list.append(S("count-bh-ties-leave-one-out", "count", 1000, "leave_one_out", ties))
    ties_share = [U(7000, "1", W(10, 50)) for _ in range(4)] + \
                 [U(7000, "1", W(10, 50), W(45, 80)), U(9000, "2", W(0, 20)), U(9000, "2", W(0, 20)),
                  U(12000, "2", W(19, 60))]
    out_list.append(S("share-bh-ties", "share", 1000, "national", ties_share))

    # p far below the double range: expected ~1, k = 2000.
    extreme = [U(10000, "1", W(1), W(2000 if i == 0 else 1)) for i in range(10)]
    out_list.append(S("count-extreme-underflow", "count", 1000, "national", extreme))
    # Baseline share 1 (every final n_match == n_all) -> binomial p = 1 -> funnel z -inf.
    one = [U(4000, "1", W(5, 5), W(5, 5)), U(9000, "1", W(12, 12), W(14, 14)),
           U(2000, "1", W(1, 1), W(1, 3)), U(30000, "1", W(44, 44), W(44, 44)),
           U(6500, "1", W(7, 7), W(0, 2))]
    out_list.append(S("share-baseline-one", "share", 1000, "national", one))
    out_list.append(S("share-baseline-one-peers", "share", 1000, "peers", one))
    # k = 0 for the evaluated municipality (p = 1).
    zero_k = [U(15000, "1", W(20), W(0)), U(15000, "1", W(20), W(0)), U(40000, "1", W(66), W(70)),
              U(2500, "1", W(0), W(0)), U(9000, "1", W(14), W(15)), U(70000, "1", W(101), W(0))]
    out_list.append(S("count-live-zero", "count", 1000, "national", zero_k))
    zero_k_share = [U(15000, "1", W(8, 40), W(0, 41)), U(22000, "1", W(13, 60), W(13, 60)),
                    U(3000, "1", W(2, 9), W(0, 0)), U(50000, "1", W(40, 150), W(45, 160)),
                    U(8000, "1", W(0, 11), W(0, 12))]
    out_list.append(S("share-live-zero", "share", 1000, "peers", zero_k_share))
    # National rate 0 (every final n_match 0) -> no baseline.
    none = [U(p, "1", W(0), W(k)) for p, k in [(10000, 0), (20000, 3), (5000, 0), (70000, 1), (3000, 0)]]
    out_list.append(S("count-national-zero", "count", 1000, "national", none))
    out_list.append(S("count-peers-zero", "count", 1000, "peers", none))
    none_share = [U(p, "1", W(0, a), W(k, a + k)) for p, a, k in
                  [(10000, 10, 0), (20000, 0, 2), (5000, 4, 0), (70000, 30, 1), (3000, 0, 0)]]
    out_list.append(S("share-national-zero", "share", 1000, "national", none_share))
    # Sums that cancel to 0 nationally; a mean with no events; a negative national mean.
    cancel = [U(10000, "1", W(3, 3, 5_000000), W(4, 4, 6_500000)),
              U(20000, "1", W(2, 2, -5_000000), W(2, 2, -5_000000)),
              U(5000, "2", W(0, 0, 0), W(1, 1, 1)),
              U(8000, "2", W(1, 1, 1_250000), W(1, 1, 1_250000)),
              U(12000, "2", W(1, 1, -1_250000), W(1, 1, -1_250000))]
    out_list.append(S("sum-national-zero", "sum", 1000, "national", cancel))
    out_list.append(S("sum-peers-zero", "sum", 1000, "peers", cancel))
    out_list.append(S("mean-national-zero", "mean", 1000, "national", cancel))
    empty_mean = [U(p, None, W(0, a, 0), W(k, a + k, 10_000000 * k)) for p, a, k in
                  [(1000, 0, 0), (2000, 5, 1), (3000, 2, 0), (4000, 0, 2), (5000, 1, 0)]]
    out_list.append(S("mean-no-events", "mean", 1000, "national", empty_mean))
    negative = [U(p, g, W(n, n, s), W(n + d, n + d, s + ds)) for p, g, n, s, d, ds in
                [(10000, "1", 10, -55_000000, 1, -10_000000), (20000, "1", 20, -90_500000, 0, 0),
                 (5000, "2", 4, 30_000000, 2, 1_000000), (8000, "2", 8, -44_444444, 0, 0),
                 (30000, "2", 25, -100_000000, 5, -250_000000), (15000, None, 9, -9_000000, 0, 0)]]
    out_list.append(S("sum-negative", "sum", 10000, "national", negative))
    out_list.append(S("mean-negative-leave-one-out", "mean", 1000, "leave_one_out", negative))
    # A single municipality: percentile nan; leave-one-out has nobody to pool.
    single = [U(25000, "1", W(40), W(47))]
    out_list.append(S("count-single-national", "count", 1000, "national", single))
    out_list.append(S("count-single-leave-one-out", "count", 1000, "leave_one_out", single))
    single_share = [U(25000, "1", W(40, 100), W(47, 110))]
    out_list.append(S("share-single-national", "share", 1000, "national", single_share))
    # Two municipalities: leave-one-out is the other one.
    pair = [U(10000, "1", W(10), W(25)), U(30000, None, W(33), W(33))]
    out_list.append(S("count-pair-leave-one-out", "count", 100000, "leave_one_out", pair))
    # Peers: every group of one, and every group null.
    lonely = [U(1000 * (i + 1), str(i), W(i + 1), W(i + 2)) for i in range(5)] + \
             [U(9000, None, W(4), W(9))]
    out_list.append(S("count-peers-lonely", "count", 1000, "peers", lonely))
    # Percentile ties: identical windows, live == final, other municipalities with nan rates.
    share_pct = [U(1000, "1", W(3, 10)), U(1000, "1", W(3, 10)), U(1000, "1", W(3, 10), W(4, 10)),
                 U(1000, "1", W(0, 0)), U(1000, "1", W(0, 5)), U(1000, "1", W(5, 5)),
                 U(1000, "1", W(1, 10), W(3, 10))]
    out_list.append(S("share-percentile-ties", "share", 1000, "national", share_pct))
    return out_list


# ---------------------------------------------------------------------------
# Random scenarios.

def poisson_sample(rng, lam):
    """A Poisson draw: inverse CDF for small means, a rounded normal for large ones."""
    if lam <= 0:
        return 0
    if lam < 60:
        u = rng.random()
        k, p = 0, math.exp(-lam)
        cdf = p
        while u > cdf and k < 10 * lam + 100:
            k += 1
            p *= lam / k
            cdf += p
        return k
    return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))


def binomial_sample(rng, n, p):
    if n <= 200:
        return sum(1 for _ in range(n) if rng.random() < p)
    return min(n, max(0, int(round(rng.gauss(n * p, math.sqrt(n * p * (1 - p)))))))


def random_scenario(seed, size, aggregate, baseline):
    rng = random.Random(seed)
    per = rng.choice([1000, 10000, 100000]) if aggregate in ("count", "sum") else rng.choice([1000, 10000])
    groups = ["1", "2", "3", "4", "5", None]
    units = []
    base_rate = rng.uniform(0.5, 20.0) / 1000  # events per inhabitant
    share_p = rng.uniform(0.05, 0.6)
    amount = rng.uniform(5, 500)  # mean value of one event (sum, mean)
    for _ in range(size):
        pop = int(round(math.exp(rng.uniform(math.log(1000), math.log(900000)))))
        group = rng.choice(groups)
        # Over-dispersion of about one standard deviation, so that no honest
        # municipality is many standard deviations off (its p would round to 1).
        mean = base_rate * pop
        lam = max(0.0, mean + rng.gauss(0, 1) * math.sqrt(mean))
        elevated = rng.random() < 0.1
        if aggregate == "share":
            n_all = poisson_sample(rng, lam)
            p = share_p * math.exp(rng.gauss(0, 0.1))
            p = min(p, 0.95)
            k = binomial_sample(rng, n_all, p)
            if elevated and n_all > 0:
                k = min(n_all, k + int(rng.uniform(2, 8) * math.sqrt(n_all * p * (1 - p)) + 1))
            final = W(k, n_all)
            extra_all = rng.randint(0, 5)
            extra = rng.randint(0, extra_all)
            live = W(k + extra, n_all + extra_all)
        else:
            k = poisson_sample(rng, lam)
            if elevated:
                k += int(rng.uniform(2, 8) * math.sqrt(lam) + 1)
            extra = poisson_sample(rng, rng.uniform(0, 4))
            if aggregate == "count":
                final, live = W(k), W(k + extra)
            else:
                def total(events):
                    mu = amount * (1.6 if elevated else 1.0)
                    micro = 0
                    for _ in range(min(events, 50)):
                        micro += int(round(rng.gauss(mu, mu / 3) * 1e6))
                    if events > 50:
                        micro = int(round(micro * events / 50))
                    return micro
                n_all = k + rng.randint(0, 3)
                s = total(k)
                final = W(k, n_all, s)
                live = W(k + extra, n_all + extra + rng.randint(0, 1), s + total(extra))
        units.append(U(pop, group, final, live))
    name = f"random-{seed}-{aggregate}-{baseline.replace('_', '-')}-{size}"
    sc = S(name, aggregate, per, baseline, units)
    # Choose the evaluated municipalities: smallest and largest population,
    # highest live rate, and the rest at random, up to `k_eval`.
    k_eval = 16 if size >= 300 else 4
    pops = [u["population"] for u in units]
    chosen = {pops.index(min(pops)), pops.index(max(pops))}
    rates = [(window_rate(aggregate, u["live"], u["population"], per), i) for i, u in enumerate(units)]
    rates = [(r, i) for r, i in rates if r is not NAN]
    if rates:
        chosen.add(max(rates)[1])
    others = [i for i in range(size) if i not in chosen]
    rng.shuffle(others)
    chosen.update(others[:max(0, k_eval - len(chosen))])
    return sc, sorted(chosen)


RANDOM_PLAN = [
    # (size, aggregate, baseline): one at the full 342, the rest small to keep the file small.
    (342, "count", "peers"), (20, "count", "national"), (23, "count", "leave_one_out"),
    (21, "count", "peers"), (22, "count", "national"), (24, "count", "leave_one_out"),
    (20, "count", "peers"),
    (24, "share", "national"), (20, "share", "peers"), (23, "share", "leave_one_out"),
    (21, "share", "national"), (22, "share", "peers"), (20, "share", "leave_one_out"),
    (23, "share", "national"),
    (20, "sum", "national"), (22, "sum", "leave_one_out"), (23, "sum", "peers"),
    (21, "sum", "national"), (20, "sum", "leave_one_out"), (24, "sum", "peers"),
    (20, "mean", "national"), (21, "mean", "leave_one_out"), (22, "mean", "peers"),
    (24, "mean", "national"), (23, "mean", "leave_one_out"), (20, "mean", "peers"),
    (21, "share", "peers"), (22, "count", "leave_one_out"),
]


def random_scenarios():
    result = []
    for n, (size, aggregate, baseline) in enumerate(RANDOM_PLAN):
        seed = 1000 + n
        for attempt in range(20):
            sc, indices = random_scenario(seed + 100000 * attempt, size, aggregate, baseline)
            try:
                result.append(scenario_json(sc, indices))
                break
            except Unreproducible:
                continue  # an answer a double engine might get differently: draw again
        else:
            fail(f"no usable draw for random scenario {n}")
    return result


# ---------------------------------------------------------------------------
# Year-over-year ratio.

def yoy_window(aggregate, buckets, end, window):
    n_match = n_all = micro = 0
    for day, m, a, s in buckets:
        if end - window < day <= end:
            n_match += m
            n_all += a
            micro += s
    if aggregate == "count":
        return Fraction(n_match)
    if aggregate == "sum":
        return Fraction(micro, 10 ** 6)
    if aggregate == "mean":
        return Fraction(micro, n_match * 10 ** 6) if n_match else NAN
    return Fraction(n_match, n_all) if n_all else NAN


def yoy_ratio(case):
    agg, window, cur = case["aggregate"], case["window"], case["current_day"]
    if cur - 364 - window + 1 < case["first_event_day"]:
        return NAN
    now = yoy_window(agg, case["buckets"], cur, window)
    before = yoy_window(agg, case["buckets"], cur - 364, window)
    # A second way: per-day arrays.
    if now is NAN or before is NAN:
        return NAN
    if before == 0:
        return mpmath.inf if now > 0 else -mpmath.inf if now < 0 else NAN
    return now / before


def yoy_ratio_by_days(case):
    agg, window, cur = case["aggregate"], case["window"], case["current_day"]
    days = {}
    for day, m, a, s in case["buckets"]:
        d = days.setdefault(day, [0, 0, 0])
        d[0] += m
        d[1] += a
        d[2] += s

    def value(end):
        t = [0, 0, 0]
        for day in range(end - window + 1, end + 1):
            for j, v in enumerate(days.get(day, (0, 0, 0))):
                t[j] += v
        if agg == "count":
            return Fraction(t[0])
        if agg == "sum":
            return Fraction(t[2], 10 ** 6)
        if agg == "mean":
            return None if t[0] == 0 else Fraction(t[2], 10 ** 6 * t[0])
        return None if t[1] == 0 else Fraction(t[0], t[1])

    if cur - window - 363 < case["first_event_day"]:
        return NAN
    a, b = value(cur), value(cur - 364)
    if a is None or b is None or (a == 0 and b == 0):
        return NAN
    if b == 0:
        return mpmath.inf if a > 0 else -mpmath.inf
    return a / b


def Y(name, aggregate, window, current_day, first_event_day, buckets):
    return {"name": name, "aggregate": aggregate, "window": window, "current_day": current_day,
            "first_event_day": first_event_day, "buckets": [list(b) for b in buckets]}


def yoy_cases():
    c = 20000  # current day
    cases = []
    # History: the previous window [c-364-w+1, c-364] must start on or after the first event.
    w = 7
    edge = c - 364 - w + 1
    hist = [(edge, 3, 3, 0), (c - 364, 2, 2, 0), (c - 3, 4, 4, 0), (c, 6, 6, 0)]
    cases.append(Y("count-before-a-year", "count", w, c, edge + 30, [(edge + 30, 1, 1, 0), (c, 6, 6, 0)]))
    cases.append(Y("count-boundary-defined", "count", w, c, edge, hist))
    cases.append(Y("count-one-day-short", "count", w, c, edge + 1, [b for b in hist if b[0] >= edge + 1]))
    cases.append(Y("count-prev-zero", "count", 28, c, c - 500 + 100,
                   [(c - 10, 5, 5, 0), (c - 364 - 30, 9, 9, 0)]))
    cases.append(Y("count-both-zero", "count", 28, c, c - 400,
                   [(c - 28, 4, 4, 0), (c - 364 - 28, 3, 3, 0), (c - 363, 2, 2, 0)]))
    # Window 92: events right inside and right outside both windows.
    w = 92
    cases.append(Y("count-window-92", "count", w, c, c - 364 - w - 10,
                   [(c - 364 - w - 10, 100, 100, 0), (c - 364 - w, 50, 50, 0), (c - 364 - w + 1, 7, 7, 0),
                    (c - 364, 3, 3, 0), (c - 364 + 1, 40, 40, 0), (c - w, 60, 60, 0),
                    (c - w + 1, 11, 11, 0), (c - 1, 2, 2, 0), (c, 9, 9, 0)]))
    w = 1
    cases.append(Y("count-window-1", "count", w, c, c - 364 - 5,
                   [(c - 365, 8, 8, 0), (c - 364, 4, 4, 0), (c - 363, 8, 8, 0), (c - 1, 8, 8, 0), (c, 10, 10, 0)]))
    cases.append(Y("count-window-1-boundary", "count", 1, c, c - 364,
                   [(c - 364, 3, 3, 0), (c, 1, 1, 0)]))
    cases.append(Y("sum-basic", "sum", 28, c, c - 400,
                   [(c - 364 - 27, 2, 2, 12_500000), (c - 364 - 3, 1, 1, 7_250001), (c - 364, 1, 1, -750000),
                    (c - 27, 3, 3, 40_000000), (c - 5, 1, 1, 7), (c, 2, 2, -3_333333)]))
    cases.append(Y("sum-prev-zero-cur-negative", "sum", 14, c, c - 380,
                   [(c - 364 - 2, 1, 1, 5_000000), (c - 364, 1, 1, -5_000000), (c - 1, 1, 1, -2_500000)]))
    cases.append(Y("sum-prev-zero-cur-positive", "sum", 14, c, c - 380,
                   [(c - 364 - 20, 1, 1, 5_000000), (c - 1, 1, 1, 2_500000)]))
    cases.append(Y("sum-both-zero", "sum", 14, c, c - 380,
                   [(c - 364 - 1, 2, 2, 0), (c - 3, 1, 1, 0)]))
    cases.append(Y("mean-basic", "mean", 7, c, c - 371,
                   [(c - 370, 2, 3, 21_000000), (c - 364, 1, 1, 9_000000), (c - 6, 3, 3, 36_000000),
                    (c, 1, 2, 500000)]))
    cases.append(Y("mean-empty-current", "mean", 7, c, c - 371,
                   [(c - 366, 2, 2, 21_000000), (c - 7, 1, 1, 3_000000)]))
    cases.append(Y("mean-empty-previous", "mean", 7, c, c - 371,
                   [(c - 371 - 0, 0, 4, 0), (c - 3, 2, 2, 5_000000)]))
    cases.append(Y("mean-prev-zero-cur-negative", "mean", 30, c, c - 400,
                   [(c - 380, 3, 3, 0), (c - 20, 2, 2, -1_000000)]))
    cases.append(Y("share-basic", "share", 30, c, c - 400,
                   [(c - 390, 3, 10, 0), (c - 370, 1, 20, 0), (c - 15, 12, 30, 0), (c, 0, 5, 0)]))
    cases.append(Y("share-empty-current", "share", 30, c, c - 400, [(c - 390, 3, 10, 0)]))
    cases.append(Y("share-empty-previous", "share", 30, c, c - 400, [(c - 10, 3, 10, 0)]))
    cases.append(Y("share-prev-zero-cur-positive", "share", 30, c, c - 400,
                   [(c - 390, 0, 10, 0), (c - 10, 3, 10, 0)]))
    cases.append(Y("share-both-zero", "share", 30, c, c - 400,
                   [(c - 390, 0, 10, 0), (c - 10, 0, 4, 0)]))
    cases.append(Y("count-new-series", "count", 28, c, c - 10, [(c - 10, 5, 5, 0), (c, 2, 2, 0)]))
    # Random dense cases.
    rng = random.Random(77)
    for n, (agg, w) in enumerate([("count", 1), ("sum", 7), ("mean", 28), ("share", 91)]):
        cur = 19000 + rng.randint(0, 2000)
        first = cur - 364 - w - rng.randint(0, 10)
        buckets = []
        for day in range(first, cur + 1):
            in_window = cur - w < day or cur - 364 - w < day <= cur - 364
            if rng.random() < (0.6 if in_window else 0.1):
                m = rng.randint(0, 20)
                a = m + rng.randint(0, 10)
                s = 0 if agg in ("count", "share") else rng.randint(-2_000_000, 50_000_000) * m
                if agg == "count":
                    a = m
                buckets.append((day, m, a, s))
        cases.append(Y(f"random-{n}-{agg}-window-{w}", agg, w, cur, first, buckets))
    result = []
    for case in cases:
        for day, m, a, s in case["buckets"]:
            if not (case["current_day"] - 364 - case["window"] - 10 <= day <= case["current_day"]):
                fail(f"yoy {case['name']}: bucket day {day} out of range")
            if not 0 <= m <= a:
                fail(f"yoy {case['name']}: n_match > n_all")
            if case["aggregate"] in ("count", "share") and s != 0:
                fail(f"yoy {case['name']}: a sum on a {case['aggregate']} case")
        a, b = yoy_ratio(case), yoy_ratio_by_days(case)
        if a is not b and a != b:
            fail(f"yoy {case['name']}: the two ways disagree: {a} vs {b}")
        case = dict(case)
        case["expected"] = out(a)
        result.append(case)
    return result


def main():
    try:
        scenarios = [scenario_json(sc, list(range(len(sc["units"])))) for sc in hand_scenarios()]
    except Unreproducible as e:
        fail(f"hand-made scenario: {e}")
    by_name = {s["name"]: s for s in scenarios}
    if not by_name["count-extreme-underflow"]["p_underflows"]:
        fail("the underflow scenario does not underflow")
    z = by_name["count-extreme-underflow"]["expected"][0]["funnel_z"]
    if not (isinstance(z, float) and z > 60):
        fail(f"the underflow scenario's funnel z is {z}")
    if any(e["funnel_z"] != "-inf" for e in by_name["share-baseline-one"]["expected"]):
        fail("baseline share 1 must give funnel z -inf everywhere")
    if any(e["shrunk_ratio"] != 1.0 for e in by_name["count-shrink-flat"]["expected"]):
        fail("identical O/E everywhere must shrink every municipality to m_hat = 1")
    if len({e["shrunk_ratio"] for e in by_name["count-shrink-spread"]["expected"]}) < 2:
        fail("the spread scenario must have s2 > 0")
    scenarios += random_scenarios()
    doc = {"generator": "scripts/make_stat_vectors.py", "scenarios": scenarios, "yoy": yoy_cases()}
    json.dump(doc, sys.stdout, sort_keys=True, indent=1, allow_nan=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
