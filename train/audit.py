"""Data audit: class counts per split and data-quality findings with row numbers."""
from __future__ import annotations

import logging
from collections import defaultdict

import numpy as np

from .data import CLASS_LABELS, FaceSet
from .splits import image_hashes, split_indices

log = logging.getLogger(__name__)

BLANK_STD = 3.0  # grey-level standard deviation below which an image carries no face


def audit(faces: FaceSet, splits: dict[str, np.ndarray] | None = None) -> dict:
    """Findings as a JSON-ready dict. Rows are given as source line numbers."""
    splits = splits or split_indices(faces)
    where = faces.lines if faces.refs is None else np.arange(len(faces))
    split_of = np.empty(len(faces), dtype=object)
    for name, idx in splits.items():
        split_of[idx] = name

    counts = {}
    for name, idx in splits.items():
        if faces.has_labels:
            c = np.bincount(faces.labels[idx], minlength=len(CLASS_LABELS))
            counts[name] = {label: int(n) for label, n in zip(CLASS_LABELS, c)}
        else:
            counts[name] = {"unlabelled": int(len(idx))}

    std = faces.images.reshape(len(faces), -1).astype(np.float32).std(axis=1)
    blank_idx = np.flatnonzero(std < BLANK_STD)
    blank = [{"line": int(where[i]), "split": split_of[i], "std": round(float(std[i]), 2),
              "mean": round(float(faces.images[i].mean()), 1),
              "label": CLASS_LABELS[faces.labels[i]] if faces.labels[i] >= 0 else None} for i in blank_idx]

    groups = defaultdict(list)
    for i, h in enumerate(image_hashes(faces.images)):
        groups[h].append(i)
    within, across = [], []
    for members in groups.values():
        if len(members) < 2:
            continue
        if std[members[0]] < BLANK_STD:
            continue  # blank images are reported once, as blank
        entry = {
            "lines": [int(where[i]) for i in members],
            "splits": sorted({split_of[i] for i in members}),
            "labels": [CLASS_LABELS[faces.labels[i]] if faces.labels[i] >= 0 else None for i in members],
        }
        entry["conflicting_labels"] = len(set(entry["labels"])) > 1
        (across if len(entry["splits"]) > 1 else within).append(entry)

    def extra_copies(entries):
        return int(sum(len(e["lines"]) - 1 for e in entries))

    report = {
        "source": faces.source,
        "n": len(faces),
        "skipped_invalid": [{"line": l, "reason": r} for l, r in faces.skipped],
        "class_counts": counts,
        "blank_threshold_std": BLANK_STD,
        "blank_images": blank,
        "duplicates_within_split": within,
        "duplicates_across_splits": across,
        "summary": {
            "blank": len(blank),
            "duplicate_groups_within_split": len(within),
            "duplicate_extra_copies_within_split": extra_copies(within),
            "duplicate_groups_across_splits": len(across),
            "duplicate_groups_with_conflicting_labels": sum(e["conflicting_labels"] for e in within + across),
        },
    }
    return report


def format_report(rep: dict, max_rows: int = 10) -> str:
    lines = [f"Source: {rep['source']}  ({rep['n']} images)"]
    if rep["skipped_invalid"]:
        lines.append(f"Skipped invalid rows: {len(rep['skipped_invalid'])} "
                     f"(lines {', '.join(str(s['line']) for s in rep['skipped_invalid'][:max_rows])})")
    names = list(rep["class_counts"])
    classes = list(next(iter(rep["class_counts"].values())))
    lines.append("")
    lines.append(f"{'class':<10}" + "".join(f"{n:>13}" for n in names))
    for c in classes:
        lines.append(f"{c:<10}" + "".join(f"{rep['class_counts'][n][c]:>13,}" for n in names))
    lines.append(f"{'total':<10}" + "".join(f"{sum(rep['class_counts'][n].values()):>13,}" for n in names))
    s = rep["summary"]
    lines.append("")
    lines.append(f"Near-blank images (pixel std < {rep['blank_threshold_std']}): {s['blank']}")
    for b in rep["blank_images"][:max_rows]:
        lines.append(f"  line {b['line']:>6}  {b['split']:<11} {b['label'] or '':<9} mean {b['mean']:>5}  std {b['std']}")
    if s["blank"] > max_rows:
        lines.append(f"  ... {s['blank'] - max_rows} more in the JSON report")
    lines.append(f"Exact duplicates within a split: {s['duplicate_groups_within_split']} groups "
                 f"({s['duplicate_extra_copies_within_split']} extra copies)")
    for d in rep["duplicates_within_split"][:max_rows]:
        flag = "  CONFLICTING LABELS" if d["conflicting_labels"] else ""
        lines.append(f"  lines {d['lines']}  {d['splits'][0]}  {d['labels']}{flag}")
    lines.append(f"Exact duplicates across splits: {s['duplicate_groups_across_splits']} groups")
    for d in rep["duplicates_across_splits"][:max_rows]:
        flag = "  CONFLICTING LABELS" if d["conflicting_labels"] else ""
        lines.append(f"  lines {d['lines']}  {d['splits']}  {d['labels']}{flag}")
    lines.append(f"Duplicate groups with conflicting labels: {s['duplicate_groups_with_conflicting_labels']}")
    return "\n".join(lines)
