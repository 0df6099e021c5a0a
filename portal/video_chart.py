"""The timeline chart of a video: one band per track, coloured by the emotion it showed at
each moment (server-side SVG with matplotlib; no script in the page)."""
from __future__ import annotations

import io
import logging
from typing import Any

log = logging.getLogger(__name__)

MAX_TRACKS = 20  # the longest-seen tracks; the table lists all of them


def _segments(timeline: list[dict[str, Any]], track_id: int, step: float) -> dict[str, list[tuple[float, float]]]:
    """Emotion -> [(start, duration)] runs of one track (consecutive analysed frames merged)."""
    runs: dict[str, list[tuple[float, float]]] = {}
    current: tuple[str, float, float] | None = None
    for entry in timeline:
        face = next((f for f in entry["faces"] if f["track_id"] == track_id), None)
        if face is None:
            continue
        t = entry["t"]
        if current and current[0] == face["emotion"] and t - current[2] <= 1.5 * step:
            current = (current[0], current[1], t)
            continue
        if current:
            runs.setdefault(current[0], []).append((current[1], current[2] - current[1] + step))
        current = (face["emotion"], t, t)
    if current:
        runs.setdefault(current[0], []).append((current[1], current[2] - current[1] + step))
    return runs


def timeline_chart(doc: dict[str, Any], fmt: str = "svg") -> bytes:
    """The chart of a result document (``realtime.video_records``) as SVG or PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from realtime.palette import PALETTE, color_for

    video = doc["video"]
    step = 1.0 / (video.get("sample_fps") or video["fps"] or 25.0)
    tracks = sorted(doc["tracks"], key=lambda t: -t["frames"])[:MAX_TRACKS]
    tracks.sort(key=lambda t: t["track_id"])
    fig, ax = plt.subplots(figsize=(9, 0.45 * max(len(tracks), 2) + 1.2))
    for row, track in enumerate(tracks):
        for emotion, spans in _segments(doc["timeline"], track["track_id"], step).items():
            colour = tuple(c / 255 for c in color_for(emotion))
            ax.broken_barh(spans, (row - 0.4, 0.8), facecolors=colour)
    ax.set_yticks(range(len(tracks)), [f"#{t['track_id']}" for t in tracks])
    ax.set_ylim(-0.6, max(len(tracks), 1) - 0.4)
    ax.set_xlim(0, max(video["duration_s"], step))
    ax.invert_yaxis()
    ax.set_xlabel("time (s)")
    ax.set_ylabel("track")
    ax.legend(handles=[Patch(color=tuple(c / 255 for c in rgb), label=e) for e, rgb in PALETTE.items()],
              ncol=7, loc="upper center", bbox_to_anchor=(0.5, 1.25), frameon=False, fontsize=8)
    if not tracks:
        ax.text(0.5, 0.5, "no face found", transform=ax.transAxes, ha="center", va="center")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format=fmt, dpi=150)
    plt.close(fig)
    return out.getvalue()
