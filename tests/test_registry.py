"""The registry of names (mi_tutorial.registry): checked when a config is built, and the extension
point for user-defined encoders, critics, estimators and datasets."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mi_tutorial import registry
from mi_tutorial.config import MultiViewConfig, NonIIDConfig, SupervisedConfig
from mi_tutorial.critics import make_critic
from mi_tutorial.data import digits_views
from mi_tutorial.encoders import make_encoder
from mi_tutorial.estimators import estimate, infonce, training_objective
from mi_tutorial.paper import get_configs
from mi_tutorial.runs import ResultsStore, run_sweep
from mi_tutorial.training import run_config


@pytest.fixture
def clean_registry():
    """Every test leaves the registries as it found them."""
    saved = {r.kind: dict(r.custom) for r in _REGISTRIES}
    yield
    for r in _REGISTRIES:
        r.custom.clear()
        r.custom.update(saved[r.kind])


_REGISTRIES = (registry.ENCODERS, registry.CRITICS, registry.ESTIMATORS, registry.DATASETS)


@pytest.mark.parametrize(
    ("field", "typo", "suggestion"),
    [
        ("critic", "bilnear", "bilinear"),
        ("encoder", "convnett", "convnet"),
        ("estimator", "infonse", "infonce"),
        ("dataset", "mnsit", "mnist"),
    ],
)
def test_a_typo_fails_when_the_config_is_built(field, typo, suggestion):
    with pytest.raises(ValueError, match=f"unknown {field} '{typo}'. Did you mean '{suggestion}'"):
        MultiViewConfig(**{field: typo})


def test_other_config_kinds_check_their_names():
    with pytest.raises(ValueError, match="unknown estimator 'nwjj'"):
        NonIIDConfig(estimator="nwjj")
    with pytest.raises(ValueError, match="unknown encoder 'mpl'"):
        SupervisedConfig(encoder="mpl")


def test_builtins_cannot_be_replaced_and_names_must_be_new(clean_registry):
    with pytest.raises(ValueError, match="built-in critic"):
        registry.register_critic("bilinear", lambda *a, **k: None)
    registry.register_critic("mine", lambda *a, **k: None)
    with pytest.raises(ValueError, match="already registered"):
        registry.register_critic("mine", lambda *a, **k: None)
    registry.register_critic("mine", lambda *a, **k: None, replace=True)
    with pytest.raises(ValueError, match="identifier"):
        registry.register_critic("my critic", lambda *a, **k: None)
    with pytest.raises(TypeError, match="callable"):
        registry.register_critic("other", 3)


class CosineCritic(nn.Module):
    """S_ij = cos(W x_i, y_j) / τ: a critic the package does not ship."""

    def __init__(self, dim_x: int, dim_y: int, temperature: float = 0.5) -> None:
        super().__init__()
        self.proj = nn.Linear(dim_x, dim_y, bias=False)
        self.temperature = temperature

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        a = nn.functional.normalize(self.proj(x), dim=1)
        b = nn.functional.normalize(y, dim=1)
        return a @ b.T / self.temperature


def test_a_registered_critic_runs_an_experiment_at_the_smoke_profile(clean_registry, tmp_path):
    built = []

    @registry.register_critic("cosine")
    def cosine(dim_x, dim_y, *, init="glorot", temperature=0.5):
        built.append((dim_x, dim_y, init, temperature))
        return CosineCritic(dim_x, dim_y, temperature)

    configs = [
        c.replace(critic="cosine", critic_kwargs={"temperature": 0.25})
        for c in get_configs("critic-capacity", "smoke")
        if c.critic == "bilinear"
    ]
    records = run_sweep(configs, [0], store=ResultsStore(tmp_path), progress=False)
    assert set(records["critic"]) == {"cosine"}
    assert built and all(b[3] == 0.25 for b in built)
    final = records[records["step"] == records["step"].max()]
    accuracy = final[final["metric"] == "accuracy"]["value"]
    assert len(accuracy) == len(configs) and accuracy.between(0.0, 1.0).all()
    bound = final[final["metric"] == "bound"]["value"]
    assert bound.notna().all()


def test_registered_encoder_estimator_and_dataset_are_used_by_name(clean_registry):
    calls = []

    @registry.register_encoder("linear")
    def linear(input_dim, *, init="glorot", out_dim=8):
        calls.append("encoder")
        enc = nn.Linear(input_dim, out_dim)
        enc.out_dim = out_dim
        return enc

    @registry.register_estimator("half_nce")
    def half_nce(scores):
        calls.append("estimator")
        return 0.5 * infonce(scores)

    @registry.register_dataset("digits_copy")
    def digits_copy(split):
        calls.append("dataset")
        return digits_views(split)

    scores = torch.randn(6, 6)
    assert torch.allclose(estimate("half_nce", scores), 0.5 * infonce(scores))
    assert torch.allclose(training_objective("half_nce", scores), 0.5 * infonce(scores))
    assert make_encoder("linear", 5, out_dim=3)(torch.zeros(2, 5)).shape == (2, 3)
    config = MultiViewConfig(
        encoder="linear",
        estimator="half_nce",
        dataset="digits_copy",
        steps=3,
        eval_every=2,
        batch_size=32,
        encoder_kwargs={"out_dim": 8},
    )
    records = run_config(config, 0, progress=False)
    assert {"encoder", "estimator", "dataset"} <= set(calls)
    assert set(records["metric"]) >= {"accuracy", "bound"}


def test_make_critic_passes_sizes_and_options_to_a_registered_factory(clean_registry):
    registry.register_critic("cos", lambda dx, dy, *, init, **kw: CosineCritic(dx, dy, **kw))
    critic = make_critic("cos", 4, 3, temperature=2.0)
    assert critic(torch.randn(5, 4), torch.randn(5, 3)).shape == (5, 5)
    assert critic.temperature == 2.0
