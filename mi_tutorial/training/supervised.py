r"""The paper's supervised reference (§3): an encoder and a linear head trained with labels."""

from __future__ import annotations

import time

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_int
from ..config import (
    SupervisedConfig,
)
from ..data import (
    TwoViews,
)
from .adversarial import encoder_and_linear_head
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
    train, test = load_data(config.dataset, data)
    built = init_models(seed, lambda: encoder_and_linear_head(config, train, test))
    g, head = (module.to(device) for module in built)
    optimizer = make_adam([*g.parameters(), *head.parameters()], config.lr, config.adam)
    train_gen = stream_generator(seed, STREAM_TRAIN)
    batches = EpochBatches(len(train), config.batch_size, train_gen)
    describe = {"estimator": "supervised", "critic": "linear head", "encoder": config.encoder}
    lr_hint = f"lr={config.lr:g}"
    log = LossLog(describe, lr_hint)
    records = Records()

    def evaluate(step: int, elapsed: float) -> dict[str, float]:
        log.flush()
        with eval_mode(g, head):
            out = probe_and_head(g, head, train, test, seed, describe, step, lr_hint)
        check_metrics(out, step, describe, lr_hint)
        for metric, value in out.items():
            records.add(step, metric, value, elapsed)
        return out

    bar = progress_bar(config.steps, progress, f"supervised {config.encoder}")
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
