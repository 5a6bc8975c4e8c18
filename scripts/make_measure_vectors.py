#!/usr/bin/env python3
"""Writes tests/engine/data/measure_vectors.csv: Poisson upper-tail reference values.

Each row is (k, lambda, p) with p = P(X >= k) for X ~ Poisson(lambda), computed
independently of the C++ code (which uses Boost's incomplete gamma function):
an mpmath sum of Poisson probabilities at 60 significant digits, cross-checked
against mpmath's own incomplete gamma function (small lambda) and against
scipy.stats.poisson.sf wherever scipy is accurate enough to compare.

The grid spans lambda from 1e-9 to 1e7 and k from 0 to where the tail falls
below 1e-300. The output is committed, so CI needs neither mpmath nor scipy;
run this only to change the grid:

    pip install mpmath scipy
    python3 scripts/make_measure_vectors.py > tests/engine/data/measure_vectors.csv
"""

import math
import sys

import mpmath

try:
    from scipy.stats import poisson as scipy_poisson
except ImportError:  # the scipy cross-check is optional
    scipy_poisson = None

mpmath.mp.dps = 60

LAMBDAS = [1e-9, 1e-6, 1e-3, 0.01, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 12.4, 30.0, 100.0,
           365.25, 1000.0, 1e4, 1e5, 1e6, 1e7]
SMALLEST_P = mpmath.mpf("1e-300")


def _pmf(j, lam):
    return mpmath.exp(-lam + j * mpmath.log(lam) - mpmath.loggamma(j + 1))


def sum_upwards(k, lam):
    """P(X >= k) as the sum of P(X = j) for j >= k; for k > lambda the terms shrink."""
    lam = mpmath.mpf(lam)
    term = _pmf(k, lam)
    total = mpmath.mpf(0)
    j = k
    while True:
        total += term
        j += 1
        term *= lam / j
        if j > lam and term < total * mpmath.mpf("1e-45"):
            return total


def one_minus_lower(k, lam):
    """1 - P(X <= k - 1), the lower tail summed downwards from j = k - 1."""
    lam = mpmath.mpf(lam)
    j = k - 1
    term = _pmf(j, lam)
    lower = mpmath.mpf(0)
    while j >= 0:
        lower += term
        if j < lam and term < lower * mpmath.mpf("1e-45"):
            break
        term *= j / lam
        j -= 1
    return 1 - lower


def upper_tail(k, lam):
    """P(X >= k) in high precision, summed from the side where no cancellation occurs."""
    if k <= 0:
        return mpmath.mpf(1)
    # For k <= lambda the tail is >= ~0.5, so the subtraction loses nothing at 60 digits.
    return sum_upwards(k, lam) if k > lam else one_minus_lower(k, lam)


def first_k_below(lam, p):
    """Smallest k with upper_tail(k, lam) < p (the tail decreases in k)."""
    lo, hi = 0, max(8, int(lam) + 8)
    while upper_tail(hi, lam) >= p:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if upper_tail(mid, lam) < p:
            hi = mid
        else:
            lo = mid
    return hi


def grid_ks(lam):
    k_max = first_k_below(lam, SMALLEST_P) - 1  # last k with p >= 1e-300
    ks = {0, 1, 2, 3, 5, 10, k_max}
    ks.update(k for k in (math.floor(lam), math.ceil(lam)) if k >= 0)
    k_lo = max(1, int(lam - 8 * math.sqrt(lam)))
    for i in range(31):
        ks.add(k_lo + (k_max - k_lo) * i // 30)
    # The tails at round probabilities, where the critical counts change.
    for exponent in (1, 2, 3, 6, 10, 20, 50, 100, 200):
        k = first_k_below(lam, mpmath.mpf(10) ** -exponent)
        ks.update((k - 1, k))
    return sorted(k for k in ks if 0 <= k <= k_max)


def check(k, lam, p):
    if k > 0 and lam <= 1000:
        ref = mpmath.gammainc(k, 0, lam, regularized=True)
        if abs(ref - p) > abs(p) * mpmath.mpf("1e-30"):
            sys.exit(f"mpmath sum and gammainc disagree at k={k} lambda={lam}: {p} vs {ref}")
    if k > 0 and abs(k - lam) < 3 * math.sqrt(lam) + 3:
        # Near the mean both ways of summing are accurate: they must agree.
        a, b = sum_upwards(k, lam), one_minus_lower(k, lam)
        if abs(a - b) > abs(a) * mpmath.mpf("1e-30"):
            sys.exit(f"upward and downward sums disagree at k={k} lambda={lam}: {a} vs {b}")
    if scipy_poisson is not None and p > 1e-280:
        s = scipy_poisson.sf(k - 1, lam)
        # A sanity check against gross mistakes only: scipy loses relative
        # precision for huge lambda (7e-6 at lambda=1e6 and 4e-2 at lambda=1e7
        # for p=1e-6, where the two mpmath sums agree to 30 digits).
        tolerance = 1e-6 if lam <= 1e4 else 1e-4 if lam <= 1e6 else 0.1
        if abs(s - float(p)) > float(p) * tolerance:
            sys.exit(f"scipy disagrees at k={k} lambda={lam}: {float(p)!r} vs {s!r}")


def main():
    print("k,lambda,p")
    for lam in LAMBDAS:
        for k in grid_ks(lam):
            p = upper_tail(k, lam)
            check(k, lam, p)
            print(f"{k},{lam!r},{mpmath.nstr(p, 17, min_fixed=0, max_fixed=0)}")


if __name__ == "__main__":
    main()
