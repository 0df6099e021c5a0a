"""Batch augmentation on uint8 faces, on the tensor side, seeded and reproducible.

One affine warp per batch (``affine_grid`` + ``grid_sample``) does random scale
(crop/zoom), horizontal flip, small rotation and shift in a single pass, so a
128-face batch costs about a millisecond on a CPU core and never starves the
training loop. Photometric jitter and random erasing are vectorised too.
Mixup and CutMix are options of the loss side (:func:`mix_batch`).
See docs/data.md for why each transform suits 48x48 registered faces.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass
class AugmentConfig:
    scale: tuple[float, float] = (0.85, 1.15)  # zoom out/in around the face centre
    max_rotation: float = 12.0  # degrees
    max_shift: float = 0.08  # fraction of the image side
    hflip: float = 0.5
    brightness: float = 0.25  # +- fraction
    contrast: float = 0.25  # +- fraction
    erase_p: float = 0.3
    erase_area: tuple[float, float] = (0.02, 0.15)


def augment(images: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator) -> torch.Tensor:
    """Augment a uint8 batch (B,H,W); returns float in [0,1] of shape (B,1,H,W)."""
    x = images.float().div_(255.0).unsqueeze(1)
    b = x.shape[0]

    def uniform(lo, hi):
        return torch.rand(b, generator=gen) * (hi - lo) + lo

    scale = uniform(*cfg.scale)
    angle = uniform(-cfg.max_rotation, cfg.max_rotation) * (math.pi / 180.0)
    flip = torch.where(torch.rand(b, generator=gen) < cfg.hflip, -1.0, 1.0)
    tx = uniform(-cfg.max_shift, cfg.max_shift) * 2.0
    ty = uniform(-cfg.max_shift, cfg.max_shift) * 2.0
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([
        torch.stack([cos * flip, -sin, tx], dim=1),
        torch.stack([sin * flip, cos, ty], dim=1),
    ], dim=1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    contrast = uniform(1 - cfg.contrast, 1 + cfg.contrast).view(b, 1, 1, 1)
    brightness = uniform(-cfg.brightness, cfg.brightness).view(b, 1, 1, 1) * 0.5
    x = ((x - mean) * contrast + mean + brightness).clamp_(0.0, 1.0)

    if cfg.erase_p > 0:
        h, w = x.shape[-2:]
        area = uniform(*cfg.erase_area) * h * w
        aspect = torch.exp(uniform(math.log(0.5), math.log(2.0)))
        eh = (area * aspect).sqrt().clamp(1, h)
        ew = (area / aspect).sqrt().clamp(1, w)
        cy = torch.rand(b, generator=gen) * h
        cx = torch.rand(b, generator=gen) * w
        ys = torch.arange(h).view(1, h, 1)
        xs = torch.arange(w).view(1, 1, w)
        box = ((ys - cy.view(b, 1, 1)).abs() < eh.view(b, 1, 1) / 2) & ((xs - cx.view(b, 1, 1)).abs() < ew.view(b, 1, 1) / 2)
        on = (torch.rand(b, generator=gen) < cfg.erase_p).view(b, 1, 1)
        noise = torch.rand(x.shape, generator=gen)
        mask = (box & on).unsqueeze(1)
        x = torch.where(mask, noise, x)
    return x


def normalise(x01: torch.Tensor, mean: float = 0.5, std: float = 0.5) -> torch.Tensor:
    return (x01 - mean) / std


def mix_batch(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator, mixup: float = 0.0, cutmix: float = 0.0):
    """Mixup (alpha ``mixup``) or CutMix (alpha ``cutmix``), one chosen per batch.

    Returns ``x, y_a, y_b, lam``: the loss is ``lam * CE(y_a) + (1 - lam) * CE(y_b)``.
    """
    if mixup <= 0 and cutmix <= 0:
        return x, y, y, 1.0
    use_cutmix = cutmix > 0 and (mixup <= 0 or torch.rand(1, generator=gen).item() < 0.5)
    alpha = cutmix if use_cutmix else mixup
    seed = int(torch.randint(2**31 - 1, (1,), generator=gen))
    lam = float(np.random.default_rng(seed).beta(alpha, alpha))
    perm = torch.randperm(x.shape[0], generator=gen)
    if use_cutmix:
        h, w = x.shape[-2:]
        rh, rw = int(h * math.sqrt(1 - lam)), int(w * math.sqrt(1 - lam))
        cy, cx = int(torch.randint(h, (1,), generator=gen)), int(torch.randint(w, (1,), generator=gen))
        y0, y1 = max(cy - rh // 2, 0), min(cy + rh // 2, h)
        x0, x1 = max(cx - rw // 2, 0), min(cx + rw // 2, w)
        x = x.clone()
        x[..., y0:y1, x0:x1] = x[perm][..., y0:y1, x0:x1]
        lam = 1 - (y1 - y0) * (x1 - x0) / (h * w)
    else:
        x = lam * x + (1 - lam) * x[perm]
    return x, y, y[perm], lam
