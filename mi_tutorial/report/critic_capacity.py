"""Chapter 5 (E4, critic capacity) against the paper: the parameter counts, the figures, the table
and the sentences that read the committed runs.

Every paper number comes from :mod:`mi_tutorial.paper.critic_capacity`; every value of ours from
the records passed in. The training-batch bound (``train_bound``) is the paper's quantity and is
compared with it; the held-out bound is shown beside it, labelled.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd

from ..critics import make_critic
from ..encoders import count_parameters, make_encoder
from ..estimators import PAPER_ESTIMATOR_NAMES
from ..paper import paper_points
from ..paper.claims import HELD_OUT_BOUND, PAPER_BOUND
from ..paper.critic_capacity import (
    CRITICS,
    EXPERIMENT,
    NEAR_LOG_K,
    PAPER_ACCURACY,
    PAPER_FINAL_BOUND,
    PAPER_PARAMETERS,
)
from .side_by_side import (
    QUANTITY_LABELS,
    both_bounds,
    finite_mean,
    lines,
    mark_points,
    per_seed_at,
    value_text,
)
from .summaries import final_summary, format_summary


def parameter_table(configs, input_dim: int) -> pd.DataFrame:
    """Parameters of the encoder and of each critic that ``configs`` build, beside the paper's
    counts with their source tag ([T] stated, [D] derived)."""
    config = configs[0]
    encoder = make_encoder(config.encoder, input_dim=input_dim, **dict(config.encoder_kwargs))
    counts = {"encoder (each)": count_parameters(encoder)}
    for config in configs:
        if config.critic not in counts:
            critic = make_critic(
                config.critic, encoder.out_dim, encoder.out_dim, **dict(config.critic_kwargs)
            )
            counts[config.critic] = count_parameters(critic)
    return pd.DataFrame(
        {"ours": {k: f"{v:,}" for k, v in counts.items()}, "paper": PAPER_PARAMETERS}
    ).loc[list(counts)]


def plot_accuracy(records: pd.DataFrame, pixel: float | None = None) -> plt.Figure:
    """Linear-probe accuracy per critic, one panel per estimator, with the paper's points (crosses
    at steps 0, 1k and 20k, read off Fig. 3) and the pixel baseline (dotted)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, (estimator, name) in zip(axes, PAPER_ESTIMATOR_NAMES.items(), strict=True):
        rows = records[(records["metric"] == "accuracy") & (records["estimator"] == estimator)]
        colors = lines(rows, ax, "critic", CRITICS, ylabel=f"test accuracy ({name})")
        for where, points in paper_points(EXPERIMENT.id, "accuracy"):
            if where["estimator"] == estimator:
                mark_points(ax, points, colors[where["critic"]])
        if pixel is not None:
            ax.axhline(pixel, color="0.3", ls=":", lw=1, label="pixel baseline")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def log_k(records: pd.DataFrame) -> float:
    """log K for the batch size K of ``records`` (the ceiling of I_NCE)."""
    return math.log(float(records["batch_size"].iloc[0]))


def plot_bounds(records: pd.DataFrame) -> plt.Figure:
    """The bound per critic on training batches (solid, the paper's quantity) and on the held-out
    test set (dashed): I_NWJ (left, Fig. 3c) and I_NCE (right, Fig. 6), with the paper's final
    values as crosses at 20k and log K (of the records' batch size) dotted."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    rows = both_bounds(records)
    for ax, estimator in zip(axes, ("nwj", "infonce"), strict=True):
        name = PAPER_ESTIMATOR_NAMES[estimator]
        colors = lines(
            rows[rows["estimator"] == estimator],
            ax,
            "critic",
            CRITICS,
            style="quantity",
            ylabel=f"{name} [nats]",
            style_order=list(QUANTITY_LABELS.values()),
        )
        for critic in CRITICS:
            mark_points(ax, [(20000, PAPER_FINAL_BOUND[(critic, estimator)])], colors[critic])
        ax.axhline(log_k(records), color="0.3", ls=":", lw=1, label="log K")
        ax.set_ylim(bottom=max(ax.get_ylim()[0], -2.0))
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def comparison_table(records: pd.DataFrame) -> pd.DataFrame:
    """Final values per (critic, estimator): the paper's accuracy and bound (Fig. 3, 6) beside ours
    — accuracy, the bound on training batches (the same quantity as the paper's) and the
    held-out bound (a different one, for reference) — as mean ± SD over the seeds."""
    rows = []
    for estimator, name in PAPER_ESTIMATOR_NAMES.items():
        for critic in CRITICS:
            key = {"critic": critic, "estimator": estimator}
            rows.append(
                {
                    "estimator": name,
                    "critic": critic,
                    "accuracy, paper": f"{PAPER_ACCURACY[(critic, estimator)]:.3f}",
                    "accuracy, ours": value_text(per_seed_at(records, "accuracy", **key)),
                    "bound, paper": f"{PAPER_FINAL_BOUND[(critic, estimator)]:.2f}",
                    "bound on training batches, ours": value_text(
                        per_seed_at(records, PAPER_BOUND, **key), 2
                    ),
                    "held-out bound, ours (not the paper's quantity)": value_text(
                        per_seed_at(records, HELD_OUT_BOUND, **key), 2
                    ),
                    "seeds": len(per_seed_at(records, "accuracy", **key)),
                }
            )
    return pd.DataFrame(rows).set_index(["estimator", "critic"])


def _final(records: pd.DataFrame, metric: str, critic: str, estimator: str) -> float:
    return finite_mean(per_seed_at(records, metric, critic=critic, estimator=estimator))[0]


def _nats(values: list[float]) -> str:
    return " / ".join("diverged" if not math.isfinite(v) else f"{v:.2f}" for v in values)


def log_k_text(records: pd.DataFrame, claims: pd.DataFrame) -> str:
    """Claim 9's verdict in words: the final I_NCE per critic on training batches against log K,
    the ledger's verdict for it (``claims``, the chapter's ledger table), and the held-out values
    beside."""
    verdict = claims.set_index("claim")["verdict"].get("9b", "not run")
    if verdict == "not run" or records.empty:
        return "No paper-profile run of this experiment is stored, so claim 9 is not judged here."
    ceiling = log_k(records)
    train = [_final(records, PAPER_BOUND, c, "infonce") for c in CRITICS]
    held = [_final(records, HELD_OUT_BOUND, c, "infonce") for c in CRITICS]
    gaps = [ceiling - v for v in train if math.isfinite(v)]
    held_gaps = [ceiling - v for v in held if math.isfinite(v)]
    text = (
        f"On training batches, the quantity the paper plots, the final I_NCE of the bilinear / "
        f"separable / concat critic is {_nats(train)} nats"
    )
    if gaps:
        text += f", {min(gaps):.2f}–{max(gaps):.2f} nats below log K = {ceiling:.2f}"
    paper = [ceiling - PAPER_FINAL_BOUND[(c, "infonce")] for c in CRITICS]
    text += (
        f" (the paper's: {min(paper):.2f}–{max(paper):.2f} nats below)"
        f": claim 9b (within {NEAR_LOG_K} nats of log K) is {verdict}. On the held-out test set "
        f"the same encoders and critics reach {_nats(held)} nats"
    )
    if held_gaps:
        text += (
            f", {min(held_gaps):.2f}–{max(held_gaps):.2f} nats below log K: a different quantity, "
            f"which on unseen pairs would not meet the {NEAR_LOG_K:g}-nat reading of “near”"
            if min(held_gaps) > NEAR_LOG_K
            else f", {min(held_gaps):.2f}–{max(held_gaps):.2f} nats below log K"
        )
    return text + "."


#: Our training-batch I_NWJ counts as at the paper's level within this many nats of the value
#: read off Fig. 3c (reading accuracy about ±0.1 nats, plus the seed-to-seed spread).
LEVEL_TOLERANCE = 0.3


def nwj_levels_text(records: pd.DataFrame) -> str:
    """The I_NWJ levels of the committed runs on both quantities, per critic, in words: whether
    the training-batch values are at the paper's level, how far the held-out ones fall, and
    whether the concat critic's lead (claim 8) holds on both quantities."""
    if records.empty:
        return "No paper-profile run of this experiment is stored yet."
    train = [_final(records, PAPER_BOUND, c, "nwj") for c in CRITICS]
    held = [_final(records, HELD_OUT_BOUND, c, "nwj") for c in CRITICS]
    paper = [PAPER_FINAL_BOUND[(c, "nwj")] for c in CRITICS]
    text = (
        f"With I_NWJ, the final bound on training batches is {_nats(train)} nats for the bilinear "
        f"/ separable / concat critic (paper ≈{_nats(paper)}); on the held-out test set it is "
        f"{_nats(held)} nats."
    )
    off = [abs(t - p) for t, p in zip(train, paper, strict=True) if math.isfinite(t)]
    if len(off) == len(CRITICS):
        text += f" On the paper's quantity we are within {max(off):.2f} nats of its values" + (
            ", at its level."
            if max(off) <= LEVEL_TOLERANCE
            else f", more than the {LEVEL_TOLERANCE:g} nats we allow for reading its figure."
        )
    pairs = [(t, h) for t, h in zip(train, held, strict=True) if math.isfinite(t + h)]
    if len(pairs) < len(CRITICS):
        return text + " Some held-out values diverged; they are not averaged in."
    drops = [t - h for t, h in pairs]
    direction = (
        f" The held-out value is lower for every critic, by {min(drops):.2f}–{max(drops):.2f} nats"
        if min(drops) > 0
        else f" The held-out minus training-batch values are {_nats([-d for d in drops])} nats"
    )
    train_lead, held_lead = train[2] - train[0], held[2] - held[0]
    lead = (
        f"; the concat critic leads the bilinear one by {train_lead:.2f} nats on training batches "
        f"and by {held_lead:.2f} on the held-out set, so claim 8's direction does not depend on "
        "the quantity."
        if train_lead > 0 and held_lead > 0
        else f"; the concat minus bilinear bound is {train_lead:.2f} nats on training batches and "
        f"{held_lead:.2f} on the held-out set."
    )
    return text + direction + lead


def verdicts_text(claims: pd.DataFrame, ids: tuple[str, ...]) -> str:
    """ "7a reproduced, 7b partially, …": the ledger's verdicts of the claims ``ids``."""
    verdicts = claims.set_index("claim")["verdict"]
    return ", ".join(f"{i} {verdicts.get(i, 'not run')}" for i in ids)


def adam_comparison(records: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Keras' Adam against TF1's on the runs of
    :func:`mi_tutorial.paper.critic_capacity.adam_variants`: the final accuracy and bounds (mean ±
    SD over seeds) and a sentence comparing the accuracies. A difference smaller than the larger of
    the two SDs over seeds is reported as within the spread of the seeds."""
    if records.empty:
        return pd.DataFrame(), "no paper-profile run of this pair is stored yet."
    summary = final_summary(records, ("accuracy", PAPER_BOUND, HELD_OUT_BOUND))
    table = format_summary(summary).rename(
        columns={m: f"I_NCE, {label}" for m, label in QUANTITY_LABELS.items()}
    )
    missing = sorted({"keras", "tf1"} - set(records["adam"]))
    if missing:
        return table, f"no run with `adam={missing[0]!r}` is stored yet."
    accuracy = summary[summary["metric"] == "accuracy"].set_index("adam")
    keras, tf1 = accuracy.loc["keras"], accuracy.loc["tf1"]
    difference = tf1["mean"] - keras["mean"]
    spread = max(keras["sd"], tf1["sd"])
    verdict = "within" if abs(difference) < spread else "larger than"
    sentence = (
        f"the final linear-probe accuracy is {tf1['mean']:.3f} ± {tf1['sd']:.3f} with TF1's Adam "
        f"({tf1['n']} seeds) and {keras['mean']:.3f} ± {keras['sd']:.3f} with Keras' "
        f"({keras['n']} seeds): a difference of {100 * difference:+.1f} points, {verdict} the "
        f"spread of the seeds ({100 * spread:.1f} points)."
    )
    return table, sentence
