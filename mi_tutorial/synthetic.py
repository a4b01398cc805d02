r"""Synthetic pairs :math:`(x, y)` with known mutual information, Gaussian and not.

Every task draws ``n`` pairs of ``dim``-dimensional vectors carrying exactly ``mi`` nats, so an
estimator trained on a *schedule* of ``mi`` values (the "staircase" of Poole et al., 2019) can be
compared with the truth at every step. The tasks (:data:`TASKS`):

* ``"gaussian"`` — :math:`x \sim \mathcal N(0, I_d)`, :math:`y = \rho x + \sqrt{1-\rho^2}\,\eta`,
  with :math:`I = -\frac d2 \log(1-\rho^2)` (:func:`mi_tutorial.data.gaussian_mi`).
* ``"cubic"`` and ``"exp"`` — the Gaussian pair with :math:`y \mapsto y^3` or
  :math:`y \mapsto e^{y}` applied elementwise. Both maps are smooth bijections of
  :math:`\mathbb R` onto their image, so the MI is *exactly* that of the Gaussian pair
  (invariance under invertible maps), while the marginal of :math:`y` becomes heavy-tailed or
  log-normal.
* ``"student_t"`` — a :math:`2d`-dimensional multivariate Student-t with :math:`\nu` degrees of
  freedom and the Gaussian task's correlation structure: :math:`(x, y) = z / \sqrt{w}` with
  :math:`z` the Gaussian pair and one :math:`w \sim \chi^2_\nu / \nu` per sample, shared by all
  :math:`2d` coordinates. Its MI (:func:`student_t_mi`) is the Gaussian term plus a non-negative
  term :math:`c(\nu, d, d)` from the shared scale, so even :math:`\rho = 0` carries information.

The closed form of the Student-t MI follows from the entropy of the multivariate t-distribution
(Arellano-Valle, Contreras-Reyes & Genton, 2013): for dimensions :math:`d_x + d_y = p`,

.. math::
    I(X;Y) = \tfrac12 \log\frac{\det\Sigma_{xx}\det\Sigma_{yy}}{\det\Sigma}
      + \log\frac{\Gamma(\frac\nu2)\,\Gamma(\frac{\nu+p}2)}
                 {\Gamma(\frac{\nu+d_x}2)\,\Gamma(\frac{\nu+d_y}2)}
      + \tfrac{\nu+d_x}2\psi(\tfrac{\nu+d_x}2) + \tfrac{\nu+d_y}2\psi(\tfrac{\nu+d_y}2)
      - \tfrac{\nu+p}2\psi(\tfrac{\nu+p}2) - \tfrac\nu2\psi(\tfrac\nu2),

with :math:`\psi` the digamma function; ``tests/test_synthetic.py`` checks it by Monte Carlo.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from scipy.special import digamma, gammaln

from ._validation import check_float, check_int, choose

# --- Gaussian pairs and the non-i.i.d. batches of Fig. 4c (moved from mi_tutorial.data) ----------


def gaussian_mi(rho: float, dim: int = 1) -> float:
    r""":math:`I(X;Y) = -\frac{d}{2}\log(1-\rho^2)` nats for ``dim`` independent pairs of correlation ρ."""
    rho = check_float(rho, "rho")
    if not -1.0 < rho < 1.0:
        raise ValueError(f"rho must be in (-1, 1), got {rho}.")
    return -0.5 * check_int(dim, "dim", minimum=1) * math.log1p(-rho * rho)


def rho_for_mi(mi: float, dim: int = 1) -> float:
    r"""The correlation ρ ≥ 0 for which ``dim`` Gaussian pairs carry ``mi`` nats: :math:`\sqrt{1-e^{-2I/d}}`."""
    mi = check_float(mi, "mi", minimum=0.0)
    return math.sqrt(-math.expm1(-2.0 * mi / check_int(dim, "dim", minimum=1)))


def gaussian_pairs(
    n: int, dim: int, rho: float, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Sample ``n`` pairs with :math:`x \sim N(0, I_d)`, :math:`y = \rho x + \sqrt{1-\rho^2}\,\eta`."""
    n, dim = check_int(n, "n", minimum=1), check_int(dim, "dim", minimum=1)
    gaussian_mi(rho, dim)  # validates rho
    x = torch.randn(n, dim, generator=generator)
    eta = torch.randn(n, dim, generator=generator)
    return x, rho * x + math.sqrt(1.0 - rho * rho) * eta


def gaussian_mi_from_cov(cov: np.ndarray, dim_x: int) -> float:
    r"""MI of a joint Gaussian with covariance ``cov`` over ``[x, y]`` (x has ``dim_x`` coordinates):
    :math:`\tfrac12(\log\det\Sigma_{xx} + \log\det\Sigma_{yy} - \log\det\Sigma)`."""
    cov = np.asarray(cov, dtype=np.float64)
    _, ld = np.linalg.slogdet(cov)
    _, ldx = np.linalg.slogdet(cov[:dim_x, :dim_x])
    _, ldy = np.linalg.slogdet(cov[dim_x:, dim_x:])
    return 0.5 * (ldx + ldy - ld)


#: §4 / App. E of the paper: Z ~ N(0, SHARED_COV) once per batch, ε_i ~ N(0, NOISE_COV) per pair.
NONIID_SHARED_COV = ((1.0, -0.5), (-0.5, 1.0))
NONIID_NOISE_COV = ((1.0, 0.9), (0.9, 1.0))


def noniid_batch(
    k: int,
    iid: bool = False,
    shared_cov=NONIID_SHARED_COV,
    noise_cov=NONIID_NOISE_COV,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""A batch of ``k`` pairs :math:`(x_i, y_i) = Z + \epsilon_i` with one :math:`Z` for the whole batch.

    Each pair is marginally :math:`N(0, \Sigma_Z + \Sigma_\epsilon)`, but the pairs are dependent
    through :math:`Z`. With ``iid=True`` every pair gets its own :math:`Z` (the control).
    Returns ``x`` and ``y`` of shape [k, 1].
    """
    k = check_int(k, "batch size", minimum=2)
    chol_z = torch.linalg.cholesky(torch.tensor(shared_cov, dtype=torch.float32))
    chol_e = torch.linalg.cholesky(torch.tensor(noise_cov, dtype=torch.float32))
    z = torch.randn(k if iid else 1, 2, generator=generator) @ chol_z.T
    eps = torch.randn(k, 2, generator=generator) @ chol_e.T
    pairs = z + eps
    return pairs[:, :1], pairs[:, 1:]


def noniid_true_mi(shared_cov=NONIID_SHARED_COV, noise_cov=NONIID_NOISE_COV) -> float:
    """True MI of one pair, whose marginal is N(0, Σ_Z + Σ_ε): −½ log(1 − ρ²) = 0.0204 nats here."""
    return gaussian_mi_from_cov(np.add(shared_cov, noise_cov), dim_x=1)


# --- the tasks -------------------------------------------------------------------------------------

#: The staircase of Poole et al. (2019): true MI in nats, one level after the other.
STAIRCASE = (2.0, 4.0, 6.0, 8.0, 10.0)

TASKS: tuple[str, ...] = ("gaussian", "cubic", "exp", "student_t")

#: Degrees of freedom of the ``"student_t"`` task unless given.
DEFAULT_NU = 5.0

_TRANSFORMS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gaussian": lambda y: y,
    "cubic": lambda y: y**3,
    "exp": torch.exp,
}


def student_t_shared_scale_mi(dim: int, nu: float = DEFAULT_NU) -> float:
    r""":math:`c(\nu, d, d)`: the MI of the ``"student_t"`` task at :math:`\rho = 0` (nats).

    The shared scale :math:`w` makes :math:`x` and :math:`y` dependent even when uncorrelated; the
    term decreases to 0 as :math:`\nu \to \infty` (the Gaussian limit).
    """
    d = check_int(dim, "dim", minimum=1)
    nu = check_float(nu, "nu", minimum=0.0)
    if nu <= 0:
        raise ValueError(f"nu must be > 0 degrees of freedom, got {nu}.")
    half, p = nu / 2.0, 2 * d
    value = (
        gammaln(half)
        + gammaln(half + p / 2)
        - 2 * gammaln(half + d / 2)
        + 2 * (half + d / 2) * digamma(half + d / 2)
        - (half + p / 2) * digamma(half + p / 2)
        - half * digamma(half)
    )
    return float(value)


def student_t_mi(rho: float, dim: int, nu: float = DEFAULT_NU) -> float:
    r"""MI of the ``"student_t"`` task: :math:`-\frac d2\log(1-\rho^2) + c(\nu, d, d)` nats."""
    return gaussian_mi(rho, dim) + student_t_shared_scale_mi(dim, nu)


def min_mi(task: str, dim: int, nu: float = DEFAULT_NU) -> float:
    """The smallest MI ``task`` can carry in ``dim`` dimensions (0 except for ``"student_t"``)."""
    task = choose(task, TASKS, "task")
    return student_t_shared_scale_mi(dim, nu) if task == "student_t" else 0.0


def rho_for(task: str, mi: float, dim: int, nu: float = DEFAULT_NU) -> float:
    """The per-coordinate correlation ρ ≥ 0 at which ``task`` carries ``mi`` nats."""
    task = choose(task, TASKS, "task")
    mi = check_float(mi, "mi", minimum=0.0)
    floor = min_mi(task, dim, nu)
    if mi < floor:
        raise ValueError(
            f"the student_t task with dim={dim}, nu={nu:g} carries at least {floor:.4f} nats "
            f"(the shared scale alone), got mi={mi}; raise mi, nu or lower dim."
        )
    return rho_for_mi(mi - floor, dim)


def sample_task(
    task: str,
    n: int,
    mi: float,
    dim: int = 20,
    *,
    nu: float = DEFAULT_NU,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``n`` pairs ``(x[n, dim], y[n, dim])`` of ``task`` carrying exactly ``mi`` nats.

    ``nu`` is used by ``"student_t"`` only. Deterministic given ``generator``.
    """
    task = choose(task, TASKS, "task")
    n, dim = check_int(n, "n", minimum=1), check_int(dim, "dim", minimum=1)
    rho = rho_for(task, mi, dim, nu)
    x, y = gaussian_pairs(n, dim, rho, generator=generator)
    if task == "student_t":
        chi2 = 2.0 * torch._standard_gamma(torch.full((n, 1), nu / 2.0), generator=generator)
        scale = torch.rsqrt(chi2 / nu)
        return x * scale, y * scale
    return x, _TRANSFORMS[task](y)


def true_mi(task: str, rho: float, dim: int, nu: float = DEFAULT_NU) -> float:
    """MI of ``task`` at correlation ``rho`` (inverse of :func:`rho_for`)."""
    task = choose(task, TASKS, "task")
    if task == "student_t":
        return student_t_mi(rho, dim, nu)
    return gaussian_mi(rho, dim)


__all__ = [
    "DEFAULT_NU",
    "TASKS",
    "min_mi",
    "rho_for",
    "sample_task",
    "student_t_mi",
    "student_t_shared_scale_mi",
    "true_mi",
]
