"""Probes beyond the protocol: converged linear probe, MLP probe, V-information."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mi_tutorial.evaluation import linear_probe_report, probe_objective
from mi_tutorial.probes import (
    compare_probes,
    fit_linear_probe,
    fit_mlp_probe,
    label_entropy,
    scale_features,
    v_information,
)


def _blobs(n: int, d: int, separation: float, seed: int):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = rng.normal(size=(3, d)) * separation
    return centres[y] + rng.normal(size=(n, d)), y


@pytest.fixture(scope="module")
def blobs():
    x, y = _blobs(1200, 5, 2.0, 0)
    return x[:900], y[:900], x[900:], y[900:]


def test_label_entropy_is_the_cross_entropy_of_the_class_frequencies():
    train = np.array([0, 0, 1, 1])
    assert label_entropy(train, np.array([0, 1])) == pytest.approx(math.log(2))
    # Laplace smoothing: an unseen class costs log((n + C) / 1), finite
    assert label_entropy(train, np.array([2])) == pytest.approx(math.log(7))
    with pytest.raises(ValueError, match="non-empty"):
        label_entropy(np.array([]), np.array([0]))
    with pytest.raises(ValueError, match=">= 0"):
        label_entropy(np.array([-1, 0]), np.array([0]))


def test_scaling_uses_training_statistics_only():
    train, test = np.array([[0.0, 5.0], [2.0, 5.0]]), np.array([[4.0, 7.0]])
    s_train, s_test = scale_features(train, test, "minmax")
    np.testing.assert_allclose(s_train, [[0, 0], [1, 0]])
    np.testing.assert_allclose(s_test, [[2, 2]])  # constant feature: shifted, not divided by 0
    s_train, _ = scale_features(train, test, "standard")
    np.testing.assert_allclose(s_train.mean(axis=0), 0, atol=1e-12)
    with pytest.raises(ValueError, match="scaling"):
        scale_features(train, test, "robust")


def test_converged_probe_beats_early_stopped_saga_on_the_shared_objective(blobs):
    paper = linear_probe_report(*blobs, tol=0.5, max_iter=2)
    converged = fit_linear_probe(*blobs, max_iter=300)
    assert converged.objective < paper["objective"]
    assert converged.accuracy > 0.9
    # sklearn's fully converged lbfgs reaches the same minimum of J
    from sklearn.linear_model import LogisticRegression

    x_train, x_test = scale_features(blobs[0], blobs[2])
    ref = LogisticRegression(C=10.0, tol=1e-10, max_iter=10_000).fit(x_train, blobs[1])
    j_ref = probe_objective(ref.coef_, ref.intercept_, x_train, blobs[1], 10.0)
    assert converged.objective == pytest.approx(j_ref, rel=1e-6)


def test_v_information_orders_informative_and_useless_features(blobs):
    informative = v_information(*blobs)
    rng = np.random.default_rng(1)
    noise = v_information(rng.normal(size=(900, 5)), blobs[1], rng.normal(size=(300, 5)), blobs[3])
    assert informative["I_V"] > 0.5
    assert informative["I_V"] == pytest.approx(informative["H_V(Y)"] - informative["H_V(Y|Z)"])
    assert abs(noise["I_V"]) < 0.1  # nothing usable: the linear family does as well as a constant
    assert informative["accuracy"] > noise["accuracy"]


def test_v_information_is_not_invariant_to_bijections():
    """Shannon MI with the label is the same for z and for a bijection of z; V-information is not:
    folding a linearly separable feature with a bijective non-monotone map (on the finite sample)
    hides the label from linear probes."""
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 2000)
    z = (y * 2.0 - 1.0 + 0.3 * rng.normal(size=2000))[:, None]
    folded = np.sin(6 * z)  # injective on the range of the data with probability ~1
    assert len(np.unique(folded)) == len(folded)
    plain = v_information(z[:1500], y[:1500], z[1500:], y[1500:])
    hidden = v_information(folded[:1500], y[:1500], folded[1500:], y[1500:])
    assert plain["I_V"] > hidden["I_V"] + 0.2


def test_mlp_probe_is_deterministic_and_solves_xor():
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, size=(1500, 2))
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(int)
    split = (x[:1000], y[:1000], x[1000:], y[1000:])
    first = fit_mlp_probe(*split, hidden=32, epochs=30, lr=1e-2, seed=0)
    again = fit_mlp_probe(*split, hidden=32, epochs=30, lr=1e-2, seed=0)
    assert first.accuracy == again.accuracy and first.test_cross_entropy == again.test_cross_entropy
    assert first.accuracy > 0.9
    assert fit_linear_probe(*split).accuracy < 0.7  # XOR is not linearly separable
    assert math.isnan(first.objective)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"C": 0.0}, "C must be > 0"), ({"max_iter": 0}, "max_iter"), ({"C": -1.0}, "C")],
)
def test_linear_probe_rejects_bad_arguments(blobs, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_linear_probe(*blobs, **kwargs)


def test_probes_reject_nan_features(blobs):
    bad = blobs[0].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit_mlp_probe(bad, *blobs[1:])


def test_compare_probes_row_is_consistent(blobs):
    row = compare_probes(*blobs, mlp={"hidden": 16, "epochs": 3})
    vinfo = v_information(*blobs)
    assert row["I_V"] == pytest.approx(vinfo["I_V"])
    assert row["linear_accuracy"] == pytest.approx(vinfo["accuracy"])
    assert row["linear_objective"] <= row["paper_objective"] + 1e-9
    assert set(row) >= {"paper_accuracy", "mlp_accuracy", "mlp_cross_entropy", "H_V(Y)"}
