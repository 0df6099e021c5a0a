"""``python -m train <command>``: audit, preview, fit, bench, evaluate, export, report."""
from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from pathlib import Path

from realtime.logsetup import configure_logging
from realtime.paths import DOCS_RESULTS, LOGS_DIR, ONNX_DIR, ROOT, fer2013_csv

log = logging.getLogger("train")


def cmd_audit(args) -> int:
    from .audit import audit, format_report
    from .cache import load_faces
    from .splits import split_indices

    faces = load_faces(args.path, skip_invalid=args.skip_invalid)
    rep = audit(faces, split_indices(faces, args.val_fraction, args.test_fraction, args.seed))
    print(format_report(rep))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(rep, indent=1))
        print(f"\nFindings written to {args.json}")
    return 0


def cmd_pack(args) -> int:
    from .cache import load_faces
    from .data import write_packed

    out = write_packed(load_faces(args.path, skip_invalid=args.skip_invalid), args.out, tuple(args.usage))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


def cmd_preview(args) -> int:
    from .preview import write_preview

    write_preview(args.path, Path(args.out), n=args.n, seed=args.seed)
    print(f"wrote {args.out}")
    return 0


def cmd_fit(args) -> int:
    from .config import build_config
    from .engine import fit

    if args.resume:
        run_dir = Path(args.resume)
        if not (run_dir / "config.yaml").is_file():
            raise SystemExit(f"error: --resume {run_dir}: no config.yaml there (is it a run folder made by `fit`?)")
        cfg = build_config(str(run_dir / "config.yaml"), args.set)
        cfg.out_dir, cfg.name = str(run_dir.parent), run_dir.name
    else:
        cfg = build_config(args.config, args.set)
    best = fit(cfg, resume=Path(args.resume) if args.resume else None)
    print(json.dumps(best, indent=1))
    return 0


def cmd_bench(args) -> int:
    from .bench import run_bench, speed_table

    if args.speed_only:
        print(json.dumps(speed_table(args.models.split(","), Path(args.out) / "speed.json"), indent=1))
        return 0
    rows = run_bench(args.models.split(","), args.epochs, args.limit_train, Path(args.out), args.set,
                     measure_speed=not args.no_speed)
    print(json.dumps(rows, indent=1))
    return 0


def cmd_export(args) -> int:
    from .export import export_checkpoint

    onnx_file, meta = export_checkpoint(Path(args.checkpoint), Path(args.out_dir), args.name,
                                        temperature=args.temperature)
    print(f"wrote {onnx_file} and {meta}")
    return 0


def cmd_evaluate(args) -> int:
    if args.pipeline:
        from .evaluate import run_pipeline
        from .pipeline_eval import format_pipeline, format_rolls

        result = run_pipeline(args)
        print(format_rolls(result) if "rolls" in result else format_pipeline(result))
        return 0
    from .evaluate import format_metrics, run_evaluate

    print(format_metrics(run_evaluate(args)))
    return 0


def cmd_calibrate(args) -> int:
    from .consensus import format_result, run

    print(format_result(run(args)))
    return 0


def cmd_variants(args) -> int:
    from .variants import measure

    for r in measure([Path(d) for d in args.runs], args.data, Path(args.out)):
        print(f"{r['variant']:<70} acc {r['accuracy']:.4f}  macro-F1 {r['macro_f1']:.4f}")
    return 0


def cmd_ensembles(args) -> int:
    from .ensembles import measure, write

    rows = measure(args.models, args.data, args.usage)
    write(rows, Path(args.json) if args.json else None)
    for r in rows[: args.top]:
        print(f"{r['accuracy']:.4f}  macro-F1 {r['macro_f1']:.4f}  {r['views']:<4}  {' + '.join(r['models'])}")
    return 0


def cmd_report(args) -> int:
    from .report import write_report

    print(f"wrote {write_report(Path(args.out), refresh=not args.no_refresh)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m train", description="FER2013 data, training, evaluation and export.")
    p.add_argument("--log-file", default=str(LOGS_DIR / "train.log"), help="log file (default: %(default)s); '' for none")
    p.add_argument("--log-level", default="INFO")
    sub = p.add_subparsers(dest="command", required=True)
    for add in (_add_audit, _add_pack, _add_preview, _add_fit, _add_bench, _add_export, _add_evaluate, _add_calibrate, _add_variants, _add_ensembles, _add_report):
        add(sub)
    return p


def _data_opts(sp) -> None:
    sp.add_argument("--skip-invalid", action="store_true", help="skip malformed rows (reported) instead of failing")
    sp.add_argument("--val-fraction", type=float, default=0.1, help="validation share when there is no Usage column")
    sp.add_argument("--test-fraction", type=float, default=0.1, help="test share when there is no Usage column")
    sp.add_argument("--seed", type=int, default=0)


def _add_audit(sub) -> None:
    a = sub.add_parser("audit", help="class counts per split and data-quality findings")
    a.add_argument("path", help="fer2013.csv[.gz], train.csv, test.csv or an image folder")
    a.add_argument("--json", help="write the findings to this JSON file")
    _data_opts(a)
    a.set_defaults(func=cmd_audit)


def _add_pack(sub) -> None:
    pk = sub.add_parser("pack", help="a compact lzma copy of the faces (uint8) to train from elsewhere")
    pk.add_argument("path", help="any layout the loader reads")
    pk.add_argument("--out", required=True, help="output file, ending in .npz.xz")
    pk.add_argument("--usage", action="append", default=[], choices=["Training", "PublicTest", "PrivateTest"],
                    help="keep only these splits (repeatable; default: all)")
    pk.add_argument("--skip-invalid", action="store_true")
    pk.set_defaults(func=cmd_pack)


def _add_preview(sub) -> None:
    pr = sub.add_parser("preview", help="grid of original vs augmented faces")
    pr.add_argument("path")
    pr.add_argument("--out", default="grid.png")
    pr.add_argument("--n", type=int, default=8, help="faces per grid")
    pr.add_argument("--seed", type=int, default=0)
    pr.set_defaults(func=cmd_preview)


def _add_fit(sub) -> None:
    f = sub.add_parser("fit", help="train a model (resumable; a checkpoint every epoch)")
    f.add_argument("--config", help="YAML config (see train/configs/)")
    f.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    f.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its last checkpoint")
    f.set_defaults(func=cmd_fit)


def _add_bench(sub) -> None:
    b = sub.add_parser("bench", help="compare backbones under the same short budget")
    b.add_argument("--models", default="vgg_small,mobilenet_v3_small,resnet18,vgg")
    b.add_argument("--epochs", type=int, default=3)
    b.add_argument("--limit-train", type=int, default=10000)
    b.add_argument("--out", default="runs/bench")
    b.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    b.add_argument("--no-speed", action="store_true", help="skip the timing columns (when other jobs share the CPU)")
    b.add_argument("--speed-only", action="store_true", help="only throughput, size and inference speed (no training)")
    b.set_defaults(func=cmd_bench)


def _add_export(sub) -> None:
    e = sub.add_parser("export", help="checkpoint -> onnx/<name>.onnx + metadata JSON")
    e.add_argument("checkpoint", help="a best.pt written by fit")
    e.add_argument("--out-dir", default=str(ONNX_DIR))
    e.add_argument("--name", default="emotion")
    e.add_argument("--temperature", type=float, default=1.0,
                   help="divide the logits by this before the softmax (from `train calibrate`)")
    e.set_defaults(func=cmd_export)


def _add_evaluate(sub) -> None:
    ev = sub.add_parser("evaluate", help="evaluate the exported ONNX model through onnxruntime")
    ev.add_argument("--data", required=True, help="any layout the loader reads")
    ev.add_argument("--model", help="ONNX file (default: onnx/emotion.onnx)")
    ev.add_argument("--usage", help="only rows of this Usage (Training, PublicTest, PrivateTest)")
    ev.add_argument("--tta", action="store_true", help="the best configuration: flip TTA (+ ensemble if shipped)")
    ev.add_argument("--ferplus", help="FER+ votes CSV aligned with --data's rows: also score against the annotators' "
                                      "majority (default: the shared votes file when --data is the shared fer2013.csv.gz)")
    ev.add_argument("--json", help="write the metrics JSON here")
    ev.add_argument("--cm-png", help="confusion-matrix PNG (default: beside --json)")
    ev.add_argument("--skip-invalid", action="store_true")
    ev.add_argument("--pipeline", action="store_true",
                    help="the whole app pipeline: faces upscaled and placed in larger images, detected, cropped, "
                         "classified; beside the classifier alone on the same faces")
    ev.add_argument("--limit", type=int, default=0, help="--pipeline: a fixed random subset of this many faces")
    ev.add_argument("--labels", choices=["fer2013", "ferplus"], default="fer2013",
                    help="--pipeline: score against FER2013's labels or the FER+ annotators' majority")
    ev.add_argument("--seed", type=int, default=0, help="--pipeline: subset and placement seed")
    ev.add_argument("--detector", default=None, help="--pipeline: detector (default: the app's photo detector)")
    ev.add_argument("--rolls", default=None, metavar="DEGREES",
                    help="--pipeline: the faces turned by each roll, e.g. 0,15,-15,30,-30, each with and without "
                         "the upright correction (crops turned from the eye keypoints)")
    ev.set_defaults(func=cmd_evaluate)


def _add_calibrate(sub) -> None:
    c = sub.add_parser("calibrate", help="reliability against the FER+ votes, temperature, the 'uncertain' threshold")
    c.add_argument("--model", default="onnx/emotion.onnx")
    c.add_argument("--data", default=str(fer2013_csv()))
    c.add_argument("--ferplus", help="FER+ votes CSV (default: ../shared/data/ferplus/ferplus_votes.csv.gz)")
    c.add_argument("--out-dir", default="docs/results", help="calibration_<model>.json here ('' for none)")
    c.add_argument("--figures", default="docs/figures")
    c.add_argument("--write", action="store_true", help="write the chosen rule into the model's metadata JSON")
    c.set_defaults(func=cmd_calibrate)


def _add_variants(sub) -> None:
    v = sub.add_parser("variants", help="PublicTest accuracy of test-time variants and ensembles of runs")
    v.add_argument("runs", nargs="+", help="run folders (each with best.pt); the first is the default model")
    v.add_argument("--data", default=str(fer2013_csv()))
    v.add_argument("--out", default=str(DOCS_RESULTS / "variants.json"))
    v.set_defaults(func=cmd_variants)


def _add_ensembles(sub) -> None:
    e = sub.add_parser("ensembles", help="accuracy of every exported model and every ensemble of them (1/2/10 views)")
    e.add_argument("models", nargs="+", help="ONNX files (each with its metadata JSON)")
    e.add_argument("--data", default=str(fer2013_csv()))
    e.add_argument("--usage", default="PublicTest")
    e.add_argument("--json", help="write every row here")
    e.add_argument("--top", type=int, default=20, help="rows printed")
    e.set_defaults(func=cmd_ensembles)


def _add_report(sub) -> None:
    r = sub.add_parser("report", help="regenerate docs/REPORT.md from saved results")
    r.add_argument("--out", default=str(ROOT / "docs" / "REPORT.md"))
    r.add_argument("--no-refresh", action="store_true", help="only the saved docs/results, not runs/ or the data")
    r.set_defaults(func=cmd_report)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_file or None, args.log_level, max_bytes=5_000_000, backups=3)
    warnings.filterwarnings("ignore", message=".*TensorFloat32.*")
    from .config import ConfigError
    from .data import DataError
    try:
        return args.func(args)
    except (DataError, ConfigError, FileNotFoundError) as exc:
        log.error("%s", exc)
        print(f"error: {exc}", file=sys.stderr)
        return 2
