"""Server-side SVG charts of an exhibit's summary (matplotlib, rendered per request; no
JavaScript, no CDN).  A hidden breakdown draws "too few visitors to show" instead.

    svg = render(summary, "emotions")    # emotions | probabilities | timeline | dwell | heatmap
"""
from __future__ import annotations

import io
import threading

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from portal.museum.analytics import EMOTIONS, HIDDEN, UNCERTAIN  # noqa: E402
from realtime import color_for, hex_color  # noqa: E402

CHARTS = ("emotions", "probabilities", "timeline", "dwell", "heatmap")
_lock = threading.Lock()  # pyplot is not thread-safe
_hex = {e: hex_color(color_for(e)) for e in (*EMOTIONS, UNCERTAIN)}


def _message(ax, text: str) -> None:
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=12, color="#555555")


def _bars(ax, values: dict | None, title: str, uncertain: float | None = None) -> None:
    """One bar per emotion; ``uncertain``: the share of faces in no emotion, as a last bar of its own."""
    if values is None:
        return _message(ax, HIDDEN)
    names = list(EMOTIONS) + ([UNCERTAIN] if uncertain is not None else [])
    shown = {**values, UNCERTAIN: uncertain}
    ax.bar(names, [100 * shown[e] for e in names], color=[_hex[e] for e in names])
    ax.set_ylabel("%")
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=30)


def _timeline(ax, summary: dict) -> None:
    entries = summary["timeline"]
    if not entries:
        return _message(ax, "no observations in this period")
    labels = [e["start"][:13].replace("T", " ") + ("h" if "T00" not in e["start"] else "") for e in entries]
    ax.bar(range(len(entries)), [e["visitors"] for e in entries], color="#4c72b0")
    step = max(1, len(entries) // 12)
    ax.set_xticks(range(0, len(entries), step), labels[::step], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("visitors")
    ax.set_title("Visitors over time")


def _dwell(ax, summary: dict) -> None:
    bins = summary["dwell_histogram"]
    if bins is None:
        return _message(ax, HIDDEN)
    if not any(b["visitors"] for b in bins):
        return _message(ax, "no recorded sessions (photos have no dwell time)")
    labels = [f"{b['from_s']:g}-{b['to_s']:g} s" if b["to_s"] else f"{b['from_s']:g}+ s" for b in bins]
    ax.bar(labels, [b["visitors"] for b in bins], color="#55a868")
    ax.set_ylabel("visitors")
    ax.set_title(f"Dwell time (median {summary['dwell_s_median']:.1f} s)"
                 if summary["dwell_s_median"] is not None else "Dwell time")


def _heatmap(ax, summary: dict) -> None:
    heat = summary["heatmap"]
    image = ax.imshow(heat["visitors"], aspect="auto", cmap="Blues")
    ax.set_yticks(range(7), heat["weekdays"])
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    ax.set_xlabel(f"hour of day ({summary['timezone']})")
    ax.set_title("Visitors by weekday and hour")
    ax.figure.colorbar(image, ax=ax, label="visitors")


def render(summary: dict, chart: str) -> bytes:
    """One chart of ``summary`` (:func:`portal.museum.exports.exhibit_summary`) as SVG bytes."""
    if chart not in CHARTS:
        raise ValueError(f"unknown chart {chart!r}")
    with _lock:
        fig, ax = plt.subplots(figsize=(7.5, 3.4 if chart != "heatmap" else 3.8))
        try:
            if chart == "emotions":
                _bars(ax, summary["emotions"], "Dominant emotion (share of faces)", summary.get("uncertain_share"))
            elif chart == "probabilities":
                _bars(ax, summary["mean_probabilities"], "Mean probability per emotion")
            elif chart == "timeline":
                _timeline(ax, summary)
            elif chart == "dwell":
                _dwell(ax, summary)
            else:
                _heatmap(ax, summary)
            fig.tight_layout()
            out = io.BytesIO()
            fig.savefig(out, format="svg", metadata={"Date": None})
            return out.getvalue()
        finally:
            plt.close(fig)
