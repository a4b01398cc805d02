"""Tests for R1 "initialisation": critic-capacity's MLP + bilinear + I_NCE under two init schemes."""

from __future__ import annotations

import numpy as np
import pytest

from mi_tutorial import paper
from mi_tutorial.config import PROFILES, MultiViewConfig
from mi_tutorial.runs import ResultsStore


@pytest.mark.parametrize("profile", PROFILES)
def test_configs_are_critic_capacity_bilinear_infonce_with_each_init(profile):
    configs = paper.get_configs("initialisation", profile)
    assert [c.init for c in configs] == ["glorot", "torch"]
    (reference,) = [
        c
        for c in paper.get_configs("critic-capacity", profile)
        if (c.critic, c.estimator) == ("bilinear", "infonce")
    ]
    for config in configs:
        assert isinstance(config, MultiViewConfig)
        assert (config.experiment, config.profile) == ("initialisation", profile)
        # Everything but the experiment name and the init scheme is E4's run.
        same = reference.replace(experiment="initialisation", init=config.init)
        assert config == same
    assert len({c.key() for c in configs}) == 2


def test_book_schedule_and_deviations():
    configs = paper.get_configs("initialisation", "book")
    assert {(c.steps, c.eval_every) for c in configs} == {(3_001, 500)}
    assert paper.default_seeds("initialisation", "book") == [0]
    deviations = paper.profile_deviations("initialisation", "book")
    assert any(line.startswith("steps: 3001") for line in deviations)
    assert not any("init" in line for line in deviations)  # both schemes exist in every profile
    assert paper.profile_deviations("initialisation", "paper") == []
    assert "R1" in paper.describe("initialisation")


def test_smoke_run_records_both_inits(tmp_path):
    store = ResultsStore(tmp_path)
    records = paper.run("initialisation", "smoke", store=store, progress=False)
    assert set(records["init"]) == {"glorot", "torch"}
    assert {"accuracy", "bound"} <= set(records["metric"])
    glorot = records[(records["init"] == "glorot") & (records["metric"] == "bound")]["value"]
    torch_ = records[(records["init"] == "torch") & (records["metric"] == "bound")]["value"]
    assert list(glorot) != list(torch_)  # the scheme reaches the model
    again = paper.run("initialisation", "smoke", store=store, progress=False)  # from the cache
    assert np.array_equal(again["value"], records["value"], equal_nan=True)
