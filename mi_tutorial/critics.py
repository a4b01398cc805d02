r"""Critics :math:`f(x, y)`: ``nn.Module``\ s mapping a batch ``(x[K, d_x], y[K, d_y])`` to the score
matrix ``S[K, K]`` with :math:`S_{ij} = f(x_i, y_j)` (positives on the diagonal; see
:mod:`mi_tutorial.estimators` for the convention).

The three critics of Tschannen et al. (2020, §2 and §3.2), from least to most expressive:

* **bilinear** :math:`f(x, y) = x^\top W y` (the default of every experiment),
* **separable** :math:`f(x, y) = \phi_1(x)^\top \phi_2(y)`,
* **concat** ("MLP critic") :math:`f(x, y) = \phi([x, y])`,

plus the parameter-free **inner** product :math:`x^\top y` and **negative squared distance**
:math:`-\lVert x - y \rVert^2` of the metric-learning view (§4).
:func:`make_critic` builds one by name and applies the package's weight initialisation
(Glorot-uniform weights, zero biases by default, like the official Keras code).
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import warnings

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import registry
from ._validation import check_int
from .nn_init import apply_init

CRITICS: tuple[str, ...] = registry.CRITICS.builtins  # the built-in critics


def _check_pair(x: Tensor, y: Tensor, dim_x: int | None, dim_y: int | None) -> None:
    """x and y must be 2-d tensors with the same batch size K and the expected feature sizes."""
    for name, t in (("x", x), ("y", y)):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"{name} must be a torch.Tensor of shape [K, d], got {type(t).__name__}."
            )
        if t.ndim != 2:
            raise ValueError(
                f"{name} must have shape [K, d] (a batch of K codes), got {tuple(t.shape)}; "
                "flatten the features first."
            )
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"x and y must hold the same number K of pairs, got x {tuple(x.shape)} and "
            f"y {tuple(y.shape)}."
        )
    for name, t, want in (("x", x, dim_x), ("y", y, dim_y)):
        if want is not None and t.shape[1] != want:
            raise ValueError(
                f"{name} has {t.shape[1]} features but the critic was built for {want}: "
                f"got {name} of shape {tuple(t.shape)}."
            )


def _check_same_size(x: Tensor, y: Tensor, critic: str) -> None:
    """The parameter-free critics compare codes coordinate by coordinate: sizes must match."""
    _check_pair(x, y, None, None)
    if x.shape[1] != y.shape[1]:
        raise ValueError(
            f"the {critic} critic needs codes of equal size, got x {tuple(x.shape)} "
            f"and y {tuple(y.shape)}; use the bilinear critic for different sizes."
        )


class InnerProductCritic(nn.Module):
    r""":math:`f(x, y) = x^\top y`, no parameters; ``x`` and ``y`` must have the same dimension.

    With a shared encoder this is exactly the setting in which :math:`I_{NCE}` becomes
    :math:`\log K` minus Sohn's multi-class K-pair loss (§4).
    """

    def __init__(self) -> None:
        super().__init__()

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        _check_same_size(x, y, "inner-product")
        return x @ y.T


class NegSquaredDistanceCritic(nn.Module):
    r""":math:`f(x, y) = -\lVert x - y \rVert_2^2`, no parameters; ``x`` and ``y`` of equal size.

    The similarity of distance-based metric learning (triplet loss, Schroff et al., 2015): with it,
    :math:`S_{ii} - S_{ij} = d(x_i, y_j)^2 - d(x_i, y_i)^2`. Computed from the differences
    :math:`x_i - y_j` (a [K, K, d] tensor), not from :math:`|x|^2 + |y|^2 - 2x^\top y`, so there is
    no cancellation and :math:`S_{ij} \le 0` exactly.
    """

    def __init__(self) -> None:
        super().__init__()

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        _check_same_size(x, y, "neg_sqdist")
        return -(x[:, None, :] - y[None, :, :]).square().sum(dim=-1)


class BilinearCritic(nn.Module):
    r""":math:`f(x, y) = x^\top W y` with :math:`W \in \mathbb{R}^{d_x \times d_y}` and no bias.

    :math:`W` is a bias-free ``Linear(d_y, d_x)`` applied to :math:`y` (the official code's Dense
    layer), so :math:`S = x\,(y W^\top)^\top` costs two matrix products: 100 × 100 → 10,000
    parameters.
    """

    def __init__(self, dim_x: int, dim_y: int) -> None:
        super().__init__()
        self.dim_x, self.dim_y = check_int(dim_x, "dim_x", 1), check_int(dim_y, "dim_y", 1)
        self.linear = nn.Linear(self.dim_y, self.dim_x, bias=False)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        _check_pair(x, y, self.dim_x, self.dim_y)
        return x @ self.linear(y).T


def _mlp(dim_in: int, hidden: int, out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim_in, hidden), nn.ReLU(), nn.Linear(hidden, out))


class SeparableCritic(nn.Module):
    r""":math:`f(x, y) = \phi_1(x)^\top \phi_2(y)`, each :math:`\phi` = Linear–ReLU–Linear.

    Default sizes follow §3.2 (hidden 100, output 100): 2 × 20,200 = 40,400 parameters for
    100-d codes.
    """

    def __init__(self, dim_x: int, dim_y: int, hidden: int = 100, out: int = 100) -> None:
        super().__init__()
        self.dim_x, self.dim_y = check_int(dim_x, "dim_x", 1), check_int(dim_y, "dim_y", 1)
        hidden, out = check_int(hidden, "hidden", 1), check_int(out, "out", 1)
        self.phi_x = _mlp(self.dim_x, hidden, out)
        self.phi_y = _mlp(self.dim_y, hidden, out)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        _check_pair(x, y, self.dim_x, self.dim_y)
        return self.phi_x(x) @ self.phi_y(y).T


#: ``MI_TUTORIAL_COMPILE=0`` keeps the concat critic's pairwise part in eager PyTorch.
COMPILE_VARIABLE = "MI_TUTORIAL_COMPILE"
_COMPILE_FAILED: list[str] = []  # the reason, once compiling failed in this process


def one_hidden_layer_scores(a: Tensor, c: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    r""":math:`S_{ij} = w^\top \mathrm{ReLU}(A_i + B_j) + b` for every pair: the concat critic
    with one hidden layer, written as one broadcast and one reduction over the hidden units, so
    that :func:`torch.compile` fuses it into a single loop that never stores the [K, K, h]
    activations (``weight``: the output layer's [1, h] weight, ``bias``: its [1] bias)."""
    return (F.relu(a[:, None, :] + c[None, :, :]) * weight[0]).sum(-1) + bias


@functools.cache
def _compiled_scores():
    # Compiling for the CPU makes torch look for CUDA and log that it found none: not news here.
    logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
    return torch.compile(one_hidden_layer_scores)


def compiled_scores_enabled() -> bool:
    """Whether the concat critic's training steps use the compiled pairwise kernel (the default;
    ``MI_TUTORIAL_COMPILE=0`` turns it off, and it turns itself off where compiling fails)."""
    return os.environ.get(COMPILE_VARIABLE, "1") != "0" and not _COMPILE_FAILED


class ConcatCritic(nn.Module):
    r""":math:`f(x, y) = \phi([x, y])`: ``layers`` hidden ReLU layers of width ``hidden``, then
    ``Linear(hidden, 1)``. Defaults (hidden 200, one layer) give 40,401 parameters for 100-d codes
    (§3.2); the non-i.i.d. experiment (§4) uses ``hidden=10, layers=5`` on scalar :math:`x, y`.

    **Efficient scores.** The first layer is affine, so on a concatenated pair it splits:

    .. math:: W [x_i; y_j] + b = W_x x_i + (W_y y_j + b).

    :meth:`forward` computes :math:`A = x W_x^\top` ([K, h]) and :math:`B = y W_y^\top + b`
    ([K, h]) once, forms :math:`\mathrm{ReLU}(A_i + B_j)` for all pairs by broadcasting ([K, K, h]),
    and runs only the remaining layers on the :math:`K^2` rows. With one hidden layer (the
    paper's), a training step computes the pairs through :func:`one_hidden_layer_scores` compiled
    by :func:`torch.compile` (one fused loop; the same scores up to float rounding, about 4× faster
    on a CPU for K = 128, h = 200, after a few seconds of compiling once per process); see
    :func:`compiled_scores_enabled`. The first layer is stored as one
    ``Linear(d_x + d_y, hidden)``, so its Glorot initialisation sees the same fan-in as the official
    Dense layer on :math:`[x, y]`. :meth:`naive_scores` is the literal :math:`K^2`-concatenation
    form, kept for tests and timing.
    """

    def __init__(self, dim_x: int, dim_y: int, hidden: int = 200, layers: int = 1) -> None:
        super().__init__()
        self.dim_x, self.dim_y = check_int(dim_x, "dim_x", 1), check_int(dim_y, "dim_y", 1)
        hidden, layers = check_int(hidden, "hidden", 1), check_int(layers, "layers", 1)
        self.first = nn.Linear(self.dim_x + self.dim_y, hidden)
        self.hidden_layers = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers - 1))
        self.out = nn.Linear(hidden, 1)

    def _head(self, h: Tensor) -> Tensor:
        """Everything after the first layer's pre-activation: ReLU, hidden layers, output.

        ``h`` is a fresh intermediate whose producer (add / Linear) does not keep its output for
        backward, so the ReLUs run in place and save one [K, K, h] allocation each.
        """
        h = F.relu(h, inplace=True)
        for layer in self.hidden_layers:
            h = F.relu(layer(h), inplace=True)
        return self.out(h).squeeze(-1)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        _check_pair(x, y, self.dim_x, self.dim_y)
        w, b = self.first.weight, self.first.bias
        a = x @ w[:, : self.dim_x].T  # [K, h]: W_x x_i
        c = torch.addmm(b, y, w[:, self.dim_x :].T)  # [K, h]: W_y y_j + b
        if not self.hidden_layers and torch.is_grad_enabled() and compiled_scores_enabled():
            try:
                return _compiled_scores()(a, c, self.out.weight, self.out.bias)
            except Exception as err:  # no C++ compiler, an unsupported platform, vmap, ...
                _COMPILE_FAILED.append(f"{type(err).__name__}: {err}")
                warnings.warn(
                    f"the concat critic's compiled kernel failed ({_COMPILE_FAILED[0][:200]}); "
                    "using eager PyTorch from now on",
                    RuntimeWarning,
                    stacklevel=2,
                )
        return self._head(a[:, None, :] + c[None, :, :])  # [K, K]: row i = x_i, column j = y_j

    def naive_scores(self, x: Tensor, y: Tensor) -> Tensor:
        """The literal form: run the whole MLP on all K² concatenated pairs [x_i, y_j]."""
        _check_pair(x, y, self.dim_x, self.dim_y)
        k = x.shape[0]
        pairs = torch.cat(
            (x[:, None, :].expand(k, k, self.dim_x), y[None, :, :].expand(k, k, self.dim_y)), dim=-1
        )
        return self._head(self.first(pairs))


_CLASSES: dict[str, type[nn.Module]] = {
    "inner": InnerProductCritic,
    "bilinear": BilinearCritic,
    "separable": SeparableCritic,
    "concat": ConcatCritic,
    "neg_sqdist": NegSquaredDistanceCritic,
}


def make_critic(
    name: str, dim_x: int, dim_y: int | None = None, *, init: str = "glorot", **kwargs
) -> nn.Module:
    """Build critic ``name`` (one of :data:`CRITICS`) for codes of size ``dim_x`` and ``dim_y``.

    ``dim_y`` defaults to ``dim_x``. Extra keyword arguments go to the critic (``hidden``/``out``
    for separable, ``hidden``/``layers`` for concat); unknown ones raise a ``TypeError`` that lists
    the accepted ones. ``init`` is applied with :func:`mi_tutorial.nn_init.apply_init`.
    """
    custom = registry.CRITICS.factory(name)
    dim_x = check_int(dim_x, "dim_x", 1)
    dim_y = dim_x if dim_y is None else check_int(dim_y, "dim_y", 1)
    if custom is not None:  # a registered critic (mi_tutorial.registry.register_critic)
        return custom(dim_x, dim_y, init=init, **kwargs)
    cls = _CLASSES[name]
    fixed = ("self", "dim_x", "dim_y")
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p not in fixed]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        options = ", ".join(accepted) if accepted else "no extra keyword arguments"
        raise TypeError(
            f"critic {name!r} got unexpected keyword argument(s) {', '.join(unknown)}; "
            f"it accepts: {options}."
        )
    if name in ("inner", "neg_sqdist"):
        if dim_x != dim_y:
            raise ValueError(
                f"the {name} critic needs dim_x == dim_y, got {dim_x} and {dim_y}; "
                "use 'bilinear' for codes of different sizes."
            )
        critic: nn.Module = cls()
    else:
        critic = cls(dim_x, dim_y, **kwargs)
    return apply_init(critic, init)
