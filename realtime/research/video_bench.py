"""Video benchmark (bounded; prints markdown for docs/video.md):

    python -m realtime.research.video_bench [--frames 150] [--workers 2] [--long 900]

1. a 640x480 video with one face, every frame analysed: frames/s from the file to the finished
   outputs (decode, detect, track, classify, draw + encode the annotated MP4, JSON/CSV), and
   where the time goes, next to detection + classification alone; ``--workers`` processes in
   parallel (one per core) for the per-worker rate under full load;
2. the same for the room-camera video (480x270, four faces 14-22 px, preset room);
   then each tiled detector on it, every tile every frame and tiles in turn: recall + speed;
3. resident memory along a long video (no frame accumulation: it must stay flat).
"""
from __future__ import annotations

import argparse
import logging
import os
import platform
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .bench import _rss_mb
from ..boxes import iou
from ..config import StreamConfig
from ..pipeline import get_analyzer
from ..stream import Stream
from ..video import VideoConfig, analyse_video
from ..video_io import read_frames
from ..video_records import load_result
from .video_synth import SynthVideo, one_face, room_camera

log = logging.getLogger(__name__)

STAGES = ("decode", "detect", "classify", "track", "draw_encode", "write")


def _one(args: tuple[str, str, str]) -> dict:
    """One full analysis; wall time per stage and the CPU time of the process (all its threads):
    on a machine shared with other work the CPU time still says what a free core would do."""
    path, out, preset = args
    config = VideoConfig(preset=preset)
    get_analyzer(config.pipeline())  # models loaded before the clock starts
    cpu0 = time.process_time()
    result = analyse_video(path, out, config)
    cpu = time.process_time() - cpu0
    stream = Stream(stream_config=config.stream_config(), analyzer=get_analyzer(config.pipeline()))
    frames = [rgb for _, _, rgb in read_frames(path)]
    cpu1 = time.process_time()
    for rgb in frames:  # the same tiles in turn as the job
        stream.process(rgb)
    alone = time.process_time() - cpu1
    return {"frames": result.frames, "cpu": cpu, "cpu_alone": alone, **result.timing_s}


def speed_table(workdir: Path, video: Path, workers: int, presets: list[str]) -> list[str]:
    """Frames/s per worker of ``video`` with each preset, one worker and ``workers`` in parallel."""
    lines = ["| preset (detector, tiles in turn) | workers | frames/s per worker | "
             + " | ".join(f"{s} ms/frame" for s in STAGES)
             + " | detect+classify alone, frames/s | CPU ms/frame, whole job | CPU ms/frame, detect+classify alone |",
             "|---" * (len(STAGES) + 6) + "|"]
    for preset in presets:
        for n in sorted({1, workers}):
            with ProcessPoolExecutor(n) as pool:
                runs = list(pool.map(_one, [(str(video), str(workdir / f"{video.stem}-{preset}-{n}-{k}"), preset)
                                            for k in range(n)]))
            r = runs[0]
            fps = sum(x["frames"] / x["total"] for x in runs) / n
            alone = r["frames"] / (r["detect"] + r["classify"])
            config = VideoConfig(preset=preset)
            det, every = config.pipeline().detector, config.stream_config().tile_every
            lines.append(f"| {preset} ({det}{f', every {every}' if every > 1 else ''}) | {n} | {fps:.1f} | "
                         + " | ".join(f"{1000 * r[s] / r['frames']:.1f}" for s in STAGES)
                         + f" | {alone:.1f} | {1000 * r['cpu'] / r['frames']:.1f} | {1000 * r['cpu_alone'] / r['frames']:.1f} |")
    return lines


def room_table(workdir: Path, frames: int, detectors: list[str], turns: tuple[int, ...] = (1, 2, 3)) -> list[str]:
    """Recall and speed of each detector (every tile every frame), and of the first one with its
    tiles in turn (``tile_every`` 2, 3, ...)."""
    synth = room_camera(frames)
    path = synth.write(workdir / "room.mp4")
    lines = ["| detector | tiles in turn | faces found (14 / 16 / 18 / 22 px) | false boxes | tracks | frames/s |",
             "|---|---|---|---|---|---|"]
    runs = [(det, 1) for det in detectors] + [(detectors[0], k) for k in turns if k > 1]
    for det, every in runs:
        config = VideoConfig(preset="room", detector=det, stream=StreamConfig(tile_every=every))
        result = analyse_video(path, workdir / f"room-{det}-{every}", config)
        doc = load_result(result.files["json"])
        found = {a.face_px: 0 for a in synth.actors}
        false = 0
        for entry in doc["timeline"]:
            truth = synth.truth(entry["frame"])
            for k, box in truth:
                found[synth.actors[k].face_px] += any(iou(box, f["box"]) >= 0.3 for f in entry["faces"])
            false += sum(not any(iou(b, f["box"]) >= 0.3 for _, b in truth) for f in entry["faces"])
        total = sum(found.values())
        per = " / ".join(f"{found[px]}" for px in sorted(found))
        lines.append(f"| {det} | {'every ' + str(every) if every > 1 else 'no'} | {total}/{4 * frames} ({per}, of "
                     f"{frames} each) | {false} | {len(doc['tracks'])} | {result.fps_processed:.1f} |")
    return lines


def memory_table(workdir: Path, frames: int) -> list[str]:
    path = SynthVideo((640, 480), frames, one_face(frames, 0, frames - 1).actors).write(workdir / "long.mp4")
    samples: list[tuple[int, float]] = []

    def sample() -> bool:
        samples.append((len(samples), _rss_mb()))
        return False

    analyse_video(path, workdir / "long", VideoConfig(preset="close"), should_stop=sample)
    marks = sorted({0, 29, frames // 4, frames // 2, 3 * frames // 4, frames - 1})
    return ["| frame | " + " | ".join(str(i) for i in marks) + " |", "|---" * (len(marks) + 1) + "|",
            "| RSS MB | " + " | ".join(f"{samples[i][1]:.0f}" for i in marks) + " |"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m realtime.research.video_bench", description=__doc__.split("\n")[0])
    p.add_argument("--frames", type=int, default=150)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--room-frames", type=int, default=60)
    p.add_argument("--long", type=int, default=900)
    p.add_argument("--presets", nargs="+", default=["close", "default"])
    p.add_argument("--room-detectors", nargs="+", default=["full-tiled3@0.5", "full-tiled3", "full-tiled@0.5", "short-tiled3"])
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        t0 = time.time()
        out = [f"Machine: {platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start.",
               "", f"**640x480, one face, {args.frames} frames, every frame analysed:**", ""]
        one = one_face(args.frames, first=0, last=args.frames - 1).write(work / "one.mp4")
        out += speed_table(work, one, args.workers, args.presets)
        out += ["", f"**Room camera, 480x270, four faces 14-22 px, {args.frames} frames, every frame analysed:**", ""]
        out += speed_table(work, room_camera(args.frames).write(work / "room-speed.mp4"), args.workers, ["room"])
        out += ["", f"**Room camera, 480x270, four faces, {args.room_frames} frames, each detector (every tile every frame):**", ""]
        out += room_table(work, args.room_frames, args.room_detectors)
        out += ["", f"**Memory along a {args.long}-frame 640x480 video (preset close):**", ""]
        out += memory_table(work, args.long)
        out += ["", f"({time.time() - t0:.0f} s in all.)"]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
