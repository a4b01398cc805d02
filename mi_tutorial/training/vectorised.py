r"""Seed-vectorised training: :math:`S` seeds of one small config in one batched computation.

The sequential trainers of :mod:`mi_tutorial.training` run one ``(config, seed)`` at a time. For small
models much of a step can be per-operation overhead, so here the :math:`S` seeds' models are *stacked*
(:func:`torch.func.stack_module_state`: every parameter gets a leading seed axis, shape
``[S, *shape]``) and one forward/backward runs all of them at once through
:func:`torch.func.vmap` over :func:`torch.func.functional_call`.

**Why this trains each seed exactly as the sequential trainer does (up to float rounding).**

* *Initialisation.* Seed :math:`s`'s modules come from :func:`mi_tutorial.training.build_models`
  (``torch.manual_seed(s)`` in a forked RNG), the very function the sequential trainer calls,
  and are copied into slice :math:`s` of the stack: the stacked initial parameters *equal* the
  sequential ones bit for bit.
* *Data.* Every seed keeps its own training stream (:func:`mi_tutorial.training.loop.stream_generator`)
  and draws its batch (and noise) from it in the same order as the sequential trainer; the
  :math:`S` batches are then stacked. The evaluation streams are per seed too.
* *Gradients.* With :math:`L_s(\theta_s)` the loss of seed :math:`s`, backpropagating the joint
  loss :math:`L = \sum_s L_s(\theta_s)` gives :math:`\partial L / \partial \theta_s =
  \partial L_s / \partial \theta_s`, because :math:`L_s` does not depend on
  :math:`\theta_{s'}` for :math:`s' \ne s` and the backward of a sum passes 1 to every term.
* *Adam.* Adam is elementwise: for every scalar parameter with gradient :math:`g_t`,
  :math:`m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t`, :math:`v_t = \beta_2 v_{t-1} + (1-\beta_2)
  g_t^2`, :math:`\theta_t = \theta_{t-1} - \eta\,\hat m_t / (\sqrt{\hat v_t} + \epsilon)` with
  :math:`\hat m_t = m_t / (1-\beta_1^t)`, :math:`\hat v_t = v_t / (1-\beta_2^t)`. The only state
  shared by the elements of a tensor is the step count :math:`t`, which is the same for every
  seed (all seeds step together). So one :class:`torch.optim.Adam` over the stacked tensors *is*
  :math:`S` independent per-seed Adams (same lr, betas and eps = :data:`~mi_tutorial.training.ADAM_EPS`).

What differs: batched matrix products (``bmm``) may round differently from the sequential ones
(``mm``), so gradients agree to float tolerance rather than bit for bit. After one Adam step the
parameters agree to 1 % of the learning rate wherever :math:`|g| \gg \epsilon` (where
:math:`|g|` is within a few hundred :math:`\epsilon` of 0, Adam's first step
:math:`\eta\, g / (|g| + \epsilon)` magnifies the rounding), and the tiny differences grow along
a training run as they would between two machines.
``elapsed_s`` in the records is the wall time of the *joint* run (all :math:`S` seeds), not one
seed's cost. Evaluations (linear probe, test bound, Jacobians) run per seed on a per-seed module
holding that seed's current parameters, with the sequential trainer's code.

**Measured speed-up** (sequential seconds ÷ vectorised seconds for the same S seeds and steps;
``benchmarks/bench_steps.py --sections vectorised``; 2 CPU cores shared with other jobs, one torch
thread, so the numbers vary from run to run): E6's critic 1.2–1.7× (S = 4 and 8), the paper's MLP
encoders + bilinear critic 0.84–1.09× (i.e. no gain). The committed measurement is
``benchmarks/results/cpu-2core.json``. On the CPU the gain is small because these steps are
dominated by arithmetic on large activations (E6: [K, K, 10] tensors per layer; MLP: the
392→300→300→100 products), not by per-operation overhead; batching seeds pays off where overhead
dominates (tiny models, GPUs). Since the records also differ from the sequential ones at the
float-rounding level (≈1e-6 in E6's bounds), the vectorised trainers are a library function here:
:func:`mi_tutorial.runs.run_sweep` keeps training seeds one by one, so its records stay exactly
those of :func:`mi_tutorial.training.run_config`.

Supported: :class:`~mi_tutorial.config.NonIIDConfig` (E6) and
:class:`~mi_tutorial.config.MultiViewConfig` with the ``mlp`` encoder and any critic.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

from .._validation import check_seeds, choose
from ..config import MultiViewConfig, NonIIDConfig, RunConfig
from ..critics import ConcatCritic
from ..data import TwoViews, add_shared_noise
from ..estimators import ESTIMATORS, OBJECTIVES, training_objective
from ..synthetic import noniid_batch
from .loop import (
    STREAM_EVAL,
    STREAM_TRAIN,
    EpochBatches,
    LossLog,
    Records,
    TrainingDiverged,
    load_data,
    progress_bar,
    records_frame,
    reported_bound,
    stream_generator,
)
from .multiview import evaluate_multiview, multiview_loss
from .optim import make_adam
from .runner import build_models

#: Encoders whose vectorised training is tested against the sequential trainer.
VECTORISED_ENCODERS: tuple[str, ...] = ("mlp",)


# --------------------------------------------------------------------------------------------------
# Stacking
# --------------------------------------------------------------------------------------------------


@dataclass
class SeedStack:
    r"""``S`` copies of one architecture with their parameters stacked on a leading seed axis.

    ``base`` holds the structure only (on the ``meta`` device); ``params`` and ``buffers`` map each
    name to a tensor of shape ``[S, *shape]`` (the parameters are leaves with ``requires_grad``).
    :meth:`__call__` evaluates all ``S`` models at once: for inputs with a leading seed axis,
    ``out[s] = model_s(*(a[s] for a in args))``.
    """

    base: nn.Module
    params: dict[str, Tensor]
    buffers: dict[str, Tensor]

    @classmethod
    def from_modules(
        cls, modules: Sequence[nn.Module], device: str | torch.device = "cpu"
    ) -> SeedStack:
        """Stack ``modules`` (one per seed, same architecture) onto ``device``."""
        if not modules:
            raise ValueError("SeedStack needs at least one module (one per seed).")
        params, buffers = stack_module_state([m.to(device) for m in modules])
        base = _out_of_place(copy.deepcopy(modules[0]).to("meta"))
        return cls(base, params, buffers)

    @property
    def n_seeds(self) -> int:
        return next(iter(self.params.values())).shape[0] if self.params else 0

    def parameters(self) -> list[Tensor]:
        """The stacked parameter tensors (what the optimiser updates)."""
        return list(self.params.values())

    def functional(self, params: dict[str, Tensor], buffers: dict[str, Tensor], *args: Tensor):
        """One model's forward with the given (unstacked) ``params``/``buffers`` (for vmap)."""
        return functional_call(self.base, (params, buffers), args)

    def __call__(self, *args: Tensor) -> Tensor:
        return vmap(self.functional)(self.params, self.buffers, *args)

    def load_into(self, index: int, module: nn.Module) -> nn.Module:
        """Copy seed ``index``'s current parameters and buffers into ``module`` (no grad)."""
        with torch.no_grad():
            for name, tensor in (*module.named_parameters(), *module.named_buffers()):
                source = self.params[name] if name in self.params else self.buffers[name]
                tensor.copy_(source[index])
        return module


class _OutOfPlaceConcatCritic(ConcatCritic):
    """:class:`~mi_tutorial.critics.ConcatCritic` with out-of-place ReLUs (same values, same
    gradients). Under ``vmap`` the in-place ``relu_`` on the batched [S, K, K, h] activations is
    turned into slice copies (autograd ``CopySlices``), which made the vectorised E6 step 2.2×
    slower (4.96 s vs 2.25 s for 4 seeds × 150 steps); out of place it is a plain batched op."""

    def _head(self, h: Tensor) -> Tensor:
        h = torch.relu(h)
        for layer in self.hidden_layers:
            h = torch.relu(layer(h))
        return self.out(h).squeeze(-1)


def _out_of_place(module: nn.Module) -> nn.Module:
    """Swap in-place-activation modules for their out-of-place twins (for the meta base only)."""
    for m in module.modules():
        if type(m) is ConcatCritic:
            m.__class__ = _OutOfPlaceConcatCritic
    return module


def stack_seed_models(
    config: RunConfig,
    seeds: Sequence[int],
    data: tuple[TwoViews, TwoViews] | None = None,
    device: str | torch.device = "cpu",
) -> tuple[list[dict[str, nn.Module]], dict[str, SeedStack]]:
    """Each seed's modules from :func:`mi_tutorial.training.build_models` — exactly the sequential
    trainer's initialisation for that seed — moved to ``device``, and one :class:`SeedStack` per
    module name whose slice ``i`` holds seed ``seeds[i]``'s parameters.

    With a shared encoder (``g2 is g1``) the stack of ``"g2"`` *is* the stack of ``"g1"``.
    """
    per_seed = []
    for seed in seeds:
        built = build_models(config, seed, data)
        moved = {name: m.to(device) for name, m in built.items()}  # .to keeps g2 is g1
        per_seed.append(moved)
    stacks: dict[str, SeedStack] = {}
    for name, module in per_seed[0].items():
        twin = next((other for other, m in per_seed[0].items() if m is module), name)
        stacks[name] = (
            stacks[twin]
            if twin != name
            else SeedStack.from_modules([m[name] for m in per_seed], device)
        )
    return per_seed, stacks


def _describe_seed(err: TrainingDiverged, seed: int) -> TrainingDiverged:
    err.seed = seed  # type: ignore[attr-defined]
    err.add_note(f"(seed {seed} of a seed-vectorised run)")
    return err


# --------------------------------------------------------------------------------------------------
# E6: non-i.i.d. critic
# --------------------------------------------------------------------------------------------------


def train_noniid_seeds(
    config: NonIIDConfig,
    seeds: int | Sequence[int],
    *,
    device: str | torch.device = "cpu",
    progress: bool = False,
    models: dict[int, dict[str, nn.Module]] | None = None,
) -> dict[int, pd.DataFrame]:
    r""":func:`mi_tutorial.training.train_noniid` for every seed at once; ``{seed: records}``.

    Each seed's critic :math:`f_s`, batch stream and Adam state are its own (see the module
    docstring); one step evaluates :math:`\sum_s -\mathrm{objective}(f_s(x_s, y_s))` with
    ``vmap``. The records have train_noniid's format (``bound`` of the training batch at every
    ``eval_every``-th step); ``elapsed_s`` is the joint run's wall time. ``models``: if given,
    filled with ``{seed: {"critic": module}}`` holding each seed's final parameters.
    """
    if not isinstance(config, NonIIDConfig):
        raise TypeError(f"train_noniid_seeds needs a NonIIDConfig, got {type(config).__name__}.")
    seeds = check_seeds(seeds)
    device = torch.device(device)
    estimator = choose(config.estimator, ESTIMATORS, "estimator")
    per_seed_models, stacks = stack_seed_models(config, seeds, device=device)
    stack = stacks["critic"]
    optimizer = make_adam(stack.parameters(), config.lr, config.adam)
    gens = [stream_generator(seed, STREAM_TRAIN) for seed in seeds]
    describe = {"estimator": estimator, "critic": "concat", "encoder": "none"}
    logs = [LossLog(describe, f"lr={config.lr:g}") for _ in seeds]
    rec_steps: list[int] = []
    rec_elapsed: list[float] = []
    bounds: list[list] = [[] for _ in seeds]
    check_every = 1_000

    def per_seed(params, buffers, x, y):
        scores = stack.functional(params, buffers, x, y)
        objective = training_objective(estimator, scores)
        return -objective, reported_bound(estimator, scores, objective)

    losses_and_bounds = vmap(per_seed)
    bar = progress_bar(config.steps, progress, f"non-iid x{len(seeds)} seeds {estimator}")
    start = time.perf_counter()
    try:
        for step in range(config.steps):
            draws = [noniid_batch(config.batch_size, iid=config.iid, generator=g) for g in gens]
            x = torch.stack([d[0] for d in draws]).to(device)
            y = torch.stack([d[1] for d in draws]).to(device)
            loss, bound = losses_and_bounds(stack.params, stack.buffers, x, y)
            optimizer.zero_grad(set_to_none=True)
            loss.sum().backward()
            optimizer.step()
            record = step % config.eval_every == 0
            if record:
                rec_steps.append(step)
                rec_elapsed.append(time.perf_counter() - start)
            for i, log in enumerate(logs):
                log.add(step, loss[i], bound=bound[i] if record else None)
            if (step + 1) % check_every == 0 or step + 1 == config.steps:
                for i, log in enumerate(logs):
                    try:
                        bounds[i].extend(log.flush().tolist())
                    except TrainingDiverged as err:
                        raise _describe_seed(err, seeds[i]) from None
                bar.update(step + 1 - bar.n)
    finally:
        bar.close()
    if models is not None:
        for i, seed in enumerate(seeds):
            models[seed] = {"critic": stack.load_into(i, per_seed_models[i]["critic"])}
    n = len(rec_steps)
    return {
        seed: records_frame(rec_steps, ["bound"] * n, bounds[i], rec_elapsed)
        for i, seed in enumerate(seeds)
    }


# --------------------------------------------------------------------------------------------------
# §3: multi-view (MLP encoders)
# --------------------------------------------------------------------------------------------------


def train_multiview_seeds(
    config: MultiViewConfig,
    seeds: int | Sequence[int],
    *,
    device: str | torch.device = "cpu",
    progress: bool = False,
    data: tuple[TwoViews, TwoViews] | None = None,
    models: dict[int, dict[str, nn.Module]] | None = None,
) -> dict[int, pd.DataFrame]:
    r""":func:`mi_tutorial.training.train_multiview` for every seed at once; ``{seed: records}``.

    One step: each seed :math:`s` draws its batch (and coupled noise) from its own stream, the
    :math:`S` batches are stacked, and ``vmap`` computes
    :math:`S_s = f_s(g_{1,s}(x^{(1)}_s), g_{2,s}(x^{(2)}_s))` and the per-seed loss
    (:math:`-\mathrm{objective}(S_s)`, or :math:`|\hat I_{EST}(S_s) - t|` with a target); Adam
    steps on :math:`\sum_s L_s`. Evaluations run per seed exactly as in ``train_multiview``.
    ``models``: if given, filled with ``{seed: {"g1", "g2", "critic"}}`` per-seed modules holding
    the final parameters. Only the ``mlp`` encoder is supported (:data:`VECTORISED_ENCODERS`).
    """
    if not isinstance(config, MultiViewConfig):
        raise TypeError(
            f"train_multiview_seeds needs a MultiViewConfig, got {type(config).__name__}."
        )
    choose(config.encoder, VECTORISED_ENCODERS, "encoder for seed-vectorised training")
    seeds = check_seeds(seeds)
    device = torch.device(device)
    estimator = choose(config.estimator, OBJECTIVES, "estimator")
    train, test = load_data(config.dataset, data)
    if config.shared_encoder and train.top.shape[1] != train.bottom.shape[1]:
        raise ValueError("shared_encoder=True needs views of equal size.")
    if len(test) < config.batch_size:
        raise ValueError(
            f"the test set has {len(test)} examples, fewer than batch_size={config.batch_size}."
        )
    shared = config.shared_encoder
    per_seed_models, by_name = stack_seed_models(config, seeds, (train, test), device)
    g1s, g2s, critics = by_name["g1"], by_name["g2"], by_name["critic"]
    stacks = (g1s, critics) if shared else (g1s, g2s, critics)
    optimizer = make_adam([p for s in stacks for p in s.parameters()], config.lr, config.adam)

    train_gens = [stream_generator(seed, STREAM_TRAIN) for seed in seeds]
    eval_gens = [stream_generator(seed, STREAM_EVAL) for seed in seeds]
    batches = [EpochBatches(len(train), config.batch_size, g) for g in train_gens]
    describe = {"estimator": estimator, "critic": config.critic, "encoder": config.encoder}
    lr_hint = f"lr={config.lr:g}"
    logs = [LossLog(describe, lr_hint) for _ in seeds]
    records = [Records() for _ in seeds]
    noise, target = config.noise_std, config.target

    def sync(i: int) -> tuple[nn.Module, nn.Module, nn.Module]:
        """Seed i's per-seed modules, holding its current stacked parameters."""
        g1, g2, critic = (per_seed_models[i][name] for name in ("g1", "g2", "critic"))
        g1s.load_into(i, g1)
        if not shared:
            g2s.load_into(i, g2)
        critics.load_into(i, critic)
        return g1, g2, critic

    def evaluate(i: int, step: int, elapsed: float) -> None:
        """train_multiview's evaluation for seed i (same calls, same eval stream)."""
        try:
            evaluate_multiview(
                config,
                estimator,
                sync(i),
                (train, test),
                logs[i].flush(),
                records[i],
                step=step,
                elapsed=elapsed,
                seed=seeds[i],
                eval_gen=eval_gens[i],
                device=device,
                describe=describe,
                lr_hint=lr_hint,
            )
        except TrainingDiverged as err:
            raise _describe_seed(err, seeds[i]) from None

    def per_seed(p1, b1, p2, b2, pc, bc, x1, x2):
        scores = critics.functional(pc, bc, g1s.functional(p1, b1, x1), g2s.functional(p2, b2, x2))
        return multiview_loss(estimator, scores, target)

    losses_and_bounds = vmap(per_seed)
    bar = progress_bar(
        config.steps, progress, f"{config.encoder}+{config.critic} x{len(seeds)} seeds"
    )
    start = time.perf_counter()
    try:
        for step in range(config.steps):
            if step % config.eval_every == 0:
                elapsed = time.perf_counter() - start
                for i in range(len(seeds)):
                    evaluate(i, step, elapsed)
            x1s, x2s = [], []
            for batch, gen in zip(batches, train_gens, strict=True):
                idx = batch.next()
                x1, x2 = add_shared_noise(train.top[idx], train.bottom[idx], noise, gen)
                x1s.append(x1)
                x2s.append(x2)
            loss, bound = losses_and_bounds(
                g1s.params,
                g1s.buffers,
                g2s.params,
                g2s.buffers,
                critics.params,
                critics.buffers,
                torch.stack(x1s).to(device),
                torch.stack(x2s).to(device),
            )
            optimizer.zero_grad(set_to_none=True)
            loss.sum().backward()
            optimizer.step()
            for i, log in enumerate(logs):
                log.add(step, loss[i], bound=bound[i])
            bar.update(1)
        for i, log in enumerate(logs):
            try:
                log.flush()
            except TrainingDiverged as err:
                raise _describe_seed(err, seeds[i]) from None
    finally:
        bar.close()
    if models is not None:
        for i, seed in enumerate(seeds):
            g1, g2, critic = sync(i)
            models[seed] = {"g1": g1, "g2": g2, "critic": critic}
    return {seed: records[i].frame() for i, seed in enumerate(seeds)}


def run_config_seeds(
    config: RunConfig,
    seeds: int | Sequence[int],
    *,
    device: str | torch.device = "cpu",
    progress: bool = False,
    data: tuple[TwoViews, TwoViews] | None = None,
) -> dict[int, pd.DataFrame]:
    """Seed-vectorised :func:`mi_tutorial.training.run_config`: ``{seed: records}`` for E6 configs and
    MLP-encoder multi-view configs (a ``ValueError`` names the unsupported cases)."""
    if isinstance(config, NonIIDConfig):
        if data is not None:
            raise ValueError("non-i.i.d. runs draw their own Gaussian batches; pass data=None.")
        return train_noniid_seeds(config, seeds, device=device, progress=progress)
    if isinstance(config, MultiViewConfig):
        return train_multiview_seeds(config, seeds, device=device, progress=progress, data=data)
    raise ValueError(
        f"seed-vectorised training supports non-i.i.d. and multi-view (MLP encoder) configs, not "
        f"{type(config).__name__}; use mi_tutorial.training.run_config once per seed."
    )
