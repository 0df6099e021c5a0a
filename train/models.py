"""Model registry (timm style): ``create_model(name, num_classes=7)``.

Every network takes 1x48x48 gray faces. The torchvision backbones are adapted to
48x48: the 224x224 stems (7x7 stride-2 convolution + max-pool, or stride-2 3x3)
would shrink a 48 px face to 12 px before the first block; here the first
convolution is 3x3 with stride 1 and one input channel.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torchvision import models as tvm

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}


def register(name: str):
    def wrap(fn):
        _REGISTRY[name] = fn
        return fn
    return wrap


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def create_model(name: str, num_classes: int = 7, **kwargs) -> nn.Module:
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; valid choices: {', '.join(list_models())}")
    return _REGISTRY[name](num_classes=num_classes, **kwargs)


def _mobilenet(builder, num_classes: int, dropout: float = 0.2) -> nn.Module:
    net = builder(num_classes=num_classes, dropout=dropout)
    first = net.features[0][0]
    net.features[0][0] = nn.Conv2d(1, first.out_channels, 3, stride=1, padding=1, bias=False)
    return net


@register("mobilenet_v3_small")
def mobilenet_v3_small(num_classes: int = 7, **kw) -> nn.Module:
    return _mobilenet(tvm.mobilenet_v3_small, num_classes, **kw)


@register("mobilenet_v3_large")
def mobilenet_v3_large(num_classes: int = 7, **kw) -> nn.Module:
    return _mobilenet(tvm.mobilenet_v3_large, num_classes, **kw)


def _resnet(builder, num_classes: int, pool_stem: bool = True, dropout: float = 0.0) -> nn.Module:
    net = builder(num_classes=num_classes)
    net.conv1 = nn.Conv2d(1, 64, 3, stride=1, padding=1, bias=False)
    if not pool_stem:  # full 48x48 resolution in the first stage: ~4x the compute
        net.maxpool = nn.Identity()
    if dropout:
        net.fc = nn.Sequential(nn.Dropout(dropout), net.fc)
    return net


@register("resnet18")
def resnet18(num_classes: int = 7, **kw) -> nn.Module:
    return _resnet(tvm.resnet18, num_classes, **kw)


@register("resnet34")
def resnet34(num_classes: int = 7, **kw) -> nn.Module:
    return _resnet(tvm.resnet34, num_classes, **kw)


class VGGFace(nn.Module):
    """VGG-style net as used for FER2013 (Khaireddin & Chen 2021, 'VGGNet' 73.28%):
    four stages of two 3x3 conv-BN-ReLU and a 2x2 max-pool, then a small classifier."""

    def __init__(self, num_classes: int = 7, widths=(64, 128, 256, 512), dropout: float = 0.4):
        super().__init__()
        layers, cin = [], 1
        for w in widths:
            for _ in range(2):
                layers += [nn.Conv2d(cin, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
                cin = w
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
            nn.Linear(cin, 256), nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(256, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@register("vgg")
def vgg(num_classes: int = 7, **kw) -> nn.Module:
    return VGGFace(num_classes, **kw)


@register("vgg_small")
def vgg_small(num_classes: int = 7, **kw) -> nn.Module:
    return VGGFace(num_classes, widths=(32, 64, 128, 256), **kw)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
