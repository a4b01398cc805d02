r"""How good are the estimators? Train a critic on synthetic pairs whose MI is known.

The benchmark of Poole et al. (2019, §4): pairs :math:`(x, y)` of a
:mod:`mi_tutorial.synthetic` task whose true MI follows a **staircase** (2 → 4 → 6 → 8 → 10 nats,
a fixed number of steps per level, :func:`mi_schedule`). A critic :math:`f(x, y)` is trained by
Adam on a fresh batch of :math:`K` pairs every step, maximising the estimator's training objective
(:func:`mi_tutorial.estimators.training_objective`), and the value it *reports*
(:func:`mi_tutorial.estimators.estimate`) on that batch, before the update, is recorded at every
step. Nothing but the critic is learned: the representation is the raw :math:`(x, y)`.

:func:`train_estimator` runs one ``(config, seed)`` and returns tidy records (one row per step:
``step``, ``metric`` = ``"estimate"``, ``value``, ``true_mi`` and the config's labels);
:func:`error_table` turns them into bias, variance and MSE per MI level.

**Determinism.** The critic is initialised with the global RNG seeded by ``seed`` (inside
:func:`torch.random.fork_rng`, so the caller's RNG is untouched) and the batches come from a
separate generator seeded from ``seed``, so the same ``(config, seed)`` gives identical records
on the CPU.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from .._validation import check_float, check_int, check_seeds, choose
from ..critics import CRITICS, make_critic
from ..estimators import ESTIMATORS, estimate, training_objective
from ..nn_init import INIT_SCHEMES
from ..synthetic import DEFAULT_NU, STAIRCASE, TASKS, min_mi, sample_task
from .loop import init_models, stream_generator
from .optim import make_adam

#: Poole et al.'s critics: separable and concat MLPs of width 256 (embedding 32 for separable).
#: Ours have one hidden layer for separable (theirs two; see :class:`~mi_tutorial.critics.SeparableCritic`).
DEFAULT_CRITIC_KWARGS: dict[str, dict] = {
    "separable": {"hidden": 256, "out": 32},
    "concat": {"hidden": 256, "layers": 2},
    "bilinear": {},
    "inner": {},
}

RECORD_COLUMNS = ("step", "metric", "value", "true_mi")
LABELS = ("task", "estimator", "critic", "seed")


@dataclass(frozen=True)
class EstimationConfig:
    r"""One critic trained on one synthetic task along an MI schedule.

    Defaults are Poole et al.'s (2019) Gaussian staircase: :math:`d = 20`, :math:`K = 64`,
    Adam lr :math:`5 \cdot 10^{-4}`, 4,000 steps per level, levels 2, 4, 6, 8, 10 nats.
    ``critic_kwargs`` ``None`` means :data:`DEFAULT_CRITIC_KWARGS`; ``estimator_kwargs`` go to
    :func:`~mi_tutorial.estimators.estimate` (e.g. ``alpha`` for ``"interpolated"``).
    """

    task: str = "gaussian"
    estimator: str = "infonce"
    critic: str = "separable"
    levels: tuple[float, ...] = STAIRCASE
    steps_per_level: int = 4_000
    dim: int = 20
    batch_size: int = 64
    lr: float = 5e-4
    nu: float = DEFAULT_NU
    init: str = "glorot"
    critic_kwargs: tuple | None = None
    estimator_kwargs: tuple = field(default=())

    def __post_init__(self) -> None:
        choose(self.task, TASKS, "task")
        choose(self.estimator, ESTIMATORS, "estimator")
        choose(self.critic, CRITICS, "critic")
        choose(self.init, INIT_SCHEMES, "init scheme")
        levels = tuple(check_float(v, "MI level", minimum=0.0) for v in self.levels)
        if not levels:
            raise ValueError("levels must hold at least one MI value (nats), got ().")
        floor = min_mi(self.task, self.dim, self.nu)
        if min(levels) < floor:
            raise ValueError(
                f"task {self.task!r} carries at least {floor:.3f} nats in dim={self.dim}, but "
                f"levels contain {min(levels)}; use levels >= {floor:.3f}."
            )
        object.__setattr__(self, "levels", levels)
        check_int(self.steps_per_level, "steps_per_level", minimum=1)
        check_int(self.dim, "dim", minimum=1)
        check_int(self.batch_size, "batch_size", minimum=2)
        if check_float(self.lr, "lr") <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}.")
        for name in ("critic_kwargs", "estimator_kwargs"):
            value = getattr(self, name)
            if isinstance(value, dict):
                object.__setattr__(self, name, tuple(sorted(value.items())))

    @property
    def steps(self) -> int:
        """Total number of training steps."""
        return self.steps_per_level * len(self.levels)

    def replace(self, **changes) -> EstimationConfig:
        return dataclasses.replace(self, **changes)


def mi_schedule(levels: tuple[float, ...], steps_per_level: int) -> np.ndarray:
    """The true MI at every step: each level held for ``steps_per_level`` steps, in order."""
    steps_per_level = check_int(steps_per_level, "steps_per_level", minimum=1)
    return np.repeat(np.asarray(levels, dtype=np.float64), steps_per_level)


#: The random stream of the synthetic pairs (see :func:`.loop.stream_generator`).
STREAM_PAIRS = 101


def train_estimator(config: EstimationConfig, seed: int = 0) -> pd.DataFrame:
    r"""Train ``config.critic`` with ``config.estimator`` along the MI schedule; tidy records.

    Step :math:`t` draws :math:`K` fresh pairs at MI level ``schedule[t]``, records
    :math:`\hat I(S)` of that batch (before the update) and ascends the training objective.
    A batch whose objective is not finite (e.g. :math:`I_{NWJ}` overflowing) is recorded as NaN and
    skipped, so one bad batch does not end the run; the number of such steps is in
    ``records.attrs["skipped"]``.
    """
    if not isinstance(config, EstimationConfig):
        raise TypeError(f"config must be an EstimationConfig, got {type(config).__name__}.")
    seed = check_int(seed, "seed", minimum=0)
    kwargs = dict(
        DEFAULT_CRITIC_KWARGS[config.critic]
        if config.critic_kwargs is None
        else config.critic_kwargs
    )
    est_kwargs = dict(config.estimator_kwargs)
    critic = init_models(
        seed, lambda: make_critic(config.critic, config.dim, config.dim, init=config.init, **kwargs)
    )
    optimizer = make_adam(critic.parameters(), config.lr)  # the ε of every other trainer
    gen = stream_generator(seed, STREAM_PAIRS)
    schedule = mi_schedule(config.levels, config.steps_per_level)
    values = np.empty(len(schedule))
    skipped = 0
    for step, mi in enumerate(schedule):
        x, y = sample_task(
            config.task, config.batch_size, float(mi), config.dim, nu=config.nu, generator=gen
        )
        scores = critic(x, y)
        objective = training_objective(config.estimator, scores, **est_kwargs)
        with torch.no_grad():
            reported = estimate(config.estimator, scores.detach(), **est_kwargs)
        values[step] = float(reported)
        if not torch.isfinite(objective):
            values[step] = np.nan
            skipped += 1
            continue
        optimizer.zero_grad(set_to_none=True)
        (-objective).backward()
        optimizer.step()
    records = pd.DataFrame(
        {
            "step": np.arange(len(schedule)),
            "metric": "estimate",
            "value": values,
            "true_mi": schedule,
        }
    )
    for name in ("task", "estimator", "critic"):
        records[name] = getattr(config, name)
    records["seed"] = seed
    records.attrs["skipped"] = skipped
    return records


def run_grid(configs: list[EstimationConfig], seeds: int | list[int] = 1) -> pd.DataFrame:
    """:func:`train_estimator` for every config × seed, concatenated (seeds: a count or a list)."""
    seeds = check_seeds(seeds)
    frames = [train_estimator(c, s) for c in configs for s in seeds]
    return pd.concat(frames, ignore_index=True)


def error_table(
    records: pd.DataFrame, by: tuple[str, ...] = ("estimator",), settle: float = 0.5
) -> pd.DataFrame:
    r"""Bias, variance and MSE of the estimates per group of ``by`` and true-MI level.

    Only the last ``1 - settle`` fraction of each level's steps counts (the critic needs time to
    adapt after a jump). Per run, with :math:`\hat I_t` the estimates and :math:`I` the level:
    bias :math:`= \overline{\hat I_t} - I`, variance :math:`= \operatorname{Var}_t \hat I_t`
    (step to step: the estimator's own noise at batch size :math:`K`), and
    MSE :math:`= \overline{(\hat I_t - I)^2}` = bias² + variance. Then averaged over seeds;
    ``n`` counts the finite estimates used.
    """
    settle = check_float(settle, "settle", minimum=0.0)
    if settle >= 1:
        raise ValueError(f"settle must be in [0, 1), got {settle}.")
    missing = {*by, "seed", "step", "true_mi", "value"} - set(records.columns)
    if missing:
        raise ValueError(f"records lack column(s) {sorted(missing)}; pass train_estimator output.")
    rows = []
    keys = [*by, "seed", "true_mi"]
    for key, group in records.groupby(keys, sort=False):
        steps = group["step"].to_numpy()
        cut = steps.min() + settle * (steps.max() - steps.min() + 1)
        est = group.loc[group["step"] >= cut, "value"].to_numpy()
        est = est[np.isfinite(est)]
        truth = float(key[-1])
        if est.size == 0:
            bias = var = mse = np.nan
        else:
            bias = float(est.mean() - truth)
            var = float(est.var())
            mse = float(np.mean((est - truth) ** 2))
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "bias": bias,
                "variance": var,
                "mse": mse,
                "n": int(est.size),
            }
        )
    table = pd.DataFrame(rows)
    grouped = table.groupby([*by, "true_mi"], sort=False)
    out = grouped.agg(
        bias=("bias", "mean"), variance=("variance", "mean"), mse=("mse", "mean"), n=("n", "sum")
    )
    return out.reset_index()
