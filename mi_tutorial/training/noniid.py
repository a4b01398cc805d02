r"""§4 (Fig. 4c): a concat critic alone on Gaussian pairs whose batch shares one latent."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch
from torch import nn

from .. import registry
from .._validation import check_int
from ..config import (
    NonIIDConfig,
)
from ..critics import make_critic
from ..estimators import training_objective
from ..synthetic import noniid_batch
from .loop import (
    STREAM_TRAIN,
    LossLog,
    init_models,
    progress_bar,
    records_frame,
    reported_bound,
    stream_generator,
)
from .optim import make_adam


def train_noniid(
    config: NonIIDConfig,
    seed: int,
    *,
    device: str | torch.device = "cpu",
    progress: bool = True,
    data: None = None,
    models: dict[str, nn.Module] | None = None,
) -> pd.DataFrame:
    r"""Train a concat critic :math:`f(x, y)` alone on batches sharing one latent :math:`Z`.

    Each step draws a fresh batch ``noniid_batch(batch_size, iid=config.iid)`` and ascends
    ``training_objective(estimator, S)`` with Adam (lr ``config.lr``, eps 1e-7). Metric ``bound`` is
    :math:`\hat I_{EST}(S)` of the *training* batch (before its update) at every ``eval_every``-th
    step, as the official plot does (it smooths with a Gaussian filter, σ = 100 steps).
    """
    if not isinstance(config, NonIIDConfig):
        raise TypeError(f"train_noniid needs a NonIIDConfig, got {type(config).__name__}.")
    if data is not None:
        raise ValueError("train_noniid draws its own Gaussian batches; call it with data=None.")
    seed = check_int(seed, "seed", 0)
    device = torch.device(device)
    estimator = registry.ESTIMATORS.check(config.estimator)

    critic = init_models(seed, lambda: noniid_critic(config)).to(device)
    optimizer = make_adam(critic.parameters(), config.lr, config.adam)
    train_gen = stream_generator(seed, STREAM_TRAIN)
    describe = {"estimator": estimator, "critic": "concat", "encoder": "none"}
    log = LossLog(describe, f"lr={config.lr:g}")
    rec_steps: list[int] = []
    rec_elapsed: list[float] = []
    rec_bounds: list[np.ndarray] = []
    check_every = 1_000  # steps between divergence checks / progress updates (no per-step sync)

    bar = progress_bar(config.steps, progress, f"non-iid {estimator} iid={config.iid}")
    start = time.perf_counter()
    try:
        for step in range(config.steps):
            x, y = noniid_batch(config.batch_size, iid=config.iid, generator=train_gen)
            scores = critic(x.to(device), y.to(device))
            objective = training_objective(estimator, scores)
            loss = -objective
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if step % config.eval_every == 0:
                log.add(step, loss, bound=reported_bound(estimator, scores, objective))
                rec_steps.append(step)
                rec_elapsed.append(time.perf_counter() - start)
            else:
                log.add(step, loss)
            if (step + 1) % check_every == 0 or step + 1 == config.steps:
                rec_bounds.append(log.flush())
                if len(rec_bounds[-1]):
                    bar.set_postfix(bound=f"{rec_bounds[-1][-1]:.3f}", refresh=False)
                bar.update(step + 1 - bar.n)
    finally:
        bar.close()
    if models is not None:
        models.update(critic=critic)
    values = np.concatenate(rec_bounds) if rec_bounds else np.empty(0)
    return records_frame(rec_steps, ["bound"] * len(rec_steps), values, rec_elapsed)


def noniid_critic(config: NonIIDConfig) -> nn.Module:
    return make_critic("concat", 1, 1, init=config.init, hidden=config.hidden, layers=config.layers)
