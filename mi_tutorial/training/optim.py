r"""Adam as the official code ran it: the optimiser every trainer builds through :func:`make_adam`.

**Fused update.** By default :func:`make_adam` asks PyTorch for its fused Adam kernel
(``fused=True``), which updates every parameter in one pass over memory instead of a handful of
elementwise passes per parameter tensor. The update is the same formula; results agree with the
per-parameter loop up to float rounding (``tests/test_train.py``). It
matters where Adam's memory traffic is a large part of a step: on our 2-core machine the loop made
the paper's RealNVP and MLP steps about 1.3× slower (``make bench``, its kernel section).
``MI_TUTORIAL_FUSED_ADAM=0`` restores the loop, which made every stored run without
``machine.adam_kernel`` in its provenance; where the fused kernel is unavailable (PyTorch < 2.4 on a
CPU), the loop is used with a ``RuntimeWarning``.
"""

from __future__ import annotations

import math
import os
import warnings

import torch

from .._validation import choose

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

    def __init__(self, params, lr: float, **adam_kwargs) -> None:
        super().__init__(params, lr=lr, eps=TF1_ADAM_EPS, **adam_kwargs)

    def step(self, closure=None):  # type: ignore[override]
        for group in self.param_groups:
            t = 1 + next(
                (int(self.state[p]["step"]) for p in group["params"] if "step" in self.state[p]), 0
            )
            group["eps"] = TF1_ADAM_EPS / math.sqrt(1.0 - group["betas"][1] ** t)
        return super().step(closure)


#: ``MI_TUTORIAL_FUSED_ADAM=0`` keeps PyTorch's per-parameter Adam loop.
FUSED_VARIABLE = "MI_TUTORIAL_FUSED_ADAM"
_FUSED_FAILED: list[str] = []  # the reason, once the fused kernel was refused in this process


def fused_adam_enabled() -> bool:
    """Whether :func:`make_adam` builds fused optimisers (the default; ``MI_TUTORIAL_FUSED_ADAM=0``
    turns it off, and it turns itself off where PyTorch refuses the fused kernel)."""
    return os.environ.get(FUSED_VARIABLE, "1") != "0" and not _FUSED_FAILED


def adam_kernel() -> str:
    """The Adam update this process runs, as a run's provenance records it (``machine.adam_kernel``)."""
    return "fused" if fused_adam_enabled() else "per-parameter loop"


def make_adam(params, lr: float, variant: str = "keras") -> torch.optim.Adam:
    """Adam as a run config names it: ``"keras"`` (ε = :data:`ADAM_EPS` on √v̂) or ``"tf1"``
    (:class:`TF1Adam`); fused where :func:`fused_adam_enabled`."""
    variant = choose(variant, ADAM_VARIANTS, "adam")
    params = list(params)

    def build(**fused) -> torch.optim.Adam:
        if variant == "tf1":
            return TF1Adam(params, lr, **fused)
        return torch.optim.Adam(params, lr=lr, eps=ADAM_EPS, **fused)

    if fused_adam_enabled():
        try:
            return build(fused=True)
        except RuntimeError as err:  # e.g. PyTorch < 2.4 has no fused kernel for the CPU
            _FUSED_FAILED.append(f"{type(err).__name__}: {err}")
            warnings.warn(
                f"fused Adam is unavailable ({_FUSED_FAILED[0][:200]}); "
                "using PyTorch's per-parameter loop from now on",
                RuntimeWarning,
                stacklevel=2,
            )
    return build()
