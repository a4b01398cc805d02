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
# # The encoder matters more than the estimate
#
# The previous chapters varied what is *measured* — the estimator and the critic. This one varies
# what is *measured on*: the encoder. {cite:t}`tschannen2020mutual` (§3.3, Fig. 4a, 4b and 7)
# remove the bound's value from the comparison altogether. They train an MLP and a ConvNet encoder
# not to maximize the bound but to bring it to a fixed target $t$, so that both architectures end
# with the same estimated MI. If MI were what made a representation good, the two would then be
# equally good. They are not: the ConvNet is clearly better for every estimator and target. This
# chapter reproduces the experiment.

# %% tags=["remove-cell"]
import math

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display
from myst_nb import glue

from mi_tutorial import paper
from mi_tutorial.data import digits_views, load_views
from mi_tutorial.encoders import count_parameters, make_encoder
from mi_tutorial.estimators import PAPER_ESTIMATOR_NAMES
from mi_tutorial.evaluation import pixel_baseline
from mi_tutorial.report import ledger, summaries
from mi_tutorial.report.analysis import metric_frame, summarize, value_at
from mi_tutorial.report.plotting import plot_curves, use_book_style

use_book_style()

# %% tags=["parameters"]
PROFILE = "book"  # "smoke" | "book" | "paper"
SEEDS = None  # None = the default seeds of the profile
USE_CACHE = True  # reuse runs already in the results store

# %% tags=["remove-cell"]
from mi_tutorial.config import check_profile, check_seeds_parameter

PROFILE = check_profile(PROFILE)  # `papermill -p PROFILE bogus` stops here, with the choices
SEEDS = check_seeds_parameter(SEEDS)

# %% tags=["remove-cell"]
EXPERIMENT = "encoder-vs-estimator"
CONFIGS = paper.get_configs(EXPERIMENT, PROFILE)
ENCODER_NAMES = {"mlp": "MLP", "convnet": "ConvNet"}
LOADER = load_views if CONFIGS[0].dataset == "mnist" else digits_views
TRAIN, TEST = LOADER("train"), LOADER("test")
LOG_K = math.log(CONFIGS[0].batch_size)
#: Paper, claim 10: the ConvNet beats the MLP by at least this much at equal (estimator, t).
MIN_GAP = 0.025
#: ... with the test objective |I_EST - t| below this by 7k steps.
MATCHED = 0.1


def verdict(ok: bool) -> str:
    return "reproduced" if ok else "not reproduced"


# %% [markdown]
# ## Matching the bound instead of maximizing it
#
# With codes $u_i = g_1(x^{(1)}_i)$, $v_j = g_2(x^{(2)}_j)$, the bilinear critic
# $S_{ij} = u_i^\top W v_j$ and an estimator $\hat I_{EST}$ ($I_{NCE}$ or $I_{NWJ}$, chapter 2), the
# encoders and the critic are trained to minimize
#
# $$
# L_t(g_1, g_2, W) = \big|\, \hat I_{EST}\big(g_1(X^{(1)});\, g_2(X^{(2)})\big) - t \,\big|,
# \qquad t \in \{2, 4\}\ \text{nats}.
# $$ (eq-ch6-lt)
#
# (The paper writes $g_1$ in both slots, a typo; the official code uses $g_1$ and $g_2$.) Once
# $L_t \approx 0$, both architectures report the same value of the bound, so "one has more mutual
# information" cannot explain a difference between them. Both targets lie below
# $\log K$ = {glue:text}`ch6_log_k:.2f` nats, so $I_{NCE}$ can reach them; the gradient of
# {eq}`eq-ch6-lt` pushes the bound up while it is below $t$ and down once it overshoots. In the
# training loop this is one line: with a target, the loss is `(batch_bound - target).abs()` instead
# of the negative bound (`mi_tutorial.training.train_multiview`).
#
# The loss is computed per batch, so what training minimises is the expectation over batches
# $\mathbb{E}\,|\hat I_{EST} - t|$, not the distance $|\mathbb{E}\,\hat I_{EST} - t|$ of the
# mean estimate from the target. By Jensen's inequality the first is at least the second, and it
# stays positive while the batch estimate varies, so the objective also penalises the estimate's
# spread around $t$ (exercise {ref}`ex-6-jensen`). The values of $L_t$ reported below are of the
# second kind: the distance of a *mean* bound (over test batches, or over recent training batches)
# from $t$.
#
# ## Two encoders of similar size
#
# The MLP is the one of chapter 5, $392 \to 300 \to 300 \to 100$. The ConvNet reshapes the 392
# pixels of a half digit into a $14 \times 28$ image and applies two $5 \times 5$ convolutions with
# stride 2 (64 and 128 channels, ReLU), a layer normalization, a global average pool and a dense
# layer to 100 dimensions:
#
# ```{literalinclude} ../mi_tutorial/encoders.py
# :pyobject: ConvNetEncoder
# ```
#
# Layer normalization, unlike batch normalization, does not let information flow between the
# examples of a batch, which would be a way to cheat the bound; the paper also reports that it
# greatly reduces the variance of $I_{NWJ}$. The parameter counts of the two encoders are close:

# %%
n_params = {}
for config in CONFIGS:
    if config.encoder not in n_params:
        enc = make_encoder(
            config.encoder, input_dim=TRAIN.top.shape[1], **dict(config.encoder_kwargs)
        )
        n_params[config.encoder] = count_parameters(enc)
print(pd.Series(n_params, name="parameters").to_string())
for name, count in n_params.items():
    glue(f"ch6_params_{name}", f"{count:,}", display=False)
glue("ch6_log_k", LOG_K, display=False)

# %% [markdown]
# ConvNet: {glue:text}`ch6_params_convnet` parameters, MLP: {glue:text}`ch6_params_mlp` (paper:
# 220k and 238k). What differs is the *inductive bias*: the ConvNet shares weights across
# positions and looks at local neighbourhoods, so nearby pixels are processed together and a
# shifted stroke produces a shifted response. When trained end to end with labels, both
# architectures reach about 94% on the top halves, the paper reports — so neither is simply more
# powerful.

# %% [markdown]
# ## The experiment
#
# Bilinear critic ($100 \times 100$), Adam (learning rate $10^{-4}$, batch 128), Glorot-uniform
# initialisation, both targets, both encoders. The runs of this profile:

# %%
paper.print_deviations(EXPERIMENT, PROFILE)
print()
print(
    pd.DataFrame([c.to_dict() for c in CONFIGS])[
        ["encoder", "estimator", "target", "steps", "eval_every"]
    ]
)

# %%
records = paper.run(EXPERIMENT, PROFILE, seeds=SEEDS, force=not USE_CACHE, progress=False)
records["t"] = "t = " + records["target"].map(lambda t: f"{t:g}")
records["encoder name"] = records["encoder"].map(ENCODER_NAMES)
estimators = [e for e in PAPER_ESTIMATOR_NAMES if e in set(records["estimator"])]
targets = sorted(float(t) for t in records["target"].unique())
last_step = int(records["step"].max())
glue("ch6_last_step", f"{last_step:,}", display=False)
glue("ch6_n_seeds", str(int(records["seed"].nunique())), display=False)
glue("ch6_estimators", " and ".join(PAPER_ESTIMATOR_NAMES[e] for e in estimators), display=False)
pixel = pixel_baseline(TRAIN, TEST)
print(f"linear probe on raw top halves: {pixel:.4f} (paper: about 0.85)")

# %% [markdown]
# This profile trains with {glue:text}`ch6_estimators` for {glue:text}`ch6_last_step` steps with
# {glue:text}`ch6_n_seeds` seed(s) per run (the paper: both estimators, 20,000 steps, 20 seeds).
#
# ## Did the bounds reach their targets?
#
# The comparison is fair only if both encoders reach the target. {numref}`fig-ch6-objective` shows
# the test value of $L_t$ (the paper's Fig. 7).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Test objective $L_t = |\\hat I_{EST} - t|$ during training, one panel per estimator; colour: encoder, line style: target $t$. Dotted: 0.1 nats, the tolerance we use for \"target reached\".", "name": "fig-ch6-objective"}}
fig, axes = plt.subplots(1, len(estimators), figsize=(5 * len(estimators), 3.8), squeeze=False)
for ax, est in zip(axes[0], estimators, strict=True):
    plot_curves(
        records[records["estimator"] == est],
        "objective",
        hue="encoder name",
        style="t",
        ax=ax,
        ylabel=f"test L_t with {PAPER_ESTIMATOR_NAMES[est]} [nats]",
        hline=MATCHED,
    )
    ax.set_ylim(bottom=0)
fig.tight_layout()
plt.show()

# %% tags=["remove-cell"]
RUNS = [(enc, est, t) for enc in ENCODER_NAMES for est in estimators for t in targets]
# Test L_t at the last evaluation up to 7k steps (the paper: ≈0 by 7k), and the same distance for
# the mean training-batch bound over the steps since the previous evaluation.
final_lt = {
    (enc, est, t): value_at(records, "objective", 7000, encoder=enc, estimator=est, target=t)
    for enc, est, t in RUNS
}
train_lt = {
    (enc, est, t): abs(
        value_at(records, "train_bound", 7000, encoder=enc, estimator=est, target=t) - t
    )
    for enc, est, t in RUNS
}
lt_step = int(metric_frame(records, "objective").query("step <= 7000")["step"].max())
worst_lt, worst_train_lt = max(final_lt.values()), max(train_lt.values())
glue("ch6_worst_lt", float(worst_lt), display=False)
glue("ch6_worst_train_lt", float(worst_train_lt), display=False)
glue("ch6_lt_step", f"{lt_step:,}", display=False)
glue(
    "ch6_lt_text",
    f"every run is within {MATCHED:g} nats of its target on test batches"
    if worst_lt < MATCHED
    else f"not every run is within {MATCHED:g} nats of its target on test batches",
    display=False,
)

# %% [markdown]
# At step {glue:text}`ch6_lt_step`, {glue:text}`ch6_lt_text`: the largest test $L_t$ is
# {glue:text}`ch6_worst_lt:.3f` nats. On the training batches themselves (the mean bound over the
# steps since the previous evaluation) the largest distance to the target is
# {glue:text}`ch6_worst_train_lt:.3f` nats. The difference matters when comparing with the paper:
# the official notebook's "test" bound was, because of how its graph was wired, computed on
# training batches, so the paper's $L_t \approx 0$ corresponds to the second number, not the
# first.
#
# ## Downstream accuracy at matched bounds
#
# {numref}`fig-ch6-accuracy` is the paper's Fig. 4a/b.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Linear-probe test accuracy of $g_1(x^{(1)})$ while the bound is driven to $t$, one panel per estimator; colour: encoder, line style: target; mean ± 1 SD over seeds where there are several. Dotted: the same probe on raw pixels. Crosses: the paper's ConvNet with $t = 4$ and $I_{NCE}$ at 1,000 steps (≈0.890, read off Fig. 4a).", "name": "fig-ch6-accuracy"}}
fig, axes = plt.subplots(
    1, len(estimators), figsize=(5 * len(estimators), 3.8), squeeze=False, sharey=True
)
for ax, est in zip(axes[0], estimators, strict=True):
    plot_curves(
        records[records["estimator"] == est],
        "accuracy",
        hue="encoder name",
        style="t",
        ax=ax,
        ylabel=f"test accuracy ({PAPER_ESTIMATOR_NAMES[est]})",
        hline=pixel,
        hline_label="pixel baseline",
    )
    if est == "infonce" and last_step >= 1000 and 4.0 in targets:
        ax.plot(1000, 0.890, "x", color="0.2", ms=9, mew=2, label="paper, ConvNet t = 4, 1k")
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The values at the last evaluation (mean ± SD over seeds where there are several):

# %%
display(
    summaries.format_summary(
        summaries.final_summary(
            records.drop(columns=["t", "encoder name"]), ("accuracy", "bound", "objective")
        )
    )
)

# %% [markdown]
# ## What we observe vs the paper
#
# Paper values are read off Fig. 4a/b (tag [Fig]) at 20,000 steps, or from its text ([T]); ours
# are at our last evaluation and cover only the estimators this profile runs. Verdicts are
# computed from the records.

# %% tags=["hide-input"]
# The paper's accuracies at 20k steps (spec: paper.md, E5): (encoder, estimator, t) -> accuracy.
PAPER = {
    ("convnet", "infonce", 4.0): 0.906,
    ("convnet", "infonce", 2.0): 0.895,
    ("mlp", "infonce", 4.0): 0.870,
    ("mlp", "infonce", 2.0): 0.850,
    ("convnet", "nwj", 4.0): 0.905,
    ("convnet", "nwj", 2.0): 0.897,
    ("mlp", "nwj", 4.0): 0.869,
    ("mlp", "nwj", 2.0): 0.856,
}
acc = {
    (enc, est, t): value_at(records, "accuracy", encoder=enc, estimator=est, target=t)
    for enc in ENCODER_NAMES
    for est in estimators
    for t in targets
}
rows, gaps, t4_wins = [], [], []
for est in estimators:
    name = PAPER_ESTIMATOR_NAMES[est]
    for t in targets:
        gap = acc[("convnet", est, t)] - acc[("mlp", est, t)]
        gaps.append(gap)
        paper_conv, paper_mlp = PAPER.get(("convnet", est, t)), PAPER.get(("mlp", est, t))
        rows.append(
            {
                "claim (paper §3.3)": f"{name}, t = {t:g}: ConvNet − MLP ≥ {MIN_GAP:.3f}",
                "paper": f"{paper_conv:.3f} − {paper_mlp:.3f} = {paper_conv - paper_mlp:+.3f}"
                if paper_conv is not None
                else "-",
                "source": "[Fig] Fig. 4a/b, Fig. 7",
                "ours": f"{acc[('convnet', est, t)]:.3f} − {acc[('mlp', est, t)]:.3f} = {gap:+.3f}",
                "verdict": verdict(gap >= MIN_GAP),
            }
        )
    for where, values in (("test", final_lt), ("training", train_lt)):
        worst = max(v for (_, e, _), v in values.items() if e == est)
        rows.append(
            {
                "claim (paper §3.3)": f"{name}: every run has L_t < {MATCHED:g} by 7k steps, "
                f"on {where} batches",
                "paper": "≈ 0 (measured on training batches)",
                "source": "[T] §3.3, [CO]",
                "ours": f"max {worst:.3f} at step {lt_step:,}",
                "verdict": verdict(worst < MATCHED),
            }
        )
    if {2.0, 4.0} <= set(targets):
        for enc, enc_name in ENCODER_NAMES.items():
            diff = acc[(enc, est, 4.0)] - acc[(enc, est, 2.0)]
            t4_wins.append(diff > 0)
            rows.append(
                {
                    "claim (paper §3.3)": f"{name}, {enc_name}: t = 4 beats t = 2 "
                    "(shown, not discussed)",
                    "paper": f"{PAPER[(enc, est, 4.0)] - PAPER[(enc, est, 2.0)]:+.3f}",
                    "source": "[Fig] Fig. 4a/b",
                    "ours": f"{diff:+.3f}",
                    "verdict": verdict(diff > 0),
                }
            )
comparison = pd.DataFrame(rows)
display(comparison.style.hide(axis="index"))

# %% tags=["remove-cell"]
for (enc, est, t), value in acc.items():
    glue(f"ch6_acc_{enc}_{est}_{t:g}", float(value), display=False)
glue("ch6_min_gap", float(100 * min(gaps)), display=False)
glue("ch6_max_gap", float(100 * max(gaps)), display=False)
all_gaps = all(g >= MIN_GAP for g in gaps)
if worst_lt < MATCHED:
    match_text = f"With every run within {MATCHED:g} nats of its target on test batches, this is "
    match_text += "a comparison at matched bounds"
elif worst_train_lt < MATCHED:
    match_text = (
        f"Every run is within {MATCHED:g} nats of its target on training batches (on test "
        f"batches within {worst_lt:.2f}), so the bounds are matched in the sense the official code "
        "measured"
    )
else:
    match_text = (
        "Not every run reached its target, so this is not yet a comparison at matched bounds"
    )
glue("ch6_match_text", match_text, display=False)
glue(
    "ch6_gap_text",
    "the ConvNet beats the MLP by at least the paper's 2.5 points in every case we ran"
    if all_gaps
    else (
        "the ConvNet beats the MLP in every case we ran, but not always by the paper's 2.5 points"
        if min(gaps) > 0
        else "the ConvNet does not beat the MLP in every case we ran"
    ),
    display=False,
)
if t4_wins:
    t4_text = (
        "We see it too: t = 4 beats t = 2 for every encoder and estimator we ran."
        if all(t4_wins)
        else f"We see it in {sum(t4_wins)} of {len(t4_wins)} (encoder, estimator) pairs."
    )
else:
    t4_text = "This profile does not run both targets, so we cannot check it."
glue("ch6_t4_text", t4_text, display=False)

# %% [markdown]
# {glue:text}`ch6_match_text`: {glue:text}`ch6_gap_text`; the gaps range from
# {glue:text}`ch6_min_gap:.1f` to {glue:text}`ch6_max_gap:.1f` points (paper: 3.6 to 4.5 points
# at 20,000 steps). The paper
# summarizes this as the encoder architecture mattering more than the estimator; we add that the
# comparison holds the *estimate* fixed, so the difference in downstream accuracy cannot come from
# capturing more (estimated) information.
#
# The paper's figure also shows something it does not discuss: the larger target $t = 4$ gives
# better representations than $t = 2$ for both encoders and both estimators (e.g. ConvNet with
# $I_{NCE}$: ≈0.906 vs ≈0.895). In the paper's runs, then, a higher bound value within one
# architecture went with a better representation. {glue:text}`ch6_t4_text` The two observations
# are not in conflict: raising the target changes how much the codes must separate positive from
# negative pairs, while changing the architecture changes *which* separations are easy to learn —
# and in the paper's numbers the second effect (3.6–4.5 points) is larger than the first
# (0.8–2.0 points).

# %% [markdown]
# ## The supervised reference
#
# The paper's argument leans on one more number: trained end to end *with labels*, both
# architectures reach about 94% on the top halves, so the ConvNet's lead under $L_t$ is not raw
# capacity. We check it with the same encoders and a linear head on their 100-d output, trained
# with cross-entropy (Adam, learning rate $10^{-4}$, batch 128, the same initialisation):

# %%
paper.print_deviations("supervised", PROFILE)
supervised = paper.run("supervised", PROFILE, seeds=SEEDS, force=not USE_CACHE, progress=False)
supervised_final = (
    supervised[supervised["step"] == supervised["step"].max()]
    .pivot_table(index="encoder", columns="metric", values="value", aggfunc="mean")
    .rename(index=ENCODER_NAMES)
    .rename(
        columns={
            "classifier_accuracy": "end to end (encoder + head)",
            "accuracy": "linear probe on the frozen encoder",
        }
    )
)
display(supervised_final.style.format("{:.3f}"))

# %% tags=["remove-cell"]
end_to_end = supervised_final["end to end (encoder + head)"]
glue("ch6_sup_steps", f"{int(supervised['step'].max()):,}", display=False)
glue("ch6_sup_mlp", float(end_to_end[ENCODER_NAMES["mlp"]]), display=False)
glue("ch6_sup_convnet", float(end_to_end[ENCODER_NAMES["convnet"]]), display=False)
sup_gap = float(end_to_end[ENCODER_NAMES["convnet"]] - end_to_end[ENCODER_NAMES["mlp"]])
glue("ch6_sup_gap", sup_gap, display=False)
glue(
    "ch6_sup_text",
    "the two architectures are within 1.5 points of each other under supervision, as the paper says"
    if abs(sup_gap) <= 0.015
    else "under supervision the two architectures differ by more than the paper's “about equal”",
    display=False,
)

# %% [markdown]
# After {glue:text}`ch6_sup_steps` supervised steps the MLP reaches
# {glue:text}`ch6_sup_mlp:.3f` and the ConvNet {glue:text}`ch6_sup_convnet:.3f` (difference
# {glue:text}`ch6_sup_gap:+.3f`): {glue:text}`ch6_sup_text`. At the `book` profile these runs
# stop after about two epochs, well before either network has converged, so read them as a lower
# bound on the supervised reference; at the `paper` profile they last as long as E5's runs. The
# report chapter checks the claim (claim 11, {ref}`defined in chapter 9 <claims-ledger>`) at every profile.

# %% [markdown]
# ## At the paper's settings
#
# The runs above stop at this build's budget; the paper-profile runs of both this experiment and the
# supervised reference go the full distance. They are trained separately at the paper's settings
# (21,000 steps) and committed under `results/paper/` (chapter 9); here the ledger's claims 10 and
# 11 judge them, read from the store (nothing is trained; `seeds` counts the committed runs, and a
# claim without any says `not run`).

# %% tags=["hide-input"]
e5_claims = ledger.paper_profile_claims("encoder-vs-estimator", "supervised")
e5_claims.style.hide(axis="index")

# %% tags=["remove-cell"]
premise = e5_claims.set_index("claim").loc["10b"]
glue(
    "ch6_paper_matched",
    "No paper-profile run of this experiment is committed yet."
    if premise["verdict"] == "not run"
    else f"At the paper's settings, claim 10b ({premise['verdict']}): {premise['what ours measures']}.",
    display=False,
)

# %% [markdown]
# Whether the paper-profile runs are compared at matched bounds is claim 10's premise, judged on
# the committed runs rather than on this build's: {glue:text}`ch6_paper_matched` The training-batch
# value is the one the paper's Fig. 4 plots; the held-out count beside it says how far "matched"
# holds on images the encoders never saw.

# %% [markdown]
# The final accuracy of each committed paper-profile configuration against the paper's
# Fig. 4a/b (mean and SD over the committed seeds; empty while no run is committed):

# %% tags=["hide-input"]
e5_paper = paper.stored_records("paper", experiments=["encoder-vs-estimator"])
if not e5_paper.empty:
    e5_table = summarize(e5_paper, "accuracy", ["encoder", "estimator", "target"]).set_index(
        ["encoder", "estimator", "target"]
    )
    e5_table.insert(0, "paper (Fig. 4a/b)", [PAPER[key] for key in e5_table.index])
    display(
        e5_table.rename(columns={"mean": "ours", "sd": "SD", "n": "seeds"})
        .rename(index=ENCODER_NAMES | PAPER_ESTIMATOR_NAMES)
        .style.format(precision=3, na_rep="—")  # SD of a single seed
        .format_index("{:g}", level="target")
    )

# %% [markdown]
# ## Summary
#
# - Training on $L_t = |\hat I_{EST} - t|$, equation {eq}`eq-ch6-lt`, brings different encoders
#   to the same value of the bound, removing "more MI" as an explanation of any difference between
#   them.
# - In the paper, at matched bounds the ConvNet beats the MLP by about 4 points for both estimators
#   and both targets, although both architectures reach the same accuracy under supervision. In our
#   runs: {glue:text}`ch6_match_text`; {glue:text}`ch6_gap_text`.
# - The paper's conclusion: the inductive bias of the encoder, not the amount of estimated
#   information, decides how linearly useful the representation is — in line with the critic
#   results of chapter 5.
#
# ## Exercises
#
# :::{exercise} ★ Targets above the ceiling
# :label: ex-6-ceiling
#
# With $K = 128$, what happens if one trains with $L_t$ for $t = 5$ and $I_{NCE}$? And with
# $I_{NWJ}$?
# :::
#
# :::{solution} ex-6-ceiling
# :class: dropdown
#
# $\hat I_{NCE} \le \log 128 \approx 4.85 < 5$ on every batch, so $L_5 = 5 - \hat I_{NCE} > 0.15$
# always: minimising it is the same as maximising $\hat I_{NCE}$, and the target is never met. The
# experiment would then compare the encoders at *maximised*, not matched, bounds. $\hat I_{NWJ}$
# has no ceiling, so $t = 5$ can be reached; whether it is depends on the encoder and the critic
# (the paper's ConvNet with $I_{NWJ}$ and $t = 4$ already needs several thousand steps).
# :::
#
# :::{exercise} ★★ What the per-batch objective targets
# :label: ex-6-jensen
#
# Training minimises the batch average of $|\hat I - t|$, i.e. it targets
# $\mathbb{E}|\hat I - t|$ rather than $|\mathbb{E}\hat I - t|$. Show that
# $|\mathbb{E}\hat I - t| \le \mathbb{E}|\hat I - t|$, and compute $\mathbb{E}|\hat I - t|$ when
# $\hat I \sim \mathcal N(t, s^2)$. What does the difference mean for a high-variance estimator such
# as $I_{NWJ}$?
# :::
#
# :::{solution} ex-6-jensen
# :class: dropdown
#
# $|\cdot|$ is convex, so Jensen's inequality gives $|\mathbb{E}\hat I - t| \le
# \mathbb{E}|\hat I - t|$. If $\hat I \sim \mathcal N(t, s^2)$, the mean is on target but
# $\mathbb{E}|\hat I - t| = s\sqrt{2/\pi} \approx 0.8\,s$. So the objective cannot reach 0 unless the
# batch estimate has no variance, and minimising it pushes towards encoders and critics with a
# *less variable* bound as well as towards the target. For $I_{NCE}$ the batch variance is small
# and the two readings nearly coincide; for $I_{NWJ}$ the variance is large (chapter 2b), so
# "$L_t \approx 0$" on test batches means both the mean is near $t$ and the spread is small, and a
# residual $L_t$ of a few tenths can be pure variance around a mean that is on target.
# :::
#
# :::{exercise} ★★ Batch normalisation
# :label: ex-6-batchnorm
#
# The paper uses layer normalisation in the ConvNet and says batch normalisation was avoided so
# that no information leaks across the mini-batch. Explain the leak: how could a batch-normalised
# encoder raise $\hat I_{NCE}$ without encoding the image better?
# :::
#
# :::{solution} ex-6-batchnorm
# :class: dropdown
#
# With batch normalisation in training mode, the code of $x^{(1)}_i$ depends on the batch mean and
# variance of all $K$ top halves, and likewise for the bottom halves. The scores $S_{ij}$ then
# depend on the whole batch, so the $K$ pairs are no longer scored independently: the batch
# statistics of the two views are computed from the *same* $K$ images, which is shared information
# that has nothing to do with an individual image. The critic can exploit it to pick out positives
# (e.g. via how each example deviates from the shared batch statistics), inflating the bound — the
# same failure as the non-i.i.d. negatives of chapter 7b, where the bound stops being a bound.
# Layer normalisation normalises each example on its own and has no such channel.
# :::
#
# :::{exercise} ★ Maximising versus matching
# :label: ex-6-max
#
# Compare an MLP trained by *maximising* $I_{NCE}$ with a bilinear critic (chapter 5) with a
# ConvNet trained with $L_t$, $t = 2$. Which has the larger bound, which the better probe accuracy
# in the paper's figures, and what does the comparison add to this chapter's argument?
# :::
#
# :::{solution} ex-6-max
# :class: dropdown
#
# The maximised bound sits near $\log 128 \approx 4.85$ (the paper's Fig. 6: about 4.72 on test
# batches), far above $t = 2$. Yet the paper's ConvNet at $t = 2$ (Fig. 4a, about 0.895) beats the
# MLP with a maximised bound (Fig. 3, about 0.880). So the encoder with less than half the
# estimated MI is the better representation: the ranking by bound and the ranking by accuracy
# disagree even *across* the two experiments, which strengthens the chapter's conclusion that the
# architecture, not the estimate, drives the accuracy. (These are the paper's numbers; this
# chapter's and chapter 5's tables give ours.)
# :::
