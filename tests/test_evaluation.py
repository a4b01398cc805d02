"""Tests for mi_tutorial.evaluation: encode, linear probe, pixel baseline, Jacobian conditioning."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from mi_tutorial.data import TwoViews, digits_views
from mi_tutorial.encoders import ResidualMLP, make_encoder
from mi_tutorial.evaluation import (
    encode,
    jacobian_log_condition,
    jacobians,
    linear_probe,
    linear_probe_report,
    logcond_quantiles,
    pixel_baseline,
    probe_encoder,
    singular_values,
)


@pytest.fixture(scope="module")
def digits():
    return digits_views("train"), digits_views("test")


def _fixed_linear(matrix: torch.Tensor) -> nn.Linear:
    layer = nn.Linear(matrix.shape[1], matrix.shape[0], bias=False).double()
    with torch.no_grad():
        layer.weight.copy_(matrix)
    return layer


# --------------------------------------------------------------------------------------------------
# encode
# --------------------------------------------------------------------------------------------------


def test_encode_matches_forward_and_restores_mode():
    torch.manual_seed(0)
    enc = nn.Sequential(nn.Linear(6, 4), nn.Dropout(0.5), nn.ReLU())
    enc.train()
    x = torch.randn(11, 6, dtype=torch.float64)
    z = encode(enc, x, batch_size=3)  # batches of 3, 3, 3, 2; float64 input is cast
    assert z.dtype == torch.float32 and z.device.type == "cpu" and not z.requires_grad
    enc.eval()
    torch.testing.assert_close(z, enc(x.float()).detach())  # eval mode: dropout off
    enc.train()
    encode(enc, x)
    assert enc.training  # the caller's mode is restored


def test_encode_rejects_bad_shapes():
    with pytest.raises(ValueError, match="2-d"):
        encode(nn.Identity(), torch.zeros(3))
    with pytest.raises(ValueError, match="batch_size"):
        encode(nn.Identity(), torch.zeros(3, 2), batch_size=0)


# --------------------------------------------------------------------------------------------------
# Linear probe
# --------------------------------------------------------------------------------------------------


def test_linear_probe_on_digits_is_well_above_chance(digits):
    train, test = digits
    acc = linear_probe(train.top, train.labels, test.top, test.labels)
    assert 0.6 < acc <= 1.0  # chance is 0.1; ≈0.82 with the official settings


def test_linear_probe_is_deterministic_and_accepts_numpy(digits):
    train, test = digits
    a = linear_probe(train.top, train.labels, test.top, test.labels, seed=3)
    b = linear_probe(
        train.top.numpy(), train.labels.numpy(), test.top.numpy(), test.labels.numpy(), seed=3
    )
    assert a == b


def test_linear_probe_uses_labels(digits):
    """Shuffled training labels must destroy the accuracy (so the probe really learns)."""
    train, test = digits
    perm = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))
    acc = linear_probe(train.top, train.labels[perm], test.top, test.labels)
    assert acc < 0.3


def test_linear_probe_is_invariant_to_per_feature_affine_scaling(digits):
    """MinMaxScaler is fitted on train features: positive per-feature affine maps change nothing."""
    train, test = digits
    scale = torch.linspace(0.5, 20.0, train.top.shape[1])
    shift = torch.linspace(-3.0, 3.0, train.top.shape[1])
    a = linear_probe(train.top, train.labels, test.top, test.labels)
    b = linear_probe(
        train.top.double() * scale + shift,
        train.labels,
        test.top.double() * scale + shift,
        test.labels,
    )
    assert a == pytest.approx(b, abs=1e-9)


def test_linear_probe_report_fields(digits):
    train, test = digits
    rep = linear_probe_report(train.top, train.labels, test.top, test.labels, max_iter=1)
    assert set(rep) == {"accuracy", "n_iter", "fit_seconds", "test_cross_entropy", "objective"}
    assert rep["n_iter"] == 1
    assert rep["fit_seconds"] >= 0.0
    full = linear_probe_report(train.top, train.labels, test.top, test.labels, tol=1e-4)
    default = linear_probe_report(train.top, train.labels, test.top, test.labels)
    assert full["n_iter"] > default["n_iter"]
    # more SAGA epochs: a lower value of the shared objective J
    assert full["objective"] < default["objective"] < rep["objective"]
    assert all(0 < r["test_cross_entropy"] < np.inf for r in (rep, default, full))


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.zeros((5, 2)), np.arange(4) % 2, np.zeros((3, 2)), np.zeros(3)), "5 rows"),
        ((np.zeros((4, 2)), np.arange(4) % 2, np.zeros((3, 2)), np.zeros(2)), "test_x has 3"),
        ((np.zeros((4, 2)), np.arange(4) % 2, np.zeros((3, 3)), np.zeros(3)), "features"),
        ((np.zeros(4), np.arange(4) % 2, np.zeros((3, 1)), np.zeros(3)), "2-d"),
        ((np.zeros((4, 2)), np.zeros(4), np.zeros((3, 2)), np.zeros(3)), "single class"),
        ((np.full((4, 2), np.nan), np.arange(4) % 2, np.zeros((3, 2)), np.zeros(3)), "NaN"),
    ],
)
def test_linear_probe_rejects_bad_inputs(args, match):
    with pytest.raises(ValueError, match=match):
        linear_probe(*args)


def test_linear_probe_rejects_bad_settings(digits):
    train, test = digits
    with pytest.raises(ValueError, match="C must be > 0"):
        linear_probe(train.top, train.labels, test.top, test.labels, C=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        linear_probe(train.top, train.labels, test.top, test.labels, max_iter=0)


# --------------------------------------------------------------------------------------------------
# Pixel baseline and probing an encoder
# --------------------------------------------------------------------------------------------------


def test_pixel_baseline_clean_equals_probe_on_top_halves(digits):
    train, test = digits
    assert pixel_baseline(train, test) == linear_probe(
        train.top, train.labels, test.top, test.labels
    )


def test_pixel_baseline_noise_is_seeded_and_fresh_per_split(digits):
    train, test = digits
    a = pixel_baseline(train, test, noise_std=0.3, seed=1)
    assert a == pixel_baseline(train, test, noise_std=0.3, seed=1)
    assert a != pixel_baseline(train, test)
    # If the same split is passed twice, train and test features still get different noise draws:
    # a probe that memorised noisy training features would score ~1.0 on identical features.
    small = train.subset(200)
    report = probe_encoder(None, small, small, noise_std=0.3, seed=0, max_iter=1)
    clean = probe_encoder(None, small, small, noise_std=0.0, seed=0, max_iter=1)
    assert report["accuracy"] != clean["accuracy"]


def test_probe_encoder_matches_manual_pipeline(digits):
    train, test = digits
    torch.manual_seed(0)
    enc = make_encoder("mlp", input_dim=32, hidden=(16,), out_dim=8)
    got = probe_encoder(enc, train, test, seed=2)["accuracy"]
    manual = linear_probe(
        encode(enc, train.top), train.labels, encode(enc, test.top), test.labels, seed=2
    )
    assert got == manual


def test_pixel_baseline_requires_matching_views():
    train = TwoViews(torch.rand(10, 4), torch.rand(10, 4), torch.arange(10) % 2)
    test = TwoViews(torch.rand(6, 5), torch.rand(6, 5), torch.arange(6) % 2)
    with pytest.raises(ValueError, match="features"):
        pixel_baseline(train, test)


# --------------------------------------------------------------------------------------------------
# Jacobian conditioning
# --------------------------------------------------------------------------------------------------


def test_log_condition_of_identity_is_zero():
    out = jacobian_log_condition(nn.Identity(), torch.randn(5, 7))
    assert out.shape == (5,) and out.dtype == np.float64
    np.testing.assert_allclose(out, 0.0, atol=1e-12)


@pytest.mark.parametrize("backend", ["torch", "scipy"])
def test_log_condition_of_known_linear_maps(backend):
    diag = _fixed_linear(torch.diag(torch.tensor([1.0, math.e**3], dtype=torch.float64)))
    out = jacobian_log_condition(diag, torch.randn(3, 2), svd_backend=backend)
    np.testing.assert_allclose(out, 3.0, atol=1e-5)
    # A rotation times diag(2, 0.5): singular values 2 and 0.5 → log 4.
    c, s = math.cos(0.7), math.sin(0.7)
    rot = torch.tensor([[c, -s], [s, c]], dtype=torch.float64)
    mixed = _fixed_linear(rot @ torch.diag(torch.tensor([2.0, 0.5], dtype=torch.float64)))
    out = jacobian_log_condition(mixed, torch.randn(2, 2), svd_backend=backend)
    np.testing.assert_allclose(out, math.log(4.0))


@pytest.mark.parametrize("backend", ["torch", "scipy"])
def test_log_condition_of_a_singular_map_is_inf(backend):
    singular = _fixed_linear(torch.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=torch.float64))
    out = jacobian_log_condition(singular, torch.randn(2, 2), svd_backend=backend)
    assert np.isinf(out).all()


def test_svd_backends_agree_and_are_validated():
    gen = torch.Generator().manual_seed(0)
    mats = torch.eye(30) + 0.3 * torch.randn(4, 30, 30, generator=gen)
    a = singular_values(mats, "torch")
    b = singular_values(mats, "scipy")
    assert a.shape == b.shape == (4, 30) and a.dtype == b.dtype == np.float64
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert np.all(np.diff(a, axis=1) <= 0)  # descending
    with pytest.raises(ValueError, match="scipy"):
        jacobian_log_condition(nn.Identity(), torch.randn(2, 2), svd_backend="numpy")


def test_log_condition_depends_on_the_input_for_nonlinear_maps():
    # g(x) = (x0, x1^3): J = diag(1, 3 x1^2), log-cond = |log(3 x1^2)|.
    class Cube(nn.Module):
        def forward(self, x):
            return torch.stack([x[:, 0], x[:, 1] ** 3], dim=1)

    x = torch.tensor([[0.0, 1.0], [5.0, 2.0]])
    np.testing.assert_allclose(
        jacobian_log_condition(Cube(), x), [math.log(3.0), math.log(12.0)], rtol=1e-5
    )


def test_jacobians_shape_for_non_square_encoder():
    torch.manual_seed(0)
    enc = make_encoder("mlp", input_dim=12, hidden=(10,), out_dim=4)
    jac = jacobians(enc, torch.rand(5, 12), chunk_size=2)
    assert jac.shape == (5, 4, 12)
    x0 = torch.rand(12)
    expected = torch.autograd.functional.jacobian(lambda v: enc(v.unsqueeze(0)).squeeze(0), x0)
    torch.testing.assert_close(jacobians(enc, x0.unsqueeze(0))[0], expected)


def test_log_condition_of_residual_mlp_at_init_is_near_zero():
    torch.manual_seed(0)
    enc = ResidualMLP()
    # scipy backend: PyTorch's threaded SVD is slow on near-identity matrices on busy machines.
    out = jacobian_log_condition(enc, torch.rand(3, 392), svd_backend="scipy")
    assert out.shape == (3,)
    assert np.all(out >= 0) and np.all(out < 0.05)
    # A perturbed residual MLP is clearly worse conditioned.
    bad = ResidualMLP(init_std=0.05)
    assert np.median(jacobian_log_condition(bad, torch.rand(2, 392), svd_backend="scipy")) > 0.5


def test_logcond_quantiles():
    q = logcond_quantiles(np.arange(101, dtype=float))
    assert q == {
        "min": 0.0,
        "p20": 20.0,
        "p40": 40.0,
        "median": 50.0,
        "p60": 60.0,
        "p80": 80.0,
        "max": 100.0,
    }
    assert logcond_quantiles(torch.tensor([2.0, 4.0]))["median"] == 3.0
    with_inf = logcond_quantiles(np.array([1.0, 2.0, 3.0, np.inf]))
    assert with_inf["max"] == np.inf and with_inf["p80"] == np.inf and with_inf["p40"] == 2.2
    with pytest.raises(ValueError, match="empty"):
        logcond_quantiles(np.array([]))
    with pytest.raises(ValueError, match="NaN"):
        logcond_quantiles(np.array([1.0, np.nan]))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_probe_cross_entropy_stays_finite_for_extreme_test_points(n_classes):
    """A test point far outside the training range gets a probability that underflows to 0 in
    ``predict_proba``; the log-softmax of the logits keeps the cross-entropy finite, and equals
    sklearn's log-probabilities wherever those are finite."""
    from sklearn.linear_model import LogisticRegression

    from mi_tutorial.evaluation import _log_proba

    rng = np.random.default_rng(0)
    train_y = np.arange(300) % n_classes
    train_x = rng.normal(size=(300, 2)) + 3.0 * np.eye(n_classes, 2)[train_y]
    clf = LogisticRegression(C=10.0).fit(train_x, train_y)
    test_x = np.array([[0.0, 0.0], [1e4, -1e4]])
    with np.errstate(divide="ignore"):
        ours, sklearn_log = _log_proba(clf, test_x), np.log(clf.predict_proba(test_x))
    assert np.isfinite(ours).all() and not np.isfinite(sklearn_log).all()
    finite = np.isfinite(sklearn_log)
    np.testing.assert_allclose(ours[finite], sklearn_log[finite], rtol=1e-9, atol=1e-9)
    # the extreme point (class 0's direction) labelled 1: a huge but finite loss
    report = linear_probe_report(train_x, train_y, test_x, np.array([0, 1]))
    assert np.isfinite(report["test_cross_entropy"]) and report["test_cross_entropy"] > 100
