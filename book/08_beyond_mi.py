# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Beyond mutual information: usable information and the probe
#
# {cite:t}`tschannen2020mutual` end with two open directions. First, a notion of information that
# accounts for what an observer can *compute* — they point to the "usable information" of
# {cite:t}`xu2020theory`. Second, a look past the evaluation protocol, whose linear probe decides
# every accuracy in chapters 4a–7. This chapter makes both concrete with the representations the
# earlier chapters trained: the bijective encoders of E1 and E2 (chapters 4a and 4b), whose mutual
# information with the input — and hence with the label — cannot change, and the MLP encoders of
# E4 (chapter 5), trained with critics of different capacity. We measure the predictive
# V-information of each representation, probe it with a non-linear classifier as well as the
# paper's linear one, and check how much the protocol's own settings move the numbers.

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display
from myst_nb import glue

from mi_tutorial import paper
from mi_tutorial.data import digits_views, load_views
from mi_tutorial.estimators import PAPER_ESTIMATOR_NAMES
from mi_tutorial.evaluation import encode, linear_probe_report
from mi_tutorial.probes import compare_probes, fit_linear_probe
from mi_tutorial.report.plotting import use_book_style
from mi_tutorial.runs import ResultsStore, trained_models

use_book_style()

# %% tags=["parameters"]
PROFILE = "book"  # "smoke" | "book" | "paper"
SEED = 0  # which trained run of each configuration to probe
USE_CACHE = True  # reuse runs (and their stored encoders) from the results store
MLP_HIDDEN = 512  # width of the MLP probe's hidden layer
MLP_EPOCHS = 5  # passes of the MLP probe over the 60k training features
LINEAR_ITERATIONS = 200  # L-BFGS iterations of the linear probe that minimises the objective
PROBE_SEEDS = 3  # SAGA seeds of the protocol's probe in the sensitivity study

# %% tags=["remove-cell"]
from mi_tutorial.config import check_profile, check_seeds_parameter

PROFILE = check_profile(PROFILE)  # `papermill -p PROFILE bogus` stops here, with the choices
SEED = check_seeds_parameter([SEED])[0]

# %% tags=["remove-cell"]
STORE = ResultsStore()
EXPERIMENTS = {"E1": "bijective", "E2": "adversarial", "E4": "critic-capacity"}
MLP = {"hidden": MLP_HIDDEN, "epochs": MLP_EPOCHS, "scaling": "standard"}
DATASET = paper.get_configs("critic-capacity", PROFILE)[0].dataset
LOADER = load_views if DATASET == "mnist" else digits_views
TRAIN, TEST = LOADER("train"), LOADER("test")


def fmt(value: float) -> str:
    return f"{value:.3f}"


# %% [markdown]
# ## The representations
#
# We reuse the runs of chapters 4a, 4b and 5 at the `book` profile (seed 0 of each configuration),
# whose trained encoders the results store keeps next to their records; if they are missing they
# are trained here first. The table lists each representation $z = g_1(x^{(1)})$ with the
# linear-probe accuracy recorded at the end of its run. "Pixels" is the top half itself, the
# representation every bijective encoder starts from: E1's RealNVP starts at a fixed permutation
# of the pixels, and a permutation changes neither the information nor the probe's accuracy
# (the probe scales each feature separately).

# %%
records = {
    code: paper.run(
        name, PROFILE, seeds=[SEED], force=not USE_CACHE, progress=False, keep_models=True
    )
    for code, name in EXPERIMENTS.items()
}


# %% tags=["remove-cell"]
def label(code: str, config) -> str:
    if code == "E2":
        setting = paper.adversarial_setting(
            config.classifier_lr, config.encoder_lr, config.encoder_kwargs
        )
        return f"E2 adversarial, {setting} setting"
    estimator = PAPER_ESTIMATOR_NAMES[config.estimator]
    if code == "E1":
        return f"E1 RealNVP, {estimator}"
    return f"E4 {config.critic} critic, {estimator}"


representations = {"pixels": (None, "pixels")}  # name -> (encoder or None, experiment code)
final_accuracy = {}
for code, name in EXPERIMENTS.items():
    for config in paper.get_configs(name, PROFILE):
        models = trained_models(STORE, config, SEED, data=(TRAIN, TEST))
        encoder = models["g"] if code == "E2" else models["g1"]
        representations[label(code, config)] = (encoder, code)
        run = records[code]
        rows = run[(run["config_key"] == config.key()) & (run["metric"] == "accuracy")]
        final_accuracy[label(code, config)] = float(rows.sort_values("step")["value"].iloc[-1])

features = {}
for name, (encoder, _) in representations.items():
    if encoder is None:
        features[name] = (TRAIN.top, TEST.top)
    else:
        features[name] = (encode(encoder, TRAIN.top), encode(encoder, TEST.top))

overview = pd.DataFrame(
    {
        "experiment": [code for _, code in representations.values()],
        "dimension": [features[name][0].shape[1] for name in representations],
        "accuracy at the end of training": [
            final_accuracy.get(name, np.nan) for name in representations
        ],
    },
    index=pd.Index(list(representations), name="representation"),
)
display(overview.style.format({"accuracy at the end of training": "{:.3f}"}, na_rep="—"))

# %% [markdown]
# ## Usable information: predictive V-information
#
# Shannon's mutual information does not care *how* information is stored: for any bijection
# $g$, $I(g(X); Y) = I(X; Y)$. So every RealNVP encoder of E1 and E2 carries exactly the label
# information of the pixels, no matter what its linear probe says. {cite:t}`xu2020theory`
# define information relative to a *predictive family* $\mathcal V$ — the functions an observer
# can use to predict $Y$ from $Z$. The conditional V-entropy is the best expected log-loss that
# the family achieves, and the V-information is how much access to $Z$ lowers it:
#
# $$
# H_{\mathcal V}(Y \mid Z) = \inf_{f \in \mathcal V} \mathbb E\left[-\log f[z](y)\right], \qquad
# I_{\mathcal V}(Z \to Y) = H_{\mathcal V}(Y) - H_{\mathcal V}(Y \mid Z),
# $$
#
# where $H_{\mathcal V}(Y)$ is the same infimum for predictors that ignore their input, i.e. the
# entropy of the label distribution. With $\mathcal V$ = the linear-softmax classifiers of the
# paper's probe, $I_{\mathcal V}$ is the information a *linear* observer can extract, in nats —
# the quantity the linear evaluation protocol measures in units of accuracy. We estimate
# $H_{\mathcal V}(Y \mid Z)$ by the held-out cross-entropy of the probe objective's minimiser on
# the training features (see the docstrings below; the objective is the paper's probe objective,
# $C = 10$, min-max scaled features) and $H_{\mathcal V}(Y)$ by the cross-entropy of the training
# label frequencies on the test labels. These are *estimates*, not the infima themselves: the
# fitted classifier is one member of $\mathcal V$, chosen with the $C = 10$ penalty on finite
# training data, so on average its held-out loss lies above $H_{\mathcal V}(Y \mid Z)$ and the
# reported $I_{\mathcal V}$ is an underestimate (exercise {ref}`ex-8-estimate`).
#
# ```{literalinclude} ../mi_tutorial/probes.py
# :pyobject: v_information
# ```

# %% tags=["remove-cell"]
rows = []
for name, (train_z, test_z) in features.items():
    row = compare_probes(
        train_z,
        TRAIN.labels,
        test_z,
        TEST.labels,
        linear_iterations=LINEAR_ITERATIONS,
        mlp=MLP,
        seed=SEED,
    )
    rows.append({"representation": name, "experiment": representations[name][1], **row})
probes = pd.DataFrame(rows).set_index("representation")

# %%
vinfo = probes[["experiment", "I_V", "linear_cross_entropy", "linear_accuracy", "paper_accuracy"]]
display(
    vinfo.rename(
        columns={
            "I_V": "I_V(Z→Y) [nats]",
            "linear_cross_entropy": "H_V(Y|Z) [nats]",
            "linear_accuracy": "accuracy (converged linear)",
            "paper_accuracy": "accuracy (paper probe)",
        }
    ).style.format(precision=3)
)

# %% tags=["remove-cell"]
H_Y = float(probes["H_V(Y)"].iloc[0])
pixels = probes.loc["pixels"]
bijective = probes[probes["experiment"].isin(["E1", "E2"])]
e4 = probes[probes["experiment"] == "E4"]
rank = probes["I_V"].rank().corr(probes["linear_accuracy"].rank())  # Spearman's rho
glue("ch8_h_y", H_Y, display=False)
glue("ch8_iv_pixels", float(pixels["I_V"]), display=False)
glue("ch8_iv_bij_min", float(bijective["I_V"].min()), display=False)
glue("ch8_iv_bij_max", float(bijective["I_V"].max()), display=False)
glue("ch8_iv_bij_min_name", str(bijective["I_V"].idxmin()), display=False)
glue("ch8_iv_e4_min", float(e4["I_V"].min()), display=False)
glue("ch8_iv_e4_max", float(e4["I_V"].max()), display=False)
glue("ch8_iv_e4_best", str(e4["I_V"].idxmax()), display=False)
glue("ch8_iv_e4_worst", str(e4["I_V"].idxmin()), display=False)
glue("ch8_spearman", float(rank), display=False)
glue("ch8_n_reps", len(probes), display=False)
glue("ch8_seed", SEED, display=False)
glue("ch8_profile", PROFILE, display=False)

# %% tags=["remove-cell"]
colours = {"pixels": "0.3", "E1": "C0", "E2": "C3", "E4": "C2"}
fig, ax = plt.subplots(figsize=(6.4, 4.2))
for code, group in probes.groupby("experiment", sort=False):
    ax.scatter(group["I_V"], group["linear_accuracy"], s=40, color=colours[code], label=code)
for name, row in probes.iterrows():
    ax.annotate(
        name.split(", ", 1)[-1] if name != "pixels" else "pixels",
        (row["I_V"], row["linear_accuracy"]),
        textcoords="offset points",
        xytext=(4, 3),
        fontsize=7,
    )
ax.set_xlabel(r"linear V-information $I_{\mathcal{V}}(Z \to Y)$ [nats]")
ax.set_ylabel("test accuracy of the linear probe")
ax.legend(title="experiment", loc="lower right")
ax.set_title(f"Usable information tracks the probe (H(Y) = {H_Y:.2f} nats)")
fig.tight_layout()
glue("ch8_fig_vinfo", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} ch8_fig_vinfo
# :name: fig-ch8-vinfo
#
# Linear V-information against linear-probe accuracy for the {glue:text}`ch8_n_reps`
# representations (seed {glue:text}`ch8_seed`, profile {glue:text}`ch8_profile`). The label
# entropy is
# {glue:text}`ch8_h_y:.3f` nats, the ceiling of $I_{\mathcal V}$.
# ```
#
# The pixels give a linear observer {glue:text}`ch8_iv_pixels:.3f` of the
# {glue:text}`ch8_h_y:.3f` nats of label entropy. The bijective encoders of E1 and E2, which
# hold *all* of the pixels' information as long as they are invertible — by construction in exact
# arithmetic, though the E2 run in the official notebook's setting (affine couplings) has an
# inverse that breaks numerically (chapter 4b), so for it this holds only on paper — range from
# {glue:text}`ch8_iv_bij_min:.3f` ({glue:text}`ch8_iv_bij_min_name`) to
# {glue:text}`ch8_iv_bij_max:.3f` nats: Shannon MI cannot tell these representations apart,
# V-information can. Among the E4 encoders, which are not invertible and are trained from
# scratch, it spans {glue:text}`ch8_iv_e4_min:.3f` ({glue:text}`ch8_iv_e4_worst`) to
# {glue:text}`ch8_iv_e4_max:.3f` nats ({glue:text}`ch8_iv_e4_best`). Across all representations
# the rank correlation between $I_{\mathcal V}$ and linear accuracy is
# {glue:text}`ch8_spearman:.2f`: a log-loss-based quantity and an accuracy need not order
# representations identically, but they measure the same thing — what a linear reader can get
# out of $z$. This is the sense in which the paper's results are about *usable* information: for
# the bijective encoders of chapters 4a and 4b the quantity that changed along the curves is
# $I_{\mathcal V}$, not $I$. Chapter 5's MLP encoders are not invertible, so there $I$ may have
# changed as well; we cannot measure it, and only $I_{\mathcal V}$ is reported here.

# %% [markdown]
# ## Linear and non-linear probes
#
# If the information is all there, a more powerful reader should find it. We train a
# one-hidden-layer MLP probe ({glue:text}`ch8_mlp_hidden` ReLU units, Adam with learning rate
# $10^{-3}$, batches of 256, {glue:text}`ch8_mlp_epochs` epochs over the 60k training features)
# on the same frozen features, standardised to zero mean and unit variance: min-max scaling, which
# suits the linear probe's protocol, squeezes the bulk of a learned code into a narrow range
# whenever a few codes are outlying, and a gradient-trained MLP then learns slowly.
#
# ```{literalinclude} ../mi_tutorial/probes.py
# :pyobject: fit_mlp_probe
# ```

# %% tags=["remove-cell"]
glue("ch8_mlp_hidden", MLP_HIDDEN, display=False)
glue("ch8_mlp_epochs", MLP_EPOCHS, display=False)
accuracies = probes[["experiment", "paper_accuracy", "linear_accuracy", "mlp_accuracy"]].copy()
accuracies["MLP − paper"] = accuracies["mlp_accuracy"] - accuracies["paper_accuracy"]

# %%
display(
    accuracies.rename(
        columns={
            "paper_accuracy": "paper probe",
            "linear_accuracy": "converged linear",
            "mlp_accuracy": "MLP probe",
        }
    ).style.format(precision=3)
)

# %% tags=["remove-cell"]
fig, ax = plt.subplots(figsize=(7.2, 4.2))
order = list(probes.index)
y = np.arange(len(order))
for offset, (column, name, colour) in zip(
    (-0.2, 0.0, 0.2),
    (
        ("paper_accuracy", "paper probe (SAGA, tol 0.1)", "C0"),
        ("linear_accuracy", "linear, converged", "C1"),
        ("mlp_accuracy", "MLP probe", "C2"),
    ),
    strict=True,
):
    ax.barh(y + offset, probes.loc[order, column], height=0.2, color=colour, label=name)
ax.set_yticks(y, order, fontsize=8)
ax.invert_yaxis()
low = float(probes[["paper_accuracy", "linear_accuracy", "mlp_accuracy"]].min().min())
ax.set_xlim(max(0.0, low - 0.05), 1.0)
ax.set_xlabel("test accuracy")
ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()
glue("ch8_fig_probes", fig, display=False)
plt.close(fig)

# MLP ranks vs linear ranks among the E4 encoders, and the adversarial encoders vs the pixels
mlp_order = list(e4["mlp_accuracy"].sort_values(ascending=False).index)
lin_order = list(e4["paper_accuracy"].sort_values(ascending=False).index)
e2 = probes[probes["experiment"] == "E2"]
e2_lin_gap = float((e2["paper_accuracy"] - pixels["paper_accuracy"]).min())
e2_mlp_gap = float((e2["mlp_accuracy"] - pixels["mlp_accuracy"]).min())
spread_lin = float(probes["paper_accuracy"].max() - probes["paper_accuracy"].min())
spread_mlp = float(probes["mlp_accuracy"].max() - probes["mlp_accuracy"].min())
glue(
    "ch8_spread_verdict",
    "the flexible reader compresses the differences between representations, because it can "
    "undo part of whatever the encoder did"
    if spread_mlp < spread_lin
    else "here the flexible reader does not compress the differences between representations",
    display=False,
)
glue("ch8_mlp_min", float(probes["mlp_accuracy"].min()), display=False)
glue("ch8_mlp_max", float(probes["mlp_accuracy"].max()), display=False)
glue("ch8_spread_lin", spread_lin, display=False)
glue("ch8_spread_mlp", spread_mlp, display=False)
glue("ch8_e2_lin_gap", e2_lin_gap, display=False)
glue("ch8_e2_mlp_gap", e2_mlp_gap, display=False)
glue("ch8_mlp_pixels", float(pixels["mlp_accuracy"]), display=False)
glue("ch8_e4_best_mlp", mlp_order[0], display=False)
glue("ch8_e4_worst_mlp", mlp_order[-1], display=False)
glue(
    "ch8_e4_rank_verdict",
    "the same representation is best and the same worst under both probes"
    if (mlp_order[0], mlp_order[-1]) == (lin_order[0], lin_order[-1])
    else (
        f"the order changes: the paper's probe ranks {lin_order[0]} first and {lin_order[-1]} "
        f"last, the MLP probe {mlp_order[0]} and {mlp_order[-1]}"
    ),
    display=False,
)
glue(
    "ch8_e2_verdict",
    (
        "the MLP probe recovers the pixels' accuracy on the adversarial encoders (within 0.005)"
        if e2_mlp_gap > -0.005
        else "even the MLP probe stays below its accuracy on the pixels"
    ),
    display=False,
)

# %% [markdown]
# ```{glue:figure} ch8_fig_probes
# :name: fig-ch8-probes
#
# Test accuracy of the same frozen representations under the paper's probe (early-stopped
# SAGA), the converged linear probe of the same objective, and the MLP probe.
# ```
#
# The MLP probe reads {glue:text}`ch8_mlp_pixels:.3f` off the raw pixels, far above any linear
# probe, and between {glue:text}`ch8_mlp_min:.3f` and {glue:text}`ch8_mlp_max:.3f` off the
# representations. Through it:
#
# - **Spread.** The linear accuracies of the {glue:text}`ch8_n_reps` representations span
#   {glue:text}`ch8_spread_lin:.3f`; the MLP accuracies span {glue:text}`ch8_spread_mlp:.3f`:
#   {glue:text}`ch8_spread_verdict`.
# - **The adversarial encoder (E2).** Its worst linear accuracy is
#   {glue:text}`ch8_e2_lin_gap:.3f` from the pixels' under the paper's probe and
#   {glue:text}`ch8_e2_mlp_gap:.3f` under the MLP probe: {glue:text}`ch8_e2_verdict`. The
#   encoder is a bijection, so a rich enough reader can always recover everything the pixels
#   offer; how far a given MLP gets is a statement about the reader, not about the information.
# - **Critic capacity (E4).** Under the MLP probe the best E4 encoder is
#   {glue:text}`ch8_e4_best_mlp` and the worst {glue:text}`ch8_e4_worst_mlp`;
#   {glue:text}`ch8_e4_rank_verdict`.
#
# This is why the paper insists on a *linear* probe. Representation learning wants codes from
# which simple downstream models can read the factors of interest. With a universal
# approximator as the evaluator *and unlimited data and training*, any invertible encoder — the
# identity included — would score as well as the best learned one, and the evaluation would
# measure nothing about the encoder. With finite data, as the MLP probe above shows, scores still
# differ, but they then mix the encoder with how easily the probe undoes it. The linear protocol
# is a deliberate choice of predictive family; V-information makes that choice explicit instead
# of hiding it in the word "information".

# %% [markdown]
# ## How much does the protocol itself move the numbers?
#
# The protocol fits its probe with SAGA at `tol=0.1`, which stops long before the optimum of the
# probe's own objective (chapter 3 states the settings). For every representation we know that
# objective $J$ at both the early-stopped solution and the solution of a preconditioned L-BFGS
# ({glue:text}`ch8_lbfgs_iters` iterations) — the *same* probe, fitted to convergence. For the E4
# encoders we also refit the protocol's probe with {glue:text}`ch8_probe_seeds` SAGA seeds (the
# order in which it visits examples) and the converged probe on standardised instead of min-max
# scaled features.
#
# ```{literalinclude} ../mi_tutorial/probes.py
# :pyobject: fit_linear_probe
# ```

# %% tags=["remove-cell"]
glue("ch8_lbfgs_iters", LINEAR_ITERATIONS, display=False)
glue("ch8_probe_seeds", PROBE_SEEDS, display=False)
sensitivity = []
for name in e4.index:
    train_z, test_z = features[name]
    row = {"representation": name}
    for probe_seed in range(PROBE_SEEDS):
        if probe_seed == SEED:  # fitted above, in compare_probes
            row[f"SAGA seed {probe_seed}"] = probes.loc[name, "paper_accuracy"]
            continue
        report = linear_probe_report(train_z, TRAIN.labels, test_z, TEST.labels, seed=probe_seed)
        row[f"SAGA seed {probe_seed}"] = report["accuracy"]
    row["converged, min-max"] = probes.loc[name, "linear_accuracy"]
    standardised = fit_linear_probe(
        train_z, TRAIN.labels, test_z, TEST.labels, scaling="standard", max_iter=LINEAR_ITERATIONS
    )
    row["converged, standardised"] = standardised.accuracy
    sensitivity.append(row)
sensitivity = pd.DataFrame(sensitivity).set_index("representation")
saga = sensitivity[[f"SAGA seed {s}" for s in range(PROBE_SEEDS)]]
sensitivity["SAGA range"] = saga.max(axis=1) - saga.min(axis=1)
sensitivity["largest change"] = sensitivity.drop(columns="SAGA range").max(axis=1) - (
    sensitivity.drop(columns="SAGA range").min(axis=1)
)
objective_gap = (probes["paper_objective"] - probes["linear_objective"]) / probes[
    "linear_objective"
]

# %%
display(sensitivity.style.format(precision=3))
display(
    pd.DataFrame(
        {
            "J, paper probe": probes["paper_objective"],
            "J, L-BFGS": probes["linear_objective"],
            "relative excess": objective_gap,
        }
    ).style.format(precision=3)
)

# %% tags=["remove-cell"]
e4_gap_paper = float(e4["paper_accuracy"].max() - e4["paper_accuracy"].min())
e4_gap_converged = float(e4["linear_accuracy"].max() - e4["linear_accuracy"].min())
converged_shift = e4["linear_accuracy"] - e4["paper_accuracy"]
concat = e4[e4.index.str.contains("concat")]
bilinear = e4[e4.index.str.contains("bilinear")]
concat_gap_paper = float(bilinear["paper_accuracy"].mean() - concat["paper_accuracy"].mean())
concat_gap_converged = float(bilinear["linear_accuracy"].mean() - concat["linear_accuracy"].mean())
glue("ch8_saga_range_max", float(sensitivity["SAGA range"].max()), display=False)
glue("ch8_change_max", float(sensitivity["largest change"].max()), display=False)
glue("ch8_e4_gap", e4_gap_paper, display=False)
glue("ch8_e4_gap_converged", e4_gap_converged, display=False)
glue("ch8_shift_min", float(converged_shift.min()), display=False)
glue("ch8_shift_max", float(converged_shift.max()), display=False)
glue("ch8_shift_max_name", str(converged_shift.idxmax()), display=False)
glue("ch8_concat_gap_paper", concat_gap_paper, display=False)
glue("ch8_concat_gap_converged", concat_gap_converged, display=False)
bijective_shift = bijective[["paper_accuracy", "linear_accuracy"]].sub(
    pixels[["paper_accuracy", "linear_accuracy"]]
)  # accuracy relative to the pixels, under each probe
worst_bijective = bijective_shift["paper_accuracy"].idxmin()
best_bijective = bijective_shift["paper_accuracy"].idxmax()
glue("ch8_bij_worst", str(worst_bijective), display=False)
glue(
    "ch8_bij_worst_paper",
    float(bijective_shift.loc[worst_bijective, "paper_accuracy"]),
    display=False,
)
glue(
    "ch8_bij_worst_conv",
    float(bijective_shift.loc[worst_bijective, "linear_accuracy"]),
    display=False,
)
glue("ch8_bij_best", str(best_bijective), display=False)
glue(
    "ch8_bij_best_paper",
    float(bijective_shift.loc[best_bijective, "paper_accuracy"]),
    display=False,
)
glue(
    "ch8_bij_best_conv",
    float(bijective_shift.loc[best_bijective, "linear_accuracy"]),
    display=False,
)
glue("ch8_obj_gap_min", float(objective_gap.min()), display=False)
glue("ch8_obj_gap_max", float(objective_gap.max()), display=False)
glue(
    "ch8_probe_verdict",
    "the protocol's own settings move single accuracies by more than the differences between "
    "some of the configurations it is used to rank"
    if sensitivity["largest change"].max() >= min(e4_gap_paper, concat_gap_paper)
    else "the protocol's settings move accuracies by less than the differences it is used to rank",
    display=False,
)
glue(
    "ch8_concat_verdict",
    "shrinks"
    if abs(concat_gap_converged) < abs(concat_gap_paper) - 0.005
    else ("grows" if abs(concat_gap_converged) > abs(concat_gap_paper) + 0.005 else "stays"),
    display=False,
)

# %% [markdown]
# The early-stopped probe ends {glue:text}`ch8_obj_gap_min:.1%` to
# {glue:text}`ch8_obj_gap_max:.1%` above the minimum of its own objective. The SAGA seed barely
# matters (the E4 accuracies move by at most {glue:text}`ch8_saga_range_max:.3f` across seeds),
# but fitting the same probe to convergence changes the E4 accuracies by
# {glue:text}`ch8_shift_min:+.3f` to {glue:text}`ch8_shift_max:+.3f` (most for
# {glue:text}`ch8_shift_max_name`), and all variants together move a single accuracy by up to
# {glue:text}`ch8_change_max:.3f`. The spread between the best and the worst E4 encoder is
# {glue:text}`ch8_e4_gap:.3f` under the protocol's probe and {glue:text}`ch8_e4_gap_converged:.3f`
# under the converged one; the bilinear critics' lead over the concat critics (chapter 5's
# headline) is {glue:text}`ch8_concat_gap_paper:.3f` with the protocol's probe and
# {glue:text}`ch8_concat_gap_converged:.3f` with the converged one — it
# {glue:text}`ch8_concat_verdict`. The same holds for chapters 4a and 4b's bijective encoders, measured
# against the pixels: {glue:text}`ch8_bij_worst` is {glue:text}`ch8_bij_worst_paper:+.3f` under
# the protocol's probe and {glue:text}`ch8_bij_worst_conv:+.3f` under the converged one;
# {glue:text}`ch8_bij_best` is {glue:text}`ch8_bij_best_paper:+.3f` and
# {glue:text}`ch8_bij_best_conv:+.3f`. In short, {glue:text}`ch8_probe_verdict`: part of what the
# linear evaluation protocol reports is a property of its early-stopped optimiser, not of the
# representation. This is a finding of this reproduction (one seed at the `book` budget), not a
# claim of the paper; the report chapter keeps the paper's protocol for every verdict, so that our
# numbers stay comparable with the paper's.

# %% [markdown]
# ## Summary
#
# - Shannon MI is blind to how information is encoded; linear V-information is not. The bijective
#   encoders of chapters 4a and 4b all hold the pixels' label information, but offer a linear reader
#   between {glue:text}`ch8_iv_bij_min:.3f` and {glue:text}`ch8_iv_bij_max:.3f` nats of it
#   (pixels: {glue:text}`ch8_iv_pixels:.3f`).
# - Linear V-information and linear accuracy order the representations with a rank correlation
#   of {glue:text}`ch8_spearman:.2f`: both measure what a linear reader can use.
# - Under an MLP probe the spread between representations is {glue:text}`ch8_spread_mlp:.3f`
#   against {glue:text}`ch8_spread_lin:.3f` for the linear probe. With unlimited data a universal
#   reader could undo any invertible encoder, which is why the paper evaluates linearly.
# - The protocol's early-stopped probe stops {glue:text}`ch8_obj_gap_min:.0%`–
#   {glue:text}`ch8_obj_gap_max:.0%` above its own optimum; fitted to convergence, the E4
#   accuracies change by up to {glue:text}`ch8_shift_max:+.3f`, and the bilinear-over-concat lead
#   goes from {glue:text}`ch8_concat_gap_paper:.3f` to {glue:text}`ch8_concat_gap_converged:.3f`.
#
# ## Exercises
#
# :::{exercise} ★★ Properties of $I_{\mathcal V}$
# :label: ex-8-properties
#
# Show that (i) $I_{\mathcal V}(Z \to Y) \ge 0$ when $\mathcal V$ contains the predictors that ignore
# their input, (ii) $I_{\mathcal V} = I(Z; Y)$ when $\mathcal V$ is the family of *all* conditional
# distributions, and (iii) unlike $I$, $I_{\mathcal V}$ can change under a bijection $z \mapsto
# h(z)$ when $\mathcal V$ is the linear-softmax family.
# :::
#
# :::{solution} ex-8-properties
# :class: dropdown
#
# (i) $H_{\mathcal V}(Y \mid Z)$ is an infimum over a family that includes the input-ignoring
# predictors, whose best value is $H_{\mathcal V}(Y)$; so $H_{\mathcal V}(Y\mid Z) \le
# H_{\mathcal V}(Y)$. (ii) Over all conditionals the expected log-loss
# $\mathbb{E}[-\log q(y\mid z)]$ is minimised by the true $p(y \mid z)$ (Gibbs' inequality), giving
# $H(Y\mid Z)$; likewise $H_{\mathcal V}(Y) = H(Y)$, so $I_{\mathcal V} = I(Z;Y)$. (iii) A linear
# predictor on $h(z)$ is a non-linear predictor on $z$: if $h$ maps classes that are not linearly
# separable onto separable ones (or the reverse, as the adversarial encoder of E2 does), the best
# linear log-loss changes while $I(h(Z); Y) = I(Z; Y)$. This is why $I_{\mathcal V}$ can tell the
# E1 and E2 encoders apart when Shannon's MI cannot.
# :::
#
# :::{exercise} ★★ An estimate, not the infimum
# :label: ex-8-estimate
#
# This chapter estimates $H_{\mathcal V}(Y\mid Z)$ by the held-out cross-entropy of a $C = 10$
# logistic regression fitted on the training features. In which direction is this estimate biased,
# and what does that imply for the reported $I_{\mathcal V}$?
# :::
#
# :::{solution} ex-8-estimate
# :class: dropdown
#
# The fitted predictor $\hat f$ is one member of $\mathcal V$, chosen by minimising a *regularised
# training* objective. Its expected loss on new data is at least the infimum over $\mathcal V$ of
# the population loss, and the held-out cross-entropy is an unbiased estimate of $\hat f$'s expected
# loss. So on average the estimate is *above* $H_{\mathcal V}(Y \mid Z)$ — more so with little data,
# strong regularisation or features where the fit is hard — and $I_{\mathcal V}$ is on average
# *under*-estimated. Differences between representations are therefore partly differences in how
# easily a finite-data fit reaches the family's best predictor, which is also what the linear
# probe measures.
# :::
#
# :::{exercise} ★★ A different reader
# :label: ex-8-knn
#
# Rotate the pixels of the top halves by a random orthogonal matrix $Q$ (an invertible linear map)
# and compare a $k$-nearest-neighbour classifier with the paper's linear probe, before and after
# the rotation. Which reader is invariant, and why is the other not exactly invariant?
# :::
#
# ````{solution-start} ex-8-knn
# :class: dropdown
# ````
#
# Euclidean distances are preserved by $Q$, so a $k$-NN classifier is invariant — up to ties: the
# digits' pixels take few distinct values, so many distances are exactly equal, and rounding errors
# of order $10^{-15}$ after the rotation decide such ties (e.g. which of two equidistant examples is
# the fifth neighbour) differently. That is the only way its accuracy can move; the printed values
# show by how much. A linear classifier family is invariant under invertible linear maps
# *in principle* ($w^\top Qx = (Q^\top w)^\top x$), but the paper's probe is not just the family:
# the `MinMaxScaler` rescales each coordinate separately (not a rotation-invariant operation), the
# penalty $\lVert w \rVert^2/C$ is applied in the scaled coordinates, and SAGA stops at a loose
# tolerance. So its accuracy moves under the rotation although neither the information nor the
# linear family changed. The cell runs both readers on the small digits data (cheap at every
# profile):

# %%
from sklearn.neighbors import KNeighborsClassifier

small_train, small_test = digits_views("train"), digits_views("test")
xq_train, xq_test = small_train.top.double().numpy(), small_test.top.double().numpy()
rng = np.random.default_rng(0)
Q, _ = np.linalg.qr(rng.standard_normal((xq_train.shape[1], xq_train.shape[1])))
for label, (a, b) in {
    "pixels": (xq_train, xq_test),
    "rotated": (xq_train @ Q, xq_test @ Q),
}.items():
    knn = KNeighborsClassifier(n_neighbors=5).fit(a, small_train.labels.numpy())
    knn_acc = knn.score(b, small_test.labels.numpy())
    lin = linear_probe_report(a, small_train.labels, b, small_test.labels)["accuracy"]
    print(f"{label:>8}: 5-NN accuracy {knn_acc:.4f}, paper's linear probe {lin:.4f}")

# %% [markdown]
# ````{solution-end}
# ````
