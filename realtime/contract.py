"""The model contract: an ONNX file plus the metadata JSON beside it (``emotion.onnx`` + ``emotion.json``).

One schema, read and written here only:

    meta = ModelMetadata(classes=[...], input=InputSpec(48, 48), name="emotion-vgg_small", version="...")
    write(onnx_file, meta)                 # train/export.py, research/devmodel.py: fills sha256, size, file
    meta = load(onnx_file)                 # realtime/classifier.py: parses and verifies (checksum, format)
    meta.uncertainty_rule                  # when a face is "uncertain" (optional ``uncertainty`` block, else the default)

and one definition of test-time augmentation (TTA): views are ``(dx, dy, mirrored)`` —
the face, optionally mirrored, optionally shifted by the pixel offsets in :data:`TTA_SHIFTS`
(``tta.shifts`` in the metadata).  The classifier (numpy), ``train.engine.predict`` and
``train.variants`` (torch) all take their views from :func:`tta_views` and cut them with
:func:`view_window`, so training, evaluation and the app average the same views.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import numbers
from dataclasses import dataclass, field
from pathlib import Path

#: version of this metadata schema; :func:`load` refuses any other
FORMAT_VERSION = 1
#: input normalisation the models are trained with (``(x/255 - MEAN) / STD``), written into the metadata
MEAN, STD = 0.5, 0.5
#: pixel shifts of the "full" TTA (each also mirrored, plus the unshifted face)
TTA_SHIFTS: tuple[tuple[int, int], ...] = ((2, 0), (-2, 0), (0, 2), (0, -2))
TTA_MODES = ("off", "flip", "full")
#: rules a model's ``uncertainty`` block may name (realtime/uncertainty.py applies them)
UNCERTAINTY_RULES = ("top_probability_below",)
#: the threshold used when a model's metadata has no ``uncertainty`` block: a face whose most
#: likely emotion has less than this probability is reported as uncertain (docs/realtime.md)
DEFAULT_UNCERTAINTY_THRESHOLD = 0.5


class ModelError(RuntimeError):
    """The model file or its metadata is missing, unusable or does not match; the message names the file."""


@dataclass(frozen=True)
class View:
    dx: int
    dy: int
    mirrored: bool


def tta_views(mode: bool | str | None, shifts=TTA_SHIFTS) -> list[View]:
    """The views of a TTA mode: False/None/"off" (1), True/"flip"/"on" (face + mirror), or
    "full" (unshifted and ``shifts``, each also mirrored: 10 views with the default shifts)."""
    if mode in (False, None, "off"):
        return [View(0, 0, False)]
    if mode in (True, "flip", "on"):
        return [View(0, 0, False), View(0, 0, True)]
    if mode == "full":
        offsets = [(0, 0)] + [(int(dx), int(dy)) for dx, dy in shifts]
        return [View(dx, dy, m) for dx, dy in offsets for m in (False, True)]
    raise ValueError(f"unknown TTA mode {mode!r}; valid choices: {', '.join(TTA_MODES)}")


def view_pad(views: list[View]) -> int:
    """Edge padding needed to cut every view from a padded batch."""
    return max([abs(v) for view in views for v in (view.dx, view.dy)] + [0])


def view_window(view: View, pad: int, height: int, width: int) -> tuple[slice, slice]:
    """(rows, cols) of ``view`` in a batch padded by ``pad`` on each side: the face moved by
    (dx, dy) pixels (right/down positive).  Mirroring is left to the caller (numpy ``[..., ::-1]``,
    ``torch.flip(x, dims=[-1])``)."""
    return (slice(pad - view.dy, pad - view.dy + height), slice(pad - view.dx, pad - view.dx + width))


@dataclass(frozen=True)
class UncertaintyRule:
    """When a face's answer is doubtful; the optional ``uncertainty`` block of the metadata, e.g.
    ``{"rule": "top_probability_below", "threshold": 0.55, "chosen_on": "PublicTest: ...", "note": "..."}``
    (``chosen_on`` and ``note`` say how the threshold was chosen; free text)."""

    rule: str = "top_probability_below"
    threshold: float = DEFAULT_UNCERTAINTY_THRESHOLD
    chosen_on: str = ""
    note: str = ""

    def to_dict(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if v != "" or k == "rule"}


#: the rule of a model whose metadata has no ``uncertainty`` block
DEFAULT_UNCERTAINTY = UncertaintyRule(chosen_on="default (no uncertainty block in the model metadata)")


def parse_uncertainty(raw, where: str = "metadata") -> UncertaintyRule:
    """The ``uncertainty`` block of a metadata JSON (None: :data:`DEFAULT_UNCERTAINTY`); a malformed
    block raises :class:`ModelError` naming ``where`` and the field."""
    if raw is None:
        return DEFAULT_UNCERTAINTY
    if isinstance(raw, UncertaintyRule):
        return raw
    fields = [f.name for f in dataclasses.fields(UncertaintyRule)]
    if not isinstance(raw, dict):
        raise ModelError(f"{where}: 'uncertainty' must be a JSON object like "
                         f'{{"rule": "top_probability_below", "threshold": 0.5}}, got {type(raw).__name__}')
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ModelError(f"{where}: 'uncertainty' has unknown field(s) {', '.join(unknown)}; "
                         f"known: {', '.join(fields)}")
    rule, threshold = raw.get("rule"), raw.get("threshold")
    if rule not in UNCERTAINTY_RULES:
        raise ModelError(f"{where}: 'uncertainty.rule' is {rule!r}; known rules: {', '.join(UNCERTAINTY_RULES)}")
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not 0.0 < threshold <= 1.0:
        raise ModelError(f"{where}: 'uncertainty.threshold' must be a number in (0, 1], got {threshold!r}")
    for key in ("chosen_on", "note"):
        if not isinstance(raw.get(key, ""), str):
            raise ModelError(f"{where}: 'uncertainty.{key}' must be text, got {type(raw[key]).__name__}")
    return UncertaintyRule(rule, float(threshold), raw.get("chosen_on", ""), raw.get("note", ""))


@dataclass
class InputSpec:
    height: int
    width: int
    channels: int = 1
    color: str = "gray"
    layout: str = "NCHW"
    dtype: str = "float32"
    scale: float = 1 / 255.0
    mean: list[float] = field(default_factory=lambda: [MEAN])
    std: list[float] = field(default_factory=lambda: [STD])
    name: str = "input"


@dataclass
class ModelMetadata:
    """What the JSON beside an ONNX file says.  ``architecture``, ``training``, ``data`` and ``metrics``
    are free-form; fields this schema does not know are kept in ``extra`` and written back."""

    classes: list[str]
    input: InputSpec
    name: str = ""
    version: str = "unknown"
    output: dict = field(default_factory=lambda: {"name": "probabilities", "kind": "probabilities"})
    tta: dict = field(default_factory=lambda: {"hflip": True, "shifts": [list(s) for s in TTA_SHIFTS]})
    palette: dict[str, str] | None = None
    uncertainty: UncertaintyRule | None = None  # None: DEFAULT_UNCERTAINTY (not written)
    format_version: int = FORMAT_VERSION
    file: str = ""
    sha256: str = ""
    size_bytes: int = 0
    exported: str = ""
    architecture: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    epoch: int | None = None
    data: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def tta_shifts(self) -> list[tuple[int, int]]:
        return [tuple(s) for s in self.tta.get("shifts", [])]

    def views(self, mode: bool | str | None) -> list[View]:
        return tta_views(mode, self.tta_shifts)

    @property
    def uncertainty_rule(self) -> UncertaintyRule:
        """The model's rule for an uncertain face, or the documented default."""
        return self.uncertainty or DEFAULT_UNCERTAINTY

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        extra = out.pop("extra")
        for key in ("palette", "uncertainty"):
            if out[key] is None:
                del out[key]
        if self.uncertainty is not None:
            out["uncertainty"] = self.uncertainty.to_dict()
        return {**out, **extra}

    @classmethod
    def from_dict(cls, raw: dict, where: str = "metadata") -> "ModelMetadata":
        if not isinstance(raw, dict):
            raise ModelError(f"{where}: expected a JSON object, got {type(raw).__name__}")
        for key in ("classes", "input", "output", "format_version"):
            if key not in raw:
                raise ModelError(f"{where}: missing field '{key}'")
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        values = {k: v for k, v in raw.items() if k in known}
        try:
            values["input"] = InputSpec(**raw["input"])
            values["classes"] = [str(c) for c in raw["classes"]]
            values["format_version"] = int(raw["format_version"])
            if raw.get("uncertainty") is not None:
                values["uncertainty"] = parse_uncertainty(raw["uncertainty"], where)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{where}: bad field: {exc}") from exc
        if not values["classes"]:
            raise ModelError(f"{where}: 'classes' is empty")
        return cls(**values, extra={k: v for k, v in raw.items() if k not in known})


def metadata_path(model_path: str | Path) -> Path:
    return Path(model_path).with_suffix(".json")


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write(onnx_file: str | Path, meta: ModelMetadata) -> Path:
    """Write ``meta`` beside ``onnx_file`` with the file's name, size, sha256 and the export time
    filled in; returns the JSON path."""
    onnx_file = Path(onnx_file)
    if meta.uncertainty is not None:  # refused now rather than by every later load
        meta.uncertainty = parse_uncertainty(dataclasses.asdict(meta.uncertainty), str(metadata_path(onnx_file)))
    meta.file = onnx_file.name
    meta.sha256 = file_sha256(onnx_file)
    meta.size_bytes = onnx_file.stat().st_size
    meta.format_version = FORMAT_VERSION
    meta.exported = meta.exported or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    out = metadata_path(onnx_file)
    out.write_text(json.dumps(meta.to_dict(), indent=1))
    return out


def read(onnx_file: str | Path) -> ModelMetadata:
    """Parse the JSON beside ``onnx_file`` (no checks against the ONNX file; see :func:`load`)."""
    meta_file = metadata_path(onnx_file)
    if not meta_file.is_file():
        raise ModelError(f"metadata not found: {meta_file} (it must sit beside the ONNX file)")
    try:
        raw = json.loads(meta_file.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"{meta_file}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    return ModelMetadata.from_dict(raw, where=str(meta_file))


def verify(onnx_file: str | Path, meta: ModelMetadata) -> None:
    """Raise :class:`ModelError` naming the file unless ``meta`` describes ``onnx_file``: the format
    version is :data:`FORMAT_VERSION` and the sha256 matches the file's bytes."""
    onnx_file = Path(onnx_file)
    meta_file = metadata_path(onnx_file)
    if meta.format_version != FORMAT_VERSION:
        raise ModelError(f"{meta_file}: format_version {meta.format_version} is not supported "
                         f"(this code reads version {FORMAT_VERSION}); re-export the model")
    if not meta.sha256:
        raise ModelError(f"{meta_file}: missing field 'sha256' (the checksum of {onnx_file.name})")
    actual = file_sha256(onnx_file)
    if actual != meta.sha256:
        raise ModelError(f"{onnx_file}: sha256 {actual[:12]}... does not match {meta_file.name} "
                         f"({meta.sha256[:12]}...): the model file and its metadata belong to different exports")


def load(onnx_file: str | Path) -> ModelMetadata:
    """The verified metadata of ``onnx_file`` (:func:`read` then :func:`verify`)."""
    onnx_file = Path(onnx_file)
    if not onnx_file.is_file():
        raise ModelError(f"model file not found: {onnx_file} (export one with `python -m train export`)")
    meta = read(onnx_file)
    verify(onnx_file, meta)
    return meta
