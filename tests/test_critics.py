"""Tests for mi_tutorial.critics: sizes, the S[i, j] = f(x_i, y_j) convention, init, errors."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from mi_tutorial import critics as C


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def codes(k: int, dx: int, dy: int, seed: int = 0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(k, dx, generator=g, dtype=dtype), torch.randn(
        k, dy, generator=g, dtype=dtype
    )


@pytest.mark.parametrize(
    "name,kwargs,expected",
    [
        ("inner", {}, 0),
        ("bilinear", {}, 10_000),
        ("separable", {}, 40_400),
        ("concat", {}, 40_401),
    ],
)
def test_parameter_counts_for_100d_codes(name, kwargs, expected):
    assert n_params(C.make_critic(name, 100, **kwargs)) == expected


def test_noniid_concat_critic_size():
    # §4 / App. E: (x, y) in R^2, 5 hidden layers of 10 ReLU units, linear output.
    critic = C.make_critic("concat", 1, 1, hidden=10, layers=5)
    assert n_params(critic) == (2 * 10 + 10) + 4 * (10 * 10 + 10) + (10 + 1)
    assert len(critic.hidden_layers) == 4


def test_bilinear_392():
    assert n_params(C.make_critic("bilinear", 392)) == 392 * 392


@pytest.mark.parametrize("name", C.CRITICS)
def test_output_shape(name):
    dy = 7 if name in ("inner", "neg_sqdist") else 5  # parameter-free: equal sizes
    critic = C.make_critic(name, 7, dy).double()
    x, y = codes(9, 7, dy)
    assert critic(x, y).shape == (9, 9)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("inner", {}),
        ("bilinear", {}),
        ("separable", {"hidden": 8, "out": 6}),
        ("concat", {"hidden": 12, "layers": 3}),
    ],
)
def test_entry_ij_is_f_of_x_i_and_y_j(name, kwargs):
    dx, dy = (6, 6) if name == "inner" else (6, 4)
    critic = C.make_critic(name, dx, dy, **kwargs).double()
    x, y = codes(5, dx, dy, seed=1)
    s = critic(x, y)
    for i in range(5):
        for j in range(5):
            single = critic(x[i : i + 1], y[j : j + 1])  # a batch of one pair: S = [[f(x_i, y_j)]]
            assert single.shape == (1, 1)
            assert s[i, j].item() == pytest.approx(single.item(), abs=1e-12)
    # Not symmetric in general: rows belong to x, columns to y.
    if name != "inner":
        assert not torch.allclose(s, s.T)


def test_explicit_formulas():
    x, y = codes(4, 3, 2, seed=2)
    bil = C.BilinearCritic(3, 2).double()
    w = bil.linear.weight  # [d_x, d_y]
    expected = torch.stack([torch.stack([x[i] @ w @ y[j] for j in range(4)]) for i in range(4)])
    torch.testing.assert_close(bil(x, y), expected)
    x2, y2 = codes(4, 3, 3, seed=3)
    torch.testing.assert_close(C.InnerProductCritic()(x2, y2), x2 @ y2.T)


@pytest.mark.parametrize("layers", [1, 3])
def test_concat_efficient_equals_naive(layers):
    critic = C.make_critic("concat", 100, 60, hidden=50, layers=layers).double()
    x, y = codes(32, 100, 60, seed=4)
    x.requires_grad_(True)
    fast = critic(x, y)
    slow = critic.naive_scores(x, y)
    torch.testing.assert_close(fast, slow, atol=1e-10, rtol=0)
    # gradients agree too
    g_fast = torch.autograd.grad(fast.sin().sum(), [x, critic.first.weight])
    g_slow = torch.autograd.grad(slow.sin().sum(), [x, critic.first.weight])
    for a, b in zip(g_fast, g_slow, strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


def test_concat_first_layer_sees_x_then_y():
    critic = C.ConcatCritic(2, 3, hidden=4).double()
    x, y = codes(3, 2, 3, seed=5)
    pair = torch.cat([x[1], y[2]])[None]  # [x_1, y_2] in that order
    expected = critic.out(torch.relu(critic.first(pair))).item()
    assert critic(x, y)[1, 2].item() == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("name", ["bilinear", "separable", "concat"])
def test_glorot_init(name):
    torch.manual_seed(0)
    critic = C.make_critic(name, 100, init="glorot")
    linears = [m for m in critic.modules() if isinstance(m, nn.Linear)]
    assert linears
    for layer in linears:
        if layer.bias is not None:
            assert torch.count_nonzero(layer.bias) == 0
        fan_out, fan_in = layer.weight.shape
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        w = layer.weight.detach()
        assert w.abs().max().item() <= bound
        # Uniform on [-a, a] fills the range and has std a / sqrt(3) (not Kaiming's smaller range).
        assert w.abs().max().item() > 0.95 * bound
        if w.numel() > 1000:
            assert w.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.1)


def test_torch_init_keeps_nonzero_biases():
    torch.manual_seed(0)
    critic = C.make_critic("separable", 20, init="torch")
    assert torch.count_nonzero(critic.phi_x[0].bias) > 0


def test_unknown_critic_lists_options():
    with pytest.raises(ValueError) as err:
        C.make_critic("bilnear", 10)
    msg = str(err.value)
    assert "bilinear" in msg and all(name in msg for name in C.CRITICS)


def test_bad_kwargs_and_dims():
    with pytest.raises(TypeError, match="hidden, out"):
        C.make_critic("separable", 10, hiden=5)  # codespell:ignore
    with pytest.raises(TypeError, match="no extra keyword arguments"):
        C.make_critic("bilinear", 10, layers=2)
    with pytest.raises(TypeError, match="no extra keyword arguments"):
        C.make_critic("inner", 10, hidden=2)
    with pytest.raises(ValueError, match="dim_x == dim_y"):
        C.make_critic("inner", 10, 5)
    with pytest.raises(ValueError, match="layers"):
        C.make_critic("concat", 10, layers=0)
    with pytest.raises(ValueError, match="init scheme"):
        C.make_critic("bilinear", 10, init="kaiming")


def test_bad_inputs_raise():
    critic = C.make_critic("bilinear", 4, 3)
    with pytest.raises(ValueError, match="same number K"):
        critic(torch.zeros(5, 4), torch.zeros(6, 3))
    with pytest.raises(ValueError, match="built for 3"):
        critic(torch.zeros(5, 4), torch.zeros(5, 4))
    with pytest.raises(ValueError, match=r"\[K, d\]"):
        critic(torch.zeros(5, 4, 1), torch.zeros(5, 3))
    with pytest.raises(ValueError, match="equal size"):
        C.InnerProductCritic()(torch.zeros(5, 4), torch.zeros(5, 3))


def test_concat_critic_compiled_kernel_matches_eager_and_falls_back_when_it_fails(monkeypatch):
    torch.manual_seed(0)
    f = C.make_critic("concat", 5, 7, hidden=16)
    x, y = torch.randn(8, 5), torch.randn(8, 7)
    compiled = f(x, y)
    compiled_grads = torch.autograd.grad(compiled.sum(), list(f.parameters()))
    monkeypatch.setenv("MI_TUTORIAL_COMPILE", "0")
    eager = f(x, y)
    eager_grads = torch.autograd.grad(eager.sum(), list(f.parameters()))
    torch.testing.assert_close(compiled, eager, rtol=1e-5, atol=1e-5)
    for a, b in zip(compiled_grads, eager_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(compiled, f.naive_scores(x, y), rtol=1e-5, atol=1e-5)

    monkeypatch.setenv("MI_TUTORIAL_COMPILE", "1")

    def broken(*args):
        raise RuntimeError("no C++ compiler")

    monkeypatch.setattr(C, "_compiled_scores", lambda: broken)
    monkeypatch.setattr(C, "_COMPILE_FAILED", [])
    with pytest.warns(RuntimeWarning, match="no C\\+\\+ compiler"):
        fallback = f(x, y)
    torch.testing.assert_close(fallback, eager)
    assert not C.compiled_scores_enabled()  # once failed, not tried again
