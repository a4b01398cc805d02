"""Tests for the library of tasks with known mutual information (mi_tutorial.mi_tasks)."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
import torch
from scipy import stats

from mi_tutorial import mi_tasks
from mi_tutorial.mi_tasks import (
    FAMILIES,
    TASKS,
    Task,
    canonical_cov,
    get_task,
    sample_staircase,
    spiral,
    staircase_mi,
)
from mi_tutorial.synthetic import STAIRCASE, noniid_batch
from mi_tutorial.training.estimation import mi_schedule

pytestmark = pytest.mark.usefixtures("one_torch_thread")

N_CHECK = 40_000  # samples for the ground-truth checks


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _root(task: Task) -> Task:
    return task.base if task.base is not None else task


def _logdet_mi(cov: np.ndarray, dim_x: int) -> float:
    """½ log(det Σxx det Σyy / det Σ), written out here independently of the package."""
    ld = [np.linalg.slogdet(c)[1] for c in (cov[:dim_x, :dim_x], cov[dim_x:, dim_x:], cov)]
    return 0.5 * (ld[0] + ld[1] - ld[2])


def _canonical_correlations(cov: np.ndarray, dim_x: int) -> np.ndarray:
    """Singular values of Σxx^{-1/2} Σxy Σyy^{-1/2}."""

    def inv_sqrt(m: np.ndarray) -> np.ndarray:
        w, v = np.linalg.eigh(m)
        return (v / np.sqrt(w)) @ v.T

    sxx, syy, sxy = cov[:dim_x, :dim_x], cov[dim_x:, dim_x:], cov[:dim_x, dim_x:]
    return np.linalg.svd(inv_sqrt(sxx) @ sxy @ inv_sqrt(syy), compute_uv=False)


def _assert_gaussian_mi(x: torch.Tensor, y: torch.Tensor, task: Task) -> None:
    """Plug-in Gaussian MI of the samples vs ``task.mi``: 4 delta-method SDs plus the bias bound.

    The plug-in MI of n samples has SD ≈ sqrt(Σ ρ_i² / n) (ρ_i the canonical correlations) and a
    positive bias ≈ d_x d_y / (2n); the tolerance allows twice the bias.
    """
    n, (dx, dy) = x.shape[0], task.dims
    emp = np.cov(torch.cat([x, y], dim=1).double().numpy(), rowvar=False)
    estimate = _logdet_mi(emp, dx)
    rho = _canonical_correlations(_root(task).cov, dx)
    tol = 4.0 * math.sqrt(float((rho**2).sum()) / n) + dx * dy / n
    assert abs(estimate - task.mi) < tol, (task.name, estimate, task.mi, tol)


def _student_t_log_ratios(x: np.ndarray, y: np.ndarray, task: Task) -> np.ndarray:
    """log p(x, y) − log p(x) − log p(y) from scipy's multivariate t densities."""
    cov, nu, dx = task.cov, task.nu, task.dims[0]

    def dist(shape: np.ndarray) -> Any:  # a frozen scipy multivariate_t
        return stats.multivariate_t(loc=np.zeros(len(shape)), shape=shape, df=nu)

    joint = dist(cov).logpdf(np.hstack([x, y]))
    return joint - dist(cov[:dx, :dx]).logpdf(x) - dist(cov[dx:, dx:]).logpdf(y)


GAUSSIAN = [name for name, task in TASKS.items() if _root(task).family in ("gaussian", "staircase")]
STUDENT_T = [name for name, task in TASKS.items() if _root(task).family == "student-t"]
TRANSFORMED = [name for name, task in TASKS.items() if task.family == "transformed"]


# --------------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------------


def test_registry_spans_the_required_range():
    assert len(TASKS) >= 20
    assert all(name == task.name for name, task in TASKS.items())
    assert {task.family for task in TASKS.values()} == set(FAMILIES)
    values = [task.mi for task in TASKS.values()]
    assert min(values) <= 0.1 and max(values) >= 10.0
    assert all(math.isfinite(mi) and mi > 0 for mi in values)
    assert any(min(task.dims) >= 25 for task in TASKS.values())
    assert {1, 2, 5} <= {task.nu for task in TASKS.values() if task.family == "student-t"}
    transforms = {name.split("-")[0] for name in TRANSFORMED}
    assert transforms == {"halfcube", "asinh", "uniform", "spiral"}


def test_unknown_name_suggests_close_ones():
    assert get_task("gaussian-dense-5x5") is TASKS["gaussian-dense-5x5"]
    with pytest.raises(ValueError, match=re.escape("Did you mean 'gaussian-dense-5x5'")) as info:
        get_task("gausian-dense-5x5")
    assert "unknown MI task 'gausian-dense-5x5'" in str(info.value)
    assert "staircase-10" in str(info.value)  # lists the choices
    with pytest.raises(ValueError, match="unknown MI task"):
        get_task("no-such-thing")


@pytest.mark.parametrize("name", list(TASKS))
def test_sample_shapes_dtype_reproducible_finite(name):
    task = TASKS[name]
    x, y = task.sample(33, _gen(5))
    assert x.shape == (33, task.dims[0]) and y.shape == (33, task.dims[1])
    assert x.dtype == torch.float32 and y.dtype == torch.float32
    assert torch.isfinite(x).all() and torch.isfinite(y).all()
    x2, y2 = task.sample(33, _gen(5))
    assert torch.equal(x, x2) and torch.equal(y, y2)
    x3, _ = task.sample(33, _gen(6))
    assert not torch.equal(x, x3)


def test_sample_validates_its_arguments():
    task = TASKS["gaussian-1x1"]
    with pytest.raises(ValueError, match="n must be >= 1"):
        task.sample(0, _gen())
    with pytest.raises(TypeError, match="torch.Generator"):
        task.sample(4, 0)
    with pytest.raises(ValueError, match="n must be >= 2"):
        TASKS["noniid-fig4c"].sample(1, _gen())


# --------------------------------------------------------------------------------------------------
# Ground truth: Gaussian
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in GAUSSIAN if TASKS[n].family != "transformed"])
def test_gaussian_mi_matches_the_empirical_covariance(name):
    task = TASKS[name]
    assert task.mi == pytest.approx(_logdet_mi(task.cov, task.dims[0]), rel=1e-10, abs=1e-12)
    x, y = task.sample(N_CHECK, _gen(11))
    _assert_gaussian_mi(x, y, task)


@pytest.mark.parametrize("name", [n for n in GAUSSIAN if TASKS[n].family != "transformed"])
def test_gaussian_mi_equals_the_canonical_correlation_form(name):
    task = TASKS[name]
    rho = _canonical_correlations(task.cov, task.dims[0])
    assert task.mi == pytest.approx(-0.5 * np.log1p(-(rho**2)).sum(), rel=1e-8)


def test_sparse_and_dense_covariances_have_the_stated_structure():
    sparse, dense = TASKS["gaussian-sparse-25x25"].cov, TASKS["gaussian-dense-25x25"].cov
    assert np.count_nonzero(sparse[:25, 25:]) == 3
    assert np.count_nonzero(sparse - np.diag(np.diag(sparse))) == 6
    assert np.all(np.abs(dense[:25, 25:]) > 0) and np.all(np.abs(dense[:25, :25]) > 0)
    # the mixing leaves the canonical correlations, hence the MI, of the sparse construction
    rho = _canonical_correlations(canonical_cov(4, 6, 3, 1.5, seed=9), 4)
    assert np.allclose(np.sort(rho), [0, *[math.sqrt(1 - math.exp(-1.0))] * 3], atol=1e-10)
    targets = {"gaussian-1x1": 0.1, "gaussian-dense-3x5": 1.0, "gaussian-dense-25x25": 10.0}
    for name, target in targets.items():
        assert TASKS[name].mi == pytest.approx(target, rel=1e-9)


# --------------------------------------------------------------------------------------------------
# Ground truth: Student-t (Monte Carlo with the exact densities)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", STUDENT_T)
def test_student_t_mi_matches_monte_carlo(name):
    task = TASKS[name]
    x, y = task.sample(20_000, _gen(21))
    if task.inverse is not None:
        x, y = task.inverse(x, y)
    ratios = _student_t_log_ratios(x.double().numpy(), y.double().numpy(), task)
    se = ratios.std() / math.sqrt(len(ratios))
    assert abs(ratios.mean() - task.mi) < 3 * se, (name, ratios.mean(), task.mi, se)


def test_student_t_samples_are_heavy_tailed():
    x, _ = TASKS["student-t-1x1-nu1"].sample(20_000, _gen(2))
    # Cauchy: P(|X| > 100) = 1 - 2/π · atan(100) ≈ 0.0064; a Gaussian would give ~0
    assert 0.003 < float((x.abs() > 100).float().mean()) < 0.01


# --------------------------------------------------------------------------------------------------
# Ground truth: transforms
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TRANSFORMED)
def test_inverse_recovers_the_base_samples(name):
    task = TASKS[name]
    assert task.base is not None and task.inverse is not None
    assert task.mi == task.base.mi and task.dims == task.base.dims
    x, y = task.sample(5_000, _gen(31))
    bx, by = task.base.sample(5_000, _gen(31))
    assert not torch.allclose(x, bx, atol=1e-2)  # the transform does something
    ix, iy = task.inverse(x, y)
    assert torch.isfinite(ix).all() and torch.isfinite(iy).all()
    for got, want in ((ix, bx), (iy, by)):
        bulk = want.abs() < 3.0  # float32 uniforms lose resolution in the far upper tail
        torch.testing.assert_close(got.float()[bulk], want[bulk], rtol=1e-4, atol=2e-4)


@pytest.mark.parametrize("name", [n for n in GAUSSIAN if TASKS[n].family == "transformed"])
def test_inverted_transformed_samples_carry_the_gaussian_mi(name):
    task = TASKS[name]
    x, y = task.inverse(*task.sample(N_CHECK, _gen(41)))
    _assert_gaussian_mi(x.float(), y.float(), task)


def test_uniform_transform_gives_uniform_margins():
    x, y = TASKS["uniform-gaussian-dense-3x5"].sample(N_CHECK, _gen(3))
    u = torch.cat([x, y], dim=1)
    assert float(u.min()) >= 0.0 and float(u.max()) <= 1.0
    for column in u.T.numpy():
        assert stats.kstest(column, "uniform").pvalue > 1e-4


def test_spiral_preserves_norm_and_volume_and_inverts():
    v = torch.randn(6, 5, generator=_gen(8), dtype=torch.float64)
    w = spiral(v, 0.7)
    assert not torch.allclose(w, v)
    torch.testing.assert_close(w.norm(dim=1), v.norm(dim=1))
    torch.testing.assert_close(spiral(w, -0.7), v)
    assert torch.equal(w[:, 4], v[:, 4])  # odd last coordinate untouched
    for row in v:
        jac = torch.autograd.functional.jacobian(lambda r: spiral(r[None], 0.7)[0], row)
        assert float(torch.linalg.det(jac)) == pytest.approx(1.0, abs=1e-9)


# --------------------------------------------------------------------------------------------------
# Staircase and non-i.i.d.
# --------------------------------------------------------------------------------------------------


def test_staircase_levels_and_schedule():
    assert STAIRCASE == (2.0, 4.0, 6.0, 8.0, 10.0)
    steps = 50
    values = [staircase_mi(t, steps) for t in range(steps)]
    assert values == list(mi_schedule(STAIRCASE, steps // 5))
    assert (staircase_mi(0, 17), staircase_mi(16, 17)) == (2.0, 10.0)
    for level in STAIRCASE:
        task = TASKS[f"staircase-{level:g}"]
        assert task.dims == (20, 20) and task.mi == pytest.approx(level, rel=1e-10)
    with pytest.raises(ValueError, match="step must be < steps"):
        staircase_mi(50, 50)


def test_sample_staircase_draws_the_level_of_its_step():
    x, y = sample_staircase(N_CHECK, 35, 50, _gen(4))  # step 35 of 50: 4th level, 8 nats
    task = TASKS["staircase-8"]
    assert torch.equal(x, task.sample(N_CHECK, _gen(4))[0])
    _assert_gaussian_mi(x, y, task)


def test_noniid_task_is_flagged_and_its_pairs_carry_the_stated_mi():
    task = TASKS["noniid-fig4c"]
    assert not task.iid and "NOT i.i.d." in (mi_tasks.noniid_task.__doc__ or "")
    assert task.mi == pytest.approx(0.0204, abs=1e-4)
    torch.testing.assert_close(task.sample(8, _gen(1)), noniid_batch(8, generator=_gen(1)))
    # the first pair of separate batches is i.i.d.: correlation of Σ_Z + Σ_ε is 0.4 / 2 = 0.2
    gen = _gen(2)
    first = np.array([torch.cat(task.sample(2, gen), dim=1)[0].tolist() for _ in range(20_000)])
    r = np.corrcoef(first.T)[0, 1]
    assert -0.5 * math.log(1 - 0.2**2) == pytest.approx(task.mi, rel=1e-9)
    assert abs(r - 0.2) < 4 * (1 - 0.2**2) / math.sqrt(len(first)), r
    # within a batch the pairs share one latent: batch means vary like Z (variance 1), not 2/200
    means = np.array([float(task.sample(200, gen)[0].mean()) for _ in range(200)])
    assert means.var() > 0.5
