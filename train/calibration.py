"""Do the probabilities mean "how many people would agree"? Reliability against the FER+ vote shares, temperature
scaling, and the "uncertain" threshold chosen on PublicTest (coverage against accuracy on the kept faces).

All functions are plain numpy over arrays: ``probs`` (n, 7) model probabilities, ``dist`` (n, 7) the annotators'
vote shares, ``majority`` (n,) the unique majority class or -1.

>>> import numpy as np
>>> p = np.array([[0.7, 0.3], [0.6, 0.4]]); d = np.array([[0.7, 0.3], [0.6, 0.4]])
>>> round(reliability(p, d, bins=5)["ece"], 6)
0.0
"""
from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


def reliability(probs: np.ndarray, dist: np.ndarray, bins: int = 10) -> dict:
    """Top-1 reliability: the model's probability for its answer against the share of annotators who gave that
    answer, in equal-width bins; ECE = the count-weighted mean gap |probability - vote share|."""
    has = dist.sum(axis=1) > 0
    probs, dist = probs[has], dist[has]
    pred = probs.argmax(axis=1)
    conf = probs[np.arange(len(pred)), pred]
    share = dist[np.arange(len(pred)), pred]
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        m = which == b
        if not m.any():
            continue
        gap = abs(conf[m].mean() - share[m].mean())
        ece += m.mean() * gap
        rows.append({"low": float(edges[b]), "high": float(edges[b + 1]), "n": int(m.sum()),
                     "probability": float(conf[m].mean()), "vote_share": float(share[m].mean())})
    return {"ece": float(ece), "bins": rows, "n": int(len(pred))}


def with_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T): the same as dividing the network's logits by T before its softmax."""
    z = np.log(np.clip(probs, 1e-12, 1.0)) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def vote_cross_entropy(probs: np.ndarray, dist: np.ndarray) -> float:
    has = dist.sum(axis=1) > 0
    return float(-(dist[has] * np.log(np.clip(probs[has], 1e-12, 1.0))).sum(axis=1).mean())


def fit_temperature(probs: np.ndarray, dist: np.ndarray, grid=np.arange(0.5, 3.001, 0.01)) -> float:
    """The T that minimises the cross-entropy to the vote distribution (grid search; one parameter)."""
    losses = [vote_cross_entropy(with_temperature(probs, t), dist) for t in grid]
    return float(grid[int(np.argmin(losses))])


def coverage_curve(probs: np.ndarray, majority: np.ndarray, thresholds=np.arange(0.20, 0.951, 0.05)) -> list[dict]:
    """For each threshold on the top probability: the share of faces kept (not uncertain), the accuracy against
    the annotators' majority on the kept faces and on the faces called uncertain."""
    clear = majority >= 0
    top = probs[clear].max(axis=1)
    correct = probs[clear].argmax(axis=1) == majority[clear]
    rows = []
    for t in thresholds:
        kept = top >= t
        rows.append({"threshold": round(float(t), 3), "coverage": float(kept.mean()),
                     "accuracy_kept": float(correct[kept].mean()) if kept.any() else float("nan"),
                     "accuracy_uncertain": float(correct[~kept].mean()) if (~kept).any() else float("nan")})
    return rows


def choose_threshold(curve: list[dict], max_uncertain_accuracy: float = 0.5) -> dict:
    """The rule: a face is uncertain when its top probability is below the largest threshold at which the faces
    *below* it are answered right no more often than ``max_uncertain_accuracy`` (a coin flip against the
    annotators' majority): below that point the model's answer is more likely wrong than right."""
    ok = [r for r in curve if r["accuracy_uncertain"] == r["accuracy_uncertain"]
          and r["accuracy_uncertain"] <= max_uncertain_accuracy]
    return max(ok, key=lambda r: r["threshold"]) if ok else curve[0]


def plot(rel_before: dict, rel_after: dict | None, curve: list[dict], chosen: dict, out) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    a.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect")
    for rel, name in ((rel_before, "as trained"), (rel_after, "temperature-scaled")):
        if rel:
            a.plot([r["probability"] for r in rel["bins"]], [r["vote_share"] for r in rel["bins"]], "o-",
                   label=f"{name} (ECE {rel['ece']:.3f})")
    a.set_xlabel("model's probability for its answer"); a.set_ylabel("share of annotators giving that answer")
    a.set_title("Reliability against 10 annotators (PublicTest)"); a.legend(); a.grid(alpha=.3)
    b.plot([r["coverage"] for r in curve], [r["accuracy_kept"] for r in curve], "o-")
    b.scatter([chosen["coverage"]], [chosen["accuracy_kept"]], color="red", zorder=3,
              label=f"chosen: top probability < {chosen['threshold']:.2f} is uncertain")
    b.set_xlabel("coverage (share of faces not uncertain)"); b.set_ylabel("accuracy on kept faces (FER+ majority)")
    b.set_title("Coverage against accuracy (PublicTest)"); b.legend(); b.grid(alpha=.3)
    fig.tight_layout(); fig.savefig(out, dpi=100); plt.close(fig)
