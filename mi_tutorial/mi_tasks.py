r"""A library of sampling tasks :math:`(X, Y)` whose mutual information :math:`I(X;Y)` is known.

Every :class:`Task` draws ``n`` pairs ``x[n, d_x]``, ``y[n, d_y]`` (float32) from a fixed joint
distribution and carries its ground truth ``mi`` in nats, computed in closed form (float64). The
registry :data:`TASKS` (look names up with :func:`get_task`) holds five families, in the spirit of
the benchmark of Czyż et al. (2023, "Beyond normal: on the evaluation of mutual information
estimators"): simple distributions with a known :math:`I(X;Y)`, then the *same* distributions
seen through invertible maps, which change everything an estimator sees but not the MI.

``"gaussian"``
    :math:`(X, Y) \sim \mathcal N(0, \Sigma)` with
    :math:`\Sigma = \begin{pmatrix}\Sigma_{xx} & \Sigma_{xy}\\ \Sigma_{yx} & \Sigma_{yy}\end{pmatrix}`,
    and

    .. math::
        I(X;Y) = \tfrac12 \log\frac{\det\Sigma_{xx}\,\det\Sigma_{yy}}{\det\Sigma}
               = -\tfrac12 \sum_i \log(1-\rho_i^2),

    with :math:`\rho_i` the canonical correlations
    (:func:`mi_tutorial.data.gaussian_mi_from_cov` evaluates the log-determinants). *Sparse*
    tasks correlate only :math:`k` coordinate pairs,
    :math:`\Sigma = \begin{pmatrix} I & P \\ P^\top & I\end{pmatrix}` with
    :math:`P = \operatorname{diag}(\rho, \dots, \rho, 0, \dots, 0)` and
    :math:`\rho = \sqrt{1 - e^{-2I/k}}` (:func:`mi_tutorial.data.rho_for_mi`). *Dense* tasks mix
    such canonical pairs :math:`(u, v)` with fixed random invertible matrices,
    :math:`x = A u`, :math:`y = B v`, so :math:`\Sigma_{xx} = AA^\top`,
    :math:`\Sigma_{xy} = A P B^\top` and every coordinate is correlated with every other; the
    *equicorrelated* task has :math:`\Sigma = (1 - c) I + c\,\mathbf 1 \mathbf 1^\top`.
``"student-t"``
    :math:`(X, Y) = Z / \sqrt{W}` with :math:`Z \sim \mathcal N(0, \Sigma)`,
    :math:`W \sim \chi^2_\nu / \nu` shared by all coordinates (:math:`\nu = 1` is the Cauchy
    case, with no mean). Its MI is the Gaussian log-det term plus a term of the shared scale,
    positive even for :math:`\Sigma_{xy} = 0` (the closed form is in :mod:`mi_tutorial.synthetic`).
    The tasks use
    :math:`\Sigma = \begin{pmatrix} I & \rho I \\ \rho I & I\end{pmatrix}` and reuse
    :func:`mi_tutorial.synthetic.student_t_mi` and :func:`mi_tutorial.synthetic.sample_task`.
``"transformed"``
    :math:`(f(X), g(Y))` for a Gaussian or Student-t base task, with :math:`f, g` smooth
    bijections onto their image, so :math:`I(f(X); g(Y)) = I(X;Y)` exactly. Per coordinate:
    the *half-cube* :math:`h(t) = \operatorname{sign}(t)\,|t|^{3/2}` (heavier tails),
    :math:`\operatorname{asinh} t` (lighter tails) and the normal CDF
    :math:`t \mapsto \Phi(t / \sigma)` with :math:`\sigma^2 = \Sigma_{ii}` (uniform margins on
    :math:`(0, 1)`, Gaussian bases only). The *spiral*
    :math:`S(x) = R(s\lVert x\rVert^2)\,x` rotates every coordinate pair
    :math:`(x_{2j-1}, x_{2j})` by the same angle :math:`\theta = s\lVert x\rVert^2` (an odd last
    coordinate is left alone). :math:`R(\theta)` is orthogonal, so
    :math:`\lVert S(x)\rVert = \lVert x\rVert` and :math:`S^{-1}(x') = R(-s\lVert x'\rVert^2)\,x'`;
    its Jacobian :math:`R\,(I + J x \nabla\theta^\top)` with :math:`J = R^{-1}R'` skew has
    determinant :math:`1 + \nabla\theta^\top J x = 1 + 2s\,x^\top J x = 1`: it preserves volume.
    Each transformed task keeps its ``base`` and an ``inverse`` that maps samples back.
``"staircase"``
    The benchmark of Poole et al. (2019, "On variational bounds of mutual information"):
    :math:`d = 20` independent coordinate pairs of correlation :math:`\rho`,
    :math:`I = -\frac d2 \log(1-\rho^2)`, stepped through 2, 4, 6, 8, 10 nats during training.
    :func:`staircase_mi` gives the level at step :math:`t` of :math:`T`,
    :math:`I_t = \ell_{\lfloor tL/T\rfloor}` for :math:`L` levels :math:`\ell`,
    :func:`sample_staircase` draws a batch at that step, and ``staircase-2`` … ``staircase-10``
    are the fixed levels (all via :func:`mi_tutorial.synthetic.sample_task`).
``"non-iid"``
    The sampler of the paper's Fig. 4c (:func:`mi_tutorial.data.noniid_batch`): a batch of
    :math:`n` pairs :math:`(x_i, y_i) = Z + \epsilon_i` with **one** :math:`Z \sim
    \mathcal N(0, \Sigma_Z)` for the whole batch and :math:`\epsilon_i \sim
    \mathcal N(0, \Sigma_\epsilon)`. Each pair is marginally
    :math:`\mathcal N(0, \Sigma_Z + \Sigma_\epsilon)`, so its MI is
    :math:`-\frac12 \log(1 - r^2) \approx 0.0204` nats (:math:`r = 0.2`), but the pairs of a batch
    are **not** independent of each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import torch
from torch import Tensor

from ._validation import check_float, check_int, choose
from .synthetic import (
    STAIRCASE,
    gaussian_mi_from_cov,
    noniid_batch,
    noniid_true_mi,
    rho_for_mi,
    sample_task,
    student_t_mi,
)

FAMILIES: tuple[str, ...] = ("gaussian", "student-t", "transformed", "staircase", "non-iid")

#: Dimension of every coordinate of Poole et al.'s (2019) staircase.
STAIRCASE_DIM = 20

Sampler = Callable[[int, torch.Generator], tuple[Tensor, Tensor]]
Pair = tuple[Tensor, Tensor]


@dataclass(frozen=True, eq=False)
class Task:
    r"""One joint distribution of :math:`(X, Y)` with known :math:`I(X;Y)`.

    ``sample(n, generator)`` returns ``n`` pairs ``(x[n, dims[0]], y[n, dims[1]])``, float32,
    deterministic given the generator's state; they are i.i.d. unless ``iid`` is false (the
    ``"non-iid"`` family). ``mi`` is the ground truth in nats. ``cov`` is the covariance of a
    Gaussian task (the shape matrix of a Student-t one, with ``nu`` its degrees of freedom), in
    float64; a ``"transformed"`` task keeps its untransformed ``base`` task and an ``inverse``
    that maps its samples back to the base's.
    """

    name: str
    family: str
    dims: tuple[int, int]
    mi: float
    sampler: Sampler = field(repr=False)
    cov: np.ndarray | None = field(default=None, repr=False)
    nu: float | None = None
    base: Task | None = field(default=None, repr=False)
    inverse: Callable[[Tensor, Tensor], Pair] | None = field(default=None, repr=False)
    iid: bool = True

    def __post_init__(self) -> None:
        choose(self.family, FAMILIES, "task family")

    def sample(self, n: int, generator: torch.Generator) -> Pair:
        """Draw ``n`` pairs ``(x, y)`` of shapes ``[n, dims[0]]`` and ``[n, dims[1]]`` (float32)."""
        n = check_int(n, "n", minimum=2 if not self.iid else 1)
        if not isinstance(generator, torch.Generator):
            raise TypeError(
                f"generator must be a torch.Generator, e.g. torch.Generator().manual_seed(0); "
                f"got {type(generator).__name__}."
            )
        x, y = self.sampler(n, generator)
        return x.float().contiguous(), y.float().contiguous()


# --------------------------------------------------------------------------------------------------
# Gaussian tasks
# --------------------------------------------------------------------------------------------------


def _gaussian_sampler(chol: Tensor, dim_x: int, n: int, generator: torch.Generator) -> Pair:
    z = torch.randn(n, chol.shape[0], generator=generator) @ chol.T
    return z[:, :dim_x], z[:, dim_x:]


def gaussian_task(name: str, cov: np.ndarray, dim_x: int) -> Task:
    r"""A task :math:`(X, Y) \sim N(0, \Sigma)` whose MI is the log-det formula on ``cov``."""
    cov = np.asarray(cov, dtype=np.float64)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or not 0 < dim_x < cov.shape[0]:
        raise ValueError(f"cov must be square of size > dim_x={dim_x}, got shape {cov.shape}.")
    chol = torch.from_numpy(np.linalg.cholesky(cov)).float()  # LinAlgError unless pos. definite
    mi = gaussian_mi_from_cov(cov, dim_x)
    dims = (dim_x, cov.shape[0] - dim_x)
    return Task(name, "gaussian", dims, mi, partial(_gaussian_sampler, chol, dim_x), cov=cov)


def canonical_cov(
    dim_x: int, dim_y: int, pairs: int, mi: float, seed: int | None = None
) -> np.ndarray:
    r"""Covariance whose first ``pairs`` canonical pairs share ``mi`` nats equally.

    :math:`\Sigma = \begin{pmatrix} I & P\\ P^\top & I\end{pmatrix}` with ``pairs`` diagonal
    entries :math:`\rho` of :math:`P` (sparse); with a ``seed``, mixed by fixed random matrices
    :math:`A, B` (random rotation times scales in :math:`[\frac12, 2]`) into a dense
    :math:`\begin{pmatrix} AA^\top & APB^\top\\ BP^\top A^\top & BB^\top\end{pmatrix}`.
    """
    dim_x, dim_y = check_int(dim_x, "dim_x", minimum=1), check_int(dim_y, "dim_y", minimum=1)
    pairs = check_int(pairs, "pairs", minimum=1)
    if pairs > min(dim_x, dim_y):
        raise ValueError(f"pairs must be <= min(dim_x, dim_y) = {min(dim_x, dim_y)}, got {pairs}.")
    rho = rho_for_mi(mi, pairs)
    cross = np.zeros((dim_x, dim_y))
    cross[range(pairs), range(pairs)] = rho
    cov = np.block([[np.eye(dim_x), cross], [cross.T, np.eye(dim_y)]])
    if seed is None:
        return cov
    rng = np.random.default_rng(seed)

    def mixing(d: int) -> np.ndarray:
        q, r = np.linalg.qr(rng.standard_normal((d, d)))
        return (q * np.sign(np.diag(r))) * rng.uniform(0.5, 2.0, size=d)

    mix = np.zeros_like(cov)
    mix[:dim_x, :dim_x], mix[dim_x:, dim_x:] = mixing(dim_x), mixing(dim_y)
    return mix @ cov @ mix.T


def equicorrelated_cov(dim: int, c: float) -> np.ndarray:
    r""":math:`(1 - c) I + c\,\mathbf 1\mathbf 1^\top` of size ``dim`` (every pair correlated ``c``)."""
    dim = check_int(dim, "dim", minimum=2)
    c = check_float(c, "c")
    if not -1.0 / (dim - 1) < c < 1.0:
        raise ValueError(f"c must be in (-1/(dim-1), 1) = ({-1.0 / (dim - 1):.4g}, 1), got {c}.")
    return (1.0 - c) * np.eye(dim) + c * np.ones((dim, dim))


# --------------------------------------------------------------------------------------------------
# Student-t tasks (synthetic.py's "student_t": Σ = [[I, ρI], [ρI, I]], one χ²_ν scale per pair)
# --------------------------------------------------------------------------------------------------


def _student_t_sampler(mi: float, dim: int, nu: float, n: int, g: torch.Generator) -> Pair:
    return sample_task("student_t", n, mi, dim, nu=nu, generator=g)


def student_t_task(name: str, dim: int, rho: float, nu: float) -> Task:
    """Multivariate Student-t of ``2 dim`` coordinates, ``nu`` degrees of freedom, pairs at ρ."""
    mi = student_t_mi(rho, dim, nu)
    cov = np.block([[np.eye(dim), rho * np.eye(dim)], [rho * np.eye(dim), np.eye(dim)]])
    sampler = partial(_student_t_sampler, mi, dim, nu)
    return Task(name, "student-t", (dim, dim), mi, sampler, cov=cov, nu=float(nu))


# --------------------------------------------------------------------------------------------------
# Invertible transforms (MI unchanged)
# --------------------------------------------------------------------------------------------------


def half_cube(t: Tensor) -> Tensor:
    r""":math:`\operatorname{sign}(t)\,|t|^{3/2}`, elementwise."""
    return torch.sign(t) * t.abs() ** 1.5


def half_cube_inverse(t: Tensor) -> Tensor:
    r""":math:`\operatorname{sign}(t)\,|t|^{2/3}`, the inverse of :func:`half_cube`."""
    return torch.sign(t) * t.abs() ** (2.0 / 3.0)


def spiral(v: Tensor, speed: float) -> Tensor:
    r"""Rotate the coordinate pairs of each row :math:`v` by :math:`\theta = s \lVert v\rVert^2`.

    Invertible and volume preserving; :func:`spiral` with ``-speed`` is its inverse.
    """
    theta = speed * (v * v).sum(dim=1, keepdim=True)
    cos, sin = torch.cos(theta), torch.sin(theta)
    m = 2 * (v.shape[1] // 2)
    a, b = v[:, 0:m:2], v[:, 1:m:2]
    out = v.clone()
    out[:, 0:m:2], out[:, 1:m:2] = cos * a - sin * b, sin * a + cos * b
    return out


def _uniform_maps(cov: np.ndarray, dim_x: int) -> tuple[Callable, Callable, Callable, Callable]:
    sd = torch.from_numpy(np.sqrt(np.diag(cov)))
    sx, sy = sd[:dim_x], sd[dim_x:]
    # float32 cannot hold Φ(t) within ~6e-8 of 1: such samples round to 1.0 and are clamped back.
    lo, hi = 1e-12, 1.0 - 2.0**-25

    def inv(u: Tensor, s: Tensor) -> Tensor:
        return torch.special.ndtri(u.clamp(lo, hi)) * s

    return (
        lambda x: torch.special.ndtr(x / sx),
        lambda y: torch.special.ndtr(y / sy),
        lambda u: inv(u, sx),
        lambda u: inv(u, sy),
    )


def _transformed_sampler(
    base: Task, fx: Callable, fy: Callable, n: int, g: torch.Generator
) -> Pair:
    x, y = base.sample(n, g)
    return fx(x.double()), fy(y.double())


def _apply_inverse(gx: Callable, gy: Callable, x: Tensor, y: Tensor) -> Pair:
    return gx(x.double()), gy(y.double())


def transformed_task(base: Task, transform: str, speed: float = 0.5) -> Task:
    """``base`` seen through ``transform``: "halfcube", "asinh", "uniform" or "spiral" (x and y)."""
    transform = choose(transform, ("halfcube", "asinh", "uniform", "spiral"), "transform")
    if transform == "halfcube":
        fx = fy = half_cube
        gx = gy = half_cube_inverse
    elif transform == "asinh":
        fx, fy, gx, gy = torch.asinh, torch.asinh, torch.sinh, torch.sinh
    elif transform == "uniform":
        if base.family != "gaussian" or base.cov is None:
            raise ValueError(
                f"the uniform transform needs a Gaussian base task, got {base.name!r}."
            )
        fx, fy, gx, gy = _uniform_maps(base.cov, base.dims[0])
    else:
        fx, gx = partial(spiral, speed=speed), partial(spiral, speed=-speed)
        fy, gy = partial(spiral, speed=-speed), partial(spiral, speed=speed)
    return Task(
        f"{transform}-{base.name}",
        "transformed",
        base.dims,
        base.mi,
        partial(_transformed_sampler, base, fx, fy),
        cov=base.cov,
        nu=base.nu,
        base=base,
        inverse=partial(_apply_inverse, gx, gy),
    )


# --------------------------------------------------------------------------------------------------
# Poole et al.'s staircase and the paper's non-i.i.d. sampler
# --------------------------------------------------------------------------------------------------


def staircase_mi(step: int, steps: int, levels: tuple[float, ...] = STAIRCASE) -> float:
    """True MI (nats) at ``step`` (0-based) of a run of ``steps`` split evenly into ``levels``.

    Agrees with :func:`mi_tutorial.training.estimation.mi_schedule` when ``steps`` is a multiple of
    ``len(levels)``.
    """
    if not levels:
        raise ValueError("levels must hold at least one MI value (nats), got ().")
    steps = check_int(steps, "steps", minimum=len(levels))
    step = check_int(step, "step", minimum=0)
    if step >= steps:
        raise ValueError(f"step must be < steps = {steps}, got {step}.")
    return float(levels[step * len(levels) // steps])


def sample_staircase(
    n: int,
    step: int,
    steps: int,
    generator: torch.Generator,
    levels: tuple[float, ...] = STAIRCASE,
) -> Pair:
    """A batch of ``n`` staircase pairs (20-d Gaussian) at ``step`` of ``steps``."""
    return _staircase_sampler(staircase_mi(step, steps, levels), n, generator)


def _staircase_sampler(mi: float, n: int, generator: torch.Generator) -> Pair:
    return sample_task("gaussian", n, mi, STAIRCASE_DIM, generator=generator)


def staircase_task(mi: float) -> Task:
    """One level of the staircase: 20 independent coordinate pairs sharing ``mi`` nats."""
    rho = rho_for_mi(mi, STAIRCASE_DIM)
    eye = np.eye(STAIRCASE_DIM)
    cov = np.block([[eye, rho * eye], [rho * eye, eye]])

    exact = gaussian_mi_from_cov(cov, STAIRCASE_DIM)
    dims = (STAIRCASE_DIM, STAIRCASE_DIM)
    sampler = partial(_staircase_sampler, mi)
    return Task(f"staircase-{mi:g}", "staircase", dims, exact, sampler, cov=cov)


def _noniid_sampler(n: int, generator: torch.Generator) -> Pair:
    return noniid_batch(n, generator=generator)


def noniid_task() -> Task:
    r"""The paper's Fig. 4c sampler: pairs share ONE latent per call, so NOT i.i.d. across a batch.

    ``sample(n, g)`` is one batch of ``n >= 2`` pairs :math:`(x_i, y_i) = Z + \epsilon_i` with a
    single :math:`Z`; ``mi`` (0.0204 nats) is the MI of *one* pair, whose marginal is
    :math:`N(0, \Sigma_Z + \Sigma_\epsilon)`. Within one batch the pairs are correlated through
    :math:`Z`; only pairs from separate calls are independent.
    """
    return Task("noniid-fig4c", "non-iid", (1, 1), noniid_true_mi(), _noniid_sampler, iid=False)


# --------------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------------


def _build() -> dict[str, Task]:
    gaussian_covs = {  # name: (joint covariance, d_x); dense ones mixed by seeded matrices
        "gaussian-1x1": (canonical_cov(1, 1, 1, 0.1), 1),
        "gaussian-1x1-high": (canonical_cov(1, 1, 1, 5.0), 1),
        "gaussian-sparse-3x3": (canonical_cov(3, 3, 1, 1.0), 3),
        "gaussian-sparse-5x5": (canonical_cov(5, 5, 2, 2.0), 5),
        "gaussian-sparse-25x25": (canonical_cov(25, 25, 3, 5.0), 25),
        "gaussian-dense-3x5": (canonical_cov(3, 5, 3, 1.0, seed=1), 3),
        "gaussian-dense-5x5": (canonical_cov(5, 5, 5, 2.0, seed=2), 5),
        "gaussian-dense-25x25": (canonical_cov(25, 25, 25, 10.0, seed=3), 25),
        "gaussian-dense-50x50": (canonical_cov(50, 50, 50, 8.0, seed=4), 50),
        "gaussian-equicorr-10x10": (equicorrelated_cov(20, 0.5), 10),
    }
    g = {name: gaussian_task(name, cov, dim_x) for name, (cov, dim_x) in gaussian_covs.items()}
    t = {
        task.name: task
        for task in (
            student_t_task("student-t-1x1-nu1", 1, 0.0, 1.0),
            student_t_task("student-t-3x3-nu1", 3, 0.9, 1.0),
            student_t_task("student-t-2x2-nu2", 2, 0.5, 2.0),
            student_t_task("student-t-5x5-nu5", 5, 0.8, 5.0),
        )
    }
    transformed = [
        transformed_task(g["gaussian-dense-5x5"], "halfcube"),
        transformed_task(t["student-t-2x2-nu2"], "halfcube"),
        transformed_task(g["gaussian-sparse-5x5"], "asinh"),
        transformed_task(t["student-t-1x1-nu1"], "asinh"),
        transformed_task(g["gaussian-dense-3x5"], "uniform"),
        transformed_task(g["gaussian-sparse-25x25"], "uniform"),
        transformed_task(g["gaussian-dense-5x5"], "spiral", speed=0.5),
        transformed_task(g["gaussian-dense-3x5"], "spiral", speed=0.2),
    ]
    stairs = [staircase_task(level) for level in STAIRCASE]
    tasks = [*g.values(), *t.values(), *transformed, *stairs, noniid_task()]
    return {task.name: task for task in tasks}


#: Every task by name; :func:`get_task` looks one up with a helpful error.
TASKS: dict[str, Task] = _build()


def get_task(name: str) -> Task:
    """The task called ``name``; an unknown name raises ``ValueError`` suggesting close ones."""
    return TASKS[choose(name, TASKS, "MI task")]


#: The stepping staircase: a pseudo-task whose MI follows :data:`~mi_tutorial.synthetic.STAIRCASE`
#: over the run (:func:`staircase_mi`), as in chapter 2 and Poole et al. (2019).
STAIRCASE_TASK = "staircase"


def benchmark_task_names() -> tuple[str, ...]:
    """Every task of :data:`TASKS`, then the stepping :data:`STAIRCASE_TASK`."""
    return (*TASKS, STAIRCASE_TASK)


def task_mi(name: str, step: int = 0, steps: int = 1) -> float:
    """The true MI (nats) of task ``name`` at ``step`` of ``steps``: a task's fixed ``mi``, or the
    staircase's level at that step."""
    if name == STAIRCASE_TASK:
        return staircase_mi(step, steps)
    return get_task(name).mi


def sample_benchmark(name: str, n: int, step: int, steps: int, generator: torch.Generator) -> Pair:
    """``n`` pairs of task ``name`` at ``step`` of ``steps`` (only the staircase depends on it)."""
    if name == STAIRCASE_TASK:
        x, y = sample_staircase(n, step, steps, generator)
        return x.float(), y.float()
    return get_task(name).sample(n, generator)


__all__ = [
    "FAMILIES",
    "STAIRCASE_DIM",
    "STAIRCASE_TASK",
    "TASKS",
    "Task",
    "benchmark_task_names",
    "canonical_cov",
    "equicorrelated_cov",
    "gaussian_task",
    "get_task",
    "half_cube",
    "half_cube_inverse",
    "noniid_task",
    "sample_benchmark",
    "sample_staircase",
    "spiral",
    "staircase_mi",
    "staircase_task",
    "student_t_task",
    "task_mi",
    "transformed_task",
]
