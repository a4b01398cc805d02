"""The names a run config may use, and the extension point for your own components.

Four registries (:data:`ENCODERS`, :data:`CRITICS`, :data:`ESTIMATORS`, :data:`DATASETS`) hold the
built-in names and whatever you register. A config checks its names against them when it is built
(:mod:`mi_tutorial.config`), so a typo fails at once with a "did you mean" message instead of
inside a worker after other runs have trained. This module imports no torch, so that check is
cheap.

Registering a component makes it usable by name everywhere a built-in one is: in a config, in
:func:`mi_tutorial.encoders.make_encoder` / :func:`mi_tutorial.critics.make_critic`, in
:func:`mi_tutorial.estimators.estimate`, and so in every experiment::

    from mi_tutorial.registry import register_critic

    @register_critic("cosine")
    def cosine_critic(dim_x, dim_y, *, init="glorot", temperature=0.1):
        return CosineCritic(dim_x, dim_y, temperature)   # any nn.Module: (x[K, dx], y[K, dy]) -> S[K, K]

    config = paper.get_configs("critic-capacity", "smoke")[0].replace(critic="cosine")

The callables each registry expects:

* encoder: ``factory(input_dim, *, init, **encoder_kwargs) -> nn.Module`` with an ``out_dim``
  attribute, mapping ``[N, input_dim]`` to ``[N, out_dim]``;
* critic: ``factory(dim_x, dim_y, *, init, **critic_kwargs) -> nn.Module`` returning the score
  matrix :math:`S_{ij} = f(x_i, y_j)` of shape ``[K, K]`` (positives on the diagonal);
* estimator: ``bound(scores) -> Tensor``, a scalar lower bound on the MI that training maximises
  and that is reported as the bound;
* dataset: ``loader(split) -> TwoViews`` for ``split`` in ``{"train", "test"}``.

Runs in worker processes (``--jobs N``, Dask, Ray) see a registration only if it happens when
the worker imports your code: register at the top level of an importable module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._validation import choose


@dataclass
class Registry:
    """Built-in names of one kind of component plus the ones registered by the user."""

    kind: str
    builtins: tuple[str, ...]
    custom: dict[str, Callable[..., Any]] = field(default_factory=dict)

    def names(self) -> tuple[str, ...]:
        return (*self.builtins, *self.custom)

    def check(self, name: str) -> str:
        """``name`` if it is known, else a ``ValueError`` listing the names (with suggestions)."""
        return choose(name, self.names(), self.kind)

    def factory(self, name: str) -> Callable[..., Any] | None:
        """The registered callable of ``name``, or None for a built-in one."""
        return self.custom.get(self.check(name))

    def register(self, name: str, factory: Callable[..., Any] | None = None, *, replace=False):
        """Register ``factory`` under ``name``; without ``factory``, a decorator that does so.

        A built-in name cannot be replaced (its stored runs would change meaning); a registered
        one only with ``replace=True``.
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"a {self.kind} name must be an identifier, got {name!r}.")
        if name in self.builtins:
            raise ValueError(f"{name!r} is a built-in {self.kind}; register under another name.")
        if name in self.custom and not replace:
            raise ValueError(
                f"a {self.kind} named {name!r} is already registered; pass replace=True to "
                "replace it."
            )

        def add(fn: Callable[..., Any]) -> Callable[..., Any]:
            if not callable(fn):
                raise TypeError(f"a {self.kind} must be callable, got {type(fn).__name__}.")
            self.custom[name] = fn
            return fn

        return add if factory is None else add(factory)

    def unregister(self, name: str) -> None:
        """Remove a registered (not a built-in) name."""
        if name not in self.custom:
            raise ValueError(f"no registered {self.kind} named {name!r}.")
        del self.custom[name]


#: The MI bounds of :mod:`mi_tutorial.estimators`, and the training losses that are not bounds.
BOUNDS: tuple[str, ...] = ("infonce", "nwj", "tuba", "dv", "js", "interpolated", "smile")
LOSSES: tuple[str, ...] = ("triplet",)

ENCODERS = Registry("encoder", ("mlp", "convnet", "residual_mlp", "realnvp"))
CRITICS = Registry("critic", ("inner", "bilinear", "separable", "concat", "neg_sqdist"))
ESTIMATORS = Registry("estimator", (*BOUNDS, *LOSSES))
DATASETS = Registry("dataset", ("mnist", "cifar10", "digits"))

register_encoder = ENCODERS.register
register_critic = CRITICS.register
register_estimator = ESTIMATORS.register
register_dataset = DATASETS.register
