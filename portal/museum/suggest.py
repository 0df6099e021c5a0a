"""What to see next (issue 21): suggestions for one opted-in visit from the organisation's own
aggregates.  Pure: no web framework, no database; plain numbers in, plain dicts out.

* **Exhibit profile** (:func:`exhibit_profile`): an exhibit's emotion shares over its visitors
  (each visitor weighing the same), its median dwell time and its number of visitors.  Its
  *character* is how its shares differ from the museum's average (:func:`character`): what this
  exhibit evokes more than the others.
* **Visitor profile** (:func:`taste`): for each exhibit the visitor saw, how *their* shares
  differed from that exhibit's average (what moved this visitor more than other visitors), plus,
  when they stayed longer than the exhibit's median visitor, that exhibit's character (they liked
  what it evokes).  Each exhibit counts by how sure its profile is (:func:`certainty`).
* **Score** of an unvisited exhibit: the cosine between the visitor's taste and the exhibit's
  character, times the exhibit's certainty.  **Diversity**: the three are picked by maximal
  marginal relevance (:func:`pick`), so that the second and third are not near-copies of the
  first.  **Fallback** (no readings yet, or no taste in any direction): the exhibits that hold
  visitors longest.  Every suggestion carries a reason in words, built from the numbers.

>>> happy = exhibit_profile(1, "Sunflowers", {"happy": 0.6, "neutral": 0.4}, 50, 20.0)
>>> sad = exhibit_profile(2, "The Scream", {"sad": 0.5, "neutral": 0.5}, 50, 15.0)
>>> joy = exhibit_profile(3, "Dance", {"happy": 0.7, "neutral": 0.3}, 40, 12.0)
>>> me = [Reading(1, {"happy": 0.9, "neutral": 0.1}, 40.0)]
>>> [s["exhibit_id"] for s in suggest([happy, sad, joy], me)]
[3, 2]
"""
from __future__ import annotations

import logging
import math
import statistics
from dataclasses import dataclass, field

from db import EMOTIONS  # the seven classes, fixed by the observations' columns
from portal.museum import analytics

log = logging.getLogger(__name__)

ADJECTIVE = {"angry": "angry", "disgust": "disgusted", "fear": "afraid", "happy": "happy",
             "sad": "sad", "surprise": "surprised", "neutral": "calm"}
PRIOR_VISITORS = 20  # certainty n / (n + PRIOR_VISITORS): 20 visitors make a profile half sure
DIVERSITY = 0.3  # weight of the similarity to suggestions already picked (MMR); 0: none
LINGER_WEIGHT = 0.5  # how much staying longer than most counts next to reacting more than most
TOP = 3
EPS = 1e-9


@dataclass(frozen=True)
class ExhibitProfile:
    exhibit_id: int
    name: str
    shares: dict  # emotion -> share of the visitors' faces (each visitor weighing the same)
    visitors: int
    dwell_s: float | None  # median seconds a visitor stayed; None: no tracked visitor
    location: str = ""


@dataclass(frozen=True)
class Reading:
    """One visit at one exhibit: the visitor's own shares and how long they stayed."""
    exhibit_id: int
    shares: dict
    dwell_s: float | None = None


@dataclass
class Taste:
    vector: list  # per emotion (EMOTIONS order)
    moved_at: dict = field(default_factory=dict)  # emotion -> (exhibit name, visitor share, average)
    lingered_at: list = field(default_factory=list)  # names of exhibits they stayed longer at


def exhibit_profile(exhibit_id: int, name: str, shares: dict, visitors: int,
                    dwell_s: float | None, location: str = "") -> ExhibitProfile:
    full = {e: float(shares.get(e, 0.0)) for e in EMOTIONS}
    return ExhibitProfile(exhibit_id, name, full, int(visitors), dwell_s, location)


def profile_from_rows(exhibit_id: int, name: str, rows: list[dict], location: str = "") -> ExhibitProfile:
    """An exhibit's profile from its observation rows (:func:`db.observations.observation_rows`)."""
    dwells = analytics.dwell_times(rows)
    return exhibit_profile(exhibit_id, name, analytics.emotion_shares(rows) if rows else {},
                           analytics.visitor_count(rows),
                           statistics.median(dwells) if dwells else None, location)


def reading_from_rows(exhibit_id: int, rows: list[dict]) -> Reading | None:
    """The visit's reading at one exhibit: its faces' shares (faces marked uncertain left out)
    and the longest stay; None when no face was read with confidence."""
    sure = [r for r in rows if not r.get("uncertain")]
    if not sure:
        return None
    dwells = analytics.dwell_times(sure)
    return Reading(exhibit_id, analytics.emotion_shares(sure), max(dwells) if dwells else None)


def certainty(visitors: int, prior: int = PRIOR_VISITORS) -> float:
    """How sure an exhibit's profile is: 0 with no visitor, 1/2 at ``prior`` visitors, -> 1."""
    return visitors / (visitors + prior) if visitors > 0 else 0.0


def museum_average(profiles: list[ExhibitProfile]) -> dict:
    """Each emotion's share over the exhibits, weighted by their visitors."""
    total = sum(p.visitors for p in profiles)
    if total <= 0:
        return {e: 0.0 for e in EMOTIONS}
    return {e: sum(p.shares[e] * p.visitors for p in profiles) / total for e in EMOTIONS}


def character(profile: ExhibitProfile, average: dict) -> list:
    """What the exhibit evokes more (+) or less (-) than the museum's average."""
    return [profile.shares[e] - average[e] for e in EMOTIONS]


def cosine(a: list, b: list) -> float:
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(x * x for x in b))
    if na < EPS or nb < EPS:
        return 0.0
    return sum(x * y for x, y in zip(a, b)) / (na * nb)


def _linger(reading: Reading, profile: ExhibitProfile) -> float:
    """log(visitor's dwell / median dwell), clipped to [-1, 1]; 0 when either is unknown."""
    if reading.dwell_s is None or not profile.dwell_s or profile.dwell_s <= 0:
        return 0.0
    return max(-1.0, min(1.0, math.log(max(reading.dwell_s, 0.5) / profile.dwell_s)))


def taste(readings: list[Reading], profiles: dict, average: dict) -> Taste:
    """The visitor's profile: the certainty-weighted sum over the exhibits they saw of (their
    shares - the exhibit's shares) + LINGER_WEIGHT * linger * the exhibit's character."""
    vector, out = [0.0] * len(EMOTIONS), Taste([0.0] * len(EMOTIONS))
    for r in readings:
        p = profiles.get(r.exhibit_id)
        if p is None:
            continue
        w, linger, char = certainty(p.visitors), _linger(r, p), character(p, average)
        for i, e in enumerate(EMOTIONS):
            diff = float(r.shares.get(e, 0.0)) - p.shares[e]
            vector[i] += w * (diff + LINGER_WEIGHT * linger * char[i])
            best = out.moved_at.get(e)
            if diff > 0.05 and (best is None or diff > best[1] - best[2]):
                out.moved_at[e] = (p.name, float(r.shares.get(e, 0.0)), p.shares[e])
        if linger > 0.2:
            out.lingered_at.append(p.name)
    out.vector = vector
    return out


def _percent(x: float) -> str:
    return f"{round(100 * x)}%"


def _reason(profile: ExhibitProfile, t: Taste, char: list, average: dict) -> str:
    """The emotion that adds most to the score, in words, with the numbers behind it."""
    i = max(range(len(EMOTIONS)), key=lambda k: t.vector[k] * char[k])
    e = EMOTIONS[i]
    here = (f"{_percent(profile.shares[e])} of the faces of its {profile.visitors} visitors look "
            f"{ADJECTIVE[e]} (museum average {_percent(average[e])})")
    if e in t.moved_at:
        name, yours, theirs = t.moved_at[e]
        return (f"You looked {ADJECTIVE[e]} more than most visitors at {name} "
                f"({_percent(yours)} against {_percent(theirs)}); here {here}.")
    if t.lingered_at:
        return f"Visitors who lingered where you did ({', '.join(t.lingered_at[:2])}) see similar things here: {here}."
    return f"Close to what moved you so far: {here}."


def pick(candidates: list[tuple[float, list, dict]], top: int = TOP,
         diversity: float = DIVERSITY) -> list[dict]:
    """Maximal marginal relevance over (score, character, item): each next pick maximises
    score - diversity * (its highest cosine with the exhibits already picked)."""
    left, chosen, chars = list(candidates), [], []
    while left and len(chosen) < top:
        def mmr(c):
            return c[0] - diversity * max((cosine(c[1], ch) for ch in chars), default=0.0)
        best = max(left, key=lambda c: (mmr(c), -c[2]["exhibit_id"]))
        left.remove(best)
        chosen.append(best[2])
        chars.append(best[1])
    return chosen


def _entry(p: ExhibitProfile, score: float, reason: str) -> dict:
    return {"exhibit_id": p.exhibit_id, "name": p.name, "location": p.location,
            "score": round(score, 4), "reason": reason}


def _longest_reason(p: ExhibitProfile) -> str:
    if p.dwell_s is None:
        return f"Not measured enough yet ({p.visitors} visitors): a chance to see something new."
    return (f"It holds visitors among the longest in the museum: its {p.visitors} visitors "
            f"stayed {p.dwell_s:.0f} s (median).")


def longest_first(profiles: list[ExhibitProfile], top: int = TOP) -> list[dict]:
    """The fallback: the exhibits that hold visitors longest (median dwell, then most visitors);
    those without a measured dwell time last."""
    ranked = sorted(profiles, key=lambda p: (p.dwell_s is None, -(p.dwell_s or 0.0),
                                             -p.visitors, p.exhibit_id))
    return [_entry(p, 0.0, _longest_reason(p)) for p in ranked[:top]]


def suggest(profiles: list[ExhibitProfile], readings: list[Reading], top: int = TOP,
            min_visitors: int = 1) -> list[dict]:
    """At most ``top`` exhibits of ``profiles`` (the visit's organisation's, and only those)
    that have no reading, each ``{"exhibit_id", "name", "location", "score", "reason"}``.
    Profiles over fewer than ``min_visitors`` visitors describe nothing (their numbers are
    hidden) and only fill up the list."""
    visited = {r.exhibit_id for r in readings}
    known = [p for p in profiles if p.visitors >= min_visitors]
    average = museum_average(known)
    t = taste(readings, {p.exhibit_id: p for p in known}, average)
    unvisited = [p for p in profiles if p.exhibit_id not in visited]
    if not any(abs(x) > EPS for x in t.vector):
        return longest_first(unvisited, top)
    scored = []
    for p in (q for q in unvisited if q.visitors >= min_visitors):
        char = character(p, average)
        scored.append((cosine(t.vector, char) * certainty(p.visitors), char, p))
    chosen = pick([(s, c, {"exhibit_id": p.exhibit_id, "p": p, "s": s, "c": c})
                   for s, c, p in scored], top)
    out = [_entry(x["p"], x["s"], _reason(x["p"], t, x["c"], average) if x["s"] > 0
                  else _longest_reason(x["p"])) for x in chosen]
    taken = {x["exhibit_id"] for x in out}
    filler = longest_first([p for p in unvisited if p.exhibit_id not in taken], top - len(out))
    log.debug("suggestions: %d scored, %d visited", len(scored), len(visited))
    return out + filler
