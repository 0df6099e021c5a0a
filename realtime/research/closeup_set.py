"""Close-up photos for measuring the detector's close-up pass: faces cropped tightly
(1.0-1.3x the face box) out of the scene photos of :mod:`realtime.research.scenes`, at several sizes.

* real faces: scikit-image's astronaut and cameraman, matplotlib's Grace Hopper (hand-labelled
  boxes), each cropped at every factor and size, with small shifts of the crop centre;
* FER faces: FER2013 faces upscaled (INTER_CUBIC) with a little replicated context into a scene,
  then cropped the same way (a face that fills the frame, as in a selfie or a portrait crop).

The ground truth of every close-up is its face box in the close-up's own pixels.
"""
from __future__ import annotations

import cv2
import numpy as np

from .scenes import NO_FACE, REAL_FACES, Scene, background, composite, real_photo

CROP_FACTORS = (1.0, 1.1, 1.2, 1.3)
SIZES = (48, 64, 96, 128, 192, 256)
SHIFTS = ((0.0, 0.0), (-0.06, 0.04), (0.05, -0.05))  # crop centre offsets, fractions of the face box


def crop_closeup(rgb: np.ndarray, face: tuple[float, float, float, float], factor: float, size: int,
                 shift: tuple[float, float] = (0.0, 0.0)) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """A ``size`` x ``size`` close-up: the square of side ``factor`` x the face box around its centre
    (shifted by ``shift`` x the box), edges replicated where it leaves the photo; returns the image
    and the face box in its pixels."""
    x, y, w, h = face
    side = factor * max(w, h)
    cx, cy = x + w / 2 + shift[0] * w, y + h / 2 + shift[1] * h
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    s = int(round(side))
    H, W = rgb.shape[:2]
    pad = max(0, -x0, -y0, x0 + s - W, y0 + s - H)
    src = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE) if pad else rgb
    patch = src[y0 + pad:y0 + pad + s, x0 + pad:x0 + pad + s]
    interp = cv2.INTER_AREA if size < s else cv2.INTER_CUBIC
    out = cv2.resize(patch, (size, size), interpolation=interp)
    k = size / s
    return np.ascontiguousarray(out), ((x - x0) * k, (y - y0) * k, w * k, h * k)


def _fer_scenes(fer_faces: np.ndarray, seed: int) -> list[Scene]:
    """Each FER face upscaled to 160-200 px with 30 % replicated context, pasted into a scene."""
    rng = np.random.default_rng(seed)
    bgs = ["gray", "brick", "grass", "coffee"]
    scenes = []
    for i, face in enumerate(fer_faces):
        size = int(rng.integers(160, 201))
        scenes.append(composite(face[None], [size], background(bgs[i % len(bgs)]), seed=seed + i,
                                name=f"fer:{i}", context=0.3))
    return scenes


def closeup_set(fer_faces: np.ndarray | None = None, sizes: tuple[int, ...] = SIZES,
                factors: tuple[float, ...] = CROP_FACTORS, seed: int = 0) -> list[Scene]:
    """Close-ups of the real faces (every factor x size x shift) and of ``fer_faces`` (every size,
    factor and shift drawn at random per face). Each Scene has one ground-truth face box."""
    out: list[Scene] = []
    for name, faces in REAL_FACES.items():
        img = real_photo(name)
        for factor in factors:
            for size in sizes:
                for k, shift in enumerate(SHIFTS):
                    rgb, box = crop_closeup(img, faces[0], factor, size, shift)
                    out.append(Scene(f"real:{name}:{factor:g}:{size}:{k}", rgb, [box]))
    if fer_faces is not None and len(fer_faces):
        rng = np.random.default_rng(seed)
        for scene in _fer_scenes(fer_faces, seed):
            for size in sizes:
                factor = float(rng.choice(factors))
                shift = SHIFTS[int(rng.integers(len(SHIFTS)))]
                rgb, box = crop_closeup(scene.rgb, scene.faces[0], factor, size, shift)
                out.append(Scene(f"{scene.name}:{factor:g}:{size}", rgb, [box]))
    return out


def noface_images(crops: int = 8, seed: int = 5) -> list[np.ndarray]:
    """The scene set's 17 no-face photos and ``crops`` random square crops of each, resized to
    64-400 px (close-up-sized images without a face: what the pass must leave empty)."""
    rng = np.random.default_rng(seed)
    out = []
    for name in NO_FACE:
        img = real_photo(name)
        H, W = img.shape[:2]
        out.append(img)
        for _ in range(crops):
            s = int(rng.integers(min(H, W) // 5, min(H, W)))
            x, y = int(rng.integers(0, W - s + 1)), int(rng.integers(0, H - s + 1))
            size = int(rng.choice([64, 96, 160, 256, 400]))
            interp = cv2.INTER_AREA if size < s else cv2.INTER_CUBIC
            out.append(cv2.resize(img[y:y + s, x:x + s], (size, size), interpolation=interp))
    return out


def size_of(scene: Scene) -> int:
    return int(scene.rgb.shape[0])
