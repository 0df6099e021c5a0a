"""Test-time augmentation on torch batches: the views of :mod:`realtime.contract` (one definition,
shared with the app's classifier), cut from a (N,1,H,W) tensor."""
from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F

from realtime import contract


def iter_views(x: torch.Tensor, views: list[contract.View]) -> Iterator[torch.Tensor]:
    """Each view of the batch ``x``: shifted with the border replicated, mirrored when the view says so."""
    pad = contract.view_pad(views)
    padded = F.pad(x, (pad, pad, pad, pad), mode="replicate") if pad else x
    h, w = x.shape[-2:]
    for view in views:
        rows, cols = contract.view_window(view, pad, h, w)
        cut = padded[..., rows, cols]
        yield torch.flip(cut, dims=[-1]) if view.mirrored else cut


def mean_softmax(model, x: torch.Tensor, views: list[contract.View]) -> torch.Tensor:
    """Softmax probabilities of ``model`` averaged over ``views`` of ``x``."""
    return sum(model(v).float().softmax(1) for v in iter_views(x, views)) / len(views)
