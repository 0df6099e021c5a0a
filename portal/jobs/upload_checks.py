"""Checks on what a user uploads for a job, before and while it is written to disk (issue 18).

Photos of a batch (plain files or zip members) are checked in this order, and the first failing
check refuses the whole upload (the caller removes what was written):

1. a zip's directory: each photo member's declared size (``MAX_PHOTO_BYTES``), its compression
   ratio (``MAX_ZIP_RATIO``: photos barely compress, a zip bomb compresses a thousand times), and
   the declared sizes together against the batch's budget (:class:`Budget`) - nothing written yet;
2. each photo's first bytes: a JPEG, PNG, WebP or BMP header, else refused before it is written;
3. while copying: a hard cap on the bytes actually written (a member or a body that lies about
   its size is cut off at the cap), and a damaged member is refused with a message, never a 500.

The budget of a batch is ``BATCH_MAX_MB`` and what is left of ``BATCH_USER_MAX_MB`` after the
photos already waiting in the owner's unfinished batches (``held_upload_bytes``).
"""
from __future__ import annotations

import logging
import lzma
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

log = logging.getLogger(__name__)

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
MAX_PHOTO_BYTES = 25 * 1024 * 1024
MAX_ZIP_RATIO = 50  # photos (JPEG, PNG, WebP) compress ~1:1 in a zip, a 24-bit BMP photo ~3:1
RATIO_CHECK_FROM = 1024 * 1024  # small members may compress well (a flat test image)
HEAD_BYTES = 64 * 1024
CHUNK = 1024 * 1024
# what a damaged or lying zip raises (bad CRC or sizes, truncated or unknown compression, encrypted)
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, NotImplementedError, RuntimeError,
              ValueError, OSError)


class UploadError(ValueError):
    """The upload is refused; the message says why.  ``reason``: "format" (not a video/photo we
    read), "size" (over a limit), "busy" (over a per-account limit on what is waiting: try again
    when some of it is done) or "invalid" (anything else), for the API's status codes."""

    def __init__(self, message: str, reason: str = "invalid"):
        super().__init__(message)
        self.reason = reason


class OverLimit(Exception):
    """More bytes than the limit given to :func:`copy_limited` (nothing more was written)."""


def mb(n: int) -> str:
    return f"{n / 2**20:,.0f}"


def copy_limited(src: BinaryIO, dest: Path, limit: int, head: bytes = b"") -> int:
    """Copy ``head`` + the rest of ``src`` to ``dest``, at most ``limit`` bytes (OverLimit beyond)."""
    size = 0
    with open(dest, "wb") as out:
        chunk = head or src.read(CHUNK)
        while chunk:
            size += len(chunk)
            if size > limit:
                raise OverLimit(dest)
            out.write(chunk)
            chunk = src.read(CHUNK)
    return size


def image_kind(head: bytes) -> str | None:
    """"JPEG", "PNG", "WebP" or "BMP" from a file's first bytes, else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head[:2] == b"BM" and len(head) >= 26:
        return "BMP"
    return None


@dataclass
class Budget:
    """Bytes a batch may still write: ``left``, and why not more (``limit_message``)."""

    left: int
    limit_message: str
    reason: str = "size"

    def spend(self, n: int) -> None:
        self.left -= n

    def refuse(self) -> UploadError:
        return UploadError(self.limit_message, self.reason)


def held_upload_bytes(data_dir: Path, owner_id: int) -> int:
    """Bytes of photos waiting in the owner's batches (``batches/<owner>/*/uploads``): a batch's
    photos are removed once it is done, cancelled or failed."""
    base = Path(data_dir) / "batches" / str(int(owner_id))
    return sum(p.stat().st_size for p in base.glob("*/uploads/*") if p.is_file()) if base.is_dir() else 0


def batch_budget(data_dir: Path, owner_id: int, batch_max_bytes: int, user_max_bytes: int) -> Budget:
    """The budget of a new batch (UploadError at once when the owner's share is used up)."""
    held = held_upload_bytes(data_dir, owner_id)
    user_left = user_max_bytes - held
    user_message = (f"your unfinished photo batches already hold {mb(held)} MB of photos and this batch would "
                    f"go over the limit of {mb(user_max_bytes)} MB per account (BATCH_USER_MAX_MB): wait for "
                    "them to finish, or cancel some")
    if user_left <= 0:
        raise UploadError(user_message, "busy")
    if user_left < batch_max_bytes:
        return Budget(user_left, user_message, "busy")
    return Budget(batch_max_bytes, f"the photos of this batch add up to more than {mb(batch_max_bytes)} MB "
                                   "once unpacked (BATCH_MAX_MB): send fewer photos per batch")


def store_photo(name: str, stream: BinaryIO, dest: Path, budget: Budget) -> int:
    """Check the photo's header, then write it to ``dest`` within its cap and the budget."""
    head = stream.read(HEAD_BYTES)
    if image_kind(head) is None:
        raise UploadError(f"{name} is not a JPEG, PNG, WebP or BMP image (its first bytes say otherwise)", "format")
    limit = min(MAX_PHOTO_BYTES, budget.left)
    try:
        size = copy_limited(stream, dest, limit, head)
    except OverLimit:
        if limit < MAX_PHOTO_BYTES:
            raise budget.refuse() from None
        raise UploadError(f"{name} is larger than the limit of {mb(MAX_PHOTO_BYTES)} MB per photo", "size") from None
    budget.spend(size)
    return size


def _zip_members(name: str, stream: BinaryIO, budget: Budget) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """The photo members of a zip, checked from its directory alone (nothing decompressed)."""
    try:
        archive = zipfile.ZipFile(stream)
        members = [m for m in archive.infolist() if not m.is_dir() and Path(m.filename).suffix.lower() in PHOTO_SUFFIXES]
    except ZIP_ERRORS:
        raise UploadError(f"'{name}' is not a readable zip file", "format") from None
    for m in members:
        where = f"'{m.filename}' in '{name}'"
        if m.file_size > MAX_PHOTO_BYTES:
            raise UploadError(f"{where} is larger than the limit of {mb(MAX_PHOTO_BYTES)} MB per photo", "size")
        if m.file_size > RATIO_CHECK_FROM and m.file_size > MAX_ZIP_RATIO * max(m.compress_size, 1):
            raise UploadError(f"{where} is compressed {m.file_size // max(m.compress_size, 1):,} times; photos "
                              f"compress less than {MAX_ZIP_RATIO} times (a zip bomb?)", "size")
    if sum(m.file_size for m in members) > budget.left:
        raise budget.refuse()
    return archive, members


def photos_from(files: Iterable[tuple[str, BinaryIO]], max_photos: int, budget: Budget,
                dest_dir: Path) -> Iterator[tuple[str, Path]]:
    """Store every photo of ``files`` (plain files and the photos inside zip files) in ``dest_dir``
    as 0001.jpg, 0002.png, ...; yields (the name the user gave it, where it was written)."""
    count = 0
    for name, stream in files:
        suffix = Path(name).suffix.lower()
        if suffix == ".zip":
            archive, members = _zip_members(name, stream, budget)
            sources = ((m.filename, f"'{m.filename}' in '{name}'", archive, m) for m in members)
        elif suffix in PHOTO_SUFFIXES:
            sources = iter([(name, f"'{name}'", None, stream)])
        else:
            raise UploadError(f"'{name}' is neither a photo ({', '.join(PHOTO_SUFFIXES)}) nor a zip of photos",
                              "format")
        for member_name, label, archive, src in sources:
            count += 1
            if count > max_photos:
                raise UploadError(f"a batch holds at most {max_photos} photos (BATCH_MAX_PHOTOS)", "size")
            dest = dest_dir / f"{count:04d}{Path(member_name).suffix.lower()}"
            _store_one(label, archive, src, dest, budget)
            yield Path(member_name).name, dest


def _store_one(label: str, archive: zipfile.ZipFile | None, src, dest: Path, budget: Budget) -> None:
    if archive is None:
        store_photo(label, src, dest, budget)
        return
    try:
        with archive.open(src) as fh:
            store_photo(label, fh, dest, budget)
    except UploadError:
        raise
    except ZIP_ERRORS as exc:  # damaged, or its sizes or checksum do not match its data
        raise UploadError(f"{label} is damaged ({exc}); nothing was stored", "format") from None
