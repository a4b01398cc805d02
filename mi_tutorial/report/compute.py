"""The Compute page's tables (chapter 90): the kernel choices of ``make bench`` and the wall time
of the stored runs."""

from __future__ import annotations

import json

import pandas as pd

from ..config import config_from_dict
from ..runs import ResultsStore

#: A variant this much faster than the default (ratio below it) is worth switching to; the
#: ConvNet's step times alone swing by more than 10 % between rounds on these machines.
FASTER = 0.9


def kernel_choices(rows: list[dict]) -> pd.DataFrame:
    """The benchmark's ``kernels`` rows with each variant's time as a multiple of its group's
    default (the group's first row)."""
    table = pd.DataFrame(rows, columns=["encoder", "compared", "variant", "ms_per_step"])
    default_ms = table.groupby(["encoder", "compared"])["ms_per_step"].transform("first")
    return table.assign(**{"× the default": table["ms_per_step"] / default_ms})


def faster_alternative(table: pd.DataFrame, encoder: str) -> str | None:
    """The first variant for ``encoder`` that beats its default, or None."""
    faster = table[(table["encoder"] == encoder) & (table["× the default"] < FASTER)]
    return None if faster.empty else str(faster.iloc[0]["variant"])


def stored_run_times(store: ResultsStore, profiles=("paper", "book")) -> pd.DataFrame:
    """Per profile, experiment and device: the number of stored runs, their mean wall time
    (minutes) and their total (hours), from each run's provenance (SHA-256 checked)."""
    stored = []
    for profile in profiles:
        for meta_path in sorted((store.root / profile).glob("*/*/seed-*.json")):
            meta = json.loads(meta_path.read_text())
            config = config_from_dict(meta["config"])
            meta = store.provenance(config, meta["seed"])  # re-read with the SHA-256 check
            stored.append((profile, config.experiment, meta.get("device"), meta["wall_time_s"]))
    stored = pd.DataFrame(stored, columns=["profile", "experiment", "device", "wall_s"])
    return (
        stored.groupby(["profile", "experiment", "device"], sort=False)["wall_s"]
        .agg(runs="size", mean_min=lambda s: s.mean() / 60, total_h=lambda s: s.sum() / 3600)
        .reset_index()
    )
