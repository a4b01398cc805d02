r"""Encoders :math:`g` mapping a flattened view :math:`x \in \mathbb{R}^{d}` to a code :math:`g(x)`.

Every encoder takes a batch ``[N, input_dim]`` and returns ``[N, out_dim]``; its attribute
``out_dim`` says how wide the code is. Four architectures appear in Tschannen et al. (2020):

================  ====================================================  ==========  ===========
name              map                                                   params      paper
================  ====================================================  ==========  ===========
``mlp``           392 → 300 → 300 → 100 (ReLU, ReLU, linear)            238,300     §3.2, §3.3
``convnet``       2 × (conv 5×5/2, ReLU) → LayerNorm → avg pool → 100   219,748     §3.3, App. G
``residual_mlp``  5 residual layers of width 392, starts ≈ identity     770,280     §3.1, Fig 2
``realnvp``       30 additive couplings, each + a fixed permutation     13,922,040  §3.1, Fig 1
================  ====================================================  ==========  ===========

Parameter counts are for MNIST halves (392 values); on CIFAR-10 halves (16 × 32 × 3 = 1,536 values,
App. G) only the input layer grows: the MLP has 581,500 parameters and the ConvNet, built with
``input_shape=(16, 32, 3)``, 222,948.

The bijective and near-bijective encoders (``realnvp``, ``residual_mlp``) start close to a fixed
permutation / the identity: every linear layer inside them is drawn from a truncated normal with
standard deviation ``init_std`` (``1e-4``, as in the official code) and zero bias.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from . import registry
from ._validation import check_float, check_int, choose
from .nn_init import apply_init, near_zero_init_

ENCODERS = registry.ENCODERS.builtins  # the built-in encoders


def count_parameters(module: nn.Module) -> int:
    """Number of trainable scalars in ``module`` (parameters with ``requires_grad``)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def _check_input(x: torch.Tensor, dim: int, who: str) -> None:
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(
            f"{who} expects a batch of flattened inputs of shape [N, {dim}], got {tuple(x.shape)}; "
            f"flatten each example (x.reshape(len(x), -1)) or build the encoder with input_dim="
            f"{x.shape[-1] if x.ndim else '?'}."
        )


# --------------------------------------------------------------------------------------------------
# MLP
# --------------------------------------------------------------------------------------------------


class MLPEncoder(nn.Module):
    r"""Fully connected encoder
    :math:`g(x) = W_3\,\mathrm{relu}(W_2\,\mathrm{relu}(W_1 x + b_1) + b_2) + b_3`.

    Defaults give the paper's 392 → 300 → 300 → 100 MLP (238,300 parameters).
    """

    def __init__(
        self, input_dim: int = 392, hidden: Sequence[int] = (300, 300), out_dim: int = 100
    ) -> None:
        super().__init__()
        self.input_dim = check_int(input_dim, "input_dim", minimum=1)
        self.out_dim = check_int(out_dim, "out_dim", minimum=1)
        widths = [self.input_dim, *(check_int(h, "hidden width", minimum=1) for h in hidden)]
        layers: list[nn.Module] = []
        for d_in, d_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(d_in, d_out), nn.ReLU()]
        layers.append(nn.Linear(widths[-1], self.out_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.input_dim, "MLPEncoder")
        return self.net(x)


# --------------------------------------------------------------------------------------------------
# ConvNet
# --------------------------------------------------------------------------------------------------


def tf_same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    r"""(before, after) padding of TensorFlow's ``padding="same"`` along one axis.

    The output has :math:`\lceil n / s \rceil` entries; the total padding
    :math:`p = \max((\lceil n/s \rceil - 1)s + k - n, 0)` is split with the extra pixel *after*:
    ``(p // 2, p - p // 2)``. E.g. n = 14, k = 5, s = 2 gives (1, 2), unlike PyTorch's symmetric
    ``padding=2``, which would pad (2, 2).
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class TFSameConv2d(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow's ``padding="same"`` (asymmetric zero pad if stride > 1)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = tf_same_padding(x.shape[-2], self.kernel_size[0], self.stride[0])
        left, right = tf_same_padding(x.shape[-1], self.kernel_size[1], self.stride[1])
        if top or bottom or left or right:
            x = F.pad(x, (left, right, top, bottom))
        return super().forward(x)


class ChannelLayerNorm(nn.Module):
    r"""LayerNorm over all of (C, H, W) of each example, with a per-channel scale and shift.

    .. math:: \mathrm{LN}(h)_{c,i,j} = \gamma_c \frac{h_{c,i,j} - \mu}{\sigma + \epsilon} + \beta_c,
       \qquad \mu, \sigma^2 = \text{mean and (biased) variance of } h \text{ over } (C, H, W),

    with :math:`\epsilon = 10^{-6}` added to the **standard deviation** (not the variance), as in
    the official code; ``nn.LayerNorm`` would add it to the variance and use per-element affine
    weights. The variance is clamped at 1e-24 before the square root so that an all-constant
    input (e.g. a dead ReLU layer) gives zero gradients instead of NaNs.
    """

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = check_float(eps, "eps", minimum=0.0)
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(1, h.ndim))
        mean = h.mean(dim=dims, keepdim=True)
        var = (h - mean).pow(2).mean(dim=dims, keepdim=True)
        std = var.clamp_min(1e-24).sqrt()
        shape = (1, -1) + (1,) * (h.ndim - 2)
        return (h - mean) / (std + self.eps) * self.weight.view(shape) + self.bias.view(shape)


class ConvNetEncoder(nn.Module):
    r"""The paper's ConvNet (§3.3): the flattened view is reshaped to an image, then

    conv 5×5/2 (64, ReLU) → conv 5×5/2 (128, ReLU) → LayerNorm over (C, H, W) → global average
    pool → dense ``out_dim``.

    ``input_shape`` is ``(H, W)`` for a one-channel view (default ``(14, 28)``: an MNIST half of
    392 pixels) or ``(H, W, C)`` for a view flattened in (row, column, channel) order, e.g.
    ``(16, 32, 3)`` for a CIFAR-10 half (App. G: "only the input layer is changed"). With
    TF-"same" padding the feature maps are 14×28 → 7×14 → 4×7 (MNIST) or 16×32 → 8×16 → 4×8
    (CIFAR-10). Parameters: :math:`(25C + 1)\,64 + (25 \cdot 64 + 1)\,128 + 2 \cdot 128 +
    (128 + 1)\,\mathrm{out\_dim}`, i.e. 219,748 for MNIST and 222,948 for CIFAR-10. LayerNorm (not
    batch norm) avoids information leaking across the mini-batch and, per the paper, greatly
    reduces the variance of :math:`I_{NWJ}`.
    """

    def __init__(self, input_shape: Sequence[int] = (14, 28), out_dim: int = 100) -> None:
        super().__init__()
        if len(input_shape) not in (2, 3):
            raise ValueError(
                f"input_shape must be (height, width) or (height, width, channels), got "
                f"{tuple(input_shape)}."
            )
        self.input_shape = tuple(check_int(s, "input_shape entry", minimum=1) for s in input_shape)
        self.channels = self.input_shape[2] if len(self.input_shape) == 3 else 1
        self.input_dim = math.prod(self.input_shape)
        self.out_dim = check_int(out_dim, "out_dim", minimum=1)
        self.conv1 = TFSameConv2d(self.channels, 64, kernel_size=5, stride=2)
        self.conv2 = TFSameConv2d(64, 128, kernel_size=5, stride=2)
        self.norm = ChannelLayerNorm(128, eps=1e-6)
        self.head = nn.Linear(128, self.out_dim)

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        """The normalised feature maps ``[N, 128, ceil(H/4), ceil(W/4)]`` before pooling."""
        _check_input(x, self.input_dim, "ConvNetEncoder")
        height, width = self.input_shape[:2]
        # (row, column, channel) order → [N, C, H, W]; a no-op permute for one channel.
        h = x.reshape(len(x), height, width, self.channels).permute(0, 3, 1, 2)
        h = F.relu(self.conv1(h))
        h = F.relu(self.conv2(h))
        return self.norm(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.feature_maps(x).mean(dim=(2, 3)))


# --------------------------------------------------------------------------------------------------
# Residual MLP (starts at the identity)
# --------------------------------------------------------------------------------------------------


class ResidualMLP(nn.Module):
    r"""Width-preserving MLP with a skip connection on every layer (the paper's Fig 2 encoder).

    .. math:: h_0 = x,\quad h_\ell = h_{\ell-1} + \mathrm{relu}(W_\ell h_{\ell-1} + b_\ell)
       \ (\ell < L),\quad g(x) = h_L = h_{L-1} + W_L h_{L-1} + b_L.

    With all weights ≈ 0 (truncated normal, std ``init_std`` = 1e-4; zero biases) the map starts
    at ≈ the identity, i.e. log-condition number ≈ 0. Defaults: 5 layers of width 392,
    :math:`5(392^2 + 392) = 770{,}280` parameters (the paper's "770k").
    """

    def __init__(self, dim: int = 392, layers: int = 5, init_std: float = 1e-4) -> None:
        super().__init__()
        self.input_dim = self.out_dim = check_int(dim, "dim", minimum=1)
        n_layers = check_int(layers, "layers", minimum=1)
        self.init_std = check_float(init_std, "init_std", minimum=0.0)
        self.layers = nn.ModuleList(nn.Linear(dim, dim) for _ in range(n_layers))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for layer in self.layers:
            near_zero_init_(layer, std=self.init_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.input_dim, "ResidualMLP")
        h = x
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            update = layer(h)
            h = h + (update if i == last else F.relu(update))
        return h


# --------------------------------------------------------------------------------------------------
# RealNVP (bijective)
# --------------------------------------------------------------------------------------------------


class _CouplingNet(nn.Module):
    """MLP ``half -> hidden... -> out`` with ReLUs; every Linear starts ≈ 0 (near-zero init)."""

    def __init__(self, d_in: int, hidden: Sequence[int], d_out: int, init_std: float) -> None:
        super().__init__()
        widths = [d_in, *hidden, d_out]
        self.linears = nn.ModuleList(
            nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        for layer in self.linears:
            near_zero_init_(layer, std=init_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for layer in self.linears[:-1]:
            # addmm's backward does not need its output, so the in-place ReLU is safe and saves
            # one allocation per layer.
            h = F.relu(layer(h), inplace=True)
        return self.linears[-1](h)


#: How a :class:`RealNVP` draws and places its permutations (see its docstring).
REALNVP_PERMUTATIONS = ("notebook", "shared")


class RealNVP(nn.Module):
    r"""A stack of RealNVP coupling layers (Dinh et al., 2017), each then a fixed permutation.

    Coupling :math:`k` keeps the first half :math:`x_1` (``dim // 2`` entries) and transforms the
    rest:

    - shift only (additive, volume preserving, the paper's choice):
      :math:`y_1 = x_1,\ y_2 = x_2 + t_k(x_1)`, so :math:`\log|\det J| = 0`;
    - affine (``shift_only=False``, the official adversarial run):
      :math:`y_2 = x_2 \odot s_k(x_1) + t_k(x_1)` with
      :math:`s_k = 10^{-7} + \mathrm{softplus}(\cdot)`, :math:`\log|\det J| = \sum \log s_k(x_1)`.

    :math:`t_k` (and :math:`s_k`) come from one MLP with ReLU hidden layers ``hidden`` (the affine
    version's last layer has twice the outputs: shift, then pre-softplus scale, as in TFP's
    ``real_nvp_default_template``). Each coupling comes with a fixed random permutation
    :math:`\pi_k` of the whole vector; ``permutations`` says which and where:

    - ``"notebook"`` (what every experiment uses; the official notebook): each block is
      permute → coupling (TFP's ``Chain`` applies its list in reverse), and the permutations are
      drawn from torch's global generator when the module is built, so the two encoders of a run
      and every seed get their own (the trainers seed that generator with the run's seed);
    - ``"shared"`` (this project's first version, kept so its stored runs stay reproducible): each
      block is coupling → permute, with permutations drawn from ``permutation_seed`` by their own
      generator, hence the same for every encoder and seed. It is the constructor's default
      because the stored configs of those runs do not name ``permutations``.

    With near-zero weights the map starts ≈ the composed permutation (shift only), hence the
    paper's "starts close to a permutation of the pixels". Every parameter value gives a bijection,
    so :math:`I(g(X^{(1)}); g(X^{(2)})) = I(X^{(1)}; X^{(2)})` throughout training.

    **Implementation.** The permutations are never applied as separate copies. The state stays in
    one fixed coordinate frame and each coupling reads its conditioning half and writes its shifted
    half through precomposed index vectors (``index_select`` + ``index_add``); one final gather
    applies the composed permutation. The result equals coupling → permute → coupling → ... exactly
    (see ``tests/test_encoders.py``).
    """

    def __init__(
        self,
        dim: int = 392,
        couplings: int = 30,
        hidden: Sequence[int] = (512, 512),
        shift_only: bool = True,
        init_std: float = 1e-4,
        permutation_seed: int = 0,
        permutations: str = "shared",
    ) -> None:
        super().__init__()
        self.input_dim = self.out_dim = check_int(dim, "dim", minimum=2)
        self.n_couplings = check_int(couplings, "couplings", minimum=1)
        self.hidden = tuple(check_int(h, "hidden width", minimum=1) for h in hidden)
        self.shift_only = bool(shift_only)
        self.init_std = check_float(init_std, "init_std", minimum=0.0)
        self.permutation_seed = check_int(permutation_seed, "permutation_seed", minimum=0)
        self.half = dim // 2
        n_out = dim - self.half
        self.nets = nn.ModuleList(
            _CouplingNet(self.half, self.hidden, n_out if shift_only else 2 * n_out, init_std)
            for _ in range(self.n_couplings)
        )
        self.permutation_kind = choose(permutations, REALNVP_PERMUTATIONS, "permutations")
        gen = (
            torch.Generator().manual_seed(self.permutation_seed)
            if self.permutation_kind == "shared"
            else None  # the global generator, seeded per run by the trainer
        )
        perms = torch.stack([torch.randperm(dim, generator=gen) for _ in range(self.n_couplings)])
        #: ``permutations[k]``: the vector becomes ``h[:, permutations[k]]`` after coupling k
        #: (``"shared"``) or before it (``"notebook"``).
        self.register_buffer("permutations", perms)
        self._build_indices()
        # Loading a state dict may replace ``permutations``: keep the derived indices in sync.
        self.register_load_state_dict_post_hook(lambda module, _keys: module._build_indices())

    def _build_indices(self) -> None:
        """Precompose the permutations into per-coupling read/write indices (non-persistent)."""
        perms = self.permutations
        dim = self.input_dim
        # pos[k][j]: where (in the input's coordinate frame) entry j of coupling k's input lives.
        pos = torch.empty(self.n_couplings + 1, dim, dtype=torch.long, device=perms.device)
        pos[0] = torch.arange(dim, device=perms.device)
        for k in range(self.n_couplings):
            pos[k + 1] = pos[k][perms[k]]
        # Coupling k reads the frame before permutation k ("shared": coupling → permute) or after
        # it ("notebook": permute → coupling); either way the output is in the last frame.
        frames = pos[:-1] if self.permutation_kind == "shared" else pos[1:]
        self.register_buffer("_cond_index", frames[:, : self.half].contiguous(), persistent=False)
        self.register_buffer("_out_index", frames[:, self.half :].contiguous(), persistent=False)
        self.register_buffer("_final_index", pos[-1].contiguous(), persistent=False)
        self.register_buffer("_final_inverse", torch.argsort(pos[-1]), persistent=False)

    def extra_repr(self) -> str:
        return (
            f"dim={self.input_dim}, couplings={self.n_couplings}, hidden={self.hidden}, "
            f"shift_only={self.shift_only}, permutations={self.permutation_kind!r}"
            + (
                f", permutation_seed={self.permutation_seed}"
                if self.permutation_kind == "shared"
                else ""
            )
        )

    def _shift_scale(self, k: int, x1: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        out = self.nets[k](x1)
        if self.shift_only:
            return out, None
        shift, raw_scale = out.chunk(2, dim=1)
        return shift, 1e-7 + F.softplus(raw_scale)

    def forward_and_log_det(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Return :math:`g(x)` ``[N, dim]`` and :math:`\log|\det \partial g/\partial x|` [N]."""
        _check_input(x, self.input_dim, "RealNVP")
        u = x
        log_det = x.new_zeros(len(x))
        for k in range(self.n_couplings):
            shift, scale = self._shift_scale(k, u.index_select(1, self._cond_index[k]))
            if scale is None:
                u = u.index_add(1, self._out_index[k], shift)
            else:
                # y2 = x2 * s + t  <=>  u[B] += x2 * (s - 1) + t: one scatter, no extra copy.
                x2 = u.index_select(1, self._out_index[k])
                u = u.index_add(1, self._out_index[k], torch.addcmul(shift, x2, scale - 1.0))
                log_det = log_det + scale.log().sum(dim=1)
        return u.index_select(1, self._final_index), log_det

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_and_log_det(x)[0]

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        r"""Exact inverse :math:`g^{-1}(y)`: undo the couplings in reverse order,
        :math:`x_2 = y_2 - t_k(y_1)` (or :math:`(y_2 - t_k(y_1)) / s_k(y_1)`)."""
        _check_input(y, self.input_dim, "RealNVP.inverse")
        u = y.index_select(1, self._final_inverse)
        for k in reversed(range(self.n_couplings)):
            out_index = self._out_index[k]
            shift, scale = self._shift_scale(k, u.index_select(1, self._cond_index[k]))
            y2 = u.index_select(1, out_index)
            x2 = y2 - shift if scale is None else (y2 - shift) / scale
            u = u.index_copy(1, out_index, x2)
        return u

    def forward_reference(self, x: torch.Tensor) -> torch.Tensor:
        """The plain loop of couplings (``torch.cat``) and permutations, in the order that
        ``permutations`` names (slower); for tests and teaching."""
        _check_input(x, self.input_dim, "RealNVP")
        permute_first = self.permutation_kind == "notebook"
        h = x
        for k in range(self.n_couplings):
            if permute_first:
                h = h[:, self.permutations[k]]
            x1, x2 = h[:, : self.half], h[:, self.half :]
            shift, scale = self._shift_scale(k, x1)
            y2 = x2 + shift if scale is None else x2 * scale + shift
            h = torch.cat([x1, y2], dim=1)
            if not permute_first:
                h = h[:, self.permutations[k]]
        return h


# --------------------------------------------------------------------------------------------------
# Factory
# --------------------------------------------------------------------------------------------------


def make_encoder(name: str, input_dim: int = 392, *, init: str = "glorot", **kwargs) -> nn.Module:
    """Build encoder ``name`` (one of :data:`ENCODERS`) for flattened inputs of size ``input_dim``.

    ``init`` (``"glorot"``: Keras defaults, Glorot-uniform weights and zero biases, as in the
    official code; ``"torch"``: PyTorch's defaults) applies to ``mlp`` and ``convnet`` only.
    ``residual_mlp`` and ``realnvp`` always use their near-zero truncated-normal init
    (``init_std``, default 1e-4) so that they start at ≈ the identity / a permutation; ``init``
    is validated but otherwise ignored for them. Extra ``kwargs`` go to the class
    (e.g. ``hidden=``, ``out_dim=``, ``couplings=``, ``shift_only=``).
    """
    custom = registry.ENCODERS.factory(name)
    from .nn_init import INIT_SCHEMES

    choose(init, INIT_SCHEMES, "init scheme")
    input_dim = check_int(input_dim, "input_dim", minimum=1)
    if custom is not None:  # a registered encoder (mi_tutorial.registry.register_encoder)
        return custom(input_dim, init=init, **kwargs)
    if name == "mlp":
        return apply_init(MLPEncoder(input_dim=input_dim, **kwargs), init)
    if name == "convnet":
        shape = tuple(kwargs.pop("input_shape", (14, 28)))
        if math.prod(shape) != input_dim:
            raise ValueError(
                f"convnet input_shape {shape} has {math.prod(shape)} values but input_dim is "
                f"{input_dim}; pass input_shape=(H, W) with H * W == {input_dim}, or (H, W, C) "
                f"with H * W * C == {input_dim} (a CIFAR-10 half is (16, 32, 3))."
            )
        return apply_init(ConvNetEncoder(input_shape=shape, **kwargs), init)
    if name == "residual_mlp":
        return ResidualMLP(dim=input_dim, **kwargs)
    return RealNVP(dim=input_dim, **kwargs)
