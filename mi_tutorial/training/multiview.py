r"""§3 of the paper: two encoders, a critic and a bound, trained on the two views of an image."""

from __future__ import annotations

import math
import os
import time

import numpy as np
import pandas as pd
import torch
from torch import nn

from .. import registry
from .._validation import check_int
from ..config import (
    MultiViewConfig,
)
from ..critics import make_critic
from ..data import (
    TwoViews,
    add_shared_noise,
)
from ..encoders import make_encoder
from ..estimators import estimate, training_objective
from ..evaluation import jacobian_log_condition
from .loop import (
    STREAM_EVAL,
    STREAM_TRAIN,
    EpochBatches,
    LossLog,
    Records,
    Resumable,
    check_metrics,
    eval_mode,
    independent_noise,
    init_models,
    load_data,
    probe,
    progress_bar,
    reported_bound,
    stream_generator,
)
from .optim import make_adam

#: Inputs per evaluation for the Jacobian log-condition numbers (Fig. 2c uses 128).
JACOBIAN_SAMPLES = 128


def test_bound(
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
    with eval_mode(g1, g2, critic):
        for b in range(n_batches):
            rows = slice(b * batch_size, (b + 1) * batch_size)
            x1, x2 = add_shared_noise(test.top[rows], test.bottom[rows], noise_std, generator)
            scores = critic(g1(x1.to(device)), g2(x2.to(device)))
            values.append(estimate(estimator, scores))
    return float(torch.stack(values).mean().item())


def multiview_loss(
    estimator: str, scores: torch.Tensor, target: float | None
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The loss of one multi-view step and the batch's reported bound (detached).

    :math:`-\hat I_{EST}(S)` to maximise the bound, or :math:`L_t = |\hat I_{EST}(S) - t|` when a
    target :math:`t` is set (§3.3; the official code's ``tf.abs(bound(scores) - t)``). Shared by
    :func:`train_multiview` and the seed-vectorised trainer, which applies it per seed.
    """
    if target is None:
        objective = training_objective(estimator, scores)
        return -objective, reported_bound(estimator, scores, objective)
    batch_bound = estimate(estimator, scores)
    return (batch_bound - target).abs(), batch_bound.detach()


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
    (:mod:`mi_tutorial.training.checkpoint`); if the file exists when the run starts, the run continues from
    it, and the records equal those of an uninterrupted run (``elapsed_s`` continues the first
    attempt's clock). The file is left in place; :func:`mi_tutorial.runs.run_sweep` deletes it
    once the run is stored.
    """
    if not isinstance(config, MultiViewConfig):
        raise TypeError(f"train_multiview needs a MultiViewConfig, got {type(config).__name__}.")
    seed = check_int(seed, "seed", 0)
    device = torch.device(device)
    estimator = registry.ESTIMATORS.check(config.estimator)
    train, test = load_data(config.dataset, data)
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
    built = init_models(seed, lambda: multiview_modules(config, train, test))
    g1, g2, critic = (module.to(device) for module in built)
    modules = (g1, critic) if g2 is g1 else (g1, g2, critic)
    params = [p for m in modules for p in m.parameters()]
    optimizer = make_adam(params, config.lr, config.adam)

    train_gen = stream_generator(seed, STREAM_TRAIN)
    eval_gen = stream_generator(seed, STREAM_EVAL)
    batches = EpochBatches(len(train), config.batch_size, train_gen)
    describe = {"estimator": estimator, "critic": config.critic, "encoder": config.encoder}
    lr_hint = f"lr={config.lr:g}"
    log = LossLog(describe, lr_hint)
    records = Records()
    noise, target = config.noise_std, config.target

    def evaluate(step: int, elapsed: float) -> dict[str, float]:
        return evaluate_multiview(
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

    resumable = Resumable(
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
    bar = progress_bar(config.steps, progress, f"{config.encoder}+{config.critic}+{estimator}")
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
            loss, batch_bound = multiview_loss(estimator, scores, target)
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


def evaluate_multiview(
    config: MultiViewConfig,
    estimator: str,
    modules: tuple[nn.Module, nn.Module, nn.Module],
    data: tuple[TwoViews, TwoViews],
    train_bounds: np.ndarray,
    records: Records,
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
    acc, _ = probe(
        g1,
        independent_noise(train.top, noise, eval_gen),
        train.labels,
        independent_noise(test.top, noise, eval_gen),
        test.labels,
        seed,
        describe,
        step,
        lr_hint,
    )
    bound = test_bound(
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
    check_metrics(out, step, describe, lr_hint)
    for metric, value in out.items():
        records.add(step, metric, value, elapsed)
    if config.eval_jacobian:
        n = min(JACOBIAN_SAMPLES, len(train))
        idx = torch.randperm(len(train), generator=eval_gen)[:n]
        x = independent_noise(train.top[idx], noise, eval_gen)
        # scipy's single-threaded SVD: ≈3× faster than torch's on near-identity 392×392
        # Jacobians on 2 shared cores (5.6 s vs 15.1 s for 128); values agree to ~1e-14.
        logcond = np.asarray(jacobian_log_condition(g1, x, svd_backend="scipy"), dtype=np.float64)
        for value in logcond:  # the Jacobians are taken in eval mode
            records.add(step, "logcond", value, elapsed)
    return out


def multiview_modules(
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
