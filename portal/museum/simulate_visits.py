"""Evaluation of the visit recommender with known answers (issue 21), on a simulated museum.

    .venv/bin/python -m portal.museum.simulate_visits            # the table in docs/visits.md
    .venv/bin/python -m portal.museum.simulate_visits --visitors 300 --seed 2

The museum: ``EXHIBITS`` exhibits, each evoking one emotion (happy, sad, surprise, fear, angry,
disgust; the rest of the faces neutral) with a strength, and each with a general appeal that
makes it popular.  A visitor has a built-in preference for one emotion; how much they like an
exhibit (their *affinity*) is how strongly it evokes that emotion, plus its appeal, plus a taste
of their own.  Where they like an exhibit they show its emotion more and stay longer; every
reading is noisy (a few frames of a classifier, dwell times that vary).

``BACKGROUND`` visitors walk through first and make the exhibits' aggregate profiles (the
organisation's numbers, what the recommender sees).  Then each test visitor sees ``k`` exhibits
(popular ones more often); the answer is the unvisited exhibit they would like most.  A hit:
the top 3 suggestions contain it.  Baselines: 3 random unvisited exhibits, the 3 most visited
unvisited ones, and the recommender's own fallback (the longest median dwell).

These are synthetic visitors who behave as the model assumes: the numbers show that the method
finds a preference that is there, not that real visitors have one.  Real opted-in visits (the
organisation's "suggested, then visited" page) are needed to measure it for real.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
from dataclasses import dataclass

import numpy as np

from portal.museum import suggest

log = logging.getLogger(__name__)

EXHIBITS = 20
BACKGROUND = 1500  # visitors who make the profiles
VISITORS = 400  # test visitors per museum and row of the table
MUSEUMS = 5  # museums simulated (a fixed top 3 of a baseline depends on the museum)
SEED = 21
EVOKED = ("happy", "sad", "surprise", "fear", "angry", "disgust")
FRAMES = 15  # frames per reading: shares are counts out of this many
GAIN = 0.6  # how much more of their emotion a visitor shows where they like an exhibit


@dataclass
class Museum:
    evoked: np.ndarray  # exhibits x EMOTIONS: the share of faces an average visitor shows
    appeal: np.ndarray  # general appeal (everyone likes it a bit more)
    dwell_s: np.ndarray  # median seconds of a visitor who is neither drawn nor put off
    popularity: np.ndarray  # chance that a visitor stops at it


def build_museum(rng: np.random.Generator, n: int = EXHIBITS) -> Museum:
    evoked = np.zeros((n, len(suggest.EMOTIONS)))
    for x in range(n):
        strength = rng.uniform(0.25, 0.7)
        evoked[x, suggest.EMOTIONS.index(EVOKED[x % len(EVOKED)])] = strength
        evoked[x, suggest.EMOTIONS.index("neutral")] = 1.0 - strength
    appeal = rng.normal(0.0, 0.15, n)
    popularity = np.exp(3.0 * appeal)
    return Museum(evoked, appeal, rng.uniform(10.0, 40.0, n), popularity / popularity.sum())


def new_visitor(rng: np.random.Generator, museum: Museum) -> tuple[int, np.ndarray]:
    """(index of the preferred emotion, affinity for each exhibit)."""
    e = suggest.EMOTIONS.index(EVOKED[rng.integers(len(EVOKED))])
    affinity = museum.evoked[:, e] + museum.appeal + rng.normal(0.0, 0.1, len(museum.appeal))
    return e, affinity


def reading(rng: np.random.Generator, museum: Museum, x: int, e: int, affinity: float) -> suggest.Reading:
    """One visitor at exhibit ``x``: shares counted over FRAMES noisy frames, and a dwell time."""
    p = museum.evoked[x].copy()
    p[e] += GAIN * max(affinity, 0.0)
    counts = rng.multinomial(FRAMES, p / p.sum())
    dwell = museum.dwell_s[x] * float(np.exp(1.5 * (affinity - 0.3) + rng.normal(0.0, 0.4)))
    return suggest.Reading(x, dict(zip(suggest.EMOTIONS, (counts / FRAMES).tolist())), dwell)


def walk(rng: np.random.Generator, museum: Museum, k: int) -> tuple[np.ndarray, list[suggest.Reading]]:
    """A visitor who sees ``k`` exhibits (popular ones more often): their affinity and readings."""
    e, affinity = new_visitor(rng, museum)
    seen = rng.choice(len(affinity), size=k, replace=False, p=museum.popularity) if k else []
    return affinity, [reading(rng, museum, int(x), e, float(affinity[x])) for x in seen]


def profiles(rng: np.random.Generator, museum: Museum, background: int = BACKGROUND) -> list:
    """The organisation's aggregates: each exhibit's shares, visitors and median dwell."""
    seen: dict[int, list[suggest.Reading]] = {x: [] for x in range(len(museum.appeal))}
    for _ in range(background):
        for r in walk(rng, museum, int(rng.integers(3, 9)))[1]:
            seen[r.exhibit_id].append(r)
    out = []
    for x, rs in seen.items():
        shares = {e: float(np.mean([r.shares[e] for r in rs])) if rs else 0.0 for e in suggest.EMOTIONS}
        dwell = statistics.median(r.dwell_s for r in rs) if rs else None
        out.append(suggest.exhibit_profile(x, f"Exhibit {x}", shares, len(rs), dwell))
    return out


METHODS = ("suggestions", "random", "most visited", "longest dwell")


def _top3(method: str, rng, profs: list, readings: list, unvisited: list[int]) -> list[int]:
    if method == "suggestions":
        return [s["exhibit_id"] for s in suggest.suggest(profs, readings, top=3)]
    if method == "random":
        return [int(x) for x in rng.choice(unvisited, size=min(3, len(unvisited)), replace=False)]
    left = [p for p in profs if p.exhibit_id in set(unvisited)]
    if method == "longest dwell":
        return [s["exhibit_id"] for s in suggest.longest_first(left, 3)]
    return [p.exhibit_id for p in sorted(left, key=lambda p: (-p.visitors, p.exhibit_id))[:3]]


def evaluate(k: int, museum: Museum, profs: list, visitors: int, seed: int) -> dict:
    """Top-3 hit rate of each method for visitors who saw ``k`` exhibits."""
    rng = np.random.default_rng([seed, k])
    hits = dict.fromkeys(METHODS, 0)
    for _ in range(visitors):
        affinity, readings = walk(rng, museum, k)
        seen = {r.exhibit_id for r in readings}
        unvisited = [x for x in range(len(affinity)) if x not in seen]
        best = max(unvisited, key=lambda x: affinity[x])
        for method in METHODS:
            hits[method] += best in _top3(method, rng, profs, readings, unvisited)
    return {m: hits[m] / visitors for m in METHODS}


def run(visitors: int = VISITORS, seed: int = SEED, museums: int = MUSEUMS,
        ks=(0, 1, 2, 4, 6)) -> list[dict]:
    """Hit rates per ``k``, averaged over ``museums`` simulated museums (seeds seed, seed+1, ...)."""
    totals = {k: dict.fromkeys(METHODS, 0.0) for k in ks}
    for m in range(museums):
        rng = np.random.default_rng(seed + m)
        museum = build_museum(rng)
        profs = profiles(rng, museum)
        for k in ks:
            for method, rate in evaluate(k, museum, profs, visitors, seed + m).items():
                totals[k][method] += rate / museums
    return [dict(k=k, **totals[k]) for k in ks]


def markdown(rows: list[dict], visitors: int, seed: int, museums: int) -> str:
    head = "| exhibits seen | " + " | ".join(METHODS) + " |"
    lines = [head, "|" + "---|" * (len(METHODS) + 1)]
    for r in rows:
        lines.append(f"| {r['k']} | " + " | ".join(f"{100 * r[m]:.1f}%" for m in METHODS) + " |")
    lines.append(f"\n{museums} museums of {EXHIBITS} exhibits, {BACKGROUND} background visitors "
                 f"each, {visitors} test visitors per museum and row, seeds {seed}..{seed + museums - 1}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=VISITORS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--museums", type=int, default=MUSEUMS)
    args = parser.parse_args(argv)
    rows = run(args.visitors, args.seed, args.museums)
    sys.stdout.write(markdown(rows, args.visitors, args.seed, args.museums) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
