"""When a face's answer is doubtful: one rule, used by every place that shows a result.

The rule travels with the model (the optional ``uncertainty`` block of its metadata JSON,
parsed and checked by :mod:`realtime.contract`; without it :data:`contract.DEFAULT_UNCERTAINTY`)::

    rule = classifier.contract.uncertainty_rule       # or rule_of(metadata_dict)
    is_uncertain({"fear": 0.35, "neutral": 0.30, ...}, rule)   # True: the top answer is below the threshold
    leading_two(probs)                                 # [("fear", 0.35), ("neutral", 0.30)]
    label_for(probs, rule)                             # "uncertain: fear 35% / neutral 30%" (else "happy 87%")

The engine marks each face (``Face.uncertain``, ``"uncertain"`` in its JSON); the overlay, the
portal's tables, PDF, CSV and the museum aggregates read that mark, never re-deciding it.
"""
from __future__ import annotations

from typing import Mapping

from .contract import DEFAULT_UNCERTAINTY, UncertaintyRule, parse_uncertainty

#: the word every display uses for a doubtful face
UNCERTAIN = "uncertain"

#: what the probability bars mean, shown where users read them (upload and live pages, PDF footnote).
#: One constant, so the wording follows the model (the FER+ vote-trained default model).
PROBABILITY_NOTE = ("Probabilities are calibrated to human annotators: 62% happy means about "
                    "62 of 100 people would call this face happy.")


def rule_of(metadata: Mapping | None) -> UncertaintyRule:
    """The rule of a model from its metadata dict (``EmotionClassifier.metadata``)."""
    return parse_uncertainty((metadata or {}).get("uncertainty"), "model metadata")


def leading_two(probs: Mapping[str, float]) -> list[tuple[str, float]]:
    """The two most probable classes, most probable first (ties keep the model's class order)."""
    ranked = sorted(probs.items(), key=lambda kv: -float(kv[1]))
    return [(name, float(p)) for name, p in ranked[:2]]


def is_uncertain(probs: Mapping[str, float], rule: UncertaintyRule | None = None) -> bool:
    """Whether the answer for a face with these probabilities is doubtful under ``rule``."""
    rule = rule or DEFAULT_UNCERTAINTY
    if not probs:
        return False
    if rule.rule == "top_probability_below":
        return max(float(p) for p in probs.values()) < rule.threshold
    raise ValueError(f"unknown uncertainty rule {rule.rule!r}")


def label_for(probs: Mapping[str, float], rule: UncertaintyRule | None = None,
              uncertain: bool | None = None) -> str:
    """``"happy 87%"``, or ``"uncertain: fear 35% / neutral 30%"`` for a doubtful face.
    ``uncertain``: the mark already decided (a stored result); None: decide it with ``rule``."""
    if uncertain is None:
        uncertain = is_uncertain(probs, rule)
    top = leading_two(probs)
    if not top:
        return ""
    if not uncertain:
        return f"{top[0][0]} {100 * top[0][1]:.0f}%"
    return f"{UNCERTAIN}: " + " / ".join(f"{name} {100 * p:.0f}%" for name, p in top)


def uncertain_note(threshold: float | None = None) -> str:
    """One line saying what "uncertain" means, for the pages and the PDF."""
    threshold = DEFAULT_UNCERTAINTY.threshold if threshold is None else float(threshold)
    return (f"\"Uncertain\" means no emotion reached {100 * threshold:.0f}%: the face is shown with its two "
            "most likely emotions instead of one answer, and museum statistics count it apart.")
