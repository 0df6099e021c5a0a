"""Train / validation / test splits: by Usage when the source has it, else stratified and seeded."""
from __future__ import annotations

import hashlib

import numpy as np

from .data import USAGES, DataError, FaceSet

TRAIN, VAL, TEST = "Training", "PublicTest", "PrivateTest"


def image_hashes(images: np.ndarray) -> np.ndarray:
    """A content hash per image (exact duplicates share it)."""
    flat = images.reshape(len(images), -1)
    return np.array([hashlib.blake2b(row.tobytes(), digest_size=12).hexdigest() for row in flat])


def split_indices(faces: FaceSet, val_fraction: float = 0.1, test_fraction: float = 0.1,
                  seed: int = 0) -> dict[str, np.ndarray]:
    """Indices per split name (Training / PublicTest / PrivateTest).

    With a Usage column the file's own split is used. Otherwise a stratified split
    by label with a fixed seed, where identical images are kept together so no
    image ends up in two splits.
    """
    if faces.has_usage:
        return {name: np.flatnonzero(faces.usage == i) for i, name in enumerate(USAGES)
                if (faces.usage == i).any()}
    if not faces.has_labels:
        raise DataError(f"{faces.source}: no labels, so it cannot be split for training (use it for prediction)")
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise DataError(f"val_fraction ({val_fraction}) and test_fraction ({test_fraction}) must be in [0, 1) "
                        "and sum to less than 1")
    rng = np.random.default_rng(seed)
    _, group = np.unique(image_hashes(faces.images), return_inverse=True)
    first = np.full(group.max() + 1, -1)
    for i in range(len(group) - 1, -1, -1):
        first[group[i]] = i
    group_label = faces.labels[first]
    assign = np.empty(len(first), dtype=np.int8)
    for label in np.unique(group_label):
        gids = rng.permutation(np.flatnonzero(group_label == label))
        n_val = int(round(len(gids) * val_fraction))
        n_test = int(round(len(gids) * test_fraction))
        assign[gids[:n_test]] = 2
        assign[gids[n_test:n_test + n_val]] = 1
        assign[gids[n_test + n_val:]] = 0
    per_image = assign[group]
    out = {TRAIN: np.flatnonzero(per_image == 0), VAL: np.flatnonzero(per_image == 1)}
    if test_fraction > 0:
        out[TEST] = np.flatnonzero(per_image == 2)
    return out
