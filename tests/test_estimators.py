"""Tests for mi_tutorial.estimators: exactness, optimal-critic checks, stability, validation."""

from __future__ import annotations

import math
import statistics
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mi_tutorial import estimators as E
from mi_tutorial.synthetic import gaussian_mi, gaussian_pairs, rho_for_mi

# --------------------------------------------------------------------------------------------------
# Literal reference formulas (loops, float64) — deliberately written differently from the library
# --------------------------------------------------------------------------------------------------


def literal_infonce(s: np.ndarray) -> float:
    k = s.shape[0]
    return float(np.mean([np.log(np.exp(s[i, i]) / np.mean(np.exp(s[i]))) for i in range(k)]))


def literal_nwj(s: np.ndarray) -> float:
    k = s.shape[0]
    marg = [math.exp(s[i, j]) for i in range(k) for j in range(k) if i != j]
    return float(np.mean(np.diag(s)) - math.exp(-1) * np.mean(marg))


def literal_tuba(s: np.ndarray, b: np.ndarray) -> float:
    k = s.shape[0]
    joint = np.mean([s[i, i] - b[i] for i in range(k)])
    marg = np.mean([math.exp(s[i, j] - b[i]) for i in range(k) for j in range(k) if i != j])
    return float(1 + joint - marg)


def literal_dv(s: np.ndarray) -> float:
    k = s.shape[0]
    marg = [math.exp(s[i, j]) for i in range(k) for j in range(k) if i != j]
    return float(np.mean(np.diag(s)) - math.log(np.mean(marg)))


def literal_js_fgan(s: np.ndarray) -> float:
    k = s.shape[0]
    pos = np.mean([-math.log1p(math.exp(-s[i, i])) for i in range(k)])
    neg = np.mean([math.log1p(math.exp(s[i, j])) for i in range(k) for j in range(k) if i != j])
    return float(pos - neg)


def literal_k_pair(s: np.ndarray) -> float:
    k = s.shape[0]
    terms = [
        math.log(1 + sum(math.exp(s[i, j] - s[i, i]) for j in range(k) if j != i)) for i in range(k)
    ]
    return float(np.mean(terms))


def literal_interpolated(s: np.ndarray, alpha: float, b: np.ndarray) -> float:
    """Poole et al.'s I_alpha with one held-out pair, written as explicit loops."""
    k = s.shape[0]

    def norm(i: int, held_out: int) -> float:  # log(alpha * loo mean + (1 - alpha) * e^{b_i})
        loo = np.mean([math.exp(s[i, m]) for m in range(k) if m != held_out])
        return math.log(alpha * loo + (1 - alpha) * math.exp(b[i]))

    joint = np.mean([s[i, i] - norm(i, j) for i in range(k) for j in range(k) if i != j])
    marg = np.mean([math.exp(s[i, j] - norm(i, i)) for i in range(k) for j in range(k) if i != j])
    return float(1 + joint - marg)


def t64(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64)


@pytest.fixture
def small() -> np.ndarray:
    return np.random.default_rng(0).normal(0.0, 2.0, size=(7, 7))


# --------------------------------------------------------------------------------------------------
# Exact values on small matrices
# --------------------------------------------------------------------------------------------------


def test_nwj_equals_literal_formula(small):
    assert E.nwj(t64(small)).item() == pytest.approx(literal_nwj(small), rel=1e-12, abs=1e-12)


def test_infonce_dv_js_kpair_equal_literal_formulas(small):
    s = t64(small)
    assert E.infonce(s).item() == pytest.approx(literal_infonce(small), abs=1e-12)
    assert E.dv(s).item() == pytest.approx(literal_dv(small), abs=1e-12)
    assert E.js_fgan(s).item() == pytest.approx(literal_js_fgan(small), abs=1e-12)
    assert E.k_pair_loss(s).item() == pytest.approx(literal_k_pair(small), abs=1e-12)


def test_tuba_scalar_and_per_row_baseline(small):
    b = np.random.default_rng(1).normal(size=7)
    assert E.tuba(t64(small), 0.3).item() == pytest.approx(
        literal_tuba(small, np.full(7, 0.3)), abs=1e-12
    )
    assert E.tuba(t64(small), t64(b)).item() == pytest.approx(literal_tuba(small, b), abs=1e-12)
    # The baseline belongs to the row (x_i): shifting row i of S by b_i and using b leaves TUBA
    # unchanged. A column-wise baseline would not pass this.
    assert E.tuba(t64(small + b[:, None]), t64(b)).item() == pytest.approx(
        E.tuba(t64(small)).item(), abs=1e-12
    )
    assert E.nwj(t64(small)).item() == pytest.approx(E.tuba(t64(small), 1.0).item(), abs=1e-12)


@pytest.mark.parametrize("alpha", [0.0, 0.01, 0.3, 0.9, 1.0])
def test_interpolated_equals_literal_formula(small, alpha):
    b = np.random.default_rng(2).normal(size=7)
    got = E.interpolated(t64(small), alpha, log_baseline=t64(b)).item()
    assert got == pytest.approx(literal_interpolated(small, alpha, b), abs=1e-11)


def test_interpolated_endpoints(small):
    s = t64(small)
    assert E.interpolated(s, 0.0, 0.4).item() == pytest.approx(E.tuba(s, 0.4).item(), abs=1e-12)
    # alpha = 1: the average over held-out negatives j of the (K-1)-sample InfoNCE of positive i.
    k = small.shape[0]
    nce_km1 = np.mean(
        [
            small[i, i] - math.log(np.mean([math.exp(small[i, m]) for m in range(k) if m != j]))
            for i in range(k)
            for j in range(k)
            if j != i
        ]
    )
    assert E.interpolated(s, 1.0).item() == pytest.approx(nce_km1, abs=1e-12)
    assert E.interpolated(s, 1.0).item() <= math.log(k - 1) + 1e-12


def test_smile_clips_only_the_partition_term(small):
    s = t64(small)
    assert E.smile(s, clip=None).item() == pytest.approx(E.dv(s).item(), abs=1e-12)
    assert E.smile(s, clip=1e3).item() == pytest.approx(E.dv(s).item(), abs=1e-12)
    clipped = np.clip(small, -1.0, 1.0)
    off = ~np.eye(7, dtype=bool)
    expected = np.mean(np.diag(small)) - math.log(np.mean(np.exp(clipped[off])))
    assert E.smile(s, clip=1.0).item() == pytest.approx(expected, abs=1e-12)


def test_dv_and_infonce_shift_invariance(small):
    s = t64(small)
    assert E.dv(s + 3.7).item() == pytest.approx(E.dv(s).item(), abs=1e-12)
    row_shift = t64(np.random.default_rng(3).normal(size=(7, 1)))
    assert E.infonce(s + row_shift).item() == pytest.approx(E.infonce(s).item(), abs=1e-12)
    assert E.nwj(s + 3.7).item() != pytest.approx(E.nwj(s).item(), abs=1e-3)


# --------------------------------------------------------------------------------------------------
# Metric-learning identity (§4, App. C): I_NCE = log K - L_K-pair-mc
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 5, 64])
def test_infonce_kpair_identity_random(k):
    s = torch.randn(k, k, dtype=torch.float64, generator=torch.Generator().manual_seed(k)) * 4
    lhs = E.infonce(s).item()
    assert lhs == pytest.approx(math.log(k) - E.k_pair_loss(s).item(), abs=1e-12)
    assert lhs == pytest.approx(math.log(k) - literal_k_pair(s.numpy()), abs=1e-12)


def test_infonce_kpair_identity_shared_encoder():
    g = torch.Generator().manual_seed(0)
    phi = torch.nn.Sequential(torch.nn.Linear(10, 16), torch.nn.Tanh(), torch.nn.Linear(16, 8))
    phi = phi.double()
    x, y = (
        torch.randn(32, 10, generator=g, dtype=torch.float64),
        torch.randn(32, 10, generator=g, dtype=torch.float64),
    )
    with torch.no_grad():
        s = phi(x) @ phi(y).T  # S = Phi Phi'^T, the inner-product critic of a shared encoder
    assert E.infonce(s).item() == pytest.approx(math.log(32) - literal_k_pair(s.numpy()), abs=1e-12)


# --------------------------------------------------------------------------------------------------
# InfoNCE <= log K for any S (property-based, huge values included)
# --------------------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=2, max_value=12).flatmap(
        lambda k: arrays(
            np.float64,
            (k, k),
            elements=st.one_of(
                st.floats(-1e6, 1e6, allow_nan=False),
                st.sampled_from([-1e300, 1e300, -1e4, 1e4, 0.0]),
            ),
        )
    )
)
def test_infonce_never_exceeds_log_k(s):
    k = s.shape[0]
    value = E.infonce(t64(s)).item()
    assert not math.isnan(value)
    assert value <= math.log(k)
    value32 = E.infonce(torch.tensor(s, dtype=torch.float32).clamp(-3e38, 3e38)).item()
    assert value32 <= math.log(k) + 1e-6


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=2, max_value=8).flatmap(
        lambda k: st.tuples(
            arrays(np.float64, (k, k), elements=st.floats(-300, 300)),
            arrays(np.float64, (k,), elements=st.floats(-300, 300)),
            st.floats(0.001, 1.0),
        )
    )
)
def test_interpolated_upper_bounds(args):
    s, b, alpha = args
    k = s.shape[0]
    value = E.interpolated(t64(s), alpha, log_baseline=t64(b)).item()
    assert not math.isnan(value)
    assert value <= 1 + math.log((k - 1) / alpha) + 1e-9
    assert E.interpolated(t64(s), 1.0).item() <= math.log(k - 1) + 1e-9


# --------------------------------------------------------------------------------------------------
# Optimal critics on correlated Gaussians with known MI
# --------------------------------------------------------------------------------------------------

MI, DIM, K, BATCHES = 2.0, 1, 512, 16


def gaussian_log_ratio(x: torch.Tensor, y: torch.Tensor, rho: float) -> torch.Tensor:
    r"""S_ij = log p(y_j | x_i) / p(y_j) for x ~ N(0, I_d), y = rho x + sqrt(1 - rho^2) eta.

    p(y|x) = N(rho x, (1 - rho^2) I), p(y) = N(0, I), so
    log r = -d/2 log(1 - rho^2) - |y - rho x|^2 / (2 (1 - rho^2)) + |y|^2 / 2.
    """
    d, s2 = x.shape[1], 1.0 - rho * rho
    yy, xx = (y * y).sum(1), (x * x).sum(1)
    sq = yy[None, :] - 2 * rho * (x @ y.T) + rho * rho * xx[:, None]
    return -0.5 * d * math.log(s2) - sq / (2 * s2) + 0.5 * yy[None, :]


@pytest.fixture(scope="module")
def optimal_scores() -> list[torch.Tensor]:
    rho = rho_for_mi(MI, DIM)
    assert gaussian_mi(rho, DIM) == pytest.approx(MI)
    g = torch.Generator().manual_seed(1234)
    out = []
    for _ in range(BATCHES):
        x, y = gaussian_pairs(K, DIM, rho, generator=g)
        # closed form in float64, then float32: the dtype the estimators meet in training
        out.append(gaussian_log_ratio(x.double(), y.double(), rho).float())
    return out


def _mean_se(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), statistics.stdev(values) / math.sqrt(len(values))


def test_log_ratio_is_the_density_ratio(optimal_scores):
    # E_P[log r] = I and E_Q[r] = 1: checks the closed form before it is used as a critic.
    s = optimal_scores[0]
    assert s.diagonal().mean().item() == pytest.approx(MI, abs=0.2)
    assert E._offdiag(s).exp().mean().item() == pytest.approx(1.0, abs=0.05)


# (estimator, critic shift c in f = c + log r, kwargs, allowed downward bias in nats)
NCE_GAP = math.log1p((math.exp(2 * MI) - 1) / K)  # Jensen: I - E[I_NCE] <= this
CASES = [
    ("infonce", 0.0, {}, NCE_GAP),
    ("nwj", 1.0, {}, 0.0),
    ("tuba", 0.0, {}, 0.0),
    ("dv", 0.0, {}, 0.0),
    ("dv", 5.0, {}, 0.0),
    ("js", 0.0, {}, 0.0),  # the JS-optimal critic is log r; reported as NWJ on S + 1
    ("interpolated", 0.0, {"alpha": 0.5}, math.log1p(0.5 * (math.exp(2 * MI) - 1) / (K - 1))),
    ("smile", 0.0, {"clip": 5.0}, 0.0),
]


@pytest.mark.parametrize("name,shift,kw,gap", CASES)
def test_optimal_critic_recovers_true_mi(optimal_scores, name, shift, kw, gap):
    values = [E.estimate(name, s + shift, **kw).item() for s in optimal_scores]
    mean, se = _mean_se(values)
    slack = 4 * se + (0.03 if name == "smile" else 0.0)  # clipping biases SMILE slightly upward
    assert MI - gap - slack <= mean <= MI + slack, (name, mean, se)
    if name == "infonce":
        assert max(values) <= math.log(K)


def test_optimal_critic_paired_differences(optimal_scores):
    """Sharper: subtract each batch's joint term mean_i log r_ii, which carries most of the noise.

    Also documents the +1 of the JS estimate: NWJ on the raw JS-optimal critic reports I - 1/e.
    """
    diffs: dict[str, list[float]] = {"nwj": [], "js": [], "tuba_row": [], "dv": [], "raw": []}
    g = torch.Generator().manual_seed(7)
    for s in optimal_scores:
        joint = s.diagonal().mean().item()
        b = torch.randn(K, generator=g)
        diffs["nwj"].append(E.nwj(s + 1).item() - joint)
        diffs["js"].append(E.estimate("js", s).item() - joint)
        diffs["tuba_row"].append(E.tuba(s + b[:, None], b).item() - joint)
        diffs["dv"].append(E.dv(s).item() - joint)
        diffs["raw"].append(E.nwj(s).item() - joint + math.exp(-1))
    for name, vals in diffs.items():
        mean, se = _mean_se(vals)
        assert abs(mean) <= 4 * se + 1e-3, (name, mean, se)


# --------------------------------------------------------------------------------------------------
# Training objectives and MINE
# --------------------------------------------------------------------------------------------------


def test_training_objective_matches_estimate_except_js_trained(small):
    s = t64(small)
    for name in E.ESTIMATORS:
        obj = E.training_objective(name, s).item()
        if name in ("js", "smile"):
            assert obj == pytest.approx(E.js_fgan(s).item(), abs=1e-12)
            assert obj != pytest.approx(E.estimate(name, s).item(), abs=1e-6)
        else:
            assert obj == pytest.approx(E.estimate(name, s).item(), abs=1e-12)


def test_js_fgan_is_maximised_by_the_log_ratio(optimal_scores):
    s = optimal_scores[0]
    best = E.js_fgan(s).item()
    for c in (-0.5, 0.5):
        assert E.js_fgan(s + c).item() < best
    assert E.js_fgan(1.2 * s).item() < best and E.js_fgan(0.8 * s).item() < best


def test_mine_value_is_dv_and_gradient_uses_the_moving_average():
    g = torch.Generator().manual_seed(0)
    mine = E.MineDV(ema_decay=0.9)
    s1 = torch.randn(6, 6, generator=g, dtype=torch.float64)
    s2 = (torch.randn(6, 6, generator=g, dtype=torch.float64) * 2).requires_grad_(True)
    mine.training_objective(s1)  # first batch initialises the average
    obj = mine.training_objective(s2)
    assert obj.item() == pytest.approx(E.dv(s2).item(), abs=1e-12)
    assert mine(s2).item() == pytest.approx(E.dv(s2).item(), abs=1e-12)
    obj.backward()

    def z(s):
        return E._offdiag(s.detach()).exp().mean().item()

    ema = 0.9 * z(s1) + 0.1 * z(s2)
    assert math.exp(mine.log_ema.item()) == pytest.approx(ema, rel=1e-12)
    expected = torch.eye(6, dtype=torch.float64) / 6 - (
        s2.detach().exp() * (1 - torch.eye(6, dtype=torch.float64)) / (30 * ema)
    )
    torch.testing.assert_close(s2.grad, expected, rtol=1e-10, atol=1e-12)
    # When the average equals the batch partition, the gradient is exactly the DV gradient.
    fresh = E.MineDV()
    s3 = s2.detach().clone().requires_grad_(True)
    fresh.training_objective(s3).backward()
    s4 = s2.detach().clone().requires_grad_(True)
    E.dv(s4).backward()
    torch.testing.assert_close(s3.grad, s4.grad)


def test_mine_validation():
    with pytest.raises(ValueError, match="ema_decay"):
        E.MineDV(ema_decay=1.0)
    with pytest.raises(RuntimeError, match="update=True"):
        E.MineDV().training_objective(torch.zeros(3, 3), update=False)


# --------------------------------------------------------------------------------------------------
# Numerical stability for huge scores
# --------------------------------------------------------------------------------------------------

ALL_VALUES = {
    **{name: (lambda n: lambda s: E.estimate(n, s))(name) for name in E.ESTIMATORS},
    "js_fgan": E.js_fgan,
    "k_pair_loss": E.k_pair_loss,
    "interpolated_0.5": lambda s: E.interpolated(s, 0.5),
    "mine": lambda s: E.MineDV().training_objective(s),
}


@pytest.mark.parametrize("name", sorted(ALL_VALUES))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_finite_for_huge_scores_where_the_math_is_finite(name, dtype):
    k = 16
    s = torch.full((k, k), -1e4, dtype=dtype)
    s.fill_diagonal_(1e4)
    s.requires_grad_(True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = ALL_VALUES[name](s)
        value.backward()
    assert torch.isfinite(value), (name, value)
    assert torch.isfinite(s.grad).all(), name


@pytest.mark.parametrize("name", sorted(ALL_VALUES))
def test_no_nan_for_random_huge_scores(name):
    g = torch.Generator().manual_seed(0)
    s = torch.where(torch.rand(16, 16, generator=g) < 0.5, -1e4, 1e4)
    value = ALL_VALUES[name](s)
    assert not torch.isnan(value), name
    # Bounds whose marginal term holds e^{+1e4} are honestly -inf; all others stay finite.
    if name in ("nwj", "tuba", "js"):
        assert value.item() == float("-inf")
    else:
        assert torch.isfinite(value), (name, value)


def test_infonce_huge_values_exact():
    s = torch.full((8, 8), -1e4)
    s.fill_diagonal_(1e4)
    assert E.infonce(s).item() == pytest.approx(math.log(8))
    assert E.k_pair_loss(s).item() == pytest.approx(0.0, abs=1e-12)
    assert E.dv(s).item() == pytest.approx(2e4)


def test_interpolated_when_one_score_dominates_a_row():
    # exp(-40) is below float64 precision relative to 1: a naive "sum minus one term" leave-one-out
    # sum would cancel to 0 (log 0 = -inf) for the held-out maximum.
    for top in (40.0, 800.0):
        s = torch.zeros(5, 5, dtype=torch.float64)
        s[:, 0] = top
        s.requires_grad_(True)
        value = E.interpolated(s, 0.5)
        value.backward()
        assert torch.isfinite(value) and torch.isfinite(s.grad).all()
    s40 = np.zeros((5, 5))
    s40[:, 0] = 40.0
    assert E.interpolated(t64(s40), 0.5).item() == pytest.approx(
        literal_interpolated(s40, 0.5, np.zeros(5)), abs=1e-9
    )


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(4,), (3, 4), (1, 1), (2, 2, 2)])
def test_bad_shapes_raise_and_name_the_shape(shape):
    for fn in (E.infonce, E.nwj, E.dv, E.js_fgan, E.smile, E.k_pair_loss, E.tuba):
        with pytest.raises(ValueError, match=str(shape).replace("(", r"\(").replace(")", r"\)")):
            fn(torch.zeros(shape))


def test_bad_inputs():
    with pytest.raises(TypeError, match="torch.Tensor"):
        E.infonce(np.zeros((3, 3)))
    with pytest.raises(TypeError, match="floating point"):
        E.infonce(torch.zeros(3, 3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\[K\] = \[3\]"):
        E.tuba(torch.zeros(3, 3), torch.zeros(4))
    with pytest.raises(ValueError, match="alpha"):
        E.interpolated(torch.zeros(3, 3), 1.5)
    with pytest.raises(ValueError, match="clip"):
        E.smile(torch.zeros(3, 3), clip=0.0)


def test_unknown_estimator_and_bad_kwargs():
    with pytest.raises(ValueError, match="infonce"):
        E.estimate("infonse", torch.zeros(3, 3))
    with pytest.raises(ValueError, match="Choose one of"):
        E.training_objective("mine", torch.zeros(3, 3))
    with pytest.raises(TypeError, match="clip"):
        E.estimate("smile", torch.zeros(3, 3), alpha=0.5)
    with pytest.raises(TypeError, match="no keyword arguments"):
        E.training_objective("infonce", torch.zeros(3, 3), alpha=0.5)
    assert E.estimate("tuba", torch.zeros(3, 3), log_baseline=0.5).item() == pytest.approx(
        literal_tuba(np.zeros((3, 3)), np.full(3, 0.5))
    )
