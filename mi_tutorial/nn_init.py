"""Weight initialisation schemes.

The official code was written in Keras, whose layers default to Glorot-uniform kernels and zero biases;
PyTorch's default is Kaiming-uniform. On our machines this choice decides whether the paper's
§3.2 result reproduces, so it is a named, selectable option (``"glorot"`` is the default).
The near-identity encoders (RealNVP, residual MLP) use a truncated normal with a tiny standard
deviation instead, exactly as the official code does.
"""

from __future__ import annotations

from torch import nn

from ._validation import check_float, choose

INIT_SCHEMES = ("glorot", "torch")


def apply_init(module: nn.Module, scheme: str = "glorot") -> nn.Module:
    """Re-initialise every ``nn.Linear`` / ``nn.Conv*`` inside ``module`` in place.

    ``"glorot"``: weights ~ U(-a, a) with a = sqrt(6 / (fan_in + fan_out)), biases 0 (Keras defaults).
    ``"torch"``: leave PyTorch's own default initialisation untouched.
    """
    choose(scheme, INIT_SCHEMES, "init scheme")
    if scheme == "torch":
        return module
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            nn.init.xavier_uniform_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
    return module


def near_zero_init_(layer: nn.Linear, std: float = 1e-4) -> nn.Linear:
    """Truncated-normal weights (std ``std``, cut at ±2 std) and zero bias: the layer starts ≈ 0."""
    std = check_float(std, "init std", minimum=0.0)
    if std == 0.0:  # trunc_normal_ cannot take std 0; the limit is exactly zero weights
        nn.init.zeros_(layer.weight)
    else:
        nn.init.trunc_normal_(layer.weight, mean=0.0, std=std, a=-2 * std, b=2 * std)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer
