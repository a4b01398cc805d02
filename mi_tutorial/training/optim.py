r"""Adam as the official code ran it: the optimiser every trainer builds through :func:`make_adam`."""

from __future__ import annotations

import math

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
