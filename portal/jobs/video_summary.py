"""A video's result in the shape of a computation, so the photo report (portal.analyses.pdf) prints it:
one row per track (its mean probabilities), the timeline chart in place of the image."""
from __future__ import annotations

from typing import Any

import db


def video_as_computation(video: Any, doc: dict[str, Any]) -> dict[str, Any]:
    tracks = doc["tracks"]
    info = doc["video"]
    faces = [{"emotion": t["dominant_emotion"], "confidence": t["mean_probabilities"][t["dominant_emotion"]],
              "uncertain": bool(t.get("uncertain")), "probabilities": t["mean_probabilities"]} for t in tracks]
    doubtful = sum(t.get("uncertain_frames", 0) for t in tracks)
    notes = (f"Video '{video.filename}': {info['duration_s']:.1f} s, {info['fps']:g} frames/s, "
             f"{info['frames_analysed']} of {info['frames']} frames analysed. Each row of the table is one "
             f"tracked person (#{', #'.join(str(t['track_id']) for t in tracks) or '-'}), with the mean "
             f"probabilities over the frames where they were seen"
             + (f"; {doubtful} of the {sum(t['frames'] for t in tracks)} faces seen were uncertain (no emotion "
                f"reached the model's threshold), counted apart." if doubtful else "."))
    return {
        "title": video.title or video.filename or f"Video {video.id}", "kind": "video",
        "created_at": db.iso(video.created_at),
        "exhibit": video.exhibit, "consent": video.consent,
        "notes": "\n\n".join(n for n in (video.notes, notes) if n),
        "faces_found": len(tracks), "dominant_emotion": video.dominant_emotion,
        "model_version": f"{doc['model']['name']} {doc['model']['version']}",
        "timings_ms": {"total": 1000.0 * doc.get("timing_s", {}).get("total", 0.0)},
        "result": {"faces": faces, "message": "No face was found in this video.",
                   **({"uncertainty": doc["uncertainty"]} if doc.get("uncertainty") else {})},
    }
