"""PDF and JSON downloads of one computation, the same documents the portal's History serves.

    pdf_path, json_path = write_downloads(download_dir, comp_dict, annotated_path, username)

The files are named like History's downloads (``emotion-<id>-<title-slug>-<stamp>.pdf``)
and written to a private per-computation folder under ``download_dir``; Gradio copies
them into its own cache when they are handed to a DownloadButton, so old ones are pruned.
"""
from __future__ import annotations

import logging
import secrets
import shutil
import time
from pathlib import Path

from portal.analyses.documents import download_name, json_bytes

log = logging.getLogger(__name__)


def pdf_bytes(comp: dict, annotated_path: str | Path | None, username: str) -> bytes:
    from portal.analyses.pdf import build_pdf

    return build_pdf(comp, annotated_path, username=username)


def prune(download_dir: Path, max_age_s: float) -> None:
    """Remove download folders older than ``max_age_s``."""
    if not download_dir.is_dir():
        return
    cutoff = time.time() - max_age_s
    for folder in download_dir.iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            log.warning("could not prune %s", folder.name, exc_info=True)


def write_downloads(download_dir: Path, comp: dict, annotated_path: str | Path | None,
                    username: str, max_age_s: float = 600) -> tuple[Path, Path]:
    """Write the PDF and JSON of ``comp`` (``db.computation_to_dict`` output); return their paths."""
    download_dir = Path(download_dir)
    prune(download_dir, max_age_s)
    folder = download_dir / f"{comp['id']}-{secrets.token_hex(8)}"
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    pdf_path = folder / download_name(comp, "pdf")
    pdf_path.write_bytes(pdf_bytes(comp, annotated_path, username))
    json_path = folder / download_name(comp, "json")
    json_path.write_bytes(json_bytes(comp, username))
    log.debug("downloads for computation %s written in %.0f ms", comp["id"],
              (time.perf_counter() - t0) * 1000)
    return pdf_path, json_path
