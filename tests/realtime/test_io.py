"""Input decoding and validation: formats, sources, EXIF orientation, limits, bad input."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from realtime.io import (
    CorruptImageError,
    EmptyImageError,
    ImageError,
    ImageTooLargeError,
    UnsupportedImageError,
    load_image,
)


def _gradient(w=64, h=48) -> np.ndarray:
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None, None]
    return np.concatenate([np.broadcast_to(x, (h, w, 1)), np.broadcast_to(y, (h, w, 1)),
                           np.full((h, w, 1), 128, np.float32)], axis=2).astype(np.uint8)


def _encode(arr: np.ndarray, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP"])
def test_formats_from_bytes_path_and_file(fmt, tmp_path):
    arr = _gradient()
    data = _encode(arr, fmt)
    path = tmp_path / f"x.{fmt.lower()}"
    path.write_bytes(data)
    for src in (data, path, str(path), io.BytesIO(data), bytearray(data)):
        img = load_image(src)
        assert img.rgb.shape == (48, 64, 3) and img.rgb.dtype == np.uint8
        assert img.format == fmt
        tol = 12 if fmt in ("JPEG", "WEBP") else 0
        assert np.abs(img.rgb.astype(int) - arr).mean() <= tol


def test_arrays_gray_rgb_rgba_and_pil():
    arr = _gradient()
    assert load_image(arr).rgb.shape == (48, 64, 3)
    gray = load_image(arr[:, :, 0])
    assert gray.rgb.shape == (48, 64, 3) and np.array_equal(gray.rgb[:, :, 0], arr[:, :, 0])
    rgba = np.concatenate([arr, np.full((48, 64, 1), 255, np.uint8)], axis=2)
    assert np.array_equal(load_image(rgba).rgb, arr)
    assert np.array_equal(load_image(Image.fromarray(arr)).rgb, arr)


def test_exif_orientation_is_applied():
    arr = _gradient(80, 40)  # landscape
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    img = load_image(_encode(arr, "JPEG", exif=exif, quality=95))
    assert img.exif_transposed
    assert img.rgb.shape == (80, 40, 3)  # shown as portrait
    # the left column of the stored image is now the top row
    assert np.abs(img.rgb[0, :, 1].astype(int) - arr[::-1, 0, 1]).mean() < 12


def test_pixel_limit_is_checked_before_decoding():
    data = _encode(np.zeros((300, 400, 3), np.uint8), "PNG")
    with pytest.raises(ImageTooLargeError, match=r"400x300 = 120,000 pixels, above the limit of 100,000"):
        load_image(data, max_pixels=100_000)
    assert load_image(data, max_pixels=120_000).width == 400
    with pytest.raises(ImageTooLargeError, match="above the limit"):
        load_image(np.zeros((300, 400, 3), np.uint8), max_pixels=1000)


def test_empty_inputs(tmp_path):
    with pytest.raises(EmptyImageError, match="empty"):
        load_image(b"")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(EmptyImageError, match="'empty.jpg' is empty"):
        load_image(empty)
    with pytest.raises(EmptyImageError, match="no pixels"):
        load_image(np.zeros((0, 10, 3), np.uint8))
    with pytest.raises(EmptyImageError, match="no image"):
        load_image(None)


def test_corrupt_and_non_images(tmp_path):
    jpeg = _encode(_gradient(200, 200), "JPEG")
    with pytest.raises(CorruptImageError, match="corrupt or truncated"):
        load_image(jpeg[: len(jpeg) // 2])
    with pytest.raises(UnsupportedImageError, match="not a recognised image"):
        load_image(b"hello, this is a text file\n" * 10)
    with pytest.raises(UnsupportedImageError, match="GIF; accepted formats are JPEG, PNG, WebP, BMP"):
        load_image(_encode(_gradient(), "GIF"))
    with pytest.raises(ImageError, match="file not found"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(UnsupportedImageError, match="must be uint8, got dtype float64"):
        load_image(np.zeros((10, 10, 3)))
    with pytest.raises(UnsupportedImageError, match="got shape"):
        load_image(np.zeros((10, 10, 5), np.uint8))
    with pytest.raises(UnsupportedImageError, match="cannot read an image from int"):
        load_image(42)
    assert issubclass(ImageError, ValueError)
