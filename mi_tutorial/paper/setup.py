"""The shared stage of §3 ("Setup"): the paper's stated encoder and critic sizes and its
reference accuracies — the one place these numbers are typed. Tags as in the project's paper
spec: [T] stated in the text, [D] derived arithmetic, [Fig] read off a figure."""

from __future__ import annotations

from dataclasses import dataclass

from .supervised import SUPERVISED_REFERENCE

#: Parameter counts the paper gives for its encoders at their §3 sizes (None: not stated).
ENCODER_PARAMETERS: dict[str, str | None] = {
    "mlp": "238k [T]",
    "convnet": "220k [T]",
    "residual_mlp": None,
    "realnvp": None,
}
#: The MLP encoder's count as a number, for the check that ours matches.
MLP_PARAMETERS = 238_000
#: Critic sizes for 100-d codes: "40k" is stated for the separable and concat critics [T]; the
#: bilinear critic's 100 x 100 = 10k is arithmetic, not a number of the paper [D].
CRITIC_PARAMETERS: dict[str, str] = {
    "bilinear": "10k [D]",
    "separable": "40k [T]",
    "concat": "40k [T]",
}
#: Standard deviation of E3's coupled Gaussian noise, whose pixel baseline §3.1 quotes.
NOISE_STD = 0.05


@dataclass(frozen=True)
class ReferencePoint:
    """One accuracy the paper states for the §3 setup, with where it says so."""

    quantity: str
    value: float
    source: str


PIXELS = ReferencePoint("probe on raw top halves", 0.85, "[T] §3 'about 85%'")
NOISY_PIXELS = ReferencePoint(
    f"probe on noisy top halves (σ = {NOISE_STD})", 0.84, "[T] §3.1 'about 84%'"
)
MLP_BILINEAR_1K = ReferencePoint(
    "MLP + bilinear + I_NCE, step 1,000 (Glorot)", 0.855, "[Fig] Fig. 3, ≈0.855 at 1k"
)
SUPERVISED = ReferencePoint(
    "supervised MLP / ConvNet on the top half", SUPERVISED_REFERENCE, "[T] §3 'about 94%'"
)
REFERENCE_POINTS = (PIXELS, NOISY_PIXELS, MLP_BILINEAR_1K, SUPERVISED)
