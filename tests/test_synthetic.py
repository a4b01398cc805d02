"""Tests for the synthetic ground-truth tasks (mi_tutorial.synthetic)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from mi_tutorial import synthetic
from mi_tutorial.synthetic import (
    TASKS,
    gaussian_mi,
    min_mi,
    rho_for,
    sample_task,
    student_t_mi,
    student_t_shared_scale_mi,
    true_mi,
)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _student_t_log_ratio(x: np.ndarray, y: np.ndarray, rho: float, nu: float) -> np.ndarray:
    """log p(x, y) - log p(x) - log p(y) from scipy's multivariate t densities."""
    d = x.shape[1]
    cov = np.block([[np.eye(d), rho * np.eye(d)], [rho * np.eye(d), np.eye(d)]])
    joint = stats.multivariate_t(loc=np.zeros(2 * d), shape=cov, df=nu)
    marginal = stats.multivariate_t(loc=np.zeros(d), shape=np.eye(d), df=nu)
    return joint.logpdf(np.hstack([x, y])) - marginal.logpdf(x) - marginal.logpdf(y)


@pytest.mark.parametrize(("dim", "rho", "nu"), [(1, 0.0, 3.0), (2, 0.6, 4.0), (5, 0.8, 7.5)])
def test_student_t_closed_form_matches_monte_carlo(dim, rho, nu):
    mi = student_t_mi(rho, dim, nu)
    x, y = sample_task("student_t", 100_000, mi, dim, nu=nu, generator=_gen(1))
    ratios = _student_t_log_ratio(x.double().numpy(), y.double().numpy(), rho, nu)
    se = ratios.std() / math.sqrt(len(ratios))
    assert abs(ratios.mean() - mi) < 4 * se + 1e-3, (ratios.mean(), mi, se)


def test_student_t_scale_term_vanishes_in_the_gaussian_limit():
    values = [student_t_shared_scale_mi(4, nu) for nu in (2.0, 5.0, 50.0, 5_000.0)]
    assert all(a > b > 0 for a, b in zip(values, values[1:], strict=False))
    assert values[-1] < 1e-3
    assert student_t_mi(0.5, 4, 1e6) == pytest.approx(gaussian_mi(0.5, 4), abs=1e-4)


@pytest.mark.parametrize("task", TASKS)
def test_rho_for_inverts_true_mi(task):
    for mi in (1.0, 4.0, 10.0):
        rho = rho_for(task, mi, 20)
        assert 0 <= rho < 1 and true_mi(task, rho, 20) == pytest.approx(mi, rel=1e-9)


def test_transforms_are_the_gaussian_pair_mapped_elementwise():
    xg, yg = sample_task("gaussian", 1_000, 3.0, 4, generator=_gen(7))
    xc, yc = sample_task("cubic", 1_000, 3.0, 4, generator=_gen(7))
    xe, ye = sample_task("exp", 1_000, 3.0, 4, generator=_gen(7))
    assert torch.equal(xg, xc) and torch.equal(xg, xe)
    torch.testing.assert_close(yc, yg**3)
    torch.testing.assert_close(ye, torch.exp(yg))
    assert (ye > 0).all()


def test_gaussian_task_has_the_requested_correlation():
    x, y = sample_task("gaussian", 200_000, 2.0, 2, generator=_gen(3))
    r = float(np.corrcoef(x[:, 0].numpy(), y[:, 0].numpy())[0, 1])
    assert r == pytest.approx(rho_for("gaussian", 2.0, 2), abs=0.01)


def test_student_t_marginal_variance():
    nu = 6.0
    x, _ = sample_task("student_t", 400_000, 1.0, 1, nu=nu, generator=_gen(5))
    assert float(x.var()) == pytest.approx(nu / (nu - 2.0), rel=0.05)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="at least"):
        sample_task("student_t", 10, 0.1, 20, nu=5.0)
    with pytest.raises(ValueError, match="gaussian"):
        sample_task("gausian", 10, 1.0)  # codespell:ignore
    with pytest.raises(ValueError, match="nu must be > 0"):
        student_t_shared_scale_mi(3, 0.0)
    assert min_mi("cubic", 20) == 0.0 and min_mi("student_t", 20) > 0


def test_deterministic_given_generator():
    a = sample_task("student_t", 50, 2.0, 3, generator=_gen(11))
    b = sample_task("student_t", 50, 2.0, 3, generator=_gen(11))
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))


# ---------------------------------------------------------------- synthetic MI
@pytest.mark.parametrize("dim,mi", [(1, 0.5), (20, 2.0), (20, 10.0)])
def test_rho_for_mi_inverts_gaussian_mi(dim, mi):
    assert synthetic.gaussian_mi(synthetic.rho_for_mi(mi, dim), dim) == pytest.approx(mi, rel=1e-12)


def test_gaussian_pairs_have_the_requested_correlation():
    x, y = synthetic.gaussian_pairs(200_000, 2, 0.6, generator=torch.Generator().manual_seed(1))
    corr = np.corrcoef(x[:, 0].numpy(), y[:, 0].numpy())[0, 1]
    assert corr == pytest.approx(0.6, abs=0.01)


def test_noniid_true_mi_matches_the_paper():
    assert synthetic.noniid_true_mi() == pytest.approx(-0.5 * math.log(1 - 0.04), rel=1e-12)
    assert round(synthetic.noniid_true_mi(), 4) == 0.0204


def test_noniid_batches_share_z_and_iid_batches_do_not():
    g = torch.Generator().manual_seed(0)
    # Across many batches, the within-batch mean of x varies like Var(Z) (=1) for shared Z,
    # and like Var(x)/K for i.i.d. pairs.
    shared = torch.stack(
        [synthetic.noniid_batch(128, iid=False, generator=g)[0].mean() for _ in range(400)]
    )
    iid = torch.stack(
        [synthetic.noniid_batch(128, iid=True, generator=g)[0].mean() for _ in range(400)]
    )
    assert shared.var().item() > 0.7
    assert iid.var().item() < 0.05
