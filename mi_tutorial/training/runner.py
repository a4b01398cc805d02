r"""One entry point for every kind of run: :func:`run_config` dispatches on ``config.kind``;
:func:`build_models` rebuilds a run's modules exactly as its trainer initialised them."""

from __future__ import annotations

import os

import pandas as pd
import torch
from torch import nn

from .._validation import check_int, choose
from ..config import (
    RunConfig,
)
from ..data import (
    TwoViews,
)
from .adversarial import encoder_and_linear_head, train_adversarial
from .loop import (
    RUN_KINDS,
    init_models,
    load_data,
)
from .mi_benchmark import benchmark_critic, train_mi_benchmark
from .multiview import multiview_modules, train_multiview
from .noniid import noniid_critic, train_noniid
from .supervised import train_supervised


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
        "mi-benchmark": train_mi_benchmark,
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
    ``classifier`` (adversarial and supervised), ``critic`` (non-i.i.d. and mi-benchmark).
    """
    seed = check_int(seed, "seed", 0)
    kind = choose(getattr(config, "kind", None), RUN_KINDS, "run kind (config.kind)")
    if kind == "noniid":
        return {"critic": init_models(seed, lambda: noniid_critic(config))}
    if kind == "mi-benchmark":
        return {"critic": init_models(seed, lambda: benchmark_critic(config))}
    views = load_data(config.dataset, data)
    if kind == "multiview":
        names, builder = ("g1", "g2", "critic"), multiview_modules
    else:
        names, builder = ("g", "classifier"), encoder_and_linear_head
    return dict(zip(names, init_models(seed, lambda: builder(config, *views)), strict=True))
