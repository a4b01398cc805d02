"""Run configurations: frozen dataclasses, one per kind of training run.

A run is a pure function of ``(config, seed)`` → tidy records (see :mod:`mi_tutorial.training`), so a
config holds *everything* that changes the result and nothing that does not (the device, progress
bars and file paths are passed separately). Configs are hashable and serialise to plain JSON, which
is what the results store keys its cache on.

Records are **long/tidy** pandas DataFrames with at least the columns ``step``, ``metric``, ``value``
(e.g. ``metric`` ∈ {"accuracy", "bound", "objective", "logcond"}; ``logcond`` has one row per
sample). The runner adds the config fields and ``seed`` as columns.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from . import registry
from ._validation import check_float, check_int, check_seeds, choose

PROFILES = ("smoke", "book", "paper")


def check_profile(profile: object) -> str:
    """``profile`` if it is one of :data:`PROFILES`, else a ``ValueError`` that names it and the
    choices (``unknown profile 'bogus'. Choose one of: book, paper, smoke.``). The chapters call
    it right after their ``parameters`` cell, so ``papermill -p PROFILE bogus`` fails at once."""
    return choose(profile, PROFILES, "profile")


def check_seeds_parameter(seeds: object) -> list[int] | None:
    """A chapter's ``SEEDS`` parameter: None (the profile's default seeds), a count ``n`` (seeds
    ``0..n-1``) or distinct seeds ``0 <= seed < 2**32``; returns None or the list of seeds."""
    return None if seeds is None else check_seeds(seeds)


def _freeze(kwargs: dict[str, Any] | tuple | None) -> tuple[tuple[str, Any], ...]:
    """Turn a kwargs dict into a sorted tuple of pairs so the config stays hashable."""
    if kwargs is None:
        return ()
    items = kwargs.items() if isinstance(kwargs, dict) else kwargs
    return tuple(sorted((str(k), tuple(v) if isinstance(v, list) else v) for k, v in items))


@dataclass(frozen=True)
class RunConfig:
    """Fields common to every run."""

    kind: ClassVar[str] = "base"
    #: Fields added after results were first stored: left out of :meth:`key` while they hold their
    #: default value, so every config that existed before them keeps its cache key (and its stored
    #: runs). They always appear in :meth:`to_dict`, so record columns stay uniform.
    key_omits_default: ClassVar[tuple[str, ...]] = ("adam",)
    experiment: str = "custom"
    profile: str = "custom"
    steps: int = 21_000
    eval_every: int = 1_000
    batch_size: int = 128
    lr: float = 1e-4
    #: "keras" (ε = 1e-7 on the bias-corrected √v̂; every stored run) or "tf1" (the official
    #: notebook's ``tf.train.AdamOptimizer``): see :func:`mi_tutorial.training.make_adam`.
    adam: str = "keras"

    def __post_init__(self) -> None:
        check_int(self.steps, "steps", minimum=1)
        check_int(self.eval_every, "eval_every", minimum=1)
        check_int(self.batch_size, "batch_size", minimum=2)
        if check_float(self.lr, "lr") <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}.")
        choose(self.adam, ("keras", "tf1"), "adam")  # training.optim.ADAM_VARIANTS

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": self.kind}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = dict(value) if f.name.endswith("_kwargs") else value
        return out

    def key(self) -> str:
        """A short stable hash of the config (the results-store cache key).

        Fields named in ``key_omits_default`` are hashed only when they differ from their default.
        """
        data = self.to_dict()
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        for name in self.key_omits_default:
            if data[name] == defaults[name]:
                del data[name]
        blob = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def replace(self, **changes: Any) -> RunConfig:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class MultiViewConfig(RunConfig):
    r"""Two encoders :math:`g_1, g_2` on the two views, a critic :math:`f` and an estimator; maximise
    :math:`I_{EST}(g_1(x^{(1)}); g_2(x^{(2)}))`, or minimise :math:`|I_{EST} - t|` when ``target`` is set.

    ``shared_encoder=True`` uses one encoder for both views (:math:`g_2 = g_1`, the metric-learning
    setting of §4); ``estimator`` may also be a training-only objective such as ``"triplet"`` (see
    :data:`mi_tutorial.estimators.OBJECTIVES`). ``shared_encoder`` is hashed only when True, so
    the cache keys of the paper's configs are unchanged.
    """

    kind: ClassVar[str] = "multiview"
    key_omits_default: ClassVar[tuple[str, ...]] = ("shared_encoder", "adam")
    encoder: str = "mlp"
    critic: str = "bilinear"
    estimator: str = "infonce"
    target: float | None = None
    noise_std: float = 0.0
    init: str = "glorot"
    encoder_kwargs: tuple = field(default=())
    critic_kwargs: tuple = field(default=())
    dataset: str = "mnist"  # "mnist", "cifar10" or "digits" (tiny, for tests): train.DATASETS
    eval_jacobian: bool = False
    eval_batches: int | None = (
        None  # test batches of batch_size for the bound; None = whole test set
    )
    shared_encoder: bool = False  # g2 is g1 (both views go through one encoder)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "encoder_kwargs", _freeze(self.encoder_kwargs))
        object.__setattr__(self, "critic_kwargs", _freeze(self.critic_kwargs))
        check_float(self.noise_std, "noise_std", minimum=0.0)
        registry.ENCODERS.check(self.encoder)
        registry.CRITICS.check(self.critic)
        registry.ESTIMATORS.check(self.estimator)
        registry.DATASETS.check(self.dataset)
        if self.target is not None:
            check_float(self.target, "target t", minimum=0.0)


@dataclass(frozen=True)
class AdversarialConfig(RunConfig):
    """E2: an encoder trained so that a linear classifier on its output predicts uniformly."""

    kind: ClassVar[str] = "adversarial"
    steps: int = 4_001
    eval_every: int = 400
    encoder: str = "realnvp"
    encoder_kwargs: tuple = field(default=())
    classifier_lr: float = 1e-4  # paper App. B; the official notebook uses 1e-3
    encoder_lr: float = 1e-6  # paper App. B; the official notebook uses 1e-5
    classifier_steps: int = 10  # classifier updates per encoder update
    warmup_steps: int = 1_000  # classifier-only updates before the encoder moves
    init: str = "glorot"
    dataset: str = "mnist"

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "encoder_kwargs", _freeze(self.encoder_kwargs))
        registry.ENCODERS.check(self.encoder)
        registry.DATASETS.check(self.dataset)
        check_int(self.classifier_steps, "classifier_steps", minimum=1)
        check_int(self.warmup_steps, "warmup_steps", minimum=0)


@dataclass(frozen=True)
class NonIIDConfig(RunConfig):
    """E6: a concat critic alone on 2-d Gaussian pairs whose batch shares one latent Z (or not)."""

    kind: ClassVar[str] = "noniid"
    steps: int = 20_000
    eval_every: int = 1  # the training-batch bound is recorded at every step
    estimator: str = "infonce"
    iid: bool = False
    hidden: int = 10
    layers: int = 5
    init: str = "glorot"

    def __post_init__(self) -> None:
        super().__post_init__()
        registry.ESTIMATORS.check(self.estimator)


@dataclass(frozen=True)
class SupervisedConfig(RunConfig):
    """The paper's supervised reference (§3, "Setup"): an encoder and a linear head on its output,
    trained end to end with cross-entropy on the labels of the top halves."""

    kind: ClassVar[str] = "supervised"
    encoder: str = "mlp"
    encoder_kwargs: tuple = field(default=())
    init: str = "glorot"
    dataset: str = "mnist"

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "encoder_kwargs", _freeze(self.encoder_kwargs))
        registry.ENCODERS.check(self.encoder)
        registry.DATASETS.check(self.dataset)


@dataclass(frozen=True)
class MIBenchmarkConfig(RunConfig):
    r"""B1: a critic alone, trained with one bound on one task of known MI (:mod:`mi_tutorial.mi_tasks`).

    Every step draws :math:`K` = ``batch_size`` fresh pairs of ``task`` (the stepping
    ``"staircase"`` draws the level of its step), records the estimate :math:`\hat I(S)` of that
    batch before the update every ``eval_every`` steps and ascends the bound's training objective
    with Adam. ``critic`` is ``"separable"`` (``hidden`` units, an ``out``-d embedding per side) or
    ``"concat"`` (one hidden layer of ``hidden`` units on :math:`[x, y]`).
    """

    kind: ClassVar[str] = "mi-benchmark"
    steps: int = 2_000
    eval_every: int = 20
    batch_size: int = 64
    lr: float = 5e-4
    task: str = "gaussian-1x1"
    estimator: str = "infonce"
    critic: str = "separable"
    hidden: int = 96
    out: int = 32
    init: str = "glorot"

    def __post_init__(self) -> None:
        super().__post_init__()
        from .mi_tasks import benchmark_task_names  # torch, imported only when a config is built

        choose(self.task, benchmark_task_names(), "MI task")
        choose(self.critic, ("separable", "concat"), "benchmark critic")
        registry.ESTIMATORS.check(self.estimator)
        check_int(self.hidden, "hidden", minimum=1)
        check_int(self.out, "out", minimum=1)


CONFIG_KINDS: dict[str, type[RunConfig]] = {
    c.kind: c
    for c in (
        MultiViewConfig,
        AdversarialConfig,
        NonIIDConfig,
        SupervisedConfig,
        MIBenchmarkConfig,
    )
}


def config_from_dict(data: dict[str, Any]) -> RunConfig:
    """Inverse of :meth:`RunConfig.to_dict`."""
    data = dict(data)
    cls = CONFIG_KINDS[data.pop("kind")]
    return cls(**data)
