r"""App. B (Fig. 1c): an invertible encoder trained against a linear classifier."""

from __future__ import annotations

import time

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_int
from ..config import (
    AdversarialConfig,
    SupervisedConfig,
)
from ..data import (
    TwoViews,
)
from ..encoders import make_encoder
from ..nn_init import apply_init
from .loop import (
    STREAM_TRAIN,
    EpochBatches,
    LossLog,
    Records,
    check_metrics,
    eval_mode,
    init_models,
    load_data,
    probe_and_head,
    progress_bar,
    stream_generator,
)
from .optim import make_adam


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
    train, test = load_data(config.dataset, data)
    built = init_models(seed, lambda: encoder_and_linear_head(config, train, test))
    g, classifier = (module.to(device) for module in built)
    clf_opt = make_adam(classifier.parameters(), config.classifier_lr, config.adam)
    enc_opt = make_adam(g.parameters(), config.encoder_lr, config.adam)

    train_gen = stream_generator(seed, STREAM_TRAIN)
    batches = EpochBatches(len(train), config.batch_size, train_gen)
    describe = {
        "estimator": "adversarial",
        "critic": "linear classifier",
        "encoder": config.encoder,
    }
    lr_hint = f"classifier_lr={config.classifier_lr:g}, encoder_lr={config.encoder_lr:g}"
    log = LossLog(describe, lr_hint)
    records = Records()

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
        with eval_mode(g, classifier):
            out = probe_and_head(g, classifier, train, test, seed, describe, step, lr_hint)
            if hasattr(g, "inverse"):
                x = test.top[: config.batch_size].to(device)
                out["reconstruction_error"] = float((g.inverse(g(x)) - x).abs().max())
        check_metrics(out, step, describe, lr_hint)
        for metric, value in out.items():
            records.add(step, metric, value, elapsed)
        return out

    bar = progress_bar(config.steps, progress, f"adversarial {config.encoder}")
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


def encoder_and_linear_head(
    config: AdversarialConfig | SupervisedConfig, train: TwoViews, test: TwoViews
) -> tuple[nn.Module, nn.Module]:
    n_classes = int(max(train.labels.max(), test.labels.max())) + 1
    enc_kwargs = dict(config.encoder_kwargs)
    g = make_encoder(config.encoder, input_dim=train.top.shape[1], init=config.init, **enc_kwargs)
    return g, apply_init(nn.Linear(g.out_dim, n_classes), config.init)
