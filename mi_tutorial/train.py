r"""Training loops: a run is a pure function of ``(config, seed)`` → tidy records.

Three kinds of run, one function each (:func:`run_config` dispatches on ``config.kind``):

* :func:`train_multiview` (§3 of Tschannen et al., 2020): encoders :math:`g_1, g_2` on the two
  views and a critic :math:`f` give the scores :math:`S_{ij} = f(g_1(x^{(1)}_i), g_2(x^{(2)}_j))`.
  The loss is :math:`-\hat I_{EST}(S)` (maximise the bound) or, with a target :math:`t`,
  :math:`L_t = |\hat I_{EST}(S) - t|` (§3.3; official code ``loss = tf.abs(bound(scores) - t)``).
* :func:`train_adversarial` (App. B, Fig. 1c): an invertible encoder :math:`g` is trained so that a
  linear classifier :math:`h` on :math:`g(x)` predicts the uniform distribution, while :math:`h`
  keeps learning the labels. :math:`I(g(X); X)` stays maximal throughout, yet linear accuracy drops.
* :func:`train_noniid` (§4, Fig. 4c): a concat critic alone on 2-d Gaussian pairs whose batch shares
  one latent, showing that the bounds can exceed the true MI when the negatives are not i.i.d.

**Records** are long/tidy DataFrames with columns ``step`` (int), ``metric`` (str), ``value``
(float) and ``elapsed_s`` (wall seconds since the start of the training loop; evaluation time
included, so it is the cost of the run as configured).

**Evaluation schedule.** ``for step in range(steps): if step % eval_every == 0: evaluate()``, then
update, so evaluations see the parameters *before* that step's update: 21,000 steps with
``eval_every=1000`` evaluate at 0, 1k, …, 20k, as the official code does.

**Determinism.** Everything derives from ``seed``: the models are initialised inside
:func:`torch.random.fork_rng` after ``torch.manual_seed(seed)`` (the caller's global RNG is left
untouched), and two separate :class:`torch.Generator` streams, both seeded from ``seed``, drive the
training batches/noise and the evaluation noise. Keeping evaluation on its own stream means that
changing ``eval_every`` does not change the training trajectory. Data and noise are drawn on the CPU
and then moved to ``device``, so the inputs are identical on every device; on the CPU the same
``(config, seed)`` gives bit-identical records (``elapsed_s`` aside).

**Divergence.** Per-step losses are kept on the device and checked in bulk before each evaluation
and at the end (a per-step ``.item()`` would stall a GPU). The first non-finite loss raises
:class:`TrainingDiverged` naming its exact step; parameters may have gone NaN for a few more steps
by then, which is harmless because the run is abandoned.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from ._validation import check_int, choose
from .checkpoint import TrainingState, load_checkpoint, save_checkpoint
from .config import (
    AdversarialConfig,
    MultiViewConfig,
    NonIIDConfig,
    RunConfig,
    SupervisedConfig,
)
from .critics import make_critic
from .data import (
    TwoViews,
    add_shared_noise,
    cifar10_views,
    digits_views,
    load_views,
    noniid_batch,
)
from .encoders import make_encoder
from .estimators import ESTIMATORS, OBJECTIVES, TRAINED_WITH_JS, estimate, training_objective
from .evaluation import encode, jacobian_log_condition, linear_probe
from .nn_init import apply_init

if TYPE_CHECKING:
    from .results import ResultsStore

#: The ε of Keras' Adam (``tf.keras.optimizers.Adam``), added to the bias-corrected √v̂ as in
#: PyTorch: the ``adam="keras"`` setting, this project's default since its first runs. The official
#: notebook used ``tf.train.AdamOptimizer`` instead (``adam="tf1"``, :class:`TF1Adam`). Betas
#: 0.9/0.999 and no weight decay are common to all three.
ADAM_EPS = 1e-7
#: The ε of ``tf.train.AdamOptimizer`` (TF1), added to the *uncorrected* √v.
TF1_ADAM_EPS = 1e-8
#: The Adam variants a config may name (``RunConfig.adam``).
ADAM_VARIANTS = ("keras", "tf1")


class TF1Adam(torch.optim.Adam):
    r"""``tf.train.AdamOptimizer`` (the official notebook's optimiser) on PyTorch's Adam.

    TF1 updates :math:`\theta \leftarrow \theta - \alpha_t\, m_t / (\sqrt{v_t} + \hat\epsilon)` with
    :math:`\alpha_t = \alpha \sqrt{1 - \beta_2^t} / (1 - \beta_1^t)` and
    :math:`\hat\epsilon = 10^{-8}` added to the *uncorrected* :math:`\sqrt{v_t}`. Dividing through by
    :math:`\sqrt{1-\beta_2^t}` shows it is PyTorch's bias-corrected Adam with
    :math:`\epsilon_t = \hat\epsilon / \sqrt{1 - \beta_2^t}`: about :math:`3.2\times10^{-7}` at the
    first step, decaying to :math:`10^{-8}`. :meth:`step` sets that :math:`\epsilon_t` before each
    update; :math:`t` is read from the optimiser's own state, so a resumed run continues the schedule.
    """

    def __init__(self, params, lr: float) -> None:
        super().__init__(params, lr=lr, eps=TF1_ADAM_EPS)

    def step(self, closure=None):  # type: ignore[override]
        for group in self.param_groups:
            t = 1 + next(
                (int(self.state[p]["step"]) for p in group["params"] if "step" in self.state[p]), 0
            )
            group["eps"] = TF1_ADAM_EPS / math.sqrt(1.0 - group["betas"][1] ** t)
        return super().step(closure)


def make_adam(params, lr: float, variant: str = "keras") -> torch.optim.Adam:
    """Adam as a run config names it: ``"keras"`` (ε = :data:`ADAM_EPS` on √v̂) or ``"tf1"``
    (:class:`TF1Adam`)."""
    variant = choose(variant, ADAM_VARIANTS, "adam")
    return (
        TF1Adam(params, lr) if variant == "tf1" else torch.optim.Adam(params, lr=lr, eps=ADAM_EPS)
    )


#: Inputs per evaluation for the Jacobian log-condition numbers (Fig. 2c uses 128).
JACOBIAN_SAMPLES = 128
#: ``mnist`` (top/bottom halves, 392 values each), ``cifar10`` (App. G: halves of 16 × 32 × 3 =
#: 1,536 values) and ``digits`` (sklearn's 8 × 8 digits, two 32-d views; tiny, for tests).
DATASETS = ("mnist", "cifar10", "digits")
RUN_KINDS = ("multiview", "adversarial", "noniid", "supervised")
RECORD_COLUMNS = ("step", "metric", "value", "elapsed_s")

# Independent random streams derived from the run seed.
_STREAM_TRAIN, _STREAM_EVAL = 1, 2


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


# --------------------------------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------------------------------


def run_config(
    config: RunConfig,
    seed: int,
    *,
    device: str | torch.device = "cpu",
    progress: bool = True,
    data: tuple[TwoViews, TwoViews] | None = None,
    models: dict[str, nn.Module] | None = None,
    checkpoint: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Run ``config`` with ``seed`` and return its tidy records (see the module docstring).

    ``models``: if a dict is given, the trained modules are put in it when training ends, under
    the names of :func:`build_models`.

    ``checkpoint``: a file to save the run's state to after each evaluation and to resume from
    (see :func:`train_multiview`). Only multi-view runs, the long ones, are resumable; the other
    kinds ignore it and run from the start.
    """
    seed = check_int(seed, "seed", 0)
    kind = choose(getattr(config, "kind", None), RUN_KINDS, "run kind (config.kind)")
    trainer = {
        "multiview": train_multiview,
        "adversarial": train_adversarial,
        "noniid": train_noniid,
        "supervised": train_supervised,
    }[kind]
    extra = {"checkpoint": checkpoint} if kind == "multiview" else {}
    return trainer(
        config, seed, device=device, progress=progress, data=data, models=models, **extra
    )


def build_models(
    config: RunConfig, seed: int, data: tuple[TwoViews, TwoViews] | None = None
) -> dict[str, nn.Module]:
    """The modules of a run of ``config``, initialised exactly as its trainer initialises them for
    ``seed`` (the parameters before step 0), on the CPU.

    Names: ``g1``, ``g2``, ``critic`` (multi-view; ``g2 is g1`` with a shared encoder), ``g``,
    ``classifier`` (adversarial and supervised), ``critic`` (non-i.i.d.).
    """
    seed = check_int(seed, "seed", 0)
    kind = choose(getattr(config, "kind", None), RUN_KINDS, "run kind (config.kind)")
    if kind == "noniid":
        return {"critic": _init_models(seed, lambda: _noniid_critic(config))}
    views = _load_data(config.dataset, data)
    if kind == "multiview":
        names, builder = ("g1", "g2", "critic"), _multiview_modules
    else:
        names, builder = ("g", "classifier"), _encoder_and_linear_head
    return dict(zip(names, _init_models(seed, lambda: builder(config, *views)), strict=True))


def trained_models(
    store: ResultsStore,
    config: RunConfig,
    seed: int,
    data: tuple[TwoViews, TwoViews] | None = None,
) -> dict[str, nn.Module]:
    """The modules of the stored run ``(config, seed)`` with their trained weights, in eval mode.

    The run must have been stored with ``keep_models=True`` (else ``FileNotFoundError``).
    """
    models = build_models(config, seed, data)
    states = store.load_models(config, seed)
    for name, module in models.items():
        module.load_state_dict(states[name])
        module.eval()
    return models


# --------------------------------------------------------------------------------------------------
# Shared machinery
# --------------------------------------------------------------------------------------------------


def _stream_generator(seed: int, stream: int) -> torch.Generator:
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


class _LossLog:
    """Per-step losses (and training-batch bounds) kept on the device until the next check."""

    def __init__(self, describe: dict[str, str], lr: str) -> None:
        self.describe, self.lr = describe, lr
        self.steps: list[int] = []
        self.tags: list[str] = []
        self.losses: list[torch.Tensor] = []
        self.bounds: list[torch.Tensor] = []

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

    def flush(self) -> np.ndarray:
        """Raise :class:`TrainingDiverged` at the first non-finite loss, else return the bounds."""
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
        self.steps, self.tags, self.losses, self.bounds = [], [], [], []
        return bounds


class _Records:
    """Collects (step, metric, value, elapsed_s) rows; builds the DataFrame once at the end."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, str, float, float]] = []

    def add(self, step: int, metric: str, value: float, elapsed: float) -> None:
        self.rows.append((int(step), metric, float(value), float(elapsed)))

    def frame(self) -> pd.DataFrame:
        return _records_frame(
            [r[0] for r in self.rows],
            [r[1] for r in self.rows],
            [r[2] for r in self.rows],
            [r[3] for r in self.rows],
        )


class _Resumable:
    """Saves a run's state to ``path`` after each evaluation and restores it at the start
    (see :mod:`mi_tutorial.checkpoint`); does nothing when ``path`` is None."""

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
        records: _Records,
    ) -> None:
        self.path, self.config, self.seed = path, config, seed
        self.modules, self.optimizer, self.generators = modules, optimizer, generators
        self.batches, self.records = batches, records
        self.resumed, self.elapsed_before = False, 0.0
        self.cpu_before, self.cpu_start = 0.0, time.process_time()
        self.started_git_commit, self.resumed_at = "unknown", []
        if path is not None:
            from .results import git_state

            self.started_git_commit = git_state()[0]

    def restore(self) -> int:
        """Load the checkpoint if there is one; return the first step still to run."""
        state = None if self.path is None else load_checkpoint(self.path, self.config, self.seed)
        if state is None:
            return 0
        for name, module in self.modules.items():
            module.load_state_dict(state.models[name])
        self.optimizer.load_state_dict(state.optimizer)
        for name, generator in self.generators.items():
            generator.set_state(state.generators[name])
        self.batches.restore(state.epoch_permutation, state.epoch_position)
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


def _records_frame(steps, metrics, values, elapsed) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "step": np.asarray(steps, dtype=np.int64),
            "metric": pd.Series(metrics, dtype=object),
            "value": np.asarray(values, dtype=np.float64),
            "elapsed_s": np.asarray(elapsed, dtype=np.float64),
        }
    )


@contextlib.contextmanager
def _eval_mode(*modules: nn.Module) -> Iterator[None]:
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


def _init_models(seed: int, build):
    """Call ``build()`` with the global RNG seeded by ``seed``; the caller's RNG is untouched.

    Thread-safe: concurrent calls in one process take turns (:data:`_INIT_LOCK`)."""
    with _INIT_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def _load_data(dataset: str, data: tuple[TwoViews, TwoViews] | None) -> tuple[TwoViews, TwoViews]:
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
    choose(dataset, DATASETS, "dataset")
    loader = {"mnist": load_views, "cifar10": cifar10_views, "digits": digits_views}[dataset]
    return loader("train"), loader("test")


def _independent_noise(x: torch.Tensor, std: float, generator: torch.Generator) -> torch.Tensor:
    """``x`` plus fresh i.i.d. N(0, std²) noise (for the probe's features; not coupled)."""
    if std == 0.0:
        return x
    return x + std * torch.randn(x.shape, generator=generator, dtype=x.dtype)


def _probe(
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


def _probe_and_head(
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
    acc, f_test = _probe(
        g, train.top, train.labels, test.top, test.labels, seed, describe, step, lr
    )
    device = next(head.parameters()).device
    pred = head(f_test.to(device)).argmax(dim=1).cpu()
    return {"accuracy": acc, "classifier_accuracy": float((pred == test.labels).double().mean())}


def _reported_bound(estimator: str, scores: torch.Tensor, objective: torch.Tensor) -> torch.Tensor:
    """The reported bound of a training batch, reusing the objective where the two coincide."""
    if estimator in ESTIMATORS and estimator not in TRAINED_WITH_JS:
        return objective.detach()
    with torch.no_grad():
        return estimate(estimator, scores.detach())


def _bar(total: int, progress: bool, desc: str):
    """A text progress bar on a terminal. ``disable=None`` lets tqdm switch it off when stderr is
    not a TTY (papermill-executed chapters, CI logs), so executed notebooks stay free of bar noise."""
    return tqdm(
        total=total, disable=None if progress else True, desc=desc, leave=False, mininterval=0.5
    )


# --------------------------------------------------------------------------------------------------
# §3: multi-view MI maximisation
# --------------------------------------------------------------------------------------------------


def _test_bound(
    g1: nn.Module,
    g2: nn.Module,
    critic: nn.Module,
    estimator: str,
    test: TwoViews,
    batch_size: int,
    max_batches: int | None,
    noise_std: float,
    generator: torch.Generator,
    device: torch.device,
) -> float:
    r"""Mean of :math:`\hat I_{EST}(S)` over consecutive test batches (remainder dropped).

    The official notebook's "test" value was in fact computed on training batches (spec §5.4);
    we evaluate on the test set as the paper states.
    """
    n_batches = len(test) // batch_size
    if max_batches is not None:
        n_batches = min(n_batches, max_batches)
    values = []
    with _eval_mode(g1, g2, critic):
        for b in range(n_batches):
            rows = slice(b * batch_size, (b + 1) * batch_size)
            x1, x2 = add_shared_noise(test.top[rows], test.bottom[rows], noise_std, generator)
            scores = critic(g1(x1.to(device)), g2(x2.to(device)))
            values.append(estimate(estimator, scores))
    return float(torch.stack(values).mean().item())


def train_multiview(
    config: MultiViewConfig,
    seed: int,
    *,
    device: str | torch.device = "cpu",
    progress: bool = True,
    data: tuple[TwoViews, TwoViews] | None = None,
    models: dict[str, nn.Module] | None = None,
    checkpoint: str | os.PathLike | None = None,
) -> pd.DataFrame:
    r"""Maximise :math:`\hat I_{EST}(g_1(X^{(1)}); g_2(X^{(2)}))`, or minimise :math:`L_t`.

    One Adam optimiser (lr ``config.lr``, eps 1e-7 as in TF) over :math:`g_1, g_2, f`. Each step
    takes ``batch_size`` training pairs, adds fresh *coupled* noise if ``noise_std > 0``, forms
    :math:`S = f(g_1(x^{(1)}), g_2(x^{(2)}))` and descends :math:`-\mathrm{objective}(S)` or
    :math:`|\hat I_{EST}(S) - t|`. Metrics per evaluation: ``accuracy`` (linear probe on
    :math:`g_1` of the top views, with fresh independent noise if ``noise_std > 0``), ``bound``
    (test-set mean of :math:`\hat I_{EST}`), ``objective`` (:math:`|bound - t|`, with a target),
    ``train_bound`` (mean training-batch bound since the previous evaluation; NaN at step 0) and,
    with ``eval_jacobian``, ``logcond`` (one row per input: :math:`\log\sigma_{max}/\sigma_{min}`
    of the Jacobian of :math:`g_1` at 128 random noisy training inputs; the official code used the
    current training batch).

    ``models``: if a dict is given, the trained modules are stored in it under ``"g1"``, ``"g2"``
    and ``"critic"`` when training ends (to inspect them, e.g. ``RealNVP.inverse``); the records
    are unaffected.

    With ``shared_encoder`` one encoder :math:`g_1` encodes both views (:math:`g_2 = g_1`, the
    metric-learning setting); ``estimator`` may be a loss of
    :data:`mi_tutorial.estimators.LOSSES` (``"triplet"``), whose ``bound`` is the InfoNCE bound of
    the same scores.

    ``checkpoint``: a file path. After every evaluation the run's whole state is saved there
    (:mod:`mi_tutorial.checkpoint`); if the file exists when the run starts, the run continues from
    it, and the records equal those of an uninterrupted run (``elapsed_s`` continues the first
    attempt's clock). The file is left in place; :func:`mi_tutorial.results.run_sweep` deletes it
    once the run is stored.
    """
    if not isinstance(config, MultiViewConfig):
        raise TypeError(f"train_multiview needs a MultiViewConfig, got {type(config).__name__}.")
    seed = check_int(seed, "seed", 0)
    device = torch.device(device)
    estimator = choose(config.estimator, OBJECTIVES, "estimator")
    train, test = _load_data(config.dataset, data)
    if config.shared_encoder and train.top.shape[1] != train.bottom.shape[1]:
        raise ValueError(
            f"shared_encoder=True needs views of equal size, got {train.top.shape[1]} and "
            f"{train.bottom.shape[1]} features; use separate encoders (shared_encoder=False)."
        )
    if len(test) < config.batch_size:
        raise ValueError(
            f"the test set has {len(test)} examples, fewer than batch_size="
            f"{config.batch_size}; the bound is evaluated on full test batches."
        )
    built = build_models(config, seed, (train, test))
    g1, g2, critic = (built[name].to(device) for name in ("g1", "g2", "critic"))
    modules = (g1, critic) if g2 is g1 else (g1, g2, critic)
    params = [p for m in modules for p in m.parameters()]
    optimizer = make_adam(params, config.lr, config.adam)

    train_gen = _stream_generator(seed, _STREAM_TRAIN)
    eval_gen = _stream_generator(seed, _STREAM_EVAL)
    batches = EpochBatches(len(train), config.batch_size, train_gen)
    describe = {"estimator": estimator, "critic": config.critic, "encoder": config.encoder}
    lr_hint = f"lr={config.lr:g}"
    log = _LossLog(describe, lr_hint)
    records = _Records()
    noise, target = config.noise_std, config.target

    def evaluate(step: int, elapsed: float) -> dict[str, float]:
        return _evaluate_multiview(
            config,
            estimator,
            (g1, g2, critic),
            (train, test),
            log.flush(),
            records,
            step=step,
            elapsed=elapsed,
            seed=seed,
            eval_gen=eval_gen,
            device=device,
            describe=describe,
            lr_hint=lr_hint,
        )

    resumable = _Resumable(
        checkpoint,
        config,
        seed,
        modules={"g1": g1, "critic": critic} | ({} if g2 is g1 else {"g2": g2}),
        optimizer=optimizer,
        generators={"train": train_gen, "eval": eval_gen},
        batches=batches,
        records=records,
    )
    first = resumable.restore()
    bar = _bar(config.steps, progress, f"{config.encoder}+{config.critic}+{estimator}")
    bar.update(first)
    start = time.perf_counter() - resumable.elapsed_before
    try:
        for step in range(first, config.steps):
            if step % config.eval_every == 0 and not (step == first and resumable.resumed):
                last = evaluate(step, time.perf_counter() - start)
                bar.set_postfix(
                    acc=f"{last['accuracy']:.3f}", bound=f"{last['bound']:.2f}", refresh=False
                )
                if step > 0:
                    resumable.save(step, time.perf_counter() - start)
            idx = batches.next()
            x1, x2 = add_shared_noise(train.top[idx], train.bottom[idx], noise, train_gen)
            scores = critic(g1(x1.to(device)), g2(x2.to(device)))
            if target is None:
                objective = training_objective(estimator, scores)
                batch_bound = _reported_bound(estimator, scores, objective)
                loss = -objective
            else:
                batch_bound = estimate(estimator, scores)
                loss = (batch_bound - target).abs()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            log.add(step, loss, bound=batch_bound)
            bar.update(1)
        log.flush()
    finally:
        bar.close()
    if models is not None:
        models.update(g1=g1, g2=g2, critic=critic)
    return records.frame()


def _evaluate_multiview(
    config: MultiViewConfig,
    estimator: str,
    modules: tuple[nn.Module, nn.Module, nn.Module],
    data: tuple[TwoViews, TwoViews],
    train_bounds: np.ndarray,
    records: _Records,
    *,
    step: int,
    elapsed: float,
    seed: int,
    eval_gen: torch.Generator,
    device: torch.device,
    describe: dict[str, str],
    lr_hint: str,
) -> dict[str, float]:
    """One evaluation of a multi-view run (see :func:`train_multiview` for the metrics); adds
    its records and returns the scalar metrics. Shared with the seed-vectorised trainer."""
    g1, g2, critic = modules
    train, test = data
    noise, target = config.noise_std, config.target
    acc, _ = _probe(
        g1,
        _independent_noise(train.top, noise, eval_gen),
        train.labels,
        _independent_noise(test.top, noise, eval_gen),
        test.labels,
        seed,
        describe,
        step,
        lr_hint,
    )
    bound = _test_bound(
        g1,
        g2,
        critic,
        estimator,
        test,
        config.batch_size,
        config.eval_batches,
        noise,
        eval_gen,
        device,
    )
    out = {"accuracy": acc, "bound": bound}
    if target is not None:
        out["objective"] = abs(bound - target)
    out["train_bound"] = float(train_bounds.mean()) if train_bounds.size else math.nan
    for metric, value in out.items():
        records.add(step, metric, value, elapsed)
    if config.eval_jacobian:
        n = min(JACOBIAN_SAMPLES, len(train))
        idx = torch.randperm(len(train), generator=eval_gen)[:n]
        x = _independent_noise(train.top[idx], noise, eval_gen)
        # scipy's single-threaded SVD: ≈3× faster than torch's on near-identity 392×392
        # Jacobians on 2 shared cores (5.6 s vs 15.1 s for 128); values agree to ~1e-14.
        logcond = np.asarray(jacobian_log_condition(g1, x, svd_backend="scipy"), dtype=np.float64)
        for value in logcond:  # the Jacobians are taken in eval mode
            records.add(step, "logcond", value, elapsed)
    return out


def _multiview_modules(
    config: MultiViewConfig, train: TwoViews, test: TwoViews
) -> tuple[nn.Module, nn.Module, nn.Module]:
    enc_kwargs, critic_kwargs = dict(config.encoder_kwargs), dict(config.critic_kwargs)
    g1 = make_encoder(config.encoder, input_dim=train.top.shape[1], init=config.init, **enc_kwargs)
    g2 = (
        g1
        if config.shared_encoder
        else make_encoder(
            config.encoder, input_dim=train.bottom.shape[1], init=config.init, **enc_kwargs
        )
    )
    critic = make_critic(config.critic, g1.out_dim, g2.out_dim, init=config.init, **critic_kwargs)
    return g1, g2, critic


# --------------------------------------------------------------------------------------------------
# App. B: adversarially trained invertible encoder
# --------------------------------------------------------------------------------------------------


def uniform_cross_entropy(logits: torch.Tensor) -> torch.Tensor:
    r"""Cross-entropy of softmax(``logits``) against the uniform distribution over the C classes.

    :math:`\frac{1}{B}\sum_b \frac{1}{C}\sum_c -\log \mathrm{softmax}(z_b)_c`; it is minimal,
    :math:`\log C`, exactly when every prediction is uniform.
    """
    return -F.log_softmax(logits, dim=1).mean()


def train_adversarial(
    config: AdversarialConfig,
    seed: int,
    *,
    device: str | torch.device = "cpu",
    progress: bool = True,
    data: tuple[TwoViews, TwoViews] | None = None,
    models: dict[str, nn.Module] | None = None,
) -> pd.DataFrame:
    r"""Train an invertible encoder :math:`g` so a linear classifier :math:`h` predicts uniformly.

    :math:`h` (a linear layer :math:`g(x) \mapsto` 10 logits) minimises cross-entropy to the true
    labels with Adam (lr ``classifier_lr``); :math:`g` minimises :func:`uniform_cross_entropy` of
    :math:`h(g(x))` with Adam (lr ``encoder_lr``). First ``warmup_steps`` classifier-only updates;
    then each of the ``steps`` encoder steps is ``classifier_steps`` classifier updates followed by
    one encoder update, every update on a fresh training batch of the top views.

    Metrics at ``step % eval_every == 0`` (before that step's updates; step 0 is after warm-up):
    ``accuracy`` (a separately fitted linear probe on the frozen :math:`g`), ``classifier_accuracy``
    (the adversary :math:`h` on the whole test set, reusing the probe's test features), and, when
    :math:`g` has ``inverse``, ``reconstruction_error`` :math:`\max|g^{-1}(g(x)) - x|` on the first
    test batch.
    """
    if not isinstance(config, AdversarialConfig):
        raise TypeError(
            f"train_adversarial needs an AdversarialConfig, got {type(config).__name__}."
        )
    seed = check_int(seed, "seed", 0)
    device = torch.device(device)
    train, test = _load_data(config.dataset, data)
    built = build_models(config, seed, (train, test))
    g, classifier = built["g"].to(device), built["classifier"].to(device)
    clf_opt = make_adam(classifier.parameters(), config.classifier_lr, config.adam)
    enc_opt = make_adam(g.parameters(), config.encoder_lr, config.adam)

    train_gen = _stream_generator(seed, _STREAM_TRAIN)
    batches = EpochBatches(len(train), config.batch_size, train_gen)
    describe = {
        "estimator": "adversarial",
        "critic": "linear classifier",
        "encoder": config.encoder,
    }
    lr_hint = f"classifier_lr={config.classifier_lr:g}, encoder_lr={config.encoder_lr:g}"
    log = _LossLog(describe, lr_hint)
    records = _Records()

    def batch() -> tuple[torch.Tensor, torch.Tensor]:
        idx = batches.next()
        return train.top[idx].to(device), train.labels[idx].to(device)

    def classifier_update(step: int, tag: str) -> None:
        x, y = batch()
        with torch.no_grad():
            z = g(x)
        loss = F.cross_entropy(classifier(z), y)
        clf_opt.zero_grad(set_to_none=True)
        loss.backward()
        clf_opt.step()
        log.add(step, loss, tag=tag)

    def encoder_update(step: int) -> None:
        x, _ = batch()
        loss = uniform_cross_entropy(classifier(g(x)))
        enc_opt.zero_grad(set_to_none=True)
        loss.backward()  # also leaves grads on h; classifier_update clears them before use
        enc_opt.step()
        log.add(step, loss, tag="encoder (uniform cross-entropy)")

    def evaluate(step: int, elapsed: float) -> dict[str, float]:
        log.flush()
        with _eval_mode(g, classifier):
            out = _probe_and_head(g, classifier, train, test, seed, describe, step, lr_hint)
            if hasattr(g, "inverse"):
                x = test.top[: config.batch_size].to(device)
                out["reconstruction_error"] = float((g.inverse(g(x)) - x).abs().max())
        for metric, value in out.items():
            records.add(step, metric, value, elapsed)
        return out

    bar = _bar(config.steps, progress, f"adversarial {config.encoder}")
    start = time.perf_counter()
    try:
        for _ in range(config.warmup_steps):
            classifier_update(0, "classifier warm-up (cross-entropy)")
        for step in range(config.steps):
            if step % config.eval_every == 0:
                last = evaluate(step, time.perf_counter() - start)
                bar.set_postfix(
                    acc=f"{last['accuracy']:.3f}",
                    adversary=f"{last['classifier_accuracy']:.3f}",
                    refresh=False,
                )
            for _ in range(config.classifier_steps):
                classifier_update(step, "classifier (cross-entropy)")
            encoder_update(step)
            bar.update(1)
        log.flush()
    finally:
        bar.close()
    if models is not None:
        models.update(g=g, classifier=classifier)
    return records.frame()


def _encoder_and_linear_head(
    config: AdversarialConfig | SupervisedConfig, train: TwoViews, test: TwoViews
) -> tuple[nn.Module, nn.Module]:
    n_classes = int(max(train.labels.max(), test.labels.max())) + 1
    enc_kwargs = dict(config.encoder_kwargs)
    g = make_encoder(config.encoder, input_dim=train.top.shape[1], init=config.init, **enc_kwargs)
    return g, apply_init(nn.Linear(g.out_dim, n_classes), config.init)


# --------------------------------------------------------------------------------------------------
# §4: non-i.i.d. negatives
# --------------------------------------------------------------------------------------------------


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
    estimator = choose(config.estimator, ESTIMATORS, "estimator")

    critic = build_models(config, seed)["critic"].to(device)
    optimizer = make_adam(critic.parameters(), config.lr, config.adam)
    train_gen = _stream_generator(seed, _STREAM_TRAIN)
    describe = {"estimator": estimator, "critic": "concat", "encoder": "none"}
    log = _LossLog(describe, f"lr={config.lr:g}")
    rec_steps: list[int] = []
    rec_elapsed: list[float] = []
    rec_bounds: list[np.ndarray] = []
    check_every = 1_000  # steps between divergence checks / progress updates (no per-step sync)

    bar = _bar(config.steps, progress, f"non-iid {estimator} iid={config.iid}")
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
                log.add(step, loss, bound=_reported_bound(estimator, scores, objective))
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
    return _records_frame(rec_steps, ["bound"] * len(rec_steps), values, rec_elapsed)


def _noniid_critic(config: NonIIDConfig) -> nn.Module:
    return make_critic("concat", 1, 1, init=config.init, hidden=config.hidden, layers=config.layers)


# --------------------------------------------------------------------------------------------------
# §3 "Setup": the supervised reference
# --------------------------------------------------------------------------------------------------


def train_supervised(
    config: SupervisedConfig,
    seed: int,
    *,
    device: str | torch.device = "cpu",
    progress: bool = True,
    data: tuple[TwoViews, TwoViews] | None = None,
    models: dict[str, nn.Module] | None = None,
) -> pd.DataFrame:
    r"""Train an encoder :math:`g` and a linear head :math:`h` end to end on the labels.

    Each step minimises the cross-entropy of :math:`h(g(x^{(1)}))` on a training batch of top
    halves with Adam (lr ``config.lr``, eps 1e-7). Metrics at ``step % eval_every == 0`` (before
    that step's update): ``classifier_accuracy``, the test accuracy of :math:`h \circ g` (the
    paper's supervised reference, "about 94%" for both encoders), and ``accuracy``, the
    protocol's linear probe refitted on the frozen :math:`g`, as for every other encoder.
    """
    if not isinstance(config, SupervisedConfig):
        raise TypeError(f"train_supervised needs a SupervisedConfig, got {type(config).__name__}.")
    seed = check_int(seed, "seed", 0)
    device = torch.device(device)
    train, test = _load_data(config.dataset, data)
    built = build_models(config, seed, (train, test))
    g, head = built["g"].to(device), built["classifier"].to(device)
    optimizer = make_adam([*g.parameters(), *head.parameters()], config.lr, config.adam)
    train_gen = _stream_generator(seed, _STREAM_TRAIN)
    batches = EpochBatches(len(train), config.batch_size, train_gen)
    describe = {"estimator": "supervised", "critic": "linear head", "encoder": config.encoder}
    lr_hint = f"lr={config.lr:g}"
    log = _LossLog(describe, lr_hint)
    records = _Records()

    def evaluate(step: int, elapsed: float) -> dict[str, float]:
        log.flush()
        with _eval_mode(g, head):
            out = _probe_and_head(g, head, train, test, seed, describe, step, lr_hint)
        for metric, value in out.items():
            records.add(step, metric, value, elapsed)
        return out

    bar = _bar(config.steps, progress, f"supervised {config.encoder}")
    start = time.perf_counter()
    try:
        for step in range(config.steps):
            if step % config.eval_every == 0:
                last = evaluate(step, time.perf_counter() - start)
                bar.set_postfix(head=f"{last['classifier_accuracy']:.3f}", refresh=False)
            idx = batches.next()
            x, y = train.top[idx].to(device), train.labels[idx].to(device)
            loss = F.cross_entropy(head(g(x)), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            log.add(step, loss)
            bar.update(1)
        log.flush()
    finally:
        bar.close()
    if models is not None:
        models.update(g=g, classifier=head)
    return records.frame()
