"""Augmentation, metrics against hand-computed answers, config errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from train.augment import AugmentConfig, augment, mix_batch
from train.config import ConfigError, build_config
from train.metrics import confusion_matrix, most_confused, summarize

IDENTITY = AugmentConfig(scale=(1.0, 1.0), max_rotation=0.0, max_shift=0.0, hflip=0.0, brightness=0.0,
                         contrast=0.0, erase_p=0.0)


def _batch(n=16, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (n, 48, 48), dtype=np.uint8))


def test_augment_is_seeded_and_reproducible():
    x = _batch()
    a = augment(x, AugmentConfig(), torch.Generator().manual_seed(7))
    b = augment(x, AugmentConfig(), torch.Generator().manual_seed(7))
    c = augment(x, AugmentConfig(), torch.Generator().manual_seed(8))
    assert a.shape == (16, 1, 48, 48) and a.dtype == torch.float32
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.min() >= 0 and a.max() <= 1


def test_identity_and_flip_are_exact():
    x = _batch()
    same = augment(x, IDENTITY, torch.Generator().manual_seed(0))
    assert torch.allclose(same.squeeze(1) * 255, x.float(), atol=1e-3)
    flip_cfg = AugmentConfig(**{**IDENTITY.__dict__, "hflip": 1.0})
    flipped = augment(x, flip_cfg, torch.Generator().manual_seed(0))
    assert torch.allclose(flipped.squeeze(1) * 255, torch.flip(x, dims=[2]).float(), atol=1e-3)


def test_mixup_and_cutmix_weights():
    x = torch.rand(8, 1, 48, 48)
    y = torch.arange(8)
    gen = torch.Generator().manual_seed(0)
    same = mix_batch(x, y, gen)
    assert same[3] == 1.0 and same[0] is x
    xm, ya, yb, lam = mix_batch(x, y, gen, mixup=0.4)
    assert 0 <= lam <= 1 and sorted(yb.tolist()) == list(range(8))
    xc, ya, yb, lam = mix_batch(x, y, gen, cutmix=1.0)
    per_sample = (xc != x).flatten(1).float().mean(1)
    # the pasted box covers 1 - lam of each image (0 where a sample was paired with itself)
    assert all(v == pytest.approx(1 - lam, abs=1e-6) or v == 0 for v in per_sample.tolist())
    assert per_sample.max().item() == pytest.approx(1 - lam, abs=1e-6)


def test_metrics_match_hand_computed_example():
    y_true = [0, 0, 0, 1, 1, 2]
    y_pred = [0, 0, 1, 1, 2, 2]
    cm = confusion_matrix(y_true, y_pred, 3)
    assert cm.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    m = summarize(cm, ["a", "b", "c"])
    assert m["accuracy"] == pytest.approx(4 / 6)
    # a: P=2/2 R=2/3 F1=0.8; b: P=1/2 R=1/2 F1=0.5; c: P=1/2 R=1 F1=2/3
    assert m["per_class"]["a"]["f1"] == pytest.approx(0.8)
    assert m["per_class"]["b"]["precision"] == pytest.approx(0.5)
    assert m["per_class"]["c"]["recall"] == pytest.approx(1.0)
    assert m["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert m["n"] == 6 and m["per_class"]["a"]["support"] == 3
    top = most_confused(cm, ["a", "b", "c"], k=2)
    assert {(t["true"], t["predicted"]) for t in top} == {("a", "b"), ("b", "c")}


def test_config_errors_list_valid_choices(tmp_path):
    with pytest.raises(ConfigError, match="unknown config key 'epohcs'; valid keys: .*epochs"):
        build_config(None, ["epohcs=3"])
    with pytest.raises(ConfigError, match="unknown model 'resnet9000'; valid choices: .*resnet18"):
        build_config(None, ["model=resnet9000"])
    with pytest.raises(ConfigError, match="epochs: expected a int"):
        build_config(None, ["epochs=many"])
    with pytest.raises(ConfigError, match="unknown augment key"):
        build_config(None, ["augment={'rotate': 3}"])
    with pytest.raises(ConfigError, match="config file not found"):
        build_config(str(tmp_path / "nope.yaml"))
    p = tmp_path / "c.yaml"
    p.write_text("model: vgg_small\nepochs: 4\n")
    cfg = build_config(str(p), ["lr=0.05"])
    assert (cfg.model, cfg.epochs, cfg.lr) == ("vgg_small", 4, 0.05)


def test_create_model_rejects_unknown_names():
    from train.models import create_model, list_models

    assert {"mobilenet_v3_small", "mobilenet_v3_large", "resnet18", "resnet34", "vgg"} <= set(list_models())
    with pytest.raises(ValueError, match="valid choices: .*mobilenet_v3_small"):
        create_model("alexnet")
    for name in list_models():
        out = create_model(name).eval()(torch.zeros(2, 1, 48, 48))
        assert out.shape == (2, 7), name
