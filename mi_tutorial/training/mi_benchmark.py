r"""B1, the ground-truth MI benchmark: a critic alone on one task of known MI, trained with one bound.

The loop of :func:`mi_tutorial.training.estimation.train_estimator` (chapter 2), on the tasks of
:mod:`mi_tutorial.mi_tasks` and through the results store: step :math:`t` draws :math:`K` fresh
pairs :math:`(x_i, y_i)` of the task (the stepping ``"staircase"`` at its level for step
:math:`t`), computes the score matrix :math:`S_{ij} = f(x_i, y_j)`, records the *reported*
estimate :math:`\hat I(S)` of that training batch (before its update) every ``eval_every`` steps
and ascends the bound's training objective with Adam. Nothing but the critic is learned.

A batch whose objective is not finite (:math:`I_{NWJ}`'s exponential overflowing, say) is recorded
as NaN and its update skipped, so one bad batch does not end the run; the report marks such runs
as diverged instead of averaging them in. The count of skipped steps is the last record
(``metric = "nonfinite_steps"``, at ``step = steps``).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch
from torch import nn

from .. import registry
from .._validation import check_int
from ..config import MIBenchmarkConfig
from ..critics import make_critic
from ..estimators import training_objective
from ..mi_tasks import STAIRCASE_DIM, STAIRCASE_TASK, get_task, sample_benchmark
from .loop import (
    init_models,
    progress_bar,
    records_frame,
    reported_bound,
    stream_generator,
)
from .optim import make_adam

#: The random stream of the task's pairs (as chapter 2's :data:`.estimation.STREAM_PAIRS`).
STREAM_PAIRS = 101
#: Metric names of the records.
ESTIMATE, NONFINITE = "estimate", "nonfinite_steps"


def task_dims(task: str) -> tuple[int, int]:
    """``(d_x, d_y)`` of a benchmark task."""
    if task == STAIRCASE_TASK:
        return STAIRCASE_DIM, STAIRCASE_DIM
    return get_task(task).dims


def benchmark_critic(config: MIBenchmarkConfig) -> nn.Module:
    """The run's critic: separable (``hidden`` → ``out`` per side) or concat (one hidden layer)."""
    dim_x, dim_y = task_dims(config.task)
    if config.critic == "separable":
        sizes = {"hidden": config.hidden, "out": config.out}
    else:
        sizes = {"hidden": config.hidden, "layers": 1}
    return make_critic(config.critic, dim_x, dim_y, init=config.init, **sizes)


def train_mi_benchmark(
    config: MIBenchmarkConfig,
    seed: int,
    *,
    device: str | torch.device = "cpu",
    progress: bool = True,
    data: None = None,
    models: dict[str, nn.Module] | None = None,
) -> pd.DataFrame:
    r"""Train the critic of ``config`` on its task; tidy records of the training-batch estimates.

    Rows: ``metric = "estimate"`` at every ``eval_every``-th step (:math:`\hat I` of that step's
    batch of :math:`K` pairs, NaN where the objective was not finite), then one
    ``"nonfinite_steps"`` row. The task's true MI is not stored: it is a function of the task and
    the step (:func:`mi_tutorial.mi_tasks.task_mi`).
    """
    if not isinstance(config, MIBenchmarkConfig):
        raise TypeError(
            f"train_mi_benchmark needs an MIBenchmarkConfig, got {type(config).__name__}."
        )
    if data is not None:
        raise ValueError("train_mi_benchmark draws its own pairs; call it with data=None.")
    seed = check_int(seed, "seed", 0)
    device = torch.device(device)
    estimator = registry.ESTIMATORS.check(config.estimator)
    critic = init_models(seed, lambda: benchmark_critic(config)).to(device)
    optimizer = make_adam(critic.parameters(), config.lr, config.adam)
    generator = stream_generator(seed, STREAM_PAIRS)
    steps, values, elapsed = [], [], []
    nonfinite = 0
    bar = progress_bar(config.steps, progress, f"B1 {config.task} {estimator} {config.critic}")
    start = time.perf_counter()
    try:
        for step in range(config.steps):
            x, y = sample_benchmark(config.task, config.batch_size, step, config.steps, generator)
            scores = critic(x.to(device), y.to(device))
            objective = training_objective(estimator, scores)
            finite = bool(torch.isfinite(objective))
            if step % config.eval_every == 0:
                value = float(reported_bound(estimator, scores, objective)) if finite else np.nan
                steps.append(step)
                values.append(value if np.isfinite(value) else np.nan)
                elapsed.append(time.perf_counter() - start)
            if not finite:
                nonfinite += 1
                continue
            optimizer.zero_grad(set_to_none=True)
            (-objective).backward()
            optimizer.step()
            if (step + 1) % 500 == 0:
                bar.update(step + 1 - bar.n)
    finally:
        bar.close()
    if models is not None:
        models.update(critic=critic)
    steps.append(config.steps)
    values.append(float(nonfinite))
    elapsed.append(time.perf_counter() - start)
    metrics = [ESTIMATE] * (len(steps) - 1) + [NONFINITE]
    return records_frame(steps, metrics, values, elapsed)
