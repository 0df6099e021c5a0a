"""bf16 autocast and channels_last against fp32 on this CPU (issue 17, part 6): training steps/s and the accuracy
after the same short budget, for the default recipe (vgg_small on the FER+ votes, warm-started from the FER2013
model). Writes docs/results/precision.{json,md}.

    python -m train.precision_bench [--limit-train 6000] [--epochs 2]
"""
from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import torch

from .config import build_config
from .engine import fit
from .models import create_model

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
VARIANTS = [("fp32", False, False), ("fp32 + channels_last", False, True), ("bf16", True, False),
            ("bf16 + channels_last", True, True)]


def steps_per_second(bf16: bool, channels_last: bool, batch: int = 128, steps: int = 8) -> float:
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = create_model("vgg_small").to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 1, 48, 48).contiguous(memory_format=fmt)
    y = torch.randint(0, 7, (batch,))

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        opt.zero_grad(); loss.backward(); opt.step()

    step(); step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - t)


def short_run(bf16: bool, channels_last: bool, limit_train: int, epochs: int, out: Path) -> dict:
    cfg = build_config(str(ROOT / "train/configs/vgg_small_ferplus.yaml"), [
        f"bf16={str(bf16).lower()}", f"channels_last={str(channels_last).lower()}", f"limit_train={limit_train}",
        f"epochs={epochs}", "ema_decay=0.0", f"out_dir={out}", f"name=b{int(bf16)}c{int(channels_last)}", "threads=1"])
    t = time.perf_counter()
    best = fit(cfg, progress=False)
    return {"ferplus_accuracy": best["ferplus_accuracy"], "fer2013_accuracy": best["val_acc"],
            "minutes": round((time.perf_counter() - t) / 60, 2)}


def to_markdown(rows: list[dict], limit_train: int, epochs: int) -> str:
    lines = [f"Training steps/s (vgg_small, batch 128, one thread) and PublicTest accuracy after the same short budget "
             f"({epochs} epochs on {limit_train} Training faces, FER+ votes, warm start from the FER2013 model; "
             "`python -m train.precision_bench`):", "",
             "| variant | steps/s | FER+ majority acc | FER2013-label acc | minutes |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['variant']} | {r['steps_per_second']:.2f} | {100 * r['ferplus_accuracy']:.2f}% | "
                     f"{100 * r['fer2013_accuracy']:.2f}% | {r['minutes']} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit-train", type=int, default=6000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "docs" / "results"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, bf16, cl in VARIANTS:
            row = {"variant": name, "steps_per_second": steps_per_second(bf16, cl)}
            row.update(short_run(bf16, cl, args.limit_train, args.epochs, Path(tmp)))
            log.info("%s: %s", name, row)
            rows.append(row)
    out = Path(args.out)
    (out / "precision.json").write_text(json.dumps(rows, indent=1))
    (out / "precision.md").write_text(to_markdown(rows, args.limit_train, args.epochs))
    print(to_markdown(rows, args.limit_train, args.epochs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
