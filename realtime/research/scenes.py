"""A small labelled scene set for choosing and testing the face detector.

* real photos shipped in installed packages: scikit-image's astronaut and
  cameraman, matplotlib's Grace Hopper (face boxes labelled by hand), and the
  same photos shrunk into "group" scenes so faces are 25-45 px wide;
* composites: FER2013 faces pasted at known places and sizes (35-140 px wide)
  onto 500x375 backgrounds;
* no-face scenes: every other scikit-image photo (cat, coffee, rocket, horse,
  coins, textures, text, ...).

Ground truth is a *face box* in the detectors' convention (roughly brow to chin,
ear to ear). For pasted FER faces it is the pasted 48x48 frame shrunk by
FER_FRAME_TO_FACE (between the two detectors' calibrated crop scales).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

FER_FRAME_TO_FACE = 1.19
SCENE_SIZE = (375, 500)  # height, width

# (image, face box x, y, w, h) -- labelled by hand
REAL_FACES = {
    "astronaut": [(177, 78, 98, 98)],
    "camera": [(186, 120, 84, 84)],
    "grace_hopper": [(170, 138, 200, 200)],
}
NO_FACE = ["coffee", "chelsea", "rocket", "horse", "coins", "hubble_deep_field", "immunohistochemistry",
           "retina", "brick", "grass", "gravel", "page", "text", "moon", "cell", "logo", "colorwheel"]


@dataclass
class Scene:
    name: str
    rgb: np.ndarray
    faces: list[tuple[float, float, float, float]]  # ground-truth face boxes
    frames: list[tuple[int, int, int, int]] = field(default_factory=list)  # pasted FER frames (composites)

    @property
    def kind(self) -> str:
        return self.name.split(":")[0]


def _rgb(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img)
    if img.dtype != np.uint8:
        img = (np.clip(img, 0, 1) * 255).astype(np.uint8) if img.max() <= 1.0 else img.astype(np.uint8)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return np.ascontiguousarray(img[:, :, :3])


def real_photo(name: str) -> np.ndarray:
    if name == "grace_hopper":
        import matplotlib.cbook as cbook
        from PIL import Image

        return _rgb(Image.open(cbook.get_sample_data("grace_hopper.jpg")).convert("RGB"))
    from skimage import data

    return _rgb(getattr(data, name)())


def fer_frame_to_face(frame: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x, y, s, _ = frame
    f = s / FER_FRAME_TO_FACE
    return (x + (s - f) / 2, y + (s - f) / 2 + 0.05 * f, f, f)


def background(name: str, size: tuple[int, int] = SCENE_SIZE) -> np.ndarray:
    """A face-free background: a no-face photo cropped/resized to ``size``, or a flat gray."""
    h, w = size
    if name == "gray":
        return np.full((h, w, 3), 128, np.uint8)
    img = real_photo(name)
    ih, iw = img.shape[:2]
    s = max(h / ih, w / iw)
    img = cv2.resize(img, (int(np.ceil(iw * s)), int(np.ceil(ih * s))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(img[:h, :w])


def _with_context(face: np.ndarray, s: int, context: float, fade: bool = True) -> tuple[np.ndarray, np.ndarray, int]:
    """Upscale a 48x48 face to s px and extend it by ``context`` of its size on each side with
    replicated edges (a head does not end at the FER frame); returns (patch, alpha, offset).
    Inside the frame the pixels are the face's own (alpha 1); the border fades out."""
    interp = cv2.INTER_CUBIC if s > face.shape[0] else cv2.INTER_AREA
    big = cv2.resize(face, (s, s), interpolation=interp)
    m = int(round(s * context))
    patch = cv2.copyMakeBorder(big, m, m, m, m, borderType=cv2.BORDER_REPLICATE)
    n = s + 2 * m
    d = np.minimum(np.arange(n), np.arange(n)[::-1]).astype(np.float32)
    ramp = np.clip(d / max(m, 1), 0.0, 1.0)
    alpha = np.minimum(ramp[:, None], ramp[None, :])
    alpha[m:m + s, m:m + s] = 1.0
    if not fade:
        alpha[:] = 1.0
    return patch, alpha, m


def composite(faces: np.ndarray, sizes: list[int], bg: np.ndarray, seed: int = 0,
              name: str = "composite", context: float = 0.0, fade: bool = True) -> Scene:
    """Paste gray 48x48 faces (resized to ``sizes``) at random non-overlapping places.

    The 48x48 frame itself is pasted exactly (its crop gives back the FER face); around it
    ``context`` of the size is filled with replicated edges (fading into the background if ``fade``).
    """
    rng = np.random.default_rng(seed)
    canvas = bg.copy()
    H, W = canvas.shape[:2]
    placed: dict[int, tuple[int, int, int, int]] = {}
    for k in sorted(range(len(sizes)), key=lambda i: -sizes[i]):  # biggest first
        s = sizes[k]
        m = int(round(s * context))
        for _ in range(2000):
            x, y = int(rng.integers(m, W - s - m)), int(rng.integers(m, H - s - m))
            if all(x + s + m + int(fs * context) + 2 <= fx or fx + fs + m + int(fs * context) + 2 <= x
                   or y + s + m + int(fs * context) + 2 <= fy or fy + fs + m + int(fs * context) + 2 <= y
                   for fx, fy, fs, _ in placed.values()):
                break
        else:
            raise ValueError(f"no room for a {s}px face in {W}x{H}")
        patch, alpha, m = _with_context(faces[k], s, context, fade)
        region = canvas[y - m:y + s + m, x - m:x + s + m].astype(np.float32)
        blended = alpha[:, :, None] * patch[:, :, None].astype(np.float32) + (1 - alpha[:, :, None]) * region
        canvas[y - m:y + s + m, x - m:x + s + m] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
        placed[k] = (x, y, s, s)
    frames = [placed[k] for k in range(len(sizes))]
    return Scene(name, canvas, [fer_frame_to_face(f) for f in frames], frames)


def shrunk_group(face_px: list[int], size: tuple[int, int] = SCENE_SIZE, seed: int = 0) -> Scene:
    """Real portraits (head and shoulders) shrunk so their faces are ``face_px`` wide, set in a
    grid on a lawn: small faces in a 500 px photo, as in group shots or seen from afar."""
    H, W = size
    canvas = background("grass", size)
    names = list(REAL_FACES)
    faces = []
    x, y, row_h = 8, 8, 0
    for i, fpx in enumerate(face_px):
        name = names[(i + seed) % len(names)]
        img = real_photo(name)
        fx, fy, fw, fh = REAL_FACES[name][0]
        x0, y0 = max(0, int(fx - 0.8 * fw)), max(0, int(fy - 0.6 * fh))
        x1, y1 = min(img.shape[1], int(fx + 1.8 * fw)), min(img.shape[0], int(fy + 1.9 * fh))
        s = fpx / fw
        part = cv2.resize(img[y0:y1, x0:x1], (max(1, int((x1 - x0) * s)), max(1, int((y1 - y0) * s))),
                          interpolation=cv2.INTER_AREA)
        ph, pw = part.shape[:2]
        if x + pw > W - 4:
            x, y, row_h = 8, y + row_h + 8, 0
        if y + ph > H - 4:
            raise ValueError("portraits do not fit")
        canvas[y:y + ph, x:x + pw] = part
        faces.append((x + (fx - x0) * s, y + (fy - y0) * s, fw * s, fh * s))
        x += pw + 8
        row_h = max(row_h, ph)
    return Scene(f"group:{'-'.join(map(str, face_px))}", canvas, faces)


def labelled_set(fer_faces: np.ndarray | None = None, seed: int = 0) -> list[Scene]:
    """The detector-choice set. ``fer_faces``: (N,48,48) uint8; without it, no composites."""
    scenes = [Scene(f"photo:{n}", real_photo(n), list(REAL_FACES[n])) for n in REAL_FACES]
    for i, sizes in enumerate(([25, 30, 35, 40, 45, 50], [30, 35, 40, 50, 70], [35] * 8, [35] * 12, [40] * 12,
                               [45] * 12)):
        scenes.append(shrunk_group(sizes, seed=i))
    if fer_faces is not None and len(fer_faces):
        bgs = ["gray", "brick", "grass", "coffee", "rocket", "gravel"]
        size_sets = [[35, 40, 45, 50, 60, 70], [80, 100, 120], [35, 35, 40, 45, 50, 55, 60]]
        k = 0
        for i, bg in enumerate(bgs):
            for j, sizes in enumerate(size_sets):
                idx = [(k + t) % len(fer_faces) for t in range(len(sizes))]
                k += len(sizes)
                scenes.append(composite(fer_faces[idx], sizes, background(bg), seed=seed + 10 * i + j,
                                        name=f"fer:{bg}:{j}"))
    scenes += [Scene(f"noface:{n}", real_photo(n), []) for n in NO_FACE]
    return scenes
