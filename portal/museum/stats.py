"""Intervals and tests over *visitors* (issue 20): plain numpy, no web framework, no database.

Each row of ``values`` is one visitor (a track of a session or a video, or one face of a
photo), already reduced to one number per measure (e.g. the share of the visitor's sightings
that were happy).  A visitor's sightings are correlated -- the same face, seconds apart -- so
everything here resamples whole visitors, never sightings:

* :func:`mean_interval`: a cluster bootstrap (draw as many visitors as there are, with
  replacement, ``resamples`` times; the 2.5th and 97.5th percentiles of the resampled means).
  Below :data:`SMALL` visitors the bootstrap is too narrow (it cannot imagine what the few
  visitors did not do: 0 happy of 6 gives [0, 0]), so the interval is widened to at least the
  Wilson score interval for that many visitors (:func:`effective_visitors`: as many yes/no
  visitors as would spread the share as much as these visitors do);
* :func:`difference_interval`: both groups bootstrapped apart, the percentiles of the
  difference (widened to Newcombe's interval, the Wilson intervals combined, below ``SMALL``);
* :func:`permutation_test`: how often a random split of the pooled visitors into groups of the
  same sizes gives a difference at least as large as the one seen (two-sided p-value);
* :func:`holm`: Holm's adjustment when several measures are tested at once.

From :data:`LARGE` visitors on, where resampling would cost seconds and the central limit
theorem holds well, the same quantities come from the normal approximation over visitors
(mean +- 1.96 standard errors; the median's interval between the order statistics
n/2 +- 1.96 sqrt(n)/2; Welch's z and Mood's median test for the p-values).

Seeds are fixed, so the same visitors always give the same numbers.

>>> import numpy as np
>>> happy = np.array([1.0] * 3 + [0.0] * 7)          # 3 happy visitors of 10
>>> _, low, high = mean_interval(happy, resamples=500)
>>> [round(float(x), 2) for x in (low[0], high[0])]  # few visitors: a wide interval
[0.05, 0.62]
>>> a, b = np.array([1.0] * 60 + [0.0] * 140), np.array([1.0] * 100 + [0.0] * 100)
>>> float(permutation_test(a, b, resamples=500)[0]) < 0.01   # 30% vs 50% of 200: clear
True
"""
from __future__ import annotations

import logging
import math

import numpy as np

log = logging.getLogger(__name__)

SEED = 20  # fixed: the same data give the same intervals and p-values
RESAMPLES = 2000
SMALL = 30  # below this many visitors a share's interval is at least Wilson's
LARGE = 2000  # from this many visitors on, the normal approximation (as exact by then, faster)
Z95 = 1.959963984540054
_CELLS = 2_000_000  # resampled visitors held in memory at once


def as_matrix(values) -> np.ndarray:
    """Visitors x measures as floats (a 1-D array is one measure; 2-D stays as it is)."""
    array = np.asarray(values, dtype=float)
    return array[:, None] if array.ndim == 1 else array


def _chunks(resamples: int, n: int):
    step = max(1, _CELLS // max(n, 1))
    for start in range(0, resamples, step):
        yield min(step, resamples - start)


def _draw_counts(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    """``size`` x ``n``: how often each visitor is drawn in each of ``size`` resamples of ``n``
    visitors with replacement."""
    draws = rng.integers(0, n, (size, n)) + np.arange(size)[:, None] * n
    return np.bincount(draws.ravel(), minlength=size * n).reshape(size, n)


def bootstrap_means(values, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """Resamples x measures: the means of ``resamples`` draws of as many visitors as there
    are, with replacement (draw counts: one matrix product per chunk)."""
    matrix = as_matrix(values)
    n = len(matrix)
    rng = np.random.default_rng(seed)
    return np.vstack([_draw_counts(rng, size, n) @ matrix / n for size in _chunks(resamples, n)])


def bootstrap_medians(values, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """The medians of ``resamples`` draws of the visitors' values, with replacement."""
    ordered = np.sort(np.asarray(values, dtype=float))
    rng = np.random.default_rng(seed)
    return np.concatenate([_selected_medians(ordered, _draw_counts(rng, size, len(ordered)))
                           for size in _chunks(resamples, len(ordered))])


def wilson(share, n: int, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson's score interval for a share of ``n`` visitors (vectorised over shares)."""
    p = np.clip(np.asarray(share, dtype=float), 0.0, 1.0)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def _percentiles(replicates: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    tail = 100 * (1 - level) / 2
    return np.percentile(replicates, tail, axis=0), np.percentile(replicates, 100 - tail, axis=0)


def mean_interval(values, resamples: int = RESAMPLES, seed: int = SEED,
                  bounded: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(means, lows, highs) per measure over the visitors, 95 %.  ``bounded``: the values lie
    in [0, 1] (shares), so fewer than :data:`SMALL` visitors get at least Wilson's interval.
    No visitors: NaN."""
    matrix = as_matrix(values)
    n = len(matrix)
    if n == 0:
        nan = np.full(matrix.shape[1], np.nan)
        return nan, nan.copy(), nan.copy()
    means = matrix.mean(axis=0)
    if n >= LARGE:
        half = Z95 * matrix.std(axis=0, ddof=1) / np.sqrt(n)
        return means, means - half, means + half
    low, high = _percentiles(bootstrap_means(matrix, resamples, seed))
    if bounded and n < SMALL:
        wilson_low, wilson_high = wilson(means, effective_visitors(matrix))
        low, high = np.minimum(low, wilson_low), np.maximum(high, wilson_high)
    return means, np.minimum(low, means), np.maximum(high, means)


def effective_visitors(matrix: np.ndarray) -> np.ndarray:
    """Per measure of [0, 1] values, how many yes/no visitors would spread their mean as much
    as these do (Kish: n * p(1 - p) / variance); ``n`` where all agree (0 of 6 is 0 of 6)."""
    n = len(matrix)
    means = matrix.mean(axis=0)
    spread = matrix.var(axis=0, ddof=1) if n > 1 else np.zeros(matrix.shape[1])
    return np.where(spread > 0, n * means * (1 - means) / np.maximum(spread, 1e-12), n)


def median_interval(values, resamples: int = RESAMPLES,
                    seed: int = SEED) -> tuple[float, float, float]:
    """(median, low, high) of one value per visitor (e.g. dwell seconds), 95 %; NaN if none."""
    array = np.asarray(values, dtype=float)
    if len(array) == 0:
        return (float("nan"),) * 3
    if len(array) >= LARGE:  # order statistics around the middle (distribution-free)
        ordered, reach = np.sort(array), Z95 * np.sqrt(len(array)) / 2
        low = ordered[max(0, int(np.floor(len(array) / 2 - reach)))]
        high = ordered[min(len(array) - 1, int(np.ceil(len(array) / 2 + reach)))]
        return float(np.median(array)), float(low), float(high)
    low, high = _percentiles(bootstrap_medians(array, resamples, seed))
    return float(np.median(array)), float(low), float(high)


def _newcombe(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's interval for mean(b) - mean(a) of [0, 1] values (Wilson's, combined)."""
    pa, pb = a.mean(axis=0), b.mean(axis=0)
    (la, ha), (lb, hb) = wilson(pa, len(a)), wilson(pb, len(b))
    diff = pb - pa
    return diff - np.hypot(pb - lb, ha - pa), diff + np.hypot(hb - pb, pa - la)


def difference_interval(before, after, resamples: int = RESAMPLES, seed: int = SEED,
                        statistic: str = "mean", bounded: bool = True):
    """(difference after - before, low, high) per measure, 95 %: the two groups bootstrapped
    apart.  ``statistic``: "mean" (per measure, arrays) or "median" (one measure, floats)."""
    if min(len(before), len(after)) >= LARGE:
        return _normal_difference(before, after, statistic)
    if statistic == "median":
        a, b = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
        replicates = bootstrap_medians(b, resamples, seed + 1) - bootstrap_medians(a, resamples, seed)
        low, high = _percentiles(replicates)
        diff = float(np.median(b) - np.median(a))
        return diff, min(float(low), diff), max(float(high), diff)
    a, b = as_matrix(before), as_matrix(after)
    diff = b.mean(axis=0) - a.mean(axis=0)
    replicates = bootstrap_means(b, resamples, seed + 1) - bootstrap_means(a, resamples, seed)
    low, high = _percentiles(replicates)
    if bounded and min(len(a), len(b)) < SMALL:
        newcombe_low, newcombe_high = _newcombe(a, b)
        low, high = np.minimum(low, newcombe_low), np.maximum(high, newcombe_high)
    return diff, np.minimum(low, diff), np.maximum(high, diff)


def _normal_difference(before, after, statistic: str):
    """Large groups: each period's normal interval, their half-widths added in quadrature."""
    interval = median_interval if statistic == "median" else mean_interval
    (mean_a, low_a, high_a), (mean_b, low_b, high_b) = interval(before), interval(after)
    diff = mean_b - mean_a
    return (diff, diff - np.hypot(mean_b - low_b, high_a - mean_a),
            diff + np.hypot(high_b - mean_b, mean_a - low_a))


def _normal_test(a: np.ndarray, b: np.ndarray, statistic: str) -> np.ndarray:
    """Large groups: Welch's z per measure (means), or Mood's median test (the shares above
    the pooled median compared); two-sided normal p-values."""
    if statistic == "median":
        above = (np.vstack([a, b]) > np.median(np.vstack([a, b]))).astype(float)
        a, b = above[:len(a)], above[len(a):]
    gap = np.abs(b.mean(axis=0) - a.mean(axis=0))
    error = np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))
    z = np.divide(gap, error, out=np.where(gap > 0, np.inf, 0.0), where=error > 0)
    return np.array([math.erfc(x / math.sqrt(2)) for x in z])


def _permuted_masks(rng: np.random.Generator, size: int, n_a: int, n: int) -> np.ndarray:
    """``size`` random assignments of ``n`` visitors, ``n_a`` of them to the first group."""
    order = rng.permuted(np.tile(np.arange(n), (size, 1)), axis=1)
    return order < n_a


def _selected_medians(ordered: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per row of ``counts`` (how often each value is selected: a mask or draw counts), the
    median of the selected ``ordered`` (sorted) values, found by counting."""
    total = counts.sum(axis=1)[:, None]
    seen = np.cumsum(counts, axis=1)
    lower = np.argmax(seen >= (total + 1) // 2, axis=1)
    upper = np.argmax(seen >= total // 2 + 1, axis=1)
    return (ordered[lower] + ordered[upper]) / 2


def _gap(pooled: np.ndarray, masks: np.ndarray, statistic: str) -> np.ndarray:
    """|statistic(second group) - statistic(first group)| per mask (rows) and measure."""
    if statistic == "median":
        return np.abs(_selected_medians(pooled[:, 0], ~masks)
                      - _selected_medians(pooled[:, 0], masks))[:, None]
    sums, counts = masks @ pooled, masks.sum(axis=1, keepdims=True)
    return np.abs((pooled.sum(axis=0) - sums) / (len(pooled) - counts) - sums / counts)


def permutation_test(before, after, resamples: int = RESAMPLES, seed: int = SEED,
                     statistic: str = "mean") -> np.ndarray:
    """Two-sided p-value per measure that both groups of visitors come from the same
    population: the visitors are pooled and split at random into groups of the same sizes,
    ``resamples`` times.  ``statistic``: "mean" or "median" (one measure).  NaN if a group is
    empty."""
    a, b = as_matrix(before), as_matrix(after)
    if len(a) == 0 or len(b) == 0:
        return np.full(a.shape[1], np.nan)
    if len(a) + len(b) >= LARGE and min(len(a), len(b)) >= SMALL:
        return _normal_test(a, b, statistic)
    pooled, first = np.vstack([a, b]), np.arange(len(a) + len(b)) < len(a)
    if statistic == "median":  # sorted once: medians of a selection by counting
        order = np.argsort(pooled[:, 0], kind="stable")
        pooled, first = pooled[order], first[order]
    observed = _gap(pooled, first[None], statistic)[0]
    rng, extreme = np.random.default_rng(seed), np.zeros(pooled.shape[1])
    for size in _chunks(resamples, len(pooled)):
        masks = _permuted_masks(rng, size, len(a), len(pooled))
        extreme += (_gap(pooled, masks, statistic) >= observed - 1e-12).sum(axis=0)
    return (1 + extreme) / (1 + resamples)


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment: a measure is clear at level a when its adjusted p < a,
    which keeps the chance of any false "clear" among all of them below a.  NaN stays NaN."""
    order = sorted((p, i) for i, p in enumerate(p_values) if p == p)
    adjusted, running = [float("nan")] * len(p_values), 0.0
    for rank, (p, i) in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p))
        adjusted[i] = running
    return adjusted
