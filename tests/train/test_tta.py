"""Training's TTA (torch) cuts the same views as the app's classifier (numpy): one definition."""
import numpy as np
import torch

from realtime import contract
from train.tta import iter_views


def test_torch_views_equal_numpy_views():
    x = np.random.default_rng(1).random((2, 1, 48, 48)).astype(np.float32)
    views = contract.tta_views("full")
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), mode="edge")
    for view, got in zip(views, iter_views(torch.from_numpy(x), views)):
        rows, cols = contract.view_window(view, 2, 48, 48)
        cut = padded[..., rows, cols]
        want = cut[..., ::-1] if view.mirrored else cut
        assert np.array_equal(got.numpy(), want), view
