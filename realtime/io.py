"""Decode and validate input images: path, bytes, file object, PIL image or array -> RGB uint8.

Everything that reaches the detector has gone through :func:`load_image`, so every
bad input fails here with an :class:`ImageError` that names the problem.
"""
from __future__ import annotations

import io
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

log = logging.getLogger(__name__)

#: Encoded formats accepted (Pillow names). MPO is what many cameras write for JPEG.
ALLOWED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "BMP")
#: Default limit on width*height, checked from the header before any pixel is decoded.
DEFAULT_MAX_PIXELS = 40_000_000
#: Fewer pixels than this on a side cannot hold a face (and a 1-pixel row once broke the detector).
MIN_IMAGE_SIDE = 8

ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, IO[bytes], np.ndarray, Image.Image]


class ImageError(ValueError):
    """The input is not a usable image. The message says why."""


class EmptyImageError(ImageError):
    """Zero bytes, or an image with no pixels."""


class CorruptImageError(ImageError):
    """Looks like an image but cannot be decoded (truncated, damaged)."""


class UnsupportedImageError(ImageError):
    """Not an image, or a format/array layout we do not accept."""


class ImageTooSmallError(ImageError):
    """Too few pixels on a side to hold a face (e.g. 1 pixel high)."""


class ImageTooLargeError(ImageError):
    """More pixels than the configured limit."""


@dataclass
class DecodedImage:
    rgb: np.ndarray  # (H, W, 3) uint8, orientation-corrected
    format: str  # "JPEG", "PNG", ... or "array"
    exif_transposed: bool = False

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])


def _check_pixels(width: int, height: int, max_pixels: int | None, what: str) -> None:
    if width <= 0 or height <= 0:
        raise EmptyImageError(f"{what} has no pixels ({width}x{height})")
    if min(width, height) < MIN_IMAGE_SIDE:
        raise ImageTooSmallError(f"{what} is {width}x{height} pixels: too small to hold a face "
                                 f"(at least {MIN_IMAGE_SIDE} pixels on each side)")
    if max_pixels and width * height > max_pixels:
        raise ImageTooLargeError(
            f"{what} is {width}x{height} = {width * height:,} pixels, above the limit of {max_pixels:,} pixels"
        )


def _from_array(arr: np.ndarray, max_pixels: int | None) -> DecodedImage:
    if arr.dtype != np.uint8:
        raise UnsupportedImageError(f"array image must be uint8, got dtype {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 2:
        _check_pixels(arr.shape[1], arr.shape[0], max_pixels, "array image")
        rgb = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.ndim == 3 and arr.shape[2] in (3, 4):
        _check_pixels(arr.shape[1], arr.shape[0], max_pixels, "array image")
        rgb = np.ascontiguousarray(arr[:, :, :3])
    else:
        raise UnsupportedImageError(
            f"array image must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); got shape {arr.shape}"
        )
    return DecodedImage(rgb=rgb, format="array")


def _from_pil(img: Image.Image, max_pixels: int | None, what: str) -> DecodedImage:
    fmt = img.format or "PIL"
    _check_pixels(img.width, img.height, max_pixels, what)  # header only, nothing decoded yet
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
            orientation = _orientation(img)
            transposed = ImageOps.exif_transpose(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLargeError(f"{what} is too large to decode safely: {exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptImageError(f"{what} ({fmt}) is corrupt or truncated: {exc}") from exc
    exif_done = orientation not in (None, 1)
    img = transposed
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        arr = (arr / max(arr.max(), 1.0) * 255.0).astype(np.uint8)
        rgb = np.repeat(arr[:, :, None], 3, axis=2)
    else:
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            # composite on white so transparent areas don't turn black
            rgba = img.convert("RGBA")
            bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            img = Image.alpha_composite(bg, rgba)
        rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
    return DecodedImage(rgb=np.ascontiguousarray(rgb), format=fmt, exif_transposed=bool(exif_done))


def _orientation(img: Image.Image) -> int | None:
    try:
        return img.getexif().get(0x0112)
    except Exception:  # noqa: BLE001 - broken EXIF is not our problem here
        return None


def _open_encoded(fp: IO[bytes], max_pixels: int | None, what: str) -> DecodedImage:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(fp)
    except UnidentifiedImageError as exc:
        raise UnsupportedImageError(
            f"{what} is not a recognised image (accepted: JPEG, PNG, WebP, BMP)"
        ) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLargeError(f"{what} is too large to decode safely: {exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptImageError(f"{what} is corrupt: {exc}") from exc
    if img.format not in ALLOWED_FORMATS:
        raise UnsupportedImageError(f"{what} is {img.format}; accepted formats are JPEG, PNG, WebP, BMP")
    return _from_pil(img, max_pixels, what)


def load_image(source: ImageSource, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> DecodedImage:
    """Decode ``source`` into an orientation-corrected RGB uint8 image.

    ``source`` may be a path, encoded bytes, a binary file object, a PIL image or a
    numpy array (uint8; gray (H,W), RGB (H,W,3) or RGBA (H,W,4) -- arrays are taken
    as RGB, convert OpenCV BGR frames first). Raises :class:`ImageError` subclasses.
    """
    if source is None:
        raise EmptyImageError("no image given (None)")
    if isinstance(source, np.ndarray):
        return _from_array(source, max_pixels)
    if isinstance(source, Image.Image):
        return _from_pil(source, max_pixels, "image")
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if not data:
            raise EmptyImageError("image data is empty (0 bytes)")
        return _open_encoded(io.BytesIO(data), max_pixels, "image data")
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        what = f"file '{path.name}'"
        if not path.exists():
            raise ImageError(f"file not found: {path}")
        if not path.is_file():
            raise ImageError(f"not a file: {path}")
        if path.stat().st_size == 0:
            raise EmptyImageError(f"{what} is empty (0 bytes)")
        with open(path, "rb") as fp:
            data = fp.read()
        return _open_encoded(io.BytesIO(data), max_pixels, what)
    if hasattr(source, "read"):
        data = source.read()
        if not data:
            raise EmptyImageError("image stream is empty (0 bytes)")
        return _open_encoded(io.BytesIO(data), max_pixels, "image stream")
    raise UnsupportedImageError(f"cannot read an image from {type(source).__name__}")
