"""(x, y, w, h) boxes: overlap measures and greedy IoU matching, used by detection (NMS), tracking,
drawing (label placement) and the detector evaluation."""
from __future__ import annotations

from collections.abc import Sequence

Box = Sequence[float]  # x, y, w, h


def intersection(a: Box, b: Box) -> float:
    iw = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return iw * ih


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    inter = intersection(a, b)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def fraction_inside(a: Box, b: Box) -> float:
    """Fraction of box a's area inside box b."""
    return intersection(a, b) / max(a[2] * a[3], 1e-9)


def overlaps(a: Box, b: Box) -> bool:
    """The boxes share some area (touching edges do not count)."""
    return intersection(a, b) > 0


def greedy_match(first: Sequence[Box], second: Sequence[Box], threshold: float) -> dict[int, int]:
    """Pairs ``{index in first: index in second}``, best IoU first, each box used once, IoU >= ``threshold``."""
    pairs = sorted(((iou(a, b), i, j) for i, a in enumerate(first) for j, b in enumerate(second)), reverse=True)
    matched: dict[int, int] = {}
    used: set[int] = set()
    for value, i, j in pairs:
        if value < threshold:
            break
        if i in matched or j in used:
            continue
        matched[i] = j
        used.add(j)
    return matched
