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
from .config import TrainConfig
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
    votes = _votes_for(cfg, faces)
    if votes is not None and cfg.targets != "labels":
        usable = votes.usable()[train_idx]
        dropped["no_usable_votes"] = int((keep & ~usable).sum())  # not a face, or not in FER+
        keep &= usable
    train_idx = train_idx[keep]
    if cfg.limit_train:
        train_idx = np.random.default_rng(cfg.seed).permutation(train_idx)[:cfg.limit_train]
    if cfg.limit_val:
        val_idx = np.sort(np.random.default_rng(cfg.seed).permutation(val_idx)[:cfg.limit_val])
    log.info("training on %d images, validating on %d; dropped from training: %s", len(train_idx), len(val_idx), dropped)
    data = {
        "x_train": torch.from_numpy(faces.images[train_idx]), "y_train": torch.from_numpy(faces.labels[train_idx].astype(np.int64)),
        "x_val": torch.from_numpy(faces.images[val_idx]), "y_val": torch.from_numpy(faces.labels[val_idx].astype(np.int64)),
        "dropped": dropped, "data_sha256": faces.sha256,
    }
    if votes is not None:
        dist, maj = votes.distribution(), votes.majority()
        data.update({"v_train": torch.from_numpy(dist[train_idx]), "v_val": dist[val_idx], "maj_val": maj[val_idx]})
    return data


def _votes_for(cfg: TrainConfig, faces):
    """FER+ votes aligned with ``faces`` (None when the run does not use them)."""
    if not cfg.uses_votes:
        return None
    from .ferplus import Votes, default_path, read_votes
    rows = faces.lines.astype(np.int64) - 2  # line 1 is the header; row 0 is line 2
    if rows.min() < 0:
        raise DataError(f"{cfg.data}: FER+ votes need fer2013.csv rows (a CSV source), not {faces.source}")
    votes = read_votes(cfg.ferplus or default_path(), int(rows.max()) + 1)
    return Votes(votes.counts[rows], votes.source)


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


def _build_model(cfg: TrainConfig, x_train: torch.Tensor, dev: torch.device, resume: bool) -> torch.nn.Module:
    model = create_model(cfg.model, len(CLASSES), **cfg.model_kwargs).to(dev)
    if cfg.init_from and not resume:
        src = Path(cfg.init_from)
        if not src.is_file():
            raise FileNotFoundError(f"init_from: checkpoint not found: {src}")
        if src.suffix == ".onnx":
            from .onnx_init import load_fused_onnx
            calib = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(cfg.seed))[:4096]
            load_fused_onnx(model, src, normalise(x_train[calib].float().div(255.0).unsqueeze(1), MEAN, STD).to(dev))
        else:
            model.load_state_dict(torch.load(src, map_location=dev, weights_only=False)["model"])
            log.info("weights initialised from %s", src)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


def _build_optimizer(cfg: TrainConfig, model, total_steps: int):
    if cfg.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, nesterov=True, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.schedule == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total_steps,
                                                    pct_start=min(0.3, cfg.warmup_epochs / max(cfg.epochs, 1)))
    else:
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps)
    return opt, sched


def _build_ema(cfg: TrainConfig, model):
    if not cfg.ema_decay:
        return None
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay), use_buffers=True)


def teacher_targets(cfg: TrainConfig, data: dict, run_dir: Path) -> torch.Tensor | None:
    """The teacher's probabilities for every training face (clean image, ``teacher_tta`` views),
    computed once per run through the engine's classifier and kept in the run folder."""
    if not cfg.teacher:
        return None
    x_train = data["x_train"]
    cached = run_dir / "teacher_probs.npy"
    if cached.is_file():
        probs = np.load(cached)
        if probs.shape[0] == len(x_train):
            return torch.from_numpy(probs)
    from realtime.classifier import load_ensemble
    teacher = load_ensemble(cfg.teacher, tta_ensemble=cfg.teacher_ensemble)
    t0 = time.time()
    probs = teacher.predict(x_train.numpy(), tta=cfg.teacher_tta).astype(np.float32)
    log.info("teacher %s (%s views) on %d training faces in %.0f s; its accuracy on them %.4f", teacher.names,
             cfg.teacher_tta, len(x_train), time.time() - t0, float((probs.argmax(1) == data["y_train"].numpy()).mean()))
    np.save(cached, probs)
    return torch.from_numpy(probs)


def _loss(cfg: TrainConfig, logits, ya, yb, lam, weights, soft, votes=None):
    loss = lam * F.cross_entropy(logits, ya, weight=weights, label_smoothing=cfg.label_smoothing)
    if lam < 1:
        loss = loss + (1 - lam) * F.cross_entropy(logits, yb, weight=weights, label_smoothing=cfg.label_smoothing)
    if votes is not None:  # cross-entropy to the annotators' vote distribution (FER+'s "probabilistic" target)
        vote_ce = -(votes * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
        loss = vote_ce if cfg.targets == "votes" else (1 - cfg.vote_mix) * vote_ce + cfg.vote_mix * loss
    if soft is None:
        return loss
    t = cfg.kd_temperature
    target = F.softmax(soft.clamp_min(1e-8).log() / t, dim=1)
    kd = F.kl_div(F.log_softmax(logits / t, dim=1), target, reduction="batchmean") * t * t
    return (1 - cfg.kd_alpha) * loss + cfg.kd_alpha * kd


def _train_epoch(cfg, epoch, model, ema, opt, sched, data, soft_all, weights, gen, dev, progress) -> dict:
    x_train, y_train = data["x_train"], data["y_train"]
    aug_cfg = cfg.augment_config()
    steps = max(1, len(x_train) // cfg.batch_size)
    model.train()
    t0 = time.time()
    perm = torch.randperm(len(x_train), generator=gen)
    seen = loss_sum = correct = 0
    bar = range(steps)
    if progress:
        from tqdm import tqdm
        bar = tqdm(bar, desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False, mininterval=2.0)
    for step in bar:
        idx = perm[step * cfg.batch_size:(step + 1) * cfg.batch_size]
        x = normalise(augment(x_train[idx], aug_cfg, gen), MEAN, STD)
        x, ya, yb, lam = mix_batch(x, y_train[idx], gen, cfg.mixup, cfg.cutmix)
        x, ya, yb = x.to(dev), ya.to(dev), yb.to(dev)
        if cfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cfg.bf16):
            logits = model(x)
        logits = logits.float()
        soft = soft_all[idx].to(dev) if soft_all is not None else None
        votes = data["v_train"][idx].to(dev) if cfg.targets != "labels" else None
        loss = _loss(cfg, logits, ya, yb, lam, weights, soft, votes)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if ema is not None:
            ema.update_parameters(model)
        seen += len(idx); loss_sum += loss.item() * len(idx)
        correct += int((logits.argmax(1) == ya).sum())
        if progress and step % 10 == 0:
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}", lr=f"{sched.get_last_lr()[0]:.4f}")
    seconds = time.time() - t0
    return {"train_loss": loss_sum / seen, "train_acc": correct / seen, "epoch_seconds": round(seconds, 1),
            "images_per_second": round(seen / seconds, 1)}


def _validate(model, cfg: TrainConfig, data: dict) -> tuple[dict, dict, float]:
    probs = predict(model, data["x_val"], cfg)
    val_loss = float(F.nll_loss(probs.clamp_min(1e-8).log(), data["y_val"]))
    val = summarize(confusion_matrix(data["y_val"].numpy(), probs.argmax(1).numpy(), len(CLASSES)), CLASSES)
    if "v_val" in data:
        from .ferplus import metrics as ferplus_metrics
        val.update(ferplus_metrics(probs.numpy(), data["v_val"], data["maj_val"]))
    return val, evaluate_split(model, data["x_val"], data["y_val"], cfg, tta=True), val_loss


def _score(cfg: TrainConfig, val: dict) -> float:
    """The number best.pt is chosen by (PublicTest): FER2013-label accuracy or FER+ majority accuracy."""
    return val["ferplus_accuracy"] if cfg.select_metric == "ferplus" else val["accuracy"]


def _resume_state(last: Path, dev, model, ema, opt, sched, gen, cfg, steps_per_epoch, total_steps):
    ck = torch.load(last, map_location=dev, weights_only=False)
    model.load_state_dict(ck["model"]); opt.load_state_dict(ck["optimizer"])
    if ema is not None and ck.get("ema"):
        ema.load_state_dict(ck["ema"])
    gen.set_state(ck["generator"]); torch.set_rng_state(ck["torch_rng"])
    if ck["scheduler"].get("total_steps", total_steps) == total_steps:
        sched.load_state_dict(ck["scheduler"])
    else:  # `--resume DIR --set epochs=N`: the same schedule shape, stretched or shrunk to N epochs
        for _ in range(min(ck["epoch"] * steps_per_epoch, total_steps - 1)):
            sched.step()
        log.info("schedule re-fitted to %d epochs; LR now %.4f", cfg.epochs, sched.get_last_lr()[0])
    return ck["epoch"], ck["history"], ck["best"]


def fit(cfg: TrainConfig, resume: Path | None = None, progress: bool = True) -> dict:
    """Train ``cfg``; returns the best validation metrics. Resumes from ``resume`` (a run folder).

    Steps: data -> teacher targets (distillation) -> model (warm start) -> optimiser/schedule/EMA ->
    (resume) -> epochs of train + validate (raw weights and their EMA) -> best.pt, last.pt, metrics, curves.
    """
    torch.manual_seed(cfg.seed); np.random.seed(cfg.seed); random.seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    run_dir = Path(resume) if resume else cfg.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    data = prepare_data(cfg)
    dev = device()
    soft_all = teacher_targets(cfg, data, run_dir)
    model = _build_model(cfg, data["x_train"], dev, resume=bool(resume))
    steps_per_epoch = max(1, len(data["x_train"]) // cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    opt, sched = _build_optimizer(cfg, model, total_steps)
    ema = _build_ema(cfg, model)
    weights = class_weights(data["y_train"], cfg.class_weighting)
    weights = weights.to(dev) if weights is not None else None
    gen = torch.Generator().manual_seed(cfg.seed)
    start_epoch, history, best = 0, [], {"val_acc": -1.0}
    last = run_dir / "last.pt"
    if resume and last.is_file():
        start_epoch, history, best = _resume_state(last, dev, model, ema, opt, sched, gen, cfg, steps_per_epoch, total_steps)
        log.info("resumed %s at epoch %d (best PublicTest acc so far %.4f)", run_dir, start_epoch, best["val_acc"])
    log.info("model %s: %.2fM parameters; %d epochs x %d steps on %s%s%s", cfg.model, count_params(model) / 1e6,
             cfg.epochs, steps_per_epoch, dev, f"; distilling from {cfg.teacher}" if cfg.teacher else "",
             f"; EMA {cfg.ema_decay}" if ema is not None else "")
    t_start = time.time()
    for epoch in range(start_epoch, cfg.epochs):
        row = {"epoch": epoch + 1, **_train_epoch(cfg, epoch, model, ema, opt, sched, data, soft_all, weights, gen, dev, progress)}
        best = _end_of_epoch(cfg, row, model, ema, data, history, best, run_dir, sched)
        torch.save({"model": model.state_dict(), "ema": ema.state_dict() if ema is not None else None,
                    "optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "generator": gen.get_state(),
                    "torch_rng": torch.get_rng_state(), "epoch": epoch + 1, "history": history, "best": best},
                   run_dir / "last.tmp")
        (run_dir / "last.tmp").replace(last)
        _save_history(history, best, cfg, data, run_dir)
        if cfg.max_minutes and (time.time() - t_start) / 60 > cfg.max_minutes:
            log.info("stopping after %.1f min (max_minutes=%s)", (time.time() - t_start) / 60, cfg.max_minutes)
            break
    return best


def _end_of_epoch(cfg, row, model, ema, data, history, best, run_dir: Path, sched) -> dict:
    """Validate the raw weights (and their EMA), log the epoch, keep the best as best.pt."""
    candidates = [("raw", model)] + ([("ema", ema.module)] if ema is not None else [])
    scored = [(name, net, *_validate(net, cfg, data)) for name, net in candidates]
    for name, _net, val, val_tta, val_loss in scored:
        prefix = "" if name == "raw" else "ema_"
        row.update({f"{prefix}val_loss": val_loss, f"{prefix}val_acc": val["accuracy"],
                    f"{prefix}val_macro_f1": val["macro_f1"], f"{prefix}val_acc_tta": val_tta["accuracy"]})
        for key in ("ferplus_accuracy", "annotator_agreement", "vote_cross_entropy"):
            if key in val:
                row[f"{prefix}val_{key}"] = val[key]
    row["lr"] = sched.get_last_lr()[0]
    history.append(row)
    log.info("epoch %d/%d  loss %.3f  train acc %.3f  PublicTest acc %.4f (flip TTA %.4f)  macro-F1 %.4f%s%s  %.0f s, %.0f img/s",
             row["epoch"], cfg.epochs, row["train_loss"], row["train_acc"], row["val_acc"], row["val_acc_tta"],
             row["val_macro_f1"], f"  EMA {row['ema_val_acc']:.4f}" if ema is not None else "",
             "".join(f"  {k[4:]} {row[k]:.4f}" for k in row if "ferplus_acc" in k or "agreement" in k),
             row["epoch_seconds"], row["images_per_second"])
    name, net, val, val_tta, _ = max(scored, key=lambda s: _score(cfg, s[2]))
    if _score(cfg, val) > best.get("score", best["val_acc"]):
        best = {"val_acc": val["accuracy"], "val_macro_f1": val["macro_f1"], "val_acc_tta": val_tta["accuracy"],
                "epoch": row["epoch"], "weights": name, "select": cfg.select_metric, "score": _score(cfg, val),
                **{k: val[k] for k in ("ferplus_accuracy", "annotator_agreement", "vote_cross_entropy") if k in val}}
        torch.save({"model": net.state_dict(), "config": cfg.to_dict(), "epoch": row["epoch"], "weights": name,
                    "metrics": val, "metrics_tta": val_tta, "data_sha256": data["data_sha256"],
                    "dropped": data["dropped"]}, run_dir / "best.pt")
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

