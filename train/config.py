"""One training configuration (nanoGPT style): a dataclass, YAML on disk, ``--set key=value`` on top."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from realtime.paths import fer2013_csv

from .augment import AugmentConfig

DEFAULT_DATA = str(fer2013_csv())  # $FER2013_CSV or ../shared/data/fer2013/fer2013.csv.gz


class ConfigError(ValueError):
    pass


@dataclass
class TrainConfig:
    name: str = "run"
    data: str = DEFAULT_DATA
    model: str = "resnet18"
    model_kwargs: dict = field(default_factory=dict)
    init_from: str = ""  # a best.pt/last.pt, or a shipped .onnx, whose weights start the run (warm restart)
    teacher: str = ""  # distillation: an ONNX model (with its ensemble.json members when teacher_ensemble)
    teacher_ensemble: bool = True  # use every member of the ensemble.json that lists the teacher
    teacher_tta: str = "full"  # the teacher's views: off | flip | full
    kd_alpha: float = 0.5  # weight of the distillation loss (1 - kd_alpha: cross-entropy with the labels)
    kd_temperature: float = 2.0
    targets: str = "labels"  # labels (FER2013's) | votes (FER+ vote distribution) | mix (votes + vote_mix x labels)
    ferplus: str = ""  # FER+ votes file (default: ../shared/data/ferplus/ferplus_votes.csv.gz when targets use votes)
    vote_mix: float = 0.0  # targets=mix: weight of FER2013's label in the loss (1 - vote_mix: the votes)
    select: str = "auto"  # best.pt by: fer2013 (label accuracy) | ferplus (FER+ majority accuracy); auto: by targets
    ema_decay: float = 0.0  # exponential moving average of the weights per step (0: off); best of raw/EMA is kept
    epochs: int = 30
    batch_size: int = 128
    optimizer: str = "sgd"  # sgd | adamw
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    warmup_epochs: float = 1.0
    schedule: str = "onecycle"  # onecycle | cosine
    label_smoothing: float = 0.1
    mixup: float = 0.0
    cutmix: float = 0.0
    class_weighting: str = "none"  # none | sqrt_inverse | inverse
    drop_blank: bool = True  # drop near-blank training images found by the audit
    drop_cross_duplicates: bool = True  # drop training images whose exact copy is in a validation/test split
    augment: dict = field(default_factory=dict)  # overrides of AugmentConfig
    val_fraction: float = 0.1  # used only when the source has no Usage column
    test_fraction: float = 0.1
    seed: int = 0
    threads: int = 0  # 0: all cores
    bf16: bool = True  # bfloat16 autocast on CPUs with AMX/AVX512-BF16
    channels_last: bool = True
    limit_train: int = 0  # use only N training images (smoke tests, benchmarks)
    limit_val: int = 0
    max_minutes: float = 0.0  # stop after this wall time (benchmarks); 0: no limit
    out_dir: str = "runs"
    workers_note: str = ""  # free text kept with the run

    def augment_config(self) -> AugmentConfig:
        valid = {f.name for f in fields(AugmentConfig)}
        bad = sorted(set(self.augment) - valid)
        if bad:
            raise ConfigError(f"unknown augment key(s) {bad}; valid choices: {', '.join(sorted(valid))}")
        return dataclasses.replace(AugmentConfig(), **{k: tuple(v) if isinstance(v, list) else v for k, v in self.augment.items()})

    @property
    def uses_votes(self) -> bool:
        return self.targets != "labels" or bool(self.ferplus)

    @property
    def select_metric(self) -> str:
        if self.select != "auto":
            return self.select
        return "fer2013" if self.targets == "labels" else "ferplus"

    @property
    def run_dir(self) -> Path:
        return Path(self.out_dir) / self.name

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _coerce(name: str, text: str, current):
    """Parse a ``--set`` value to the type of the field's current value."""
    value = yaml.safe_load(text)
    if isinstance(current, float) and isinstance(value, str):
        try:  # YAML 1.1 reads "1e-9" (no dot) as a string
            value = float(value)
        except ValueError:
            pass
    if isinstance(current, bool) and not isinstance(value, bool):
        raise ConfigError(f"{name}: expected true/false, got {text!r}")
    if isinstance(current, float) and isinstance(value, int):
        value = float(value)
    if current is not None and not isinstance(value, type(current)):
        raise ConfigError(f"{name}: expected a {type(current).__name__}, got {text!r}")
    return value


def build_config(path: str | None = None, overrides: list[str] = (), base: dict | None = None) -> TrainConfig:
    """Defaults <- YAML file <- ``key=value`` overrides, with errors naming the bad key."""
    values: dict = dict(base or {})
    if path:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        try:
            loaded = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p}: invalid YAML: {exc}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{p}: expected a mapping of key: value")
        values.update(loaded)
    valid = {f.name: f for f in fields(TrainConfig)}
    defaults = TrainConfig()
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value")
        key, text = item.split("=", 1)
        if key not in valid:
            raise ConfigError(f"unknown config key {key!r}; valid keys: {', '.join(sorted(valid))}")
        values[key] = _coerce(key, text, values.get(key, getattr(defaults, key)))
    bad = sorted(set(values) - set(valid))
    if bad:
        raise ConfigError(f"unknown config key(s) {bad}; valid keys: {', '.join(sorted(valid))}")
    cfg = TrainConfig(**values)
    cfg.augment_config()
    if cfg.teacher and (cfg.mixup or cfg.cutmix):
        raise ConfigError("teacher (distillation) cannot be combined with mixup/cutmix: set one of them to 0")
    if not 0.0 <= cfg.kd_alpha <= 1.0 or cfg.kd_temperature <= 0:
        raise ConfigError("kd_alpha must be within 0..1 and kd_temperature above 0")
    if not 0.0 <= cfg.ema_decay < 1.0:
        raise ConfigError(f"ema_decay must be within 0 (off) and 1 (exclusive), not {cfg.ema_decay}")
    from .models import list_models
    if cfg.model not in list_models():
        raise ConfigError(f"unknown model {cfg.model!r}; valid choices: {', '.join(list_models())}")
    for key, choices in (("optimizer", ("sgd", "adamw")), ("schedule", ("onecycle", "cosine")),
                         ("class_weighting", ("none", "sqrt_inverse", "inverse")),
                         ("targets", ("labels", "votes", "mix")), ("select", ("auto", "fer2013", "ferplus"))):
        if getattr(cfg, key) not in choices:
            raise ConfigError(f"{key}: {getattr(cfg, key)!r} is not one of {', '.join(choices)}")
    if not 0.0 <= cfg.vote_mix <= 1.0:
        raise ConfigError(f"vote_mix must be within 0..1, not {cfg.vote_mix}")
    return cfg
