r"""Chapter 8's analysis: the trained representations of E1, E2 and E4 under three probes, their
linear V-information, and how much the evaluation protocol's own settings move the numbers.

The chapter shows the ideas (the definitions, :func:`mi_tutorial.probes.v_information`, the MLP
probe); this module does the bookkeeping behind them: it loads the stored encoders, encodes the
two splits, fits the probes (:func:`mi_tutorial.probes.compare_probes`), and turns the resulting
tables into the numbers and sentences the chapter's prose quotes.

**Diverged values are reported, never averaged in.** An encoder whose codes are not finite, or
larger in magnitude than :data:`EXPLODED`, is not probed (its name is reported as diverged); a
probe value that is not finite is left out of every range, spread and ranking, and named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from .. import paper
from ..estimators import PAPER_ESTIMATOR_NAMES
from ..evaluation import encode, linear_probe_report
from ..paper.adversarial import invertible_until
from ..probes import compare_probes, fit_linear_probe
from ..runs import ResultsStore, trained_models

#: The experiments whose trained top-half encoders chapter 8 probes.
EXPERIMENTS = {"E1": "bijective", "E2": "adversarial", "E4": "critic-capacity"}
#: Codes of larger magnitude than this count as exploded (reported as diverged, not probed).
EXPLODED = 1e6
#: The three probes: column prefix in :func:`probe_table` -> its name in tables and figures.
PROBES = {
    "paper": "paper probe (SAGA, tol 0.1)",
    "linear": "linear, converged",
    "mlp": "MLP probe",
}
COLOURS = {"pixels": "0.3", "E1": "C0", "E2": "C3", "E4": "C2"}


@dataclass(frozen=True)
class Representation:
    """One frozen representation :math:`z = g_1(x^{(1)})` of both splits.

    ``final_accuracy``: the protocol's probe at the end of the run (NaN for the pixels);
    ``invertible_until``: the first evaluated step at which the encoder's inverse broke down
    (reconstruction error above :data:`mi_tutorial.paper.INVERTIBLE_ERROR` or not a number),
    ``inf`` if it held, NaN if it was not measured or the encoder is not a bijection.
    """

    name: str
    experiment: str
    train: torch.Tensor
    test: torch.Tensor
    final_accuracy: float = math.nan
    invertible_until: float = math.nan

    @property
    def diverged(self) -> bool:
        """True when the codes are not finite or exceed :data:`EXPLODED` in magnitude."""
        return any(
            not bool(torch.isfinite(z).all()) or float(z.abs().max()) > EXPLODED
            for z in (self.train, self.test)
        )


def representation_label(code: str, config) -> str:
    """A readable name for the run ``config`` of experiment ``code`` ("E1", "E2" or "E4")."""
    if code == "E2":
        setting = paper.adversarial_setting(
            config.classifier_lr, config.encoder_lr, config.encoder_kwargs
        )
        return f"E2 adversarial, {setting} setting"
    estimator = PAPER_ESTIMATOR_NAMES[config.estimator]
    if code == "E1":
        return f"E1 RealNVP, {estimator}"
    return f"E4 {config.critic} critic, {estimator}"


def load_representations(
    records: dict[str, pd.DataFrame],
    profile: str,
    seed: int,
    data: tuple,
    store: ResultsStore | None = None,
) -> list[Representation]:
    """The raw top halves and every stored encoder of :data:`EXPERIMENTS` at ``profile``.

    ``records`` maps "E1", "E2", "E4" to the runs' records (from :func:`mi_tutorial.paper.run`
    with ``keep_models=True``); ``data`` is ``(train, test)`` views.
    """
    store = store or ResultsStore()
    train, test = data
    found = [Representation("pixels", "pixels", train.top, test.top)]
    for code, experiment in EXPERIMENTS.items():
        for config in paper.get_configs(experiment, profile):
            models = trained_models(store, config, seed, data=data)
            encoder = models["g"] if code == "E2" else models["g1"]
            run = records[code][records[code]["config_key"] == config.key()]
            accuracy = run[run["metric"] == "accuracy"].sort_values("step")["value"]
            errors = run[run["metric"] == "reconstruction_error"]
            found.append(
                Representation(
                    representation_label(code, config),
                    code,
                    encode(encoder, train.top),
                    encode(encoder, test.top),
                    float(accuracy.iloc[-1]) if len(accuracy) else math.nan,
                    invertible_until(errors) if not errors.empty else math.nan,
                )
            )
    return found


def overview_table(representations: list[Representation]) -> pd.DataFrame:
    """Experiment, code dimension and end-of-training accuracy of every representation."""
    return pd.DataFrame(
        {
            "experiment": [r.experiment for r in representations],
            "dimension": [r.train.shape[1] for r in representations],
            "accuracy at the end of training": [r.final_accuracy for r in representations],
            "codes": ["diverged" if r.diverged else "finite" for r in representations],
        },
        index=pd.Index([r.name for r in representations], name="representation"),
    )


def probe_table(
    representations: list[Representation],
    labels: tuple[torch.Tensor, torch.Tensor],
    *,
    linear_iterations: int,
    mlp: dict,
    seed: int,
) -> pd.DataFrame:
    """:func:`mi_tutorial.probes.compare_probes` for every representation whose codes did not
    diverge, one row each (index: the representation's name; column ``experiment``)."""
    rows = {}
    for rep in representations:
        if rep.diverged:
            continue
        row = compare_probes(
            rep.train,
            labels[0],
            rep.test,
            labels[1],
            linear_iterations=linear_iterations,
            mlp=mlp,
            seed=seed,
        )
        rows[rep.name] = {"experiment": rep.experiment, **row}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "representation"
    return table


def finite(values: pd.Series) -> pd.Series:
    """``values`` without its non-finite entries (which :func:`diverged_note` reports)."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    return numbers[np.isfinite(numbers)]


def diverged_note(representations: list[Representation], probes: pd.DataFrame) -> str:
    """One sentence naming every representation or probe value that diverged, or saying none did."""
    skipped = [r.name for r in representations if r.diverged]
    numeric = probes.drop(columns="experiment")
    bad = numeric.apply(lambda col: ~np.isfinite(col.astype(float)))
    parts = [f"{name} (codes not finite or above {EXPLODED:.0e})" for name in skipped]
    parts += [
        f"{name} ({', '.join(bad.columns[bad.loc[name]])} not finite)"
        for name in bad.index[bad.any(axis=1)]
    ]
    if not parts:
        return "Every representation and every probe gave finite values."
    return "Diverged, and left out of every range below: " + "; ".join(parts) + "."


def _name(values: pd.Series, largest: bool) -> str:
    """The index of the largest (or smallest) value, or "none" when nothing is left to rank."""
    if values.empty:
        return "none"
    return str(values.idxmax() if largest else values.idxmin())


def _span(values: pd.Series) -> float:
    return float(values.max() - values.min()) if len(values) else math.nan


def vinfo_findings(representations: list[Representation], probes: pd.DataFrame) -> dict:
    """The numbers and sentences of the V-information section (keys prefixed ``ch8_``)."""
    iv = finite(probes["I_V"])
    experiment = probes["experiment"]
    bijective, e4 = iv[experiment.isin(["E1", "E2"])], iv[experiment == "E4"]
    both = probes.loc[iv.index, "linear_accuracy"]
    both = both[np.isfinite(both.astype(float))]
    rho = iv[both.index].rank().corr(both.rank()) if len(both) > 2 else math.nan
    measured = {
        r.name: r.invertible_until for r in representations if not math.isnan(r.invertible_until)
    }
    held = [name for name, until in measured.items() if until == math.inf]
    lost = [
        f"{name} from step {int(until):,}" for name, until in measured.items() if until < math.inf
    ]
    invertibility = (
        f"Where training measured it, the inverse held for {'; '.join(held) or 'no encoder'}"
        if measured
        else "No run measured its encoder's inverse"
    )
    if lost:
        invertibility += (
            f"; it broke down (reconstruction error above {paper.INVERTIBLE_ERROR:g} or not a "
            f"number) for {'; '.join(lost)}, so that encoder keeps the pixels' information only "
            "in exact arithmetic, not in the floating-point codes the probes read"
        )
    invertibility += "."
    return {
        "ch8_h_y": float(probes["H_V(Y)"].iloc[0]),
        "ch8_iv_pixels": float(probes.loc["pixels", "I_V"]),
        "ch8_iv_bij_min": float(bijective.min()),
        "ch8_iv_bij_max": float(bijective.max()),
        "ch8_iv_bij_min_name": _name(bijective, largest=False),
        "ch8_iv_e4_min": float(e4.min()),
        "ch8_iv_e4_max": float(e4.max()),
        "ch8_iv_e4_best": _name(e4, largest=True),
        "ch8_iv_e4_worst": _name(e4, largest=False),
        "ch8_spearman": float(rho),
        "ch8_n_reps": len(probes),
        "ch8_invertibility": invertibility,
        "ch8_diverged": diverged_note(representations, probes),
    }


def probe_findings(probes: pd.DataFrame) -> dict:
    """Numbers and sentences of the linear-vs-MLP-probe section (keys prefixed ``ch8_``)."""
    paper_acc, mlp_acc = finite(probes["paper_accuracy"]), finite(probes["mlp_accuracy"])
    experiment = probes["experiment"]
    e4_paper, e4_mlp = paper_acc[experiment == "E4"], mlp_acc[experiment == "E4"]
    e2_paper, e2_mlp = paper_acc[experiment == "E2"], mlp_acc[experiment == "E2"]
    spread_lin, spread_mlp = _span(paper_acc), _span(mlp_acc)
    e2_lin_gap = float((e2_paper - paper_acc["pixels"]).min())
    e2_mlp_gap = float((e2_mlp - mlp_acc["pixels"]).min())
    mlp_order = list(e4_mlp.sort_values(ascending=False).index) or ["none"]
    lin_order = list(e4_paper.sort_values(ascending=False).index) or ["none"]
    if (mlp_order[0], mlp_order[-1]) == (lin_order[0], lin_order[-1]):
        rank = "the same representation is best and the same worst under both probes"
    else:
        rank = (
            f"the order changes: the paper's probe ranks {lin_order[0]} first and "
            f"{lin_order[-1]} last, the MLP probe {mlp_order[0]} and {mlp_order[-1]}"
        )
    return {
        "ch8_mlp_pixels": float(mlp_acc["pixels"]),
        "ch8_mlp_vs_linear_pixels": "above"
        if mlp_acc["pixels"] > probes.loc["pixels", ["paper_accuracy", "linear_accuracy"]].max()
        else "not above",
        "ch8_mlp_min": float(mlp_acc.min()),
        "ch8_mlp_max": float(mlp_acc.max()),
        "ch8_spread_lin": spread_lin,
        "ch8_spread_mlp": spread_mlp,
        "ch8_spread_verdict": "the flexible reader compresses the differences between "
        "representations, which is consistent with its undoing part of what the encoders did"
        if spread_mlp < spread_lin
        else "here the flexible reader does not compress the differences between representations",
        "ch8_e2_lin_gap": e2_lin_gap,
        "ch8_e2_mlp_gap": e2_mlp_gap,
        "ch8_e2_verdict": "the MLP probe recovers the pixels' accuracy on the adversarial "
        "encoders (within 0.005)"
        if e2_mlp_gap > -0.005
        else "even the MLP probe stays below its accuracy on the pixels",
        "ch8_e4_best_mlp": mlp_order[0],
        "ch8_e4_worst_mlp": mlp_order[-1],
        "ch8_e4_rank_verdict": rank,
    }


def sensitivity_table(
    representations: list[Representation],
    probes: pd.DataFrame,
    labels: tuple[torch.Tensor, torch.Tensor],
    *,
    probe_seeds: int,
    seed: int,
    linear_iterations: int,
) -> pd.DataFrame:
    """For the E4 encoders: the protocol's probe refitted with ``probe_seeds`` SAGA seeds (seed
    ``seed`` is read from ``probes``), the converged probe on min-max and on standardised
    features, the range over SAGA seeds and the largest change over all variants."""
    rows = {}
    for rep in representations:
        if rep.experiment != "E4" or rep.name not in probes.index:
            continue
        row = {}
        for probe_seed in range(probe_seeds):
            if probe_seed == seed:  # fitted in compare_probes
                row[f"SAGA seed {probe_seed}"] = probes.loc[rep.name, "paper_accuracy"]
            else:
                fit = linear_probe_report(
                    rep.train, labels[0], rep.test, labels[1], seed=probe_seed
                )
                row[f"SAGA seed {probe_seed}"] = fit["accuracy"]
        row["converged, min-max"] = probes.loc[rep.name, "linear_accuracy"]
        standardised = fit_linear_probe(
            rep.train,
            labels[0],
            rep.test,
            labels[1],
            scaling="standard",
            max_iter=linear_iterations,
        )
        row["converged, standardised"] = standardised.accuracy
        rows[rep.name] = row
    table = pd.DataFrame.from_dict(rows, orient="index").astype(float)
    table.index.name = "representation"
    variants = table.where(np.isfinite(table))  # a diverged fit counts in no range
    saga = variants[[f"SAGA seed {s}" for s in range(probe_seeds)]]
    table["SAGA range"] = saga.max(axis=1) - saga.min(axis=1)
    table["largest change"] = variants.max(axis=1) - variants.min(axis=1)
    return table


def objective_table(probes: pd.DataFrame) -> pd.DataFrame:
    """The probe objective :math:`J` at the protocol's early stop and at the L-BFGS optimum."""
    early, best = probes["paper_objective"], probes["linear_objective"]
    return pd.DataFrame(
        {"J, paper probe": early, "J, L-BFGS": best, "relative excess": (early - best) / best}
    )


def protocol_findings(probes: pd.DataFrame, sensitivity: pd.DataFrame) -> dict:
    """Numbers and sentences of the protocol-sensitivity section (keys prefixed ``ch8_``)."""
    excess = finite(objective_table(probes)["relative excess"])
    experiment = probes["experiment"]
    e4 = probes[experiment == "E4"]
    e4_paper, e4_linear = finite(e4["paper_accuracy"]), finite(e4["linear_accuracy"])
    shift = finite(e4["linear_accuracy"] - e4["paper_accuracy"])

    def lead(column: str) -> float:  # bilinear critics' mean accuracy minus the concat critics'
        values = finite(e4[column])
        by_critic = values.groupby(values.index.str.extract(r"E4 (\w+) critic")[0].values).mean()
        return float(by_critic.get("bilinear", math.nan) - by_critic.get("concat", math.nan))

    lead_paper, lead_converged = lead("paper_accuracy"), lead("linear_accuracy")
    gap_paper = _span(e4_paper)
    largest = float(finite(sensitivity["largest change"]).max())
    saga_range = float(finite(sensitivity["SAGA range"]).max())
    bijective = probes[experiment.isin(["E1", "E2"])]
    relative = bijective[["paper_accuracy", "linear_accuracy"]].sub(
        probes.loc["pixels", ["paper_accuracy", "linear_accuracy"]]
    )
    relative = relative[np.isfinite(relative.astype(float)).all(axis=1)]
    if relative.empty:  # every bijective encoder diverged: compare the pixels with themselves
        relative = pd.DataFrame({"paper_accuracy": [0.0], "linear_accuracy": [0.0]}, ["none"])
    worst = _name(relative["paper_accuracy"], largest=False)
    best = _name(relative["paper_accuracy"], largest=True)
    if abs(lead_converged) < abs(lead_paper) - 0.005:
        lead_verdict = "shrinks"
    elif abs(lead_converged) > abs(lead_paper) + 0.005:
        lead_verdict = "grows"
    else:
        lead_verdict = "stays"
    return {
        "ch8_obj_gap_min": float(excess.min()),
        "ch8_obj_gap_max": float(excess.max()),
        "ch8_saga_range_max": saga_range,
        "ch8_saga_verdict": "barely matters" if saga_range < 0.005 else "matters",
        "ch8_change_max": largest,
        "ch8_e4_gap": gap_paper,
        "ch8_e4_gap_converged": _span(e4_linear),
        "ch8_shift_min": float(shift.min()),
        "ch8_shift_max": float(shift.max()),
        "ch8_shift_max_name": _name(shift, largest=True),
        "ch8_concat_gap_paper": lead_paper,
        "ch8_concat_gap_converged": lead_converged,
        "ch8_concat_verdict": lead_verdict,
        "ch8_bij_worst": str(worst),
        "ch8_bij_worst_paper": float(relative.loc[worst, "paper_accuracy"]),
        "ch8_bij_worst_conv": float(relative.loc[worst, "linear_accuracy"]),
        "ch8_bij_best": str(best),
        "ch8_bij_best_paper": float(relative.loc[best, "paper_accuracy"]),
        "ch8_bij_best_conv": float(relative.loc[best, "linear_accuracy"]),
        "ch8_probe_verdict": "the protocol's own settings move single accuracies by more than "
        "the differences between some of the configurations it is used to rank: part of what the "
        "linear evaluation protocol reports is a property of its early-stopped optimiser, not of "
        "the representation"
        if largest >= min(gap_paper, abs(lead_paper))
        else "the protocol's settings move accuracies by less than the differences it is used "
        "to rank: at this budget its ranking does not hinge on its optimiser",
    }


def plot_vinfo(probes: pd.DataFrame) -> plt.Figure:
    """Linear V-information against the converged linear probe's accuracy, one point each."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    shown = probes[np.isfinite(probes[["I_V", "linear_accuracy"]].astype(float)).all(axis=1)]
    for code, group in shown.groupby("experiment", sort=False):
        ax.scatter(group["I_V"], group["linear_accuracy"], s=40, color=COLOURS[code], label=code)
    for name, row in shown.iterrows():
        ax.annotate(
            name.split(", ", 1)[-1],
            (row["I_V"], row["linear_accuracy"]),
            textcoords="offset points",
            xytext=(4, 3),
            fontsize=7,
        )
    ax.set_xlabel(r"linear V-information $I_{\mathcal{V}}(Z \to Y)$ [nats]")
    ax.set_ylabel("test accuracy of the linear probe")
    ax.legend(title="experiment", loc="lower right")
    fig.tight_layout()
    return fig


def plot_probe_accuracies(probes: pd.DataFrame) -> plt.Figure:
    """Horizontal bars: each representation's test accuracy under the three :data:`PROBES`."""
    fig, ax = plt.subplots(figsize=(7.2, 4.2))
    y = np.arange(len(probes))
    columns = [f"{prefix}_accuracy" for prefix in PROBES]
    for offset, column, (prefix, name) in zip(
        (-0.2, 0.0, 0.2), columns, PROBES.items(), strict=True
    ):
        values = probes[column].astype(float).where(np.isfinite(probes[column].astype(float)))
        colour = {"paper": "C0", "linear": "C1", "mlp": "C2"}[prefix]
        ax.barh(y + offset, values.fillna(0.0), height=0.2, color=colour, label=name)
    ax.set_yticks(y, list(probes.index), fontsize=8)
    ax.invert_yaxis()
    low = float(np.nanmin(probes[columns].astype(float).where(np.isfinite(probes[columns]))))
    ax.set_xlim(max(0.0, low - 0.05), 1.0)
    ax.set_xlabel("test accuracy")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
