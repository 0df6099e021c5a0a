"""Parse once, then load from a binary cache keyed by content hash and parser version."""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np

from realtime.paths import data_cache_dir

from .data import PACKED_SUFFIX, DataError, FaceSet, read_csv, read_folder, read_packed

log = logging.getLogger(__name__)

# Bump whenever parsing or validation changes what a source decodes to.
PARSER_VERSION = 2
DEFAULT_CACHE_DIR = data_cache_dir()


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def source_key(path: Path) -> str:
    """Content hash of a file, or of a folder's listing (paths, sizes, mtimes)."""
    if path.is_file():
        return file_sha256(path)
    h = hashlib.sha256()
    for f in sorted(path.rglob("*")):
        if f.is_file():
            st = f.stat()
            h.update(f"{f.relative_to(path)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def load_faces(path: str | Path, cache_dir: str | Path | None = DEFAULT_CACHE_DIR,
               skip_invalid: bool = False, progress: bool = True) -> FaceSet:
    """Load any supported source, through the cache when ``cache_dir`` is set."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    key = source_key(path)
    cache_file = None
    if cache_dir is not None:
        tag = f"{path.name}-{key[:16]}-v{PARSER_VERSION}{'-skip' if skip_invalid else ''}.npz"
        cache_file = Path(cache_dir) / tag
        if cache_file.is_file():
            try:
                with np.load(cache_file, allow_pickle=False) as z:
                    meta = json.loads(str(z["meta"]))
                    faces = FaceSet(z["images"], z["labels"], z["usage"], z["lines"], str(path),
                                    meta.get("refs"), [tuple(s) for s in meta.get("skipped", [])])
                log.debug("loaded %d faces from cache %s", len(faces), cache_file)
                if faces.skipped:
                    log.warning("%s: %d invalid row(s) were skipped when this cache was built (lines %s)",
                                path, len(faces.skipped), ", ".join(str(l) for l, _ in faces.skipped[:20]))
                faces.sha256 = key
                return faces
            except (OSError, ValueError, KeyError) as exc:
                log.warning("ignoring unreadable cache %s (%s); re-parsing", cache_file, exc)
    if path.is_dir():
        faces = read_folder(path, skip_invalid)
    elif path.name.endswith(PACKED_SUFFIX):
        faces = read_packed(path)
    else:
        faces = read_csv(path, skip_invalid, progress)
    faces.sha256 = key
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(".tmp.npz")
        meta = json.dumps({"refs": faces.refs, "skipped": faces.skipped, "source_sha256": key})
        np.savez(tmp, images=faces.images, labels=faces.labels, usage=faces.usage, lines=faces.lines,
                 meta=np.array(meta))
        os.replace(tmp, cache_file)
        log.info("cached %d faces in %s", len(faces), cache_file)
    return faces
