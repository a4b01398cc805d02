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

from collections.abc import Callable

import torch
from scipy.special import digamma, gammaln

from ._validation import check_float, check_int, choose
from .data import gaussian_mi, gaussian_pairs, rho_for_mi

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
