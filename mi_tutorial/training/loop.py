r"""The pieces every training loop is made of: random streams, epoch batches, the loss log that
catches divergence, the records, checkpointed resumption, data loading and the linear probe.

They are public because the sequential trainers (:mod:`.multiview`, :mod:`.adversarial`,
:mod:`.noniid`, :mod:`.supervised`) and the seed-vectorised ones (:mod:`.vectorised`) share them.
See :mod:`mi_tutorial.training` for the evaluation schedule and the determinism guarantees.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm import tqdm

from .. import registry
from ..config import (
    RunConfig,
)
from ..data import (
    TwoViews,
    cifar10_views,
    digits_views,
    load_views,
)
from ..estimators import ESTIMATORS, TRAINED_WITH_JS, estimate
from ..evaluation import encode, linear_probe
from .checkpoint import (
    RESTART_ADVICE,
    CheckpointMismatch,
    TrainingState,
    load_checkpoint,
    save_checkpoint,
)

#: ``mnist`` (top/bottom halves, 392 values each), ``cifar10`` (App. G: halves of 16 × 32 × 3 =
#: 1,536 values) and ``digits`` (sklearn's 8 × 8 digits, two 32-d views; tiny, for tests).
DATASETS = registry.DATASETS.builtins  # and any registered with registry.register_dataset


RUN_KINDS = ("multiview", "adversarial", "noniid", "supervised", "mi-benchmark")


RECORD_COLUMNS = ("step", "metric", "value", "elapsed_s")


# Independent random streams derived from the run seed.
STREAM_TRAIN, STREAM_EVAL = 1, 2


class TrainingDiverged(RuntimeError):
    """A training loss became NaN or infinite.

    Attributes ``step``, ``estimator``, ``critic`` and ``encoder`` say where it happened.
    """

    def __init__(
        self, step: int, estimator: str, critic: str, encoder: str, detail: str, lr: str
    ) -> None:
        self.step, self.estimator, self.critic, self.encoder = step, estimator, critic, encoder
        super().__init__(
            f"training diverged at step {step}: {detail} (estimator {estimator!r}, critic "
            f"{critic!r}, encoder {encoder!r}). Try a lower learning rate ({lr}) and check the "
            "inputs for NaN/inf or badly scaled values."
        )


#: Largest plausible |value| of a bound, in nats. The true MI between the two views of an image is
#: at most the entropy of the image, itself at most log(number of distinct training images) ≈ 11
#: nats for MNIST, and I_NCE <= log(batch size) ≈ 5-6 nats; the estimates that legitimately go
#: beyond are the *test* values of the unbounded estimators (NWJ's exponential term overshooting on
#: unseen pairs), and the largest of those stored at the paper profile is -147.6 nats (E4, I_NWJ
#: with t = 4, step 2,000; results/paper/*/*/seed-*.csv). 10,000 nats is ~70x that, far from any
#: legitimate run, and still catches the exploded values of a run whose weights blew up (lr 10
#: with I_NCE: -7e7 after 10 steps).
PLAUSIBLE_BOUND_NATS = 1e4
#: The lower side is looser: a lower bound far below zero says the critic is poor, not that the
#: weights exploded. An untrained critic drives the exponential term of I_NWJ far down on its own
#: (-1.02e4 nats at step 0 for the smoke profile's ConvNet); -1e6 nats needs scores near e^14 and
#: still catches the lr-10 explosion (-7e7).
PLAUSIBLE_LOW_BOUND_NATS = -1e6
#: Metrics holding a bound (or its distance to a target), checked against the limit above.
BOUND_METRICS = ("bound", "train_bound", "training-batch bound")
#: L_t = |bound - t|: as far from t as the bounds above may be.
DISTANCE_METRICS = ("objective",)
#: Diagnostics recorded as they are: E2's reconstruction error max|g^-1(g(x)) - x| is inf or NaN
#: exactly when an affine RealNVP's inverse breaks down numerically, which is a finding (chapter 4b,
#: claim 4c), not a divergence of training.
DIAGNOSTIC_METRICS = ("reconstruction_error",)
#: Metrics holding an accuracy, which must lie in [0, 1].
ACCURACY_METRICS = ("accuracy", "classifier_accuracy")


def implausible(metric: str, value: float) -> str | None:
    """Why ``value`` of ``metric`` must not be stored (non-finite or absurd), or None if it may.

    ``train_bound`` is NaN at step 0 by design (no training batch yet), so NaN is allowed there
    only; see :data:`PLAUSIBLE_BOUND_NATS` for the bound's limit.
    """
    if metric == "train_bound" and np.isnan(value):
        return None
    if metric in DIAGNOSTIC_METRICS:  # what they measure may legitimately be inf or NaN
        return None
    if not np.isfinite(value):
        return f"the {metric} is {value}"
    if metric in BOUND_METRICS and not PLAUSIBLE_LOW_BOUND_NATS <= value <= PLAUSIBLE_BOUND_NATS:
        return (
            f"the {metric} is {value:.4g} nats, outside the plausible "
            f"[{PLAUSIBLE_LOW_BOUND_NATS:g}, {PLAUSIBLE_BOUND_NATS:g}] (the weights have exploded)"
        )
    if metric in DISTANCE_METRICS and value > -PLAUSIBLE_LOW_BOUND_NATS:
        return (
            f"the {metric} is {value:.4g} nats, beyond the plausible {-PLAUSIBLE_LOW_BOUND_NATS:g}"
        )
    if metric in ACCURACY_METRICS and not 0.0 <= value <= 1.0:
        return f"the {metric} is {value}, outside [0, 1]"
    return None


def check_metrics(metrics: dict[str, float], step: int, describe: dict[str, str], lr: str) -> None:
    """Raise :class:`TrainingDiverged` if any evaluated metric is non-finite or absurd, so that
    such a value is never recorded (nor stored)."""
    for metric, value in metrics.items():
        problem = implausible(metric, float(value))
        if problem is not None:
            raise TrainingDiverged(step, detail=problem, lr=lr, **describe)


def stream_generator(seed: int, stream: int) -> torch.Generator:
    """A CPU generator for one named random stream of run ``seed`` (well-mixed, non-overlapping)."""
    state = np.random.SeedSequence([seed, stream]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state) & ((1 << 63) - 1))


class EpochBatches:
    """Mini-batch indices from epoch-wise random permutations, dropping each epoch's remainder.

    The official code used ``tf.data`` with a shuffle buffer of 1,000 examples (a local shuffle);
    full permutations are the standard, slightly stronger, version of the same idea.
    """

    def __init__(self, n: int, batch_size: int, generator: torch.Generator) -> None:
        if n < batch_size:
            raise ValueError(
                f"the training set has {n} examples, fewer than batch_size={batch_size}; "
                "use a smaller batch_size or more data."
            )
        self.n, self.batch_size, self.generator = n, batch_size, generator
        self._perm = torch.empty(0, dtype=torch.int64)
        self._pos = 0

    def next(self) -> torch.Tensor:
        if self._pos + self.batch_size > len(self._perm):
            self._perm = torch.randperm(self.n, generator=self.generator)
            self._pos = 0
        idx = self._perm[self._pos : self._pos + self.batch_size]
        self._pos += self.batch_size
        return idx

    @property
    def permutation(self) -> torch.Tensor:
        """The current epoch's permutation (empty before the first batch)."""
        return self._perm

    @property
    def position(self) -> int:
        """Where the next batch starts in :attr:`permutation`."""
        return self._pos

    def restore(self, permutation: torch.Tensor, position: int) -> None:
        """Continue from a saved (:attr:`permutation`, :attr:`position`)."""
        if permutation.ndim != 1 or not 0 <= position <= len(permutation):
            raise ValueError(
                f"bad epoch state: permutation of shape {tuple(permutation.shape)}, position "
                f"{position}; the checkpoint is damaged, delete it."
            )
        self._perm, self._pos = permutation.clone(), int(position)


class LossLog:
    """Per-step losses (and training-batch bounds) kept on the device until the next check."""

    def __init__(self, describe: dict[str, str], lr: str) -> None:
        self.describe, self.lr = describe, lr
        self.steps: list[int] = []
        self.tags: list[str] = []
        self.losses: list[torch.Tensor] = []
        self.bounds: list[torch.Tensor] = []
        self.bound_steps: list[int] = []

    def add(
        self,
        step: int,
        loss: torch.Tensor,
        tag: str = "training",
        bound: torch.Tensor | None = None,
    ) -> None:
        self.steps.append(step)
        self.tags.append(tag)
        self.losses.append(loss.detach())
        if bound is not None:
            self.bounds.append(bound.detach())
            self.bound_steps.append(step)

    def flush(self) -> np.ndarray:
        """Raise :class:`TrainingDiverged` at the first non-finite loss or non-finite or absurd
        training-batch bound (:func:`implausible`), else return the bounds."""
        if self.losses:
            losses = torch.stack(self.losses).double().cpu().numpy()
            bad = np.flatnonzero(~np.isfinite(losses))
            if bad.size:
                i = int(bad[0])
                raise TrainingDiverged(
                    self.steps[i],
                    detail=f"the {self.tags[i]} loss is {losses[i]}",
                    lr=self.lr,
                    **self.describe,
                )
        bounds = torch.stack(self.bounds).double().cpu().numpy() if self.bounds else np.empty(0)
        for step, value in zip(self.bound_steps, bounds, strict=True):
            check_metrics({"training-batch bound": value}, step, self.describe, self.lr)
        self.steps, self.tags, self.losses, self.bounds, self.bound_steps = [], [], [], [], []
        return bounds


class Records:
    """Collects (step, metric, value, elapsed_s) rows; builds the DataFrame once at the end."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, str, float, float]] = []

    def add(self, step: int, metric: str, value: float, elapsed: float) -> None:
        self.rows.append((int(step), metric, float(value), float(elapsed)))

    def frame(self) -> pd.DataFrame:
        return records_frame(
            [r[0] for r in self.rows],
            [r[1] for r in self.rows],
            [r[2] for r in self.rows],
            [r[3] for r in self.rows],
        )


class Resumable:
    """Saves a run's state to ``path`` after each evaluation and restores it at the start
    (see :mod:`mi_tutorial.training.checkpoint`); does nothing when ``path`` is None."""

    def __init__(
        self,
        path: str | os.PathLike | None,
        config: RunConfig,
        seed: int,
        *,
        modules: dict[str, nn.Module],
        optimizer: torch.optim.Optimizer,
        generators: dict[str, torch.Generator],
        batches: EpochBatches,
        records: Records,
    ) -> None:
        self.path, self.config, self.seed = path, config, seed
        self.modules, self.optimizer, self.generators = modules, optimizer, generators
        self.batches, self.records = batches, records
        self.resumed, self.elapsed_before = False, 0.0
        self.cpu_before, self.cpu_start = 0.0, time.process_time()
        self.started_git_commit, self.resumed_at = "unknown", []
        if path is not None:
            from ..provenance import git_state

            self.started_git_commit = git_state()[0]

    def restore(self) -> int:
        """Load the checkpoint if there is one; return the first step still to run."""
        state = None if self.path is None else load_checkpoint(self.path, self.config, self.seed)
        if state is None:
            return 0
        try:
            for name, module in self.modules.items():
                module.load_state_dict(state.models[name])
            fused = [group.get("fused") for group in self.optimizer.param_groups]
            self.optimizer.load_state_dict(state.optimizer)
            for group, flag in zip(self.optimizer.param_groups, fused, strict=True):
                group["fused"] = flag  # this process's Adam kernel (provenance), not the saver's
            for name, generator in self.generators.items():
                generator.set_state(state.generators[name])
            self.batches.restore(state.epoch_permutation, state.epoch_position)
        except (RuntimeError, KeyError, TypeError, ValueError) as err:
            raise CheckpointMismatch(
                f"the checkpoint {self.path} does not fit this run's models ({type(err).__name__}"
                f"). {RESTART_ADVICE}"
            ) from None
        self.records.rows = list(state.records)
        self.resumed, self.elapsed_before, self.cpu_before = True, state.elapsed_s, state.cpu_s
        self.started_git_commit = state.started_git_commit
        self.resumed_at = [*state.resumed_at, state.step]
        return state.step

    def save(self, step: int, elapsed: float) -> None:
        """Save the state before the update of ``step`` (its evaluation already recorded)."""
        if self.path is None:
            return
        state = TrainingState(
            step=step,
            models={name: module.state_dict() for name, module in self.modules.items()},
            optimizer=self.optimizer.state_dict(),
            generators={name: g.get_state() for name, g in self.generators.items()},
            epoch_permutation=self.batches.permutation,
            epoch_position=self.batches.position,
            records=self.records.rows,
            elapsed_s=elapsed,
            started_git_commit=self.started_git_commit,
            resumed_at=self.resumed_at,
            cpu_s=self.cpu_before + time.process_time() - self.cpu_start,
        )
        save_checkpoint(self.path, self.config, self.seed, state)


def records_frame(steps, metrics, values, elapsed) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "step": np.asarray(steps, dtype=np.int64),
            "metric": pd.Series(metrics, dtype=object),
            "value": np.asarray(values, dtype=np.float64),
            "elapsed_s": np.asarray(elapsed, dtype=np.float64),
        }
    )


@contextlib.contextmanager
def eval_mode(*modules: nn.Module) -> Iterator[None]:
    """Eval mode and no grad inside the block; the modules' previous modes are restored after."""
    was_training = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for m, flag in zip(modules, was_training, strict=True):
            m.train(flag)


#: Serialises model initialisation: it seeds torch's process-wide RNG, so two runs initialising
#: at once in threads of one process (e.g. a threaded Dask worker) would interleave their draws.
_INIT_LOCK = threading.Lock()


def init_models(seed: int, build):
    """Call ``build()`` with the global RNG seeded by ``seed``; the caller's RNG is untouched.

    Thread-safe: concurrent calls in one process take turns (:data:`_INIT_LOCK`)."""
    with _INIT_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def load_data(dataset: str, data: tuple[TwoViews, TwoViews] | None) -> tuple[TwoViews, TwoViews]:
    if data is not None:
        if (
            not isinstance(data, tuple)
            or len(data) != 2
            or not all(isinstance(d, TwoViews) for d in data)
        ):
            raise TypeError(
                "data must be a (train, test) tuple of TwoViews, e.g. "
                "(digits_views('train'), digits_views('test'))."
            )
        return data
    custom = registry.DATASETS.factory(dataset)
    builtin = {"mnist": load_views, "cifar10": cifar10_views, "digits": digits_views}
    loader = custom if custom is not None else builtin[dataset]
    return loader("train"), loader("test")


def independent_noise(x: torch.Tensor, std: float, generator: torch.Generator) -> torch.Tensor:
    """``x`` plus fresh i.i.d. N(0, std²) noise (for the probe's features; not coupled)."""
    if std == 0.0:
        return x
    return x + std * torch.randn(x.shape, generator=generator, dtype=x.dtype)


def probe(
    encoder: nn.Module,
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    test_x: torch.Tensor,
    test_y: torch.Tensor,
    seed: int,
    describe: dict[str, str],
    step: int,
    lr: str,
) -> tuple[float, torch.Tensor]:
    """Linear-probe accuracy of ``encoder``'s features; also returns the test features."""
    f_train, f_test = encode(encoder, train_x), encode(encoder, test_x)
    if not (torch.isfinite(f_train).all() and torch.isfinite(f_test).all()):
        raise TrainingDiverged(
            step, detail="the encoder outputs non-finite features", lr=lr, **describe
        )
    acc = linear_probe(f_train.cpu(), train_y.cpu(), f_test.cpu(), test_y.cpu(), seed=seed)
    return float(acc), f_test


def probe_and_head(
    g: nn.Module,
    head: nn.Module,
    train: TwoViews,
    test: TwoViews,
    seed: int,
    describe: dict[str, str],
    step: int,
    lr: str,
) -> dict[str, float]:
    """``accuracy`` (the linear probe refitted on :math:`g`) and ``classifier_accuracy`` (the
    trained linear ``head`` on :math:`g`, on the whole test set, reusing the probe's features)."""
    acc, f_test = probe(g, train.top, train.labels, test.top, test.labels, seed, describe, step, lr)
    device = next(head.parameters()).device
    pred = head(f_test.to(device)).argmax(dim=1).cpu()
    return {"accuracy": acc, "classifier_accuracy": float((pred == test.labels).double().mean())}


def reported_bound(estimator: str, scores: torch.Tensor, objective: torch.Tensor) -> torch.Tensor:
    """The reported bound of a training batch, reusing the objective where the two coincide."""
    if estimator in ESTIMATORS and estimator not in TRAINED_WITH_JS:
        return objective.detach()
    with torch.no_grad():
        return estimate(estimator, scores.detach())


def progress_bar(total: int, progress: bool, desc: str):
    """A text progress bar on a terminal. ``disable=None`` lets tqdm switch it off when stderr is
    not a TTY (papermill-executed chapters, CI logs), so executed notebooks stay free of bar noise."""
    return tqdm(
        total=total, disable=None if progress else True, desc=desc, leave=False, mininterval=0.5
    )
