"""Annotated images: boxes coloured by emotion, label + confidence, 7 probability bars per face.

Bars sit beside each box when there is room; when faces crowd, boxes get a number and the
bars go to a side panel. A face marked uncertain (``face.uncertain``, realtime/uncertainty.py) gets
a dashed slate-gray box and the label "uncertain: fear 35% / neutral 30%" instead of one emotion. Line width and font scale with the image; images smaller than
``min_side`` are upscaled first so text stays legible.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import cv2
import numpy as np

from .boxes import overlaps
from .palette import UNCERTAIN, color_for
from .uncertainty import label_for


class DrawnFace(Protocol):
    """What drawing needs of a face (``realtime.pipeline.Face`` has it; drawing does not import the pipeline)."""

    box: tuple[int, int, int, int]
    emotion: str
    confidence: float
    probabilities: dict[str, float]
    uncertain: bool  # optional: faces without it are drawn as certain


FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class DrawStyle:
    min_side: int = 480  # smaller images are upscaled to this before drawing
    crowded: int = 6  # more faces than this: side panel
    bars: bool = True
    panel_alpha: float = 0.78


class _Metrics:
    def __init__(self, side: int):
        u = max(side / 640.0, 0.75)
        self.u = u
        self.thick = max(1, int(round(2 * u)))
        self.font = 0.5 * u
        self.font_thick = max(1, int(round(1.2 * u)))
        self.row = int(round(15 * u))
        self.pad = max(2, int(round(4 * u)))
        self.name_w = cv2.getTextSize("surprise", FONT, self.font * 0.85, self.font_thick)[0][0]
        self.pct_w = cv2.getTextSize("100%", FONT, self.font * 0.85, self.font_thick)[0][0]
        self.bar_w = int(round(70 * u))

    def panel_size(self, n_classes: int, header: bool = False) -> tuple[int, int]:
        w = self.pad * 4 + self.name_w + self.bar_w + self.pct_w
        h = self.pad * 2 + self.row * (n_classes + (1 if header else 0))
        return w, h


def _blend_rect(img: np.ndarray, x: int, y: int, w: int, h: int, color=(20, 20, 20), alpha: float = 0.75) -> None:
    x0, y0, x1, y1 = max(0, x), max(0, y), min(img.shape[1], x + w), min(img.shape[0], y + h)
    if x1 <= x0 or y1 <= y0:
        return
    roi = img[y0:y1, x0:x1].astype(np.float32)
    img[y0:y1, x0:x1] = (roi * (1 - alpha) + np.array(color, np.float32) * alpha).astype(np.uint8)


def _bars(img: np.ndarray, x: int, y: int, m: _Metrics, probs: dict[str, float], classes: Sequence[str],
          alpha: float, header: str | None = None, header_color=(255, 255, 255)) -> None:
    w, h = m.panel_size(len(classes), header is not None)
    _blend_rect(img, x, y, w, h, alpha=alpha)
    fs = m.font * 0.85
    cy = y + m.pad
    if header is not None:
        cv2.putText(img, header, (x + m.pad, cy + m.row - m.pad), FONT, fs, header_color, m.font_thick, cv2.LINE_AA)
        cy += m.row
    for c in classes:
        p = float(probs.get(c, 0.0))
        base = cy + m.row - m.pad
        cv2.putText(img, c, (x + m.pad, base), FONT, fs, (235, 235, 235), m.font_thick, cv2.LINE_AA)
        bx = x + 2 * m.pad + m.name_w
        bh = max(2, int(m.row * 0.6))
        by = cy + (m.row - bh) // 2
        cv2.rectangle(img, (bx, by), (bx + m.bar_w, by + bh), (90, 90, 90), -1)
        cv2.rectangle(img, (bx, by), (bx + int(round(m.bar_w * p)), by + bh), color_for(c), -1)
        cv2.putText(img, f"{p * 100:.0f}%", (bx + m.bar_w + m.pad, base), FONT, fs, (235, 235, 235),
                    m.font_thick, cv2.LINE_AA)
        cy += m.row


def _is_uncertain(face: DrawnFace) -> bool:
    return bool(getattr(face, "uncertain", False))


def _face_color(face: DrawnFace):
    return color_for(UNCERTAIN if _is_uncertain(face) else face.emotion)


def _face_label(face: DrawnFace) -> str:
    if _is_uncertain(face):
        return label_for(face.probabilities, uncertain=True)
    return f"{face.emotion} {face.confidence * 100:.0f}%"


def _dashed_rect(img: np.ndarray, x: int, y: int, w: int, h: int, color, thick: int) -> None:
    """A dashed rectangle (uncertain faces): dashes of about 3 line widths, gaps of 2."""
    dash, gap = max(4, 3 * thick), max(3, 2 * thick)
    for (x0, y0, x1, y1) in ((x, y, x + w, y), (x, y + h, x + w, y + h), (x, y, x, y + h), (x + w, y, x + w, y + h)):
        length = max(abs(x1 - x0), abs(y1 - y0))
        for start in range(0, length, dash + gap):
            end = min(length, start + dash)
            a = (x0 + (x1 - x0) * start // max(length, 1), y0 + (y1 - y0) * start // max(length, 1))
            b = (x0 + (x1 - x0) * end // max(length, 1), y0 + (y1 - y0) * end // max(length, 1))
            cv2.line(img, a, b, color, thick, cv2.LINE_AA)


def draw_analysis(rgb: np.ndarray, faces: Sequence[DrawnFace], classes: Sequence[str],
                  style: DrawStyle | None = None) -> np.ndarray:
    """A new RGB image with ``faces`` drawn on ``rgb`` (which is not modified)."""
    style = style or DrawStyle()
    H, W = rgb.shape[:2]
    k = 1.0
    if max(H, W) < style.min_side:
        k = style.min_side / max(H, W)
        img = cv2.resize(rgb, (int(round(W * k)), int(round(H * k))), interpolation=cv2.INTER_LINEAR)
    else:
        img = rgb.copy()
    H2, W2 = img.shape[:2]
    m = _Metrics(max(H2, W2))
    boxes = [tuple(int(round(v * k)) for v in f.box) for f in faces]

    # bars beside each box, if every face has a free spot; else a side panel
    placements: list[tuple[int, int]] = []
    side_panel = len(faces) > style.crowded
    pw, ph = m.panel_size(len(classes))
    if style.bars and not side_panel:
        taken = list(boxes)
        for (x, y, w, h) in boxes:
            spot = None
            for px, py in ((x + w + m.pad, y), (x - pw - m.pad, y), (x, y + h + m.row + m.pad), (x, y - ph - m.row - m.pad)):
                px = min(max(0, px), W2 - pw) if (px < 0 or px + pw > W2) and py > y + h else px
                cand = (px, py, pw, ph)
                if px >= 0 and py >= 0 and px + pw <= W2 and py + ph <= H2 and not any(overlaps(cand, t) for t in taken):
                    spot = (px, py)
                    break
            if spot is None:
                side_panel = True
                break
            placements.append(spot)
            taken.append((spot[0], spot[1], pw, ph))

    for i, (f, (x, y, w, h)) in enumerate(zip(faces, boxes)):
        col = _face_color(f)
        if _is_uncertain(f):
            _dashed_rect(img, x, y, w, h, col, m.thick)
        else:
            cv2.rectangle(img, (x, y), (x + w, y + h), col, m.thick, cv2.LINE_AA)
        # crowded: just the number on the box, the rest is in the side panel
        text = f"{i + 1}" if side_panel else _face_label(f)
        (tw, th), base = cv2.getTextSize(text, FONT, m.font, m.font_thick)
        ly = y - m.pad if y - th - 2 * m.pad >= 0 else y + h + th + m.pad
        lx = max(0, min(x, W2 - tw - 2 * m.pad))  # a long label ("uncertain: ...") stays in the image
        cv2.rectangle(img, (lx, ly - th - m.pad), (lx + tw + 2 * m.pad, ly + base), col, -1)
        tcol = (0, 0, 0) if sum(col) > 400 else (255, 255, 255)
        cv2.putText(img, text, (lx + m.pad, ly), FONT, m.font, tcol, m.font_thick, cv2.LINE_AA)

    if style.bars and not side_panel:
        for f, (px, py) in zip(faces, placements):
            _bars(img, px, py, m, f.probabilities, classes, style.panel_alpha)
    elif style.bars and faces:
        img = _side_panel(img, faces, classes, m, style)
    return img


def _side_panel(img: np.ndarray, faces: Sequence[DrawnFace], classes: Sequence[str], m: _Metrics,
                style: DrawStyle) -> np.ndarray:
    H, W = img.shape[:2]
    pw, ph = m.panel_size(len(classes), header=True)
    per_col = max(1, (H - m.pad) // (ph + m.pad))
    cols = -(-len(faces) // per_col)
    panel = np.full((H, cols * (pw + m.pad) + m.pad, 3), 32, np.uint8)
    for i, f in enumerate(faces):
        c, r = divmod(i, per_col)
        header = f"{i + 1}: {UNCERTAIN}" if _is_uncertain(f) else f"{i + 1}: {_face_label(f)}"
        _bars(panel, m.pad + c * (pw + m.pad), m.pad + r * (ph + m.pad), m, f.probabilities, classes, 1.0,
              header=header, header_color=(205, 212, 230) if _is_uncertain(f) else _face_color(f))
    return np.concatenate([img, panel], axis=1)


def encode(rgb: np.ndarray, suffix: str = ".png", quality: int = 92) -> bytes:
    """PNG or JPEG bytes of an RGB image."""
    suffix = suffix.lower() if suffix.startswith(".") else "." + suffix.lower()
    if suffix not in (".png", ".jpg", ".jpeg"):
        raise ValueError(f"output format must be .png or .jpg, got {suffix}")
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if suffix != ".png" else []
    ok, buf = cv2.imencode(suffix, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise RuntimeError(f"could not encode {suffix}")
    return buf.tobytes()
