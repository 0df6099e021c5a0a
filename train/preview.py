"""A grid of original vs augmented faces, with labels, for a person to look at."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .augment import AugmentConfig, augment
from .cache import load_faces
from .data import CLASS_LABELS


def write_preview(path: str | Path, out: Path, n: int = 8, seed: int = 0, aug: AugmentConfig | None = None,
                  variants: int = 3) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    faces = load_faces(path, progress=False)
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(faces), size=min(n, len(faces)), replace=False))
    originals = torch.from_numpy(faces.images[idx])
    gen = torch.Generator().manual_seed(seed)
    augmented = [augment(originals, aug or AugmentConfig(), gen).squeeze(1).numpy() for _ in range(variants)]
    fig, axes = plt.subplots(len(idx), 1 + variants, figsize=(1.6 * (1 + variants), 1.7 * len(idx)))
    axes = np.atleast_2d(axes)
    for r, i in enumerate(idx):
        label = CLASS_LABELS[faces.labels[i]] if faces.labels[i] >= 0 else "unlabelled"
        axes[r, 0].imshow(faces.images[i], cmap="gray", vmin=0, vmax=255)
        axes[r, 0].set_title(f"{label}\n{faces.where(i)}", fontsize=7)
        for v in range(variants):
            axes[r, 1 + v].imshow(augmented[v][r], cmap="gray", vmin=0, vmax=1)
            if r == 0:
                axes[r, 1 + v].set_title(f"augmented {v + 1}", fontsize=7)
        for ax in axes[r]:
            ax.axis("off")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
