r"""The multi-view method of §3 in plain PyTorch, for chapter 3b of the book.

:func:`train_from_scratch` writes out what :func:`mi_tutorial.training.train_multiview` does for
the MLP encoders, the bilinear critic and :math:`I_{NCE}` (no noise, no target): the same seeding
(:func:`.loop.init_models`), the same batches (:func:`.loop.stream_generator` and
:class:`.loop.EpochBatches`) and Adam with ε = 1e-7, so its losses equal the library's
training-batch bounds (``tests/test_scratch.py``). Only the seeding helpers are borrowed.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..data import TwoViews
from .loop import STREAM_TRAIN, EpochBatches, init_models, stream_generator


def train_from_scratch(
    train: TwoViews, steps: int = 300, batch_size: int = 128, lr: float = 1e-4, seed: int = 0
) -> tuple[nn.Module, nn.Module, nn.Module, list[float]]:
    """Maximise I_NCE(g1(x1); g2(x2)); return g1, g2, the critic's W and each step's I_NCE."""

    def mlp(d_in: int) -> nn.Sequential:  # d_in -> 300 -> 300 -> 100, Glorot weights, zero biases
        net = nn.Sequential(
            nn.Linear(d_in, 300), nn.ReLU(), nn.Linear(300, 300), nn.ReLU(), nn.Linear(300, 100)
        )
        for layer in net[::2]:
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
        return net

    def build() -> tuple[nn.Module, nn.Module, nn.Module]:
        g1, g2 = mlp(train.top.shape[1]), mlp(train.bottom.shape[1])
        W = nn.Linear(100, 100, bias=False)  # the bilinear critic f(u, v) = u^T W v
        nn.init.xavier_uniform_(W.weight)
        return g1, g2, W

    g1, g2, W = init_models(seed, build)  # torch.manual_seed(seed), then build()
    params = [*g1.parameters(), *g2.parameters(), *W.parameters()]
    optimizer = torch.optim.Adam(params, lr=lr, eps=1e-7)
    batches = EpochBatches(len(train), batch_size, stream_generator(seed, STREAM_TRAIN))
    bounds = []
    for _ in range(steps):
        idx = batches.next()  # K pairs (x1_i, x2_i): top and bottom half of image i
        u, v = g1(train.top[idx]), g2(train.bottom[idx])  # codes, K x 100 each
        S = u @ W(v).T  # S_ij = f(g1(x1_i), g2(x2_j)) = u_i^T W v_j
        K = S.shape[0]
        i_nce = (S.diagonal() - torch.logsumexp(S, dim=1)).mean() + math.log(K)
        optimizer.zero_grad()
        (-i_nce).backward()  # maximise the bound
        optimizer.step()
        bounds.append(i_nce.item())
    return g1, g2, W, bounds
