"""Start a run from a shipped ONNX model (warm restart / distillation from the product's own weights).

The exporter folds each BatchNorm into the convolution before it, so the ONNX file holds
``z = W_f * x + b_f`` per conv.  To continue training we rebuild conv + BN so that

* in eval mode the network computes exactly what the ONNX file computes, and
* in train mode the batch statistics start where the running statistics are
  (otherwise the first steps would see a different function and lose the model):

conv weight = ``W_f``; for its output ``y`` with per-channel mean ``m`` and std ``s`` measured on
training faces: running_mean = ``m``, running_var = ``s^2 - eps``, gamma = ``s``, beta = ``m + b_f``.
Then BN(y) = s (y - m) / s + m + b_f = y + b_f, the ONNX function.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn

log = logging.getLogger(__name__)


class OnnxInitError(ValueError):
    pass


def _onnx_layers(path: Path) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[tuple[np.ndarray, np.ndarray]]]:
    """(conv weight, bias) and (gemm weight, bias) pairs in graph order."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    convs, gemms = [], []
    for node in graph.node:
        if node.op_type not in ("Conv", "Gemm"):
            continue
        w = inits[node.input[1]]
        b = inits[node.input[2]] if len(node.input) > 2 else np.zeros(w.shape[0], np.float32)
        if node.op_type == "Gemm":
            trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
            gemms.append((w if trans_b else w.T, b))
        else:
            convs.append((w, b))
    return convs, gemms


def _conv_bn_pairs(model: nn.Module) -> list[tuple[nn.Conv2d, nn.BatchNorm2d]]:
    mods = list(model.modules())
    pairs = []
    for a, b in zip(mods, mods[1:]):
        if isinstance(a, nn.Conv2d):
            if not isinstance(b, nn.BatchNorm2d):
                raise OnnxInitError("only conv -> BatchNorm architectures can be rebuilt from a fused ONNX file")
            pairs.append((a, b))
    return pairs


@torch.no_grad()
def load_fused_onnx(model: nn.Module, onnx_path: str | Path, calib: torch.Tensor) -> nn.Module:
    """Load ``onnx_path`` (exported by train.export) into ``model`` (same architecture, float).

    ``calib``: normalised training faces (N,1,H,W) used to measure the conv output statistics.
    """
    onnx_path = Path(onnx_path)
    convs, gemms = _onnx_layers(onnx_path)
    pairs = _conv_bn_pairs(model)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if len(pairs) != len(convs) or len(linears) != len(gemms):
        raise OnnxInitError(f"{onnx_path}: {len(convs)} conv / {len(gemms)} dense layers, but the model has "
                            f"{len(pairs)} / {len(linears)}: not the same architecture")
    for (conv, bn), (w, b) in zip(pairs, convs):
        if tuple(conv.weight.shape) != w.shape:
            raise OnnxInitError(f"{onnx_path}: conv weight {w.shape} does not fit {tuple(conv.weight.shape)}")
        conv.weight.copy_(torch.from_numpy(np.array(w)))
        bn.running_mean.zero_(); bn.running_var.fill_(1.0 - bn.eps)
        bn.weight.fill_(1.0); bn.bias.copy_(torch.from_numpy(np.array(b)))
    for lin, (w, b) in zip(linears, gemms):
        if tuple(lin.weight.shape) != w.shape:
            raise OnnxInitError(f"{onnx_path}: dense weight {w.shape} does not fit {tuple(lin.weight.shape)}")
        lin.weight.copy_(torch.from_numpy(np.array(w))); lin.bias.copy_(torch.from_numpy(np.array(b)))
    _calibrate_bn(model, pairs, calib)
    log.info("weights initialised from %s (%d conv+BN layers rebuilt on %d faces)", onnx_path, len(pairs), len(calib))
    return model


def _calibrate_bn(model: nn.Module, pairs, calib: torch.Tensor) -> None:
    sums = {id(c): [0.0, 0.0, 0] for c, _ in pairs}

    def hook(conv, _inp, out):
        s = sums[id(conv)]
        y = out.double().transpose(0, 1).reshape(out.shape[1], -1)
        s[0] = s[0] + y.sum(1); s[1] = s[1] + (y * y).sum(1); s[2] += y.shape[1]

    handles = [c.register_forward_hook(hook) for c, _ in pairs]
    was_training = model.training
    model.eval()
    try:
        for i in range(0, len(calib), 512):
            model(calib[i:i + 512])
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    for conv, bn in pairs:
        total, total_sq, n = sums[id(conv)]
        mean = total / n
        var = (total_sq / n - mean * mean).clamp_min(bn.eps * 2)
        std = var.sqrt()
        bn.running_mean.copy_(mean.float()); bn.running_var.copy_((var - bn.eps).float())
        bn.bias.add_(mean.float()); bn.weight.copy_(std.float())
