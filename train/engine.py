"""The training loop: in-memory uint8 batches, batch augmentation, bf16 autocast, a checkpoint every epoch.

Reads top to bottom: prepare data -> build model/optimiser/schedule -> (resume) ->
epochs of train + validate -> checkpoint, metrics CSV/JSON and curve PNG.
Model selection and the LR schedule use the validation split (PublicTest) only.
"""
from __future__ import annotations

import csv
import json
import logging
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import yaml

from realtime.contract import MEAN, STD, tta_views

from .audit import BLANK_STD
from .augment import augment, mix_batch, normalise
from .cache import load_faces
from .config import TrainConfig, build_config
from .data import CLASSES, DataError
from .metrics import confusion_matrix, summarize
from .models import count_params, create_model
from .splits import TRAIN, VAL, image_hashes, split_indices
from .tta import mean_softmax

log = logging.getLogger(__name__)



def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def prepare_data(cfg: TrainConfig) -> dict:
    """Training and validation arrays after the audit-driven clean-up."""
    faces = load_faces(cfg.data)
    if not faces.has_labels:
        raise DataError(f"{cfg.data}: has no labels; training needs the 'emotion' column or emotion folders")
    splits = split_indices(faces, cfg.val_fraction, cfg.test_fraction, cfg.seed)
    if TRAIN not in splits or VAL not in splits:
        raise DataError(f"{cfg.data}: needs both a Training and a PublicTest (validation) split; found {list(splits)}")
    train_idx, val_idx = splits[TRAIN], splits[VAL]
    dropped = {}
    keep = np.ones(len(train_idx), dtype=bool)
    if cfg.drop_blank:
        std = faces.images[train_idx].reshape(len(train_idx), -1).std(axis=1)
        blank = std < BLANK_STD
        dropped["blank"] = int(blank.sum())
        keep &= ~blank
    if cfg.drop_cross_duplicates:
        hashes = image_hashes(faces.images)
        held_out = set(hashes[np.concatenate([v for k, v in splits.items() if k != TRAIN])])
        dup = np.array([h in held_out for h in hashes[train_idx]])
        dropped["duplicates_of_held_out"] = int(dup.sum())
        keep &= ~dup
    train_idx = train_idx[keep]
    if cfg.limit_train:
        train_idx = np.random.default_rng(cfg.seed).permutation(train_idx)[:cfg.limit_train]
    if cfg.limit_val:
        val_idx = np.sort(np.random.default_rng(cfg.seed).permutation(val_idx)[:cfg.limit_val])
    log.info("training on %d images, validating on %d; dropped from training: %s", len(train_idx), len(val_idx), dropped)
    return {
        "x_train": torch.from_numpy(faces.images[train_idx]), "y_train": torch.from_numpy(faces.labels[train_idx].astype(np.int64)),
        "x_val": torch.from_numpy(faces.images[val_idx]), "y_val": torch.from_numpy(faces.labels[val_idx].astype(np.int64)),
        "dropped": dropped, "data_sha256": faces.sha256,
    }


def class_weights(y: torch.Tensor, mode: str) -> torch.Tensor | None:
    if mode == "none":
        return None
    counts = torch.bincount(y, minlength=len(CLASSES)).float().clamp(min=1)
    w = (counts.sum() / counts) ** (0.5 if mode == "sqrt_inverse" else 1.0)
    return w / (w * counts).sum() * counts.sum()  # mean weight over samples = 1


@torch.no_grad()
def predict(model, x_uint8: torch.Tensor, cfg: TrainConfig, tta: bool = False, batch: int = 512) -> torch.Tensor:
    """Softmax probabilities for uint8 faces (N,H,W)."""
    model.eval()
    out = []
    for i in range(0, len(x_uint8), batch):
        x = normalise(x_uint8[i:i + batch].float().div(255.0).unsqueeze(1), MEAN, STD)
        if cfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16 and x.device.type == "cpu"):
            out.append(mean_softmax(model, x, tta_views("flip" if tta else "off")))
    return torch.cat(out)


def evaluate_split(model, x, y, cfg: TrainConfig, tta: bool = False) -> dict:
    probs = predict(model, x, cfg, tta)
    cm = confusion_matrix(y.numpy(), probs.argmax(1).numpy(), len(CLASSES))
    return summarize(cm, CLASSES)


def _write_curves(history: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = [h["epoch"] for h in history]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    a.plot(ep, [h["train_loss"] for h in history], label="train loss")
    a.plot(ep, [h["val_loss"] for h in history], label="val loss")
    a.set_xlabel("epoch"); a.legend(); a.grid(alpha=.3)
    b.plot(ep, [h["train_acc"] for h in history], label="train acc (augmented)")
    b.plot(ep, [h["val_acc"] for h in history], label="PublicTest acc")
    b.plot(ep, [h["val_acc_tta"] for h in history], label="PublicTest acc, flip TTA")
    b.set_xlabel("epoch"); b.legend(); b.grid(alpha=.3)
    fig.tight_layout(); fig.savefig(path, dpi=110); plt.close(fig)


def fit(cfg: TrainConfig, resume: Path | None = None, progress: bool = True) -> dict:
    """Train ``cfg``; returns the best validation metrics. Resumes from ``resume`` (a run folder)."""
    torch.manual_seed(cfg.seed); np.random.seed(cfg.seed); random.seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    run_dir = Path(resume) if resume else cfg.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    data = prepare_data(cfg)
    x_train, y_train = data["x_train"], data["y_train"]
    dev = device()

    model = create_model(cfg.model, len(CLASSES), **cfg.model_kwargs).to(dev)
    if cfg.init_from and not resume:
        src = Path(cfg.init_from)
        if not src.is_file():
            raise FileNotFoundError(f"init_from: checkpoint not found: {src}")
        model.load_state_dict(torch.load(src, map_location=dev, weights_only=False)["model"])
        log.info("weights initialised from %s", src)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    steps_per_epoch = max(1, len(x_train) // cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    if cfg.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, nesterov=True, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.schedule == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total_steps,
                                                    pct_start=min(0.3, cfg.warmup_epochs / max(cfg.epochs, 1)))
    else:
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps)
    weights = class_weights(y_train, cfg.class_weighting)
    aug_cfg = cfg.augment_config()
    gen = torch.Generator().manual_seed(cfg.seed)

    start_epoch, history, best = 0, [], {"val_acc": -1.0}
    last = run_dir / "last.pt"
    if resume and last.is_file():
        ck = torch.load(last, map_location=dev, weights_only=False)
        model.load_state_dict(ck["model"]); opt.load_state_dict(ck["optimizer"])
        gen.set_state(ck["generator"]); torch.set_rng_state(ck["torch_rng"])
        start_epoch, history, best = ck["epoch"], ck["history"], ck["best"]
        if ck["scheduler"].get("total_steps", total_steps) == total_steps:
            sched.load_state_dict(ck["scheduler"])
        else:  # `--resume DIR --set epochs=N`: the same schedule shape, stretched or shrunk to N epochs
            for _ in range(min(start_epoch * steps_per_epoch, total_steps - 1)):
                sched.step()
            log.info("schedule re-fitted to %d epochs; LR now %.4f", cfg.epochs, sched.get_last_lr()[0])
        log.info("resumed %s at epoch %d (best PublicTest acc so far %.4f)", run_dir, start_epoch, best["val_acc"])
    log.info("model %s: %.2fM parameters; %d epochs x %d steps on %s", cfg.model, count_params(model) / 1e6,
             cfg.epochs, steps_per_epoch, dev)

    t_start = time.time()
    for epoch in range(start_epoch, cfg.epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(len(x_train), generator=gen)
        seen = loss_sum = correct = 0
        bar = range(steps_per_epoch)
        if progress:
            from tqdm import tqdm
            bar = tqdm(bar, desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False, mininterval=2.0)
        for step in bar:
            idx = perm[step * cfg.batch_size:(step + 1) * cfg.batch_size]
            x = normalise(augment(x_train[idx], aug_cfg, gen), MEAN, STD)
            y = y_train[idx]
            x, ya, yb, lam = mix_batch(x, y, gen, cfg.mixup, cfg.cutmix)
            x, ya, yb = x.to(dev), ya.to(dev), yb.to(dev)
            if cfg.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cfg.bf16):
                logits = model(x)
            logits = logits.float()
            w = weights.to(dev) if weights is not None else None
            loss = lam * F.cross_entropy(logits, ya, weight=w, label_smoothing=cfg.label_smoothing)
            if lam < 1:
                loss = loss + (1 - lam) * F.cross_entropy(logits, yb, weight=w, label_smoothing=cfg.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            seen += len(idx); loss_sum += loss.item() * len(idx)
            correct += int((logits.argmax(1) == ya).sum())
            if progress and step % 10 == 0:
                bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}", lr=f"{sched.get_last_lr()[0]:.4f}")
        train_time = time.time() - t0
        probs = predict(model, data["x_val"], cfg)
        val_loss = float(F.nll_loss(probs.clamp_min(1e-8).log(), data["y_val"]))
        val = summarize(confusion_matrix(data["y_val"].numpy(), probs.argmax(1).numpy(), len(CLASSES)), CLASSES)
        val_tta = evaluate_split(model, data["x_val"], data["y_val"], cfg, tta=True)
        row = {"epoch": epoch + 1, "train_loss": loss_sum / seen, "train_acc": correct / seen, "val_loss": val_loss,
               "val_acc": val["accuracy"], "val_macro_f1": val["macro_f1"], "val_acc_tta": val_tta["accuracy"],
               "lr": sched.get_last_lr()[0], "epoch_seconds": round(train_time, 1),
               "images_per_second": round(seen / train_time, 1)}
        history.append(row)
        log.info("epoch %d/%d  loss %.3f  train acc %.3f  PublicTest acc %.4f (flip TTA %.4f)  macro-F1 %.4f  %.0f s, %.0f img/s",
                 epoch + 1, cfg.epochs, row["train_loss"], row["train_acc"], row["val_acc"], row["val_acc_tta"],
                 row["val_macro_f1"], train_time, row["images_per_second"])
        if val["accuracy"] > best["val_acc"]:
            best = {"val_acc": val["accuracy"], "val_macro_f1": val["macro_f1"], "val_acc_tta": val_tta["accuracy"], "epoch": epoch + 1}
            torch.save({"model": model.state_dict(), "config": cfg.to_dict(), "epoch": epoch + 1, "metrics": val,
                        "metrics_tta": val_tta, "data_sha256": data["data_sha256"], "dropped": data["dropped"]}, run_dir / "best.pt")
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                    "generator": gen.get_state(), "torch_rng": torch.get_rng_state(), "epoch": epoch + 1,
                    "history": history, "best": best}, run_dir / "last.tmp")
        (run_dir / "last.tmp").replace(last)
        _save_history(history, best, cfg, data, run_dir)
        if cfg.max_minutes and (time.time() - t_start) / 60 > cfg.max_minutes:
            log.info("stopping after %.1f min (max_minutes=%s)", (time.time() - t_start) / 60, cfg.max_minutes)
            break
    return best


def _save_history(history, best, cfg, data, run_dir: Path) -> None:
    with open(run_dir / "metrics.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(history[0]))
        w.writeheader(); w.writerows(history)
    (run_dir / "metrics.json").write_text(json.dumps({
        "name": cfg.name, "model": cfg.model, "best": best, "history": history, "dropped": data["dropped"],
        "n_train": len(data["x_train"]), "n_val": len(data["x_val"]), "data_sha256": data["data_sha256"],
        "config": cfg.to_dict()}, indent=1))
    _write_curves(history, run_dir / "curves.png")


def load_run_config(run_dir: Path) -> TrainConfig:
    return build_config(str(Path(run_dir) / "config.yaml"))
