"""Tests for mi_tutorial.encoders: sizes, padding, normalisation, near-identity init, inverses."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import jacrev

from mi_tutorial.encoders import (
    ENCODERS,
    ChannelLayerNorm,
    ConvNetEncoder,
    MLPEncoder,
    RealNVP,
    ResidualMLP,
    TFSameConv2d,
    count_parameters,
    make_encoder,
    tf_same_padding,
)


def mnist_like(n: int, dim: int = 392, seed: int = 0) -> torch.Tensor:
    """Sparse [0, 1] data resembling MNIST halves: ~80 % zeros, the rest spread over (0, 1]."""
    gen = torch.Generator().manual_seed(seed)
    values = torch.rand(n, dim, generator=gen)
    mask = torch.rand(n, dim, generator=gen) < 0.2
    return values * mask


# --------------------------------------------------------------------------------------------------
# Parameter counts (paper: 238k, 220k, 770k, ~0.464M per coupling)
# --------------------------------------------------------------------------------------------------


def test_parameter_counts_match_the_paper():
    assert count_parameters(MLPEncoder()) == 238_300
    assert count_parameters(ConvNetEncoder()) == 219_748
    # 5 * (392**2 + 392): the paper's "770k" is this number rounded.
    assert count_parameters(ResidualMLP()) == 770_280


def test_realnvp_parameter_counts():
    per_shift = (196 * 512 + 512) + (512 * 512 + 512) + (512 * 196 + 196)
    per_affine = (196 * 512 + 512) + (512 * 512 + 512) + (512 * 392 + 392)
    shift = RealNVP(couplings=2)
    affine = RealNVP(couplings=2, shift_only=False)
    assert count_parameters(shift.nets[0]) == per_shift == 464_068
    assert count_parameters(shift) == 2 * per_shift
    assert count_parameters(affine.nets[1]) == per_affine == 564_616
    # Permutations are buffers, not parameters.
    assert "permutations" in dict(shift.named_buffers())
    assert 30 * per_shift == 13_922_040  # the default encoder (paper: 13.9M)


def test_count_parameters_ignores_frozen():
    m = MLPEncoder(input_dim=4, hidden=(3,), out_dim=2)
    m.net[0].weight.requires_grad_(False)
    assert count_parameters(m) == (4 * 3 + 3) + (3 * 2 + 2) - 12


# --------------------------------------------------------------------------------------------------
# Factory and shapes
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, kwargs, out_dim",
    [
        ("mlp", {}, 100),
        ("convnet", {}, 100),
        ("residual_mlp", {}, 392),
        ("realnvp", {"couplings": 2, "hidden": (16, 16)}, 392),
    ],
)
def test_make_encoder_shapes(name, kwargs, out_dim):
    enc = make_encoder(name, 392, **kwargs)
    y = enc(mnist_like(5))
    assert y.shape == (5, out_dim)
    assert enc.out_dim == out_dim
    assert torch.isfinite(y).all()


def test_encoders_tuple_is_complete():
    assert set(ENCODERS) == {"mlp", "convnet", "residual_mlp", "realnvp"}


def test_make_encoder_unknown_name_suggests():
    with pytest.raises(ValueError, match="convnet"):
        make_encoder("convnett")


def test_make_encoder_unknown_init():
    with pytest.raises(ValueError, match="glorot"):
        make_encoder("mlp", init="xavier")


def test_make_encoder_convnet_shape_mismatch():
    with pytest.raises(ValueError, match="input_shape"):
        make_encoder("convnet", input_dim=32)
    enc = make_encoder("convnet", input_dim=32, input_shape=(4, 8))
    assert enc(torch.rand(3, 32)).shape == (3, 100)


def test_wrong_input_width_is_a_clear_error():
    with pytest.raises(ValueError, match=r"\[N, 392\]"):
        MLPEncoder()(torch.rand(2, 391))
    with pytest.raises(ValueError, match=r"\[N, 392\]"):
        ConvNetEncoder()(torch.rand(2, 14, 28))


def test_glorot_init_is_default_and_torch_init_differs():
    torch.manual_seed(0)
    glorot = make_encoder("mlp")
    first = glorot.net[0]
    bound = math.sqrt(6.0 / (392 + 300))
    assert torch.all(first.bias == 0)
    assert first.weight.abs().max() <= bound
    # Glorot-uniform variance bound^2 / 3, clearly different from PyTorch's Kaiming-uniform default.
    assert first.weight.var().item() == pytest.approx(bound**2 / 3, rel=0.05)
    conv = make_encoder("convnet")
    assert torch.all(conv.conv1.bias == 0) and torch.all(conv.head.bias == 0)
    default = make_encoder("mlp", init="torch")
    assert default.net[0].bias.abs().sum() > 0
    assert default.net[0].weight.var().item() == pytest.approx(1 / (3 * 392), rel=0.05)


def test_near_identity_encoders_ignore_init_scheme():
    torch.manual_seed(0)
    res = make_encoder("residual_mlp", init="glorot")
    assert res.layers[0].weight.abs().max() <= 2e-4  # truncated at 2 std, std 1e-4
    nvp = make_encoder("realnvp", init="glorot", couplings=1, hidden=(8,))
    assert nvp.nets[0].linears[0].weight.abs().max() <= 2e-4


# --------------------------------------------------------------------------------------------------
# ConvNet: TF "same" padding and the custom LayerNorm
# --------------------------------------------------------------------------------------------------


def test_tf_same_padding_values():
    # TF: out = ceil(n / s); total pad = (out - 1) s + k - n; the extra pixel goes after.
    assert tf_same_padding(14, 5, 2) == (1, 2)
    assert tf_same_padding(28, 5, 2) == (1, 2)
    assert tf_same_padding(7, 5, 2) == (2, 2)
    assert tf_same_padding(5, 5, 1) == (2, 2)
    assert tf_same_padding(8, 1, 2) == (0, 0)


def test_convnet_feature_map_sizes():
    enc = ConvNetEncoder()
    h = enc.conv1(torch.rand(2, 1, 14, 28))
    assert h.shape == (2, 64, 7, 14)
    assert enc.conv2(h).shape == (2, 128, 4, 7)
    assert enc.feature_maps(torch.rand(2, 392)).shape == (2, 128, 4, 7)


def test_tf_same_conv_matches_tf_index_rule():
    """A one-tap kernel at (a, b) reads x[2i + a - 1, 2j + b - 1] (TF pads 1 before, 2 after)."""
    x = torch.rand(1, 1, 14, 28)
    conv = TFSameConv2d(1, 1, kernel_size=5, stride=2, bias=False)
    for a, b in [(0, 0), (2, 2), (4, 4), (4, 0)]:
        with torch.no_grad():
            conv.weight.zero_()
            conv.weight[0, 0, a, b] = 1.0
            out = conv(x)[0, 0]
        expected = torch.zeros(7, 14)
        for i in range(7):
            for j in range(14):
                r, c = 2 * i + a - 1, 2 * j + b - 1
                if 0 <= r < 14 and 0 <= c < 28:
                    expected[i, j] = x[0, 0, r, c]
        torch.testing.assert_close(out, expected)
    # PyTorch's symmetric padding=2 would give a different map here.
    sym = F.conv2d(x, conv.weight, stride=2, padding=2)[0, 0]
    assert sym.shape == (7, 14) and not torch.allclose(sym, out)


def test_layernorm_adds_eps_to_the_std_and_uses_per_channel_affine():
    norm = ChannelLayerNorm(2, eps=1e-6)
    # mean 0, std exactly 1e-6: (x - mean) / (std + eps) = +-0.5. (eps on the variance: +-0.001.)
    h = torch.tensor([1e-6, -1e-6], dtype=torch.float64).repeat(4).reshape(1, 2, 2, 2)
    out = norm.double()(h)
    torch.testing.assert_close(out.abs(), torch.full_like(h, 0.5))
    with torch.no_grad():
        norm.weight.copy_(torch.tensor([2.0, 3.0]))
        norm.bias.copy_(torch.tensor([10.0, -10.0]))
    x = torch.randn(3, 2, 4, 5, dtype=torch.float64)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    std = x.std(dim=(1, 2, 3), unbiased=False, keepdim=True)
    z = (x - mean) / (std + 1e-6)
    expected = z * torch.tensor([2.0, 3.0]).view(1, 2, 1, 1) + torch.tensor([10.0, -10.0]).view(
        1, 2, 1, 1
    )
    torch.testing.assert_close(norm(x), expected.double())


def test_layernorm_constant_input_has_finite_gradients():
    norm = ChannelLayerNorm(3)
    h = torch.zeros(2, 3, 2, 2, requires_grad=True)
    norm(h).sum().backward()
    assert torch.isfinite(h.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in norm.parameters())


def test_convnet_layernorm_sits_before_pooling():
    """Each example's pre-pool feature maps are normalised: mean 0, std ≈ 1 at default γ, β."""
    enc = make_encoder("convnet")
    maps = enc.feature_maps(mnist_like(4))
    flat = maps.reshape(4, -1)
    torch.testing.assert_close(flat.mean(1), torch.zeros(4), atol=1e-5, rtol=0)
    torch.testing.assert_close(flat.std(1, unbiased=False), torch.ones(4), atol=1e-3, rtol=0)


# --------------------------------------------------------------------------------------------------
# Residual MLP
# --------------------------------------------------------------------------------------------------


def test_residual_mlp_starts_at_identity():
    torch.manual_seed(0)
    x = mnist_like(64)
    enc = ResidualMLP()
    assert (enc(x) - x).abs().max() < 1e-2
    exact = ResidualMLP(init_std=0.0)
    torch.testing.assert_close(exact(x), x, atol=0, rtol=0)


def test_residual_mlp_forward_formula():
    torch.manual_seed(0)
    enc = ResidualMLP(dim=6, layers=3, init_std=0.5)
    for layer in enc.layers:
        nn.init.normal_(layer.bias)
    x = torch.randn(4, 6)
    h = x
    h = h + torch.relu(h @ enc.layers[0].weight.T + enc.layers[0].bias)
    h = h + torch.relu(h @ enc.layers[1].weight.T + enc.layers[1].bias)
    h = h + (h @ enc.layers[2].weight.T + enc.layers[2].bias)  # last layer: no ReLU
    torch.testing.assert_close(enc(x), h)


# --------------------------------------------------------------------------------------------------
# RealNVP
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shift_only", [True, False])
def test_realnvp_inverse_is_exact(shift_only):
    torch.manual_seed(0)
    # A "trained-looking" init (std 0.05): far from a permutation, yet exactly invertible.
    g = RealNVP(couplings=30, hidden=(128, 128), shift_only=shift_only, init_std=0.05)
    x = mnist_like(32)
    with torch.no_grad():
        y = g(x)
        x_back = g.inverse(y)
        permuted = x[:, g._final_index]  # what the map would be with all-zero weights (shift only)
    assert (x_back - x).abs().max() < 1e-4
    assert (y - permuted).abs().max() > 0.1  # non-trivial map: the test can fail


def test_realnvp_fast_forward_equals_reference_loop():
    torch.manual_seed(1)
    for shift_only in (True, False):
        g = RealNVP(dim=20, couplings=5, hidden=(16, 16), shift_only=shift_only, init_std=0.3)
        x = torch.randn(7, 20)
        torch.testing.assert_close(g(x), g.forward_reference(x), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("permutations", ["notebook", "shared"])
def test_realnvp_fast_forward_equals_reference_loop_for_each_order(permutations):
    torch.manual_seed(2)
    g = RealNVP(dim=12, couplings=4, hidden=(8,), init_std=0.3, permutations=permutations)
    x = torch.randn(5, 12)
    torch.testing.assert_close(g(x), g.forward_reference(x), atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(g.inverse(g(x)), x, atol=1e-5, rtol=1e-5)


def test_realnvp_notebook_order_permutes_before_each_coupling():
    """Block k is h ↦ coupling_k(h[:, π_k]), written out by hand for two couplings."""
    torch.manual_seed(3)
    g = RealNVP(dim=6, couplings=2, hidden=(4,), init_std=0.5, permutations="notebook")
    x = torch.randn(3, 6)
    h = x
    for k in range(2):
        h = h[:, g.permutations[k]]
        h = torch.cat([h[:, :3], h[:, 3:] + g.nets[k](h[:, :3])], dim=1)
    torch.testing.assert_close(g(x), h)
    shared = RealNVP(dim=6, couplings=2, hidden=(4,), init_std=0.5, permutations="shared")
    shared.load_state_dict(g.state_dict())  # same weights and permutations, other order
    assert not torch.allclose(shared(x), h)


def test_realnvp_notebook_permutations_differ_per_encoder_and_seed():
    def pair(seed: int) -> tuple[RealNVP, RealNVP]:
        torch.manual_seed(seed)
        return tuple(
            RealNVP(dim=20, couplings=3, hidden=(4,), permutations="notebook") for _ in "12"
        )

    g1, g2 = pair(0)
    h1, _ = pair(0)
    k1, _ = pair(1)
    assert torch.equal(g1.permutations, h1.permutations)  # a seed fixes them
    assert not torch.equal(g1.permutations, g2.permutations)  # each encoder its own
    assert not torch.equal(g1.permutations, k1.permutations)  # each seed its own
    with pytest.raises(ValueError, match="permutations"):
        RealNVP(dim=20, couplings=1, hidden=(4,), permutations="nb")


def test_realnvp_zero_weights_is_the_composed_permutation():
    g = RealNVP(dim=10, couplings=4, hidden=(8,), init_std=0.0, permutation_seed=3)
    x = torch.randn(5, 10)
    h = x
    for perm in g.permutations:
        h = h[:, perm]
    torch.testing.assert_close(g(x), h, atol=0, rtol=0)


def test_realnvp_shift_only_is_volume_preserving():
    torch.manual_seed(0)
    g = RealNVP(dim=6, couplings=4, hidden=(8, 8), shift_only=True, init_std=0.5).double()
    x = torch.randn(6, dtype=torch.float64)
    jac = jacrev(lambda v: g(v.unsqueeze(0)).squeeze(0))(x)
    sign, logabsdet = torch.linalg.slogdet(jac)
    assert abs(logabsdet.item()) < 1e-10
    # The map is not a mere permutation: its Jacobian has off-permutation entries.
    assert (jac.abs() > 1e-3).sum() > 6
    _, log_det = g.forward_and_log_det(x.unsqueeze(0))
    assert log_det.item() == 0.0


def test_realnvp_affine_log_det_matches_autodiff():
    torch.manual_seed(0)
    g = RealNVP(dim=6, couplings=3, hidden=(8, 8), shift_only=False, init_std=0.5).double()
    x = torch.randn(6, dtype=torch.float64)
    jac = jacrev(lambda v: g(v.unsqueeze(0)).squeeze(0))(x)
    _, logabsdet = torch.linalg.slogdet(jac)
    _, log_det = g.forward_and_log_det(x.unsqueeze(0))
    assert log_det.item() == pytest.approx(logabsdet.item(), abs=1e-8)
    assert abs(log_det.item()) > 0.1  # affine couplings do change volume


def test_realnvp_permutations_are_deterministic():
    torch.manual_seed(123)
    a = RealNVP(dim=50, couplings=4, hidden=(4,), permutation_seed=7)
    torch.manual_seed(456)  # the global RNG must not matter
    b = RealNVP(dim=50, couplings=4, hidden=(4,), permutation_seed=7)
    c = RealNVP(dim=50, couplings=4, hidden=(4,), permutation_seed=8)
    assert torch.equal(a.permutations, b.permutations)
    assert not torch.equal(a.permutations, c.permutations)
    for perm in a.permutations:
        assert torch.equal(perm.sort().values, torch.arange(50))
    assert not torch.equal(a.permutations[0], a.permutations[1])


def test_realnvp_load_state_dict_carries_permutations():
    torch.manual_seed(0)
    src = RealNVP(dim=12, couplings=3, hidden=(8,), init_std=0.3, permutation_seed=1)
    dst = RealNVP(dim=12, couplings=3, hidden=(8,), init_std=0.3, permutation_seed=2)
    dst.load_state_dict(src.state_dict())
    x = torch.randn(4, 12)
    torch.testing.assert_close(dst(x), src(x))
    torch.testing.assert_close(dst.inverse(dst(x)), x, atol=1e-5, rtol=0)


def test_realnvp_gradients_reach_every_coupling():
    g = RealNVP(dim=10, couplings=3, hidden=(8, 8), init_std=0.1)
    g(torch.rand(4, 10)).square().sum().backward()
    for p in g.parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all()
    assert all(net.linears[0].weight.grad.abs().sum() > 0 for net in g.nets)
