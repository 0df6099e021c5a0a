"""Reading FER2013 in every layout people have, validated, into uint8 arrays.

Layouts:
* Kaggle ``fer2013.csv``: ``emotion,pixels,Usage``
* the competition's ``train.csv`` (``emotion,pixels``) and ``test.csv`` (``pixels``: no labels)
* any of those gzip-compressed (``.gz``)
* the image-folder release: ``<root>/<split>/<emotion name>/*.jpg|png`` (any size or colour)

Every row is validated; a bad row raises :class:`DataError` naming the file, the
line and the reason, unless ``skip_invalid`` is set, in which case it is skipped
and listed in :attr:`FaceSet.skipped`. Nothing is dropped silently.
"""
from __future__ import annotations

import csv
import gzip
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from realtime.research.fercsv import (CLASSES, N_PIXELS, NO_LABEL, NO_USAGE, SIDE, USAGES,  # noqa: F401
                                     HeaderError, open_text, parse_header, parse_row)

log = logging.getLogger(__name__)

CLASS_LABELS = tuple(c.capitalize() for c in CLASSES)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
# Folder names of the image-folder release, mapped to Usage values.
FOLDER_SPLITS = {
    "train": "Training", "training": "Training",
    "val": "PublicTest", "valid": "PublicTest", "validation": "PublicTest", "publictest": "PublicTest",
    "test": "PrivateTest", "privatetest": "PrivateTest",
}


class DataError(ValueError):
    """Input data that cannot be read; the message names the file, line and reason."""


@dataclass
class FaceSet:
    """Faces as uint8 arrays, with where each came from."""

    images: np.ndarray  # (N, 48, 48) uint8
    labels: np.ndarray  # (N,) int8, NO_LABEL when the source has none
    usage: np.ndarray  # (N,) int8 index into USAGES, NO_USAGE when the source has none
    lines: np.ndarray  # (N,) int32 line number in the source file (1 = header), or index for folders
    source: str = ""
    refs: list[str] | None = None  # per-image file paths for image folders
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def has_labels(self) -> bool:
        return bool(len(self.labels)) and bool((self.labels >= 0).all())

    @property
    def has_usage(self) -> bool:
        return bool(len(self.usage)) and bool((self.usage >= 0).all())

    def where(self, i: int) -> str:
        """Human-readable origin of image ``i`` (file and line, or file path)."""
        if self.refs is not None:
            return self.refs[i]
        return f"{Path(self.source).name}:{int(self.lines[i])}"

    def subset(self, idx: np.ndarray) -> "FaceSet":
        refs = [self.refs[i] for i in idx] if self.refs is not None else None
        return FaceSet(self.images[idx], self.labels[idx], self.usage[idx], self.lines[idx], self.source, refs)

    def select_usage(self, name: str) -> "FaceSet":
        if name not in USAGES:
            raise DataError(f"unknown usage {name!r}; valid choices: {', '.join(USAGES)}")
        if not self.has_usage:
            raise DataError(f"{self.source}: has no Usage column, so --usage {name} cannot select rows")
        return self.subset(np.flatnonzero(self.usage == USAGES.index(name)))


def read_csv(path: str | Path, skip_invalid: bool = False, progress: bool = False) -> FaceSet:
    """Parse a FER2013 CSV (plain or .gz) in any of the Kaggle layouts."""
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise DataError(f"{name}: file not found")
    images, labels, usages, lines, skipped = [], [], [], [], []
    try:
        with open_text(path) as fh:
            reader = csv.reader(fh)
            try:
                header = next(reader)
            except StopIteration:
                raise DataError(f"{name}: file is empty; expected a header such as 'emotion,pixels,Usage' and rows") from None
            try:
                cols = parse_header(header, name)
            except HeaderError as exc:
                raise DataError(str(exc)) from None
            rows = reader
            if progress:
                from tqdm import tqdm
                rows = tqdm(reader, desc=f"parsing {path.name}", unit=" rows", leave=False)
            for row in rows:
                line = reader.line_num
                if not row:
                    continue
                try:
                    px, label, usage = parse_row(row, cols)
                except ValueError as exc:
                    if not skip_invalid:
                        raise DataError(f"{name}, line {line}: {exc}") from None
                    skipped.append((line, str(exc)))
                    continue
                images.append(px)
                labels.append(label)
                usages.append(usage)
                lines.append(line)
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError, csv.Error) as exc:
        raise DataError(f"{name}: not a readable CSV text file ({exc})") from None
    if skipped:
        shown = ", ".join(str(l) for l, _ in skipped[:20]) + (" ..." if len(skipped) > 20 else "")
        log.warning("%s: skipped %d invalid row(s) at line(s) %s; first reason: %s",
                    name, len(skipped), shown, skipped[0][1])
    if not images:
        raise DataError(f"{name}: no valid data rows" + (f" ({len(skipped)} invalid skipped)" if skipped else ""))
    return FaceSet(
        images=np.stack(images).reshape(-1, SIDE, SIDE),
        labels=np.asarray(labels, dtype=np.int8),
        usage=np.asarray(usages, dtype=np.int8),
        lines=np.asarray(lines, dtype=np.int32),
        source=name,
        skipped=skipped,
    )


PACKED_SUFFIX = ".npz.xz"


def write_packed(faces: FaceSet, out: str | Path, usages: tuple[str, ...] = ()) -> Path:
    """``faces`` (only the rows of ``usages``, if given) as one lzma-compressed npz of uint8 arrays:
    the compact copy a machine without the original data trains from (Training: about 49 MB)."""
    import lzma

    out = Path(out)
    if not out.name.endswith(PACKED_SUFFIX):
        raise DataError(f"{out}: a packed file must end in {PACKED_SUFFIX}")
    if usages:
        faces = faces.subset(np.flatnonzero(np.isin(faces.usage, [USAGES.index(u) for u in usages])))
    buf = io.BytesIO()
    np.savez(buf, images=faces.images, labels=faces.labels, usage=faces.usage, lines=faces.lines,
             source=np.array(Path(faces.source).name))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(lzma.compress(buf.getvalue(), preset=6))
    tmp.replace(out)
    return out


def read_packed(path: str | Path) -> FaceSet:
    """A file written by :func:`write_packed`."""
    import lzma

    path = Path(path)
    try:
        with np.load(io.BytesIO(lzma.decompress(path.read_bytes())), allow_pickle=False) as z:
            images, labels, usage, lines = z["images"], z["labels"], z["usage"], z["lines"]
    except (lzma.LZMAError, ValueError, KeyError, OSError) as exc:
        raise DataError(f"{path}: not a packed FER2013 file written by `python -m train pack` ({exc})") from None
    if images.ndim != 3 or images.shape[1:] != (SIDE, SIDE) or images.dtype != np.uint8:
        raise DataError(f"{path}: images must be uint8 {SIDE}x{SIDE}, found {images.dtype} {images.shape[1:]}")
    return FaceSet(images, labels, usage, lines, str(path))


def to_face(img, side: int = SIDE) -> np.ndarray:
    """Any PIL image -> side x side uint8 gray (centre-cropped to square first)."""
    from PIL import Image, ImageOps

    img = ImageOps.exif_transpose(img).convert("L")
    w, h = img.size
    if w != h:
        s = min(w, h)
        img = img.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
    if img.size != (side, side):
        img = img.resize((side, side), Image.BILINEAR)
    return np.asarray(img, dtype=np.uint8)


def read_folder(root: str | Path, skip_invalid: bool = False) -> FaceSet:
    """The image-folder release: ``root/<split>/<emotion>/*`` (or ``root/<emotion>/*``)."""
    from PIL import Image, UnidentifiedImageError

    root = Path(root)
    class_dirs = {c: i for i, c in enumerate(CLASSES)}
    subdirs = [d for d in sorted(root.iterdir()) if d.is_dir()]
    if subdirs and all(d.name.lower() in class_dirs for d in subdirs):
        groups = [(None, root)]
    else:
        groups = []
        for d in subdirs:
            split = FOLDER_SPLITS.get(d.name.lower())
            if split is None:
                raise DataError(f"{d}: unknown split folder {d.name!r}; expected one of {sorted(FOLDER_SPLITS)} "
                                f"or emotion folders {list(CLASSES)}")
            groups.append((split, d))
    images, labels, usages, refs, skipped = [], [], [], [], []
    for split, base in groups:
        for cdir in sorted(p for p in base.iterdir() if p.is_dir()):
            label = class_dirs.get(cdir.name.lower())
            if label is None:
                raise DataError(f"{cdir}: unknown emotion folder {cdir.name!r}; expected one of {list(CLASSES)}")
            for f in sorted(cdir.iterdir()):
                if f.suffix.lower() not in IMAGE_SUFFIXES:
                    continue
                try:
                    with Image.open(f) as img:
                        face = to_face(img)
                except (UnidentifiedImageError, OSError) as exc:
                    if not skip_invalid:
                        raise DataError(f"{f}: not a readable image ({exc})") from None
                    skipped.append((len(refs), f"{f}: not a readable image"))
                    continue
                images.append(face)
                labels.append(label)
                usages.append(USAGES.index(split) if split else NO_USAGE)
                refs.append(str(f))
    if skipped:
        log.warning("%s: skipped %d unreadable image(s): %s", root, len(skipped), "; ".join(r for _, r in skipped[:10]))
    if not images:
        raise DataError(f"{root}: no images found (expected {root}/<split>/<emotion>/*.jpg|png)")
    return FaceSet(np.stack(images), np.asarray(labels, np.int8), np.asarray(usages, np.int8),
                   np.arange(len(images), dtype=np.int32), str(root), refs, skipped)
