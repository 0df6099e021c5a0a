"""FER+ (Barsoum et al. 2016): 10 annotators' votes for each FER2013 face, read and validated.

File layout (``../shared/data/ferplus/ferplus_votes.csv.gz``): header
``row,usage,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF``; ``row`` is the 0-based
index of the data row in fer2013.csv (header excluded), then the vote counts.

How the 10 columns become a 7-class target (FER2013's class order):
- the seven emotions map to FER2013's ids (anger 0, disgust 1, fear 2, happiness 3, sadness 4, surprise 5, neutral 6);
- ``contempt`` has no FER2013 class and ``unknown`` says nothing about the emotion: both are left out of the
  distribution (which is renormalised over the seven emotions);
- a face whose largest count is ``NF`` (not a face), or with no emotion votes at all, leaves training and the
  FER+ metrics;
- the *majority* label is the emotion with the most votes when it is unique (ties have no majority and are
  left out of majority accuracy, but still count for the vote-share and cross-entropy metrics).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from realtime.research.fercsv import open_text

from .data import DataError

log = logging.getLogger(__name__)

VOTE_COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF")
HEADER = ("row", "usage") + VOTE_COLUMNS
# FER+ column index -> FER2013 class id (contempt, unknown and NF have none)
TO_FER = {0: 6, 1: 3, 2: 5, 3: 4, 4: 0, 5: 1, 6: 2}
USAGE_NAMES = ("Training", "PublicTest", "PrivateTest")
MAX_VOTES = 20  # 10 annotators in the release; a count above this is a corrupt file, not a vote


def default_path() -> Path:
    from realtime.paths import fer2013_csv
    return fer2013_csv().parent.parent / "ferplus" / "ferplus_votes.csv.gz"


@dataclass
class Votes:
    """Vote counts aligned with the rows of fer2013.csv."""

    counts: np.ndarray  # (n_rows, 10) int16 in the file's column order; -1 where the row has no FER+ entry
    source: str = ""

    @property
    def present(self) -> np.ndarray:
        return self.counts[:, 0] >= 0

    def emotion_counts(self) -> np.ndarray:
        """(n, 7) counts in FER2013's class order (contempt, unknown, NF dropped)."""
        out = np.zeros((len(self.counts), 7), dtype=np.float32)
        for col, cls in TO_FER.items():
            out[:, cls] = np.clip(self.counts[:, col], 0, None)
        return out

    def usable(self) -> np.ndarray:
        """Rows that carry a 7-class target: present, not mostly 'not a face', at least one emotion vote."""
        c = self.counts
        nf_majority = c[:, 9] >= c[:, :9].max(axis=1)
        return self.present & ~(nf_majority & (c[:, 9] > 0)) & (self.emotion_counts().sum(axis=1) > 0)

    def distribution(self) -> np.ndarray:
        """(n, 7) vote shares over the seven emotions; zeros where not usable."""
        e = self.emotion_counts()
        total = e.sum(axis=1, keepdims=True)
        return np.where(total > 0, e / np.maximum(total, 1), 0.0).astype(np.float32)

    def majority(self) -> np.ndarray:
        """(n,) FER2013 class id of the unique most-voted emotion, -1 for ties or unusable rows."""
        e = self.emotion_counts()
        top = e.max(axis=1, keepdims=True)
        unique = (e == top).sum(axis=1) == 1
        out = np.where(unique & self.usable(), e.argmax(axis=1), -1)
        return out.astype(np.int64)


def read_votes(path: str | Path, n_rows: int) -> Votes:
    """Parse and validate the votes file for a fer2013.csv of ``n_rows`` data rows.

    Errors name the file, the line and the field: a wrong header, a row index outside 0..n_rows-1 or repeated,
    an unknown usage, a vote count that is not a whole number in 0..20.
    """
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise DataError(f"{name}: file not found (FER+ votes; see ../shared/README.md)")
    counts = np.full((n_rows, len(VOTE_COLUMNS)), -1, dtype=np.int16)
    with open_text(path) as fh:
        header = fh.readline().strip().split(",")
        missing = [c for c in HEADER if c not in header]
        if missing:
            raise DataError(f"{name}, line 1: missing column(s) {', '.join(missing)}; expected {','.join(HEADER)}")
        cols = [header.index(c) for c in HEADER]
        for line_no, line in enumerate(fh, start=2):
            if not line.strip():
                continue
            _parse_line(line, line_no, name, cols, header, counts, n_rows)
    log.info("%s: votes for %d of %d rows", name, int((counts[:, 0] >= 0).sum()), n_rows)
    return Votes(counts, name)


def _parse_line(line, line_no, name, cols, header, counts, n_rows) -> None:
    fields = line.rstrip("\r\n").split(",")
    if len(fields) != len(header):
        raise DataError(f"{name}, line {line_no}: {len(fields)} fields, expected {len(header)}")
    values = [fields[i].strip() for i in cols]
    where = f"{name}, line {line_no}"
    try:
        row = int(values[0])
    except ValueError:
        raise DataError(f"{where}, field 'row': {values[0]!r} is not a row number") from None
    if not 0 <= row < n_rows:
        raise DataError(f"{where}, field 'row': {row} is past the end of fer2013.csv (rows 0..{n_rows - 1})")
    if counts[row, 0] >= 0:
        raise DataError(f"{where}, field 'row': row {row} appears twice")
    if values[1] not in USAGE_NAMES:
        raise DataError(f"{where}, field 'usage': {values[1]!r} is not one of {', '.join(USAGE_NAMES)}")
    for col, text in zip(VOTE_COLUMNS, values[2:]):
        if not text.isdigit() or int(text) > MAX_VOTES:
            raise DataError(f"{where}, field {col!r}: {text!r} is not a vote count (a whole number 0..{MAX_VOTES})")
    counts[row] = [int(v) for v in values[2:]]


def audit_votes(votes: Votes, usage: np.ndarray | None = None) -> dict:
    """Counts for the audit: rows with votes, usable, 'not a face', ties, majority per class, agreement with labels."""
    from .data import CLASSES
    usable, maj = votes.usable(), votes.majority()
    out = {"rows": int(len(votes.counts)), "with_votes": int(votes.present.sum()), "usable": int(usable.sum()),
           "not_a_face": int((votes.present & ~usable).sum()), "no_majority": int((usable & (maj < 0)).sum()),
           "majority_per_class": {c: int((maj == i).sum()) for i, c in enumerate(CLASSES)},
           "contempt_votes": int(np.clip(votes.counts[:, 7], 0, None).sum()),
           "unknown_votes": int(np.clip(votes.counts[:, 8], 0, None).sum())}
    return out


def metrics(probs: np.ndarray, votes_dist: np.ndarray, majority: np.ndarray) -> dict:
    """FER+ numbers for predicted probabilities over rows with a usable vote distribution.

    - ``ferplus_accuracy``: accuracy against the annotators' majority (rows with a unique majority);
    - ``annotator_agreement``: mean share of annotators who chose the model's answer;
    - ``vote_cross_entropy``: cross-entropy from the vote distribution to the model's probabilities (nats).
    """
    has = votes_dist.sum(axis=1) > 0
    pred = probs.argmax(axis=1)
    clear = majority >= 0
    p = np.clip(probs[has], 1e-7, 1.0)
    return {"ferplus_accuracy": float((pred[clear] == majority[clear]).mean()) if clear.any() else float("nan"),
            "ferplus_n": int(clear.sum()),
            "annotator_agreement": float(votes_dist[has, pred[has]].mean()) if has.any() else float("nan"),
            "vote_cross_entropy": float(-(votes_dist[has] * np.log(p)).sum(axis=1).mean()) if has.any() else float("nan"),
            "votes_n": int(has.sum())}
