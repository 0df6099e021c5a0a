"""The timeline chart of a video: one band per track, coloured by the emotion it showed at
each moment, slate gray where the face was uncertain (server-side SVG with matplotlib; no script
in the page)."""
from __future__ import annotations

import io
import logging
from typing import Any, Iterable

from realtime import UNCERTAIN

log = logging.getLogger(__name__)

MAX_TRACKS = 20  # the longest-seen tracks; the table lists all of them


def _segments(timeline: Iterable[dict[str, Any]], track_ids: set[int],
              step: float) -> dict[int, dict[str, list[tuple[float, float]]]]:
    """Per track: emotion (or "uncertain") -> [(start, duration)] runs (consecutive analysed frames
    merged); one pass over the timeline (it may be read from disk as it goes)."""
    runs: dict[int, dict[str, list[tuple[float, float]]]] = {k: {} for k in track_ids}
    current: dict[int, tuple[str, float, float]] = {}
    for entry in timeline:
        t = entry["t"]
        for face in entry["faces"]:
            k = face["track_id"]
            if k not in runs:
                continue
            run = current.get(k)
            shown = UNCERTAIN if face.get("uncertain") else face["emotion"]
            if run and run[0] == shown and t - run[2] <= 1.5 * step:
                current[k] = (run[0], run[1], t)
                continue
            if run:
                runs[k].setdefault(run[0], []).append((run[1], run[2] - run[1] + step))
            current[k] = (shown, t, t)
    for k, run in current.items():
        runs[k].setdefault(run[0], []).append((run[1], run[2] - run[1] + step))
    return runs


def timeline_chart(doc: dict[str, Any], timeline: Iterable[dict[str, Any]] | None = None, fmt: str = "svg") -> bytes:
    """The chart of a result document (``realtime.video_records``) as SVG or PNG; ``timeline``
    (default: the document's) may be an iterator, e.g. ``iter_timeline_csv``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from realtime import PALETTE, UNCERTAIN_RGB, color_for

    video = doc["video"]
    step = 1.0 / (video.get("sample_fps") or video["fps"] or 25.0)
    tracks = sorted(doc["tracks"], key=lambda t: -t["frames"])[:MAX_TRACKS]
    tracks.sort(key=lambda t: t["track_id"])
    fig, ax = plt.subplots(figsize=(9, 0.45 * max(len(tracks), 2) + 1.2))
    segments = _segments(doc["timeline"] if timeline is None else timeline, {t["track_id"] for t in tracks}, step)
    for row, track in enumerate(tracks):
        for emotion, spans in segments[track["track_id"]].items():
            colour = tuple(c / 255 for c in color_for(emotion))
            ax.broken_barh(spans, (row - 0.4, 0.8), facecolors=colour)
    ax.set_yticks(range(len(tracks)), [f"#{t['track_id']}" for t in tracks])
    ax.set_ylim(-0.6, max(len(tracks), 1) - 0.4)
    ax.set_xlim(0, max(video["duration_s"], step))
    ax.invert_yaxis()
    ax.set_xlabel("time (s)")
    ax.set_ylabel("track")
    legend = {**PALETTE, UNCERTAIN: UNCERTAIN_RGB}
    ax.legend(handles=[Patch(color=tuple(c / 255 for c in rgb), label=e) for e, rgb in legend.items()],
              ncol=8, loc="upper center", bbox_to_anchor=(0.5, 1.25), frameon=False, fontsize=8)
    if not tracks:
        ax.text(0.5, 0.5, "no face found", transform=ax.transAxes, ha="center", va="center")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format=fmt, dpi=150)
    plt.close(fig)
    return out.getvalue()
