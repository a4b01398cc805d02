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
# # Critic capacity: a tighter bound, a worse representation
#
# Every estimator of this book needs a *critic* $f(u, v)$, a network that scores how well a code of
# the top half matches a code of the bottom half. If the goal were to measure mutual information as
# accurately as possible, the answer would be simple: use the most expressive critic you can
# afford, since a richer critic family can only bring a variational lower bound closer to the true
# value. {cite:t}`tschannen2020mutual` (§3.2, Fig. 3 and Fig. 6) ask what this does to the
# *representation*. They train the same MLP encoders with three critics of increasing flexibility —
# bilinear, separable and concatenated — under both $I_{NCE}$ and $I_{NWJ}$, and find that the
# critic giving the tightest $I_{NWJ}$ gives the worst linear-probe accuracy. This chapter
# reproduces that experiment and offers a reading under which the result is less paradoxical than it sounds.

# %% tags=["remove-cell"]
import math

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display
from myst_nb import glue

from mi_tutorial import paper
from mi_tutorial.critics import make_critic
from mi_tutorial.data import digits_views, load_views
from mi_tutorial.encoders import count_parameters, make_encoder
from mi_tutorial.estimators import PAPER_ESTIMATOR_NAMES
from mi_tutorial.evaluation import pixel_baseline
from mi_tutorial.report import ledger, summaries
from mi_tutorial.report.analysis import value_at
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
EXPERIMENT = "critic-capacity"
CONFIGS = paper.get_configs(EXPERIMENT, PROFILE)
CRITIC_ORDER = ("bilinear", "separable", "concat")
LOADER = load_views if CONFIGS[0].dataset == "mnist" else digits_views
TRAIN, TEST = LOADER("train"), LOADER("test")
LOG_K = math.log(CONFIGS[0].batch_size)
#: Differences in accuracy below this count as ties in the verdicts (a stated choice: with a
#: single seed per run there is no error bar to decide smaller ones).
TIE = 0.003


def holds(a: float, relation: str, b: float, tie: float = TIE) -> bool:
    """``a ≥ b`` means "not clearly smaller" (a ≥ b − tie); ``a > b`` means clearly larger."""
    return a >= b - tie if relation == "≥" else a > b + tie


def verdict(ok: bool) -> str:
    return "reproduced" if ok else "not reproduced"


# %% [markdown]
# ## Three critics
#
# Write $u = g_1(x^{(1)})$ and $v = g_2(x^{(2)})$ for the two 100-dimensional codes. The paper
# compares three critics, in increasing order of flexibility:
#
# $$
# \begin{aligned}
# f_{\text{bil}}(u, v) &= u^\top W v, \\
# f_{\text{sep}}(u, v) &= \phi_1(u)^\top \phi_2(v), \\
# f_{\text{cat}}(u, v) &= \phi\big([u, v]\big),
# \end{aligned}
# $$ (eq-ch5-critics)
#
# where $\phi_1, \phi_2$ are one-hidden-layer ReLU networks $100 \to 100 \to 100$ and $\phi$ is a
# one-hidden-layer ReLU network $200 \to 200 \to 1$ on the concatenated codes (the "MLP critic").
# The separable and concatenated critics have the same number of parameters, so the comparison
# between them is about *structure*, not size. Counted on the models this profile builds:

# %%
encoder_kwargs = dict(CONFIGS[0].encoder_kwargs)
encoder = make_encoder(CONFIGS[0].encoder, input_dim=TRAIN.top.shape[1], **encoder_kwargs)
n_params = {"encoder (each)": count_parameters(encoder)}
for config in CONFIGS:
    if config.critic not in n_params:
        critic = make_critic(
            config.critic, encoder.out_dim, encoder.out_dim, **dict(config.critic_kwargs)
        )
        n_params[config.critic] = count_parameters(critic)
print(pd.Series(n_params, name="parameters").to_string())
for name, count in n_params.items():
    glue(f"ch5_params_{name.split()[0]}", f"{count:,}", display=False)

# %% [markdown]
# Bilinear: {glue:text}`ch5_params_bilinear` parameters; separable:
# {glue:text}`ch5_params_separable`; concatenated: {glue:text}`ch5_params_concat`; each MLP encoder
# ($392 \to 300 \to 300 \to 100$): {glue:text}`ch5_params_encoder` (paper: 40k for the separable and the concatenated critic and
# 238k for the encoder; it gives no count for the bilinear critic, whose 10k follows from its
# $100 \times 100$ matrix).
# All three return the full score matrix $S_{ij} = f(u_i, v_j)$ of a batch:
#
# ```{literalinclude} ../mi_tutorial/critics.py
# :pyobject: BilinearCritic
# ```
#
# ```{literalinclude} ../mi_tutorial/critics.py
# :pyobject: SeparableCritic
# ```
#
# The concatenated critic must score all $K^2$ pairs $(u_i, v_j)$. Its first layer is affine, so
# $W[u_i; v_j] + b = W_u u_i + (W_v v_j + b)$ can be formed by broadcasting two $K \times h$
# products instead of running the layer on $K^2$ concatenated vectors:
#
# ```{literalinclude} ../mi_tutorial/critics.py
# :pyobject: ConcatCritic.forward
# ```

# %% [markdown]
# ## Why a better critic need not help
#
# **A tighter bound.** With scores $S_{ij} = f(u_i, v_j)$ on a batch of $K$ positive pairs, the two
# bounds are
#
# $$
# \begin{aligned}
# \hat I_{NCE} &= \log K + \frac1K \sum_{i=1}^K \Big(S_{ii} - \log\sum_{j=1}^K e^{S_{ij}}\Big),\\
# \hat I_{NWJ} &= \frac1K \sum_{i=1}^K S_{ii} - \frac{e^{-1}}{K(K-1)} \sum_{i \ne j} e^{S_{ij}}
# \end{aligned}
# $$ (eq-ch5-bounds)
#
# {cite:p}`oord2018representation,nguyen2010estimating`. For fixed encoders, $I_{NWJ}$ is maximized
# by $f^*(u, v) = 1 + \log \frac{p(v \mid u)}{p(v)}$ {cite:p}`poole2019variational`, where it equals
# $I(U; V)$. The bilinear critic can represent $f^*$ only if the log density ratio of the codes is
# a bilinear function of $u$ and $v$ — and even then only up to the constant: $u^\top W v$ has no
# bias, so it cannot add NWJ's "+1" unless the encoders supply a constant coordinate (exercise
# {ref}`ex-5-constant`, which also shows that missing it entirely costs $e^{-1}$ nats); the concatenated critic can approximate almost any function
# of the pair. So, for the same encoders, the concatenated critic gets closer to $I(U; V)$ — which
# itself is at most $I(X^{(1)}; X^{(2)})$ by the data-processing inequality (chapter 1). With
# $I_{NCE}$ the same is true, but every critic runs into the ceiling $\log K$ =
# {glue:text}`ch5_log_k:.2f` nats of {eq}`eq-ch5-bounds`, which hides the difference.
#
# **Who does the work.** Training maximizes the bound over the encoders *and* the critic jointly.
# A critic that can only compare codes through $u^\top W v$ leaves the encoder to arrange the codes
# so that matching halves are linearly related; a critic that can learn any function of $[u, v]$
# can reach a high bound from codes that are organized in whatever way is convenient for it. A
# linear probe rewards the first kind of code, not the second.
#
# **The metric-learning reading.** The bilinear and separable critics are similarities in an
# embedding space: $u^\top W v = \langle u, W v \rangle$ and $\phi_1(u)^\top \phi_2(v)$. With such
# a critic, maximizing $I_{NCE}$ is the same as minimizing a multi-class $K$-pair loss
# {cite:p}`sohn2016improved`: it pulls the embedding of each top half towards its own bottom half
# and pushes it away from the $K - 1$ others. Chapter 7 derives this identity exactly. Such losses
# are built to produce embeddings in which matching inputs lie close together and others far apart,
# a geometry that a linear classifier can exploit. The concatenated critic has no embedding at all; it is a pair
# classifier, and nothing in its form asks the codes to carry a useful geometry.
#
# **An analogy from variational autoencoders.** {cite:t}`rainforth2018tighter` showed that
# tightening the importance-weighted ELBO with more samples improves the generative model but can
# *hurt* the inference network, whose gradient estimates become noisier relative to their signal.
# The lesson carries over: the quantity being bounded and the network we actually want to use are
# different things, and tightening the bound is not guaranteed to improve the network.

# %% tags=["remove-cell"]
glue("ch5_log_k", LOG_K, display=False)

# %% [markdown]
# ## The experiment
#
# Both encoders are MLPs $392 \to 300 \to 300 \to 100$ with Glorot-uniform weights and zero biases
# (the Keras default of the official code). Encoders and critic are trained jointly with Adam
# (learning rate $10^{-4}$, batch 128) to maximize $I_{NCE}$ or $I_{NWJ}$, for each of the three
# critics: six runs per seed. At every evaluation we fit the paper's linear probe on
# $g_1(x^{(1)})$ and compute the bound on test batches. The runs of this profile:

# %%
paper.print_deviations(EXPERIMENT, PROFILE)
print()
print(pd.DataFrame([c.to_dict() for c in CONFIGS])[["critic", "estimator", "steps", "eval_every"]])

# %%
# keep_models: the trained encoders are stored too; chapter 8 probes them
records = paper.run(
    EXPERIMENT, PROFILE, seeds=SEEDS, force=not USE_CACHE, progress=False, keep_models=True
)
last_step = int(records["step"].max())
n_seeds = int(records["seed"].nunique())
glue("ch5_last_step", f"{last_step:,}", display=False)
glue("ch5_n_seeds", str(n_seeds), display=False)

# %% [markdown]
# As a reference, the same probe on the raw top-half pixels (paper: about 0.85):

# %%
pixel = pixel_baseline(TRAIN, TEST)
print(f"linear probe on raw top halves: {pixel:.4f}")
glue("ch5_pixel", float(pixel), display=False)

# %% [markdown]
# ## Downstream accuracy
#
# {numref}`fig-ch5-accuracy` is the paper's Fig. 3 (left and centre) at this profile's budget:
# {glue:text}`ch5_last_step` training steps and {glue:text}`ch5_n_seeds` seed(s) per run, against
# the paper's 20,000 steps and 20 seeds.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Linear-probe test accuracy of $g_1(x^{(1)})$ during training, per critic, for $I_{NCE}$ (left) and $I_{NWJ}$ (right); mean ± 1 SD over seeds where there are several. Dotted: the same probe on raw pixels. Crosses: the paper's values at 1,000 steps with $I_{NCE}$ (Fig. 3, read off the plot).", "name": "fig-ch5-accuracy"}}
PAPER_ACC_1K_NCE = {"bilinear": 0.855, "separable": 0.851, "concat": 0.815}  # [Fig] Fig. 3
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
for ax, (est, name) in zip(axes, PAPER_ESTIMATOR_NAMES.items(), strict=True):
    plot_curves(
        records[records["estimator"] == est],
        "accuracy",
        hue="critic",
        ax=ax,
        ylabel=f"test accuracy ({name})",
        hline=pixel,
        hline_label="pixel baseline",
    )
    if est == "infonce" and last_step >= 1000:
        for i, critic in enumerate(CRITIC_ORDER):
            ax.plot(1000, PAPER_ACC_1K_NCE[critic], "x", color=f"C{i}", ms=9, mew=2)
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## The bounds
#
# {numref}`fig-ch5-bounds` shows the test value of each bound (the paper's Fig. 3, right, and
# Fig. 6).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Test value of the bound being maximized, per critic: $I_{NWJ}$ (left, the paper's Fig. 3 right) and $I_{NCE}$ (right, Fig. 6). Dotted: $\\log K$ for the batch of $K$ pairs, the ceiling of $I_{NCE}$.", "name": "fig-ch5-bounds"}}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for ax, est in zip(axes, ("nwj", "infonce"), strict=True):
    plot_curves(
        records[records["estimator"] == est],
        "bound",
        hue="critic",
        ax=ax,
        ylabel=f"test {PAPER_ESTIMATOR_NAMES[est]} [nats]",
        hline=LOG_K,
        hline_label="log K",
    )
    ax.set_ylim(bottom=max(ax.get_ylim()[0], -2.0))
fig.tight_layout()
plt.show()

# %% [markdown]
# The values at the last evaluation (mean ± SD over seeds where there are several):

# %%
display(summaries.format_summary(summaries.final_summary(records, ("accuracy", "bound"))))

# %% [markdown]
# ## What we observe vs the paper
#
# The paper's numbers below are read off its Fig. 3 and Fig. 6 at 20,000 steps (tag [Fig]) or
# taken from its text ([T]); ours are at our last evaluation. The verdicts are computed from the
# records; accuracy differences below {glue:text}`ch5_tie:.3f` count as ties.

# %% tags=["hide-input"]
# The paper's values, 20k steps (spec: paper.md, E4).
PAPER = {  # (critic, estimator) -> (accuracy, test bound)
    ("bilinear", "infonce"): (0.880, 4.72),
    ("separable", "infonce"): (0.877, 4.72),
    ("concat", "infonce"): (0.856, 4.70),
    ("bilinear", "nwj"): (0.870, 5.5),
    ("separable", "nwj"): (0.866, 5.5),
    ("concat", "nwj"): (0.855, 6.2),
}
acc = {(c, e): value_at(records, "accuracy", critic=c, estimator=e) for c, e in PAPER}
bound = {(c, e): value_at(records, "bound", critic=c, estimator=e) for c, e in PAPER}


def triple(values: dict, est: str, fmt: str = ".3f") -> str:
    return " / ".join(format(values[(c, est)], fmt) for c in CRITIC_ORDER)


rows = []
order_ok = {}
for est, name in PAPER_ESTIMATOR_NAMES.items():
    b, s, c = (acc[(k, est)] for k in CRITIC_ORDER)
    order_ok[est] = holds(b, "≥", s) and holds(s, ">", c)
    rows.append(
        {
            "claim (paper §3.2)": f"{name}: accuracy bilinear ≥ separable > concat",
            "paper": triple({k: v[0] for k, v in PAPER.items()}, est),
            "source": "[Fig] Fig. 3",
            "ours": triple(acc, est),
            "verdict": verdict(order_ok[est]),
        }
    )
for est, name in PAPER_ESTIMATOR_NAMES.items():
    gap = acc[("concat", est)] - pixel
    rows.append(
        {
            "claim (paper §3.2)": f"{name}: concat critic at most ≈1 point above pixels",
            "paper": f"{PAPER[('concat', est)][0] - 0.85:+.3f}",
            "source": "[T] §3.2, pixels ≈0.85",
            "ours": f"{gap:+.3f}",
            "verdict": verdict(gap <= 0.01),
        }
    )
    gap = acc[("bilinear", est)] - pixel
    rows.append(
        {
            "claim (paper §3.2)": f"{name}: bilinear critic ≥ 2 points above pixels",
            "paper": f"{PAPER[('bilinear', est)][0] - 0.85:+.3f}",
            "source": "[T] §3.2, pixels ≈0.85",
            "ours": f"{gap:+.3f}",
            "verdict": verdict(gap >= 0.02),
        }
    )
tighter = bound[("concat", "nwj")] > bound[("bilinear", "nwj")]
worse = holds(acc[("bilinear", "nwj")], ">", acc[("concat", "nwj")])
rows.append(
    {
        "claim (paper §3.2)": "I_NWJ: concat has the higher bound but the lower accuracy",
        "paper": f"bound {PAPER[('concat', 'nwj')][1]:.1f} vs {PAPER[('bilinear', 'nwj')][1]:.1f}",
        "source": "[Fig] Fig. 3",
        "ours": f"bound {bound[('concat', 'nwj')]:.2f} vs {bound[('bilinear', 'nwj')]:.2f}",
        "verdict": verdict(tighter and worse),
    }
)
nce = [bound[(c, "infonce")] for c in CRITIC_ORDER]
spread = max(nce) - min(nce)
rows.append(
    {
        "claim (paper §3.2)": "I_NCE: the three critics within ≈0.05 nats",
        "paper": "4.72 / 4.72 / 4.70",
        "source": "[Fig] Fig. 6",
        "ours": f"{triple(bound, 'infonce', '.2f')} (spread {spread:.2f})",
        "verdict": verdict(spread <= 0.05),
    }
)
rows.append(
    {
        "claim (paper §3.2)": f"I_NCE: near log K = {LOG_K:.2f} (within 0.2 nats)",
        "paper": "≥ 4.70",
        "source": "[Fig] Fig. 6",
        "ours": f"≥ {min(nce):.2f}",
        "verdict": verdict(min(nce) >= LOG_K - 0.2),
    }
)
comparison = pd.DataFrame(rows)
display(comparison.style.hide(axis="index"))

# %% tags=["remove-cell"]
glue("ch5_tie", TIE, display=False)
for (c, e), value in acc.items():
    glue(f"ch5_acc_{c}_{e}", value, display=False)
for (c, e), value in bound.items():
    glue(f"ch5_bound_{c}_{e}", value, display=False)
glue("ch5_nce_spread", spread, display=False)
n_ok = int((comparison["verdict"] == "reproduced").sum())
glue("ch5_n_ok", f"{n_ok} of {len(comparison)}", display=False)
both_orders = all(order_ok.values())
some_order = any(order_ok.values())
glue(
    "ch5_order_text",
    "holds for both estimators"
    if both_orders
    else ("holds for one estimator only" if some_order else "does not hold for either estimator"),
    display=False,
)
glue(
    "ch5_tight_text",
    "is also what we measure: the concatenated critic reaches the higher test I_NWJ and the "
    "lower accuracy"
    if tighter and worse
    else (
        "is only half visible here: the concatenated critic reaches the higher test I_NWJ, "
        "but not a clearly lower accuracy"
        if tighter
        else "is not visible at this budget: the concatenated critic does not reach the higher "
        "test I_NWJ"
    ),
    display=False,
)
glue(
    "ch5_nce_text",
    "all three critics end close to each other"
    if spread <= 0.05
    else "the three critics still differ by more than the paper's ≈0.05 nats",
    display=False,
)
below = [acc[k] < PAPER[k][0] for k in PAPER]
glue(
    "ch5_level_text",
    (
        "All six of our accuracies are below the paper's end values"
        if all(below)
        else f"{sum(below)} of our six accuracies are below the paper's end values"
    )
    + f", which were read at 20,000 steps; ours stop at {last_step:,}. In the paper the curves "
    "are still rising after 1,000 steps (e.g. bilinear with I_NCE: ≈0.855 at 1k, ≈0.880 at 20k), "
    "and I_NWJ reaches 5.5–6.2 nats only late in training, so levels are not comparable "
    "across budgets; orderings are. The paper-profile runs below compare levels too.",
    display=False,
)

# %% [markdown]
# {glue:text}`ch5_n_ok` rows of the table reproduce at this budget. The accuracy ordering
# bilinear ≥ separable > concatenated {glue:text}`ch5_order_text`: with $I_{NCE}$ we get
# {glue:text}`ch5_acc_bilinear_infonce:.3f`, {glue:text}`ch5_acc_separable_infonce:.3f` and
# {glue:text}`ch5_acc_concat_infonce:.3f`; with $I_{NWJ}$
# {glue:text}`ch5_acc_bilinear_nwj:.3f`, {glue:text}`ch5_acc_separable_nwj:.3f` and
# {glue:text}`ch5_acc_concat_nwj:.3f` (pixels: {glue:text}`ch5_pixel:.3f`). The paper's central
# observation — the tightest $I_{NWJ}$ comes with the worst representation —
# {glue:text}`ch5_tight_text` ({glue:text}`ch5_bound_concat_nwj:.2f` against
# {glue:text}`ch5_bound_bilinear_nwj:.2f` nats for the bilinear critic). With $I_{NCE}$,
# {glue:text}`ch5_nce_text` (spread {glue:text}`ch5_nce_spread:.2f` nats).
#
# {glue:text}`ch5_level_text`

# %% [markdown]
# ## At the paper's settings
#
# The runs above stop at this build's budget, where only orderings compare with the paper; the
# paper-profile runs compare levels too. They are trained separately at the paper's settings (21,000
# steps) and committed under `results/paper/` (chapter 9); here the ledger's claims 7a, 7b, 8 and 9 ({ref}`defined in chapter 9 <claims-ledger>`)
# judge them, read from the store (nothing is trained; `seeds` counts the committed runs, and a
# claim without any says `not run`).

# %% tags=["hide-input"]
ledger.paper_profile_claims("critic-capacity").style.hide(axis="index")

# %% tags=["remove-cell"]
e4_paper = paper.stored_records("paper", experiments=["critic-capacity"])


def final_nwj(metric: str, critic: str) -> float:
    rows = e4_paper[
        (e4_paper["metric"] == metric)
        & (e4_paper["critic"] == critic)
        & (e4_paper["estimator"] == "nwj")
    ]
    return float(rows[rows["step"] == rows["step"].max()]["value"].mean())


if e4_paper.empty:
    e4_levels = "No paper-profile run of this experiment is committed yet."
else:
    train = {c: final_nwj("train_bound", c) for c in ("bilinear", "concat")}
    test = {c: final_nwj("bound", c) for c in ("bilinear", "concat")}
    e4_levels = (
        f"At the paper's settings ({e4_paper['seed'].nunique()} committed seeds) the final "
        f"I_NWJ on training batches, the quantity the official notebook reports and the paper "
        f"plots, is {train['bilinear']:.2f} / {train['concat']:.2f} nats for the bilinear / "
        f"concat critic (paper ≈5.5 / ≈6.2); on the held-out test set it is "
        f"{test['bilinear']:.2f} / {test['concat']:.2f} nats. The level gap to the paper is "
        "therefore one of quantity, not of training budget: the held-out I_NWJ of an "
        "exponential-family bound stays far below the training-batch value, and the ledger's "
        "claims 8 and 9 judge the training-batch values and show the held-out ones beside them."
    )
glue("ch5_paper_levels", e4_levels, display=False)

# %% [markdown]
# {glue:text}`ch5_paper_levels`

# %% [markdown]
# ## Summary
#
# - Three critics of increasing flexibility — bilinear, separable, concatenated
#   (equation {eq}`eq-ch5-critics`) — train the same MLP encoders with $I_{NCE}$ or $I_{NWJ}$.
# - For fixed codes the most flexible critic can get closest to the true MI. In the paper it
#   indeed gives the largest $I_{NWJ}$, while with $I_{NCE}$ the ceiling $\log K$ hides the
#   difference — and linear-probe accuracy orders the critics the other way round: a tighter bound
#   is not a better objective for representation learning.
# - In our runs the accuracy ordering {glue:text}`ch5_order_text`; see the table for each claim.
# - Critics that score pairs by a similarity of embeddings turn the bound into a metric-learning
#   loss (chapter 7), which is consistent with the *simpler* critics giving more linearly useful codes.
#
# ## Exercises
#
# :::{exercise} ★★ The missing constant
# :label: ex-5-constant
#
# The optimal $I_{NWJ}$ critic is $f^* = 1 + \log\frac{p(v\mid u)}{p(v)}$. Show that using
# $f^* - c$ for a constant $c$ gives $I_{NWJ} = I(U;V) - (e^{-c} + c - 1)$, and evaluate the loss
# for $c = 1$. Can a bias-free bilinear critic $u^\top W v$ produce the constant at all?
# :::
#
# :::{solution} ex-5-constant
# :class: dropdown
#
# With $r = p(v\mid u)/p(v)$: $\mathbb{E}_p[1 + \log r - c] = 1 + I - c$ and
# $e^{-1}\mathbb{E}_q[e^{1 + \log r - c}] = e^{-c}\,\mathbb{E}_q[r] = e^{-c}$. So
# $I_{NWJ}(f^* - c) = I - (e^{-c} + c - 1)$, and $e^{-c} + c - 1 \ge 0$ with equality only at
# $c = 0$. A critic that learns the log ratio but misses the "+1" ($c = 1$) loses
# $e^{-1} \approx 0.37$ nats. $u^\top W v$ has no constant term and is zero when either code is
# zero, so it cannot add a constant to arbitrary codes. It can produce one if the *encoders* help:
# if $u$ and $v$ each have a coordinate that is (nearly) constant, say $u_k = a$ and $v_k = b$, then
# $W_{kk}ab$ is a constant offset. So a bilinear critic represents the optimal NWJ critic at best
# up to a constant that the encoders must supply — one more way in which the critic's structure
# shapes the codes.
# :::
#
# :::{exercise} ★ Which family contains which?
# :label: ex-5-families
#
# Order the parameter-free inner-product critic $u^\top v$, the bilinear, the separable and the
# concatenated critics by the functions of $(u, v)$ they can represent. Which inclusions are exact,
# and which hold only approximately at the paper's widths?
# :::
#
# :::{solution} ex-5-families
# :class: dropdown
#
# Inner product $\subset$ bilinear exactly ($W = I$). Bilinear $\to$ separable: $\phi_1(u)^\top
# \phi_2(v)$ with *linear* $\phi$'s is $u^\top A^\top B v$, every bilinear form; but the paper's
# $\phi$'s are ReLU networks with 100 hidden units, and an exact linear map of a 100-d input through
# one ReLU layer needs $2 \times 100$ units ($z = \mathrm{relu}(z) - \mathrm{relu}(-z)$), so the
# inclusion is approximate unless the codes stay in a region where the ReLUs do not switch.
# Separable and bilinear $\subset$ concatenated only approximately: the concatenated critic is a
# universal approximator of functions of $[u, v]$ as its width grows, but a product $u^\top W v$ is
# not exactly representable by one finite ReLU layer. The ordering is by flexibility, which is
# what the chapter's argument needs, not by exact inclusion.
# :::
#
# :::{exercise} ★★ Deeper critic, worse codes?
# :label: ex-5-deeper
#
# Give the concatenated critic two or three hidden layers (`critic_kwargs={"layers": 3}`). Predict
# what happens to the bound and to the accuracy, and what would falsify the chapter's explanation.
# :::
#
# :::{solution} ex-5-deeper
# :class: dropdown
#
# A deeper critic is more flexible still, so for fixed encoders its bound can only get closer to
# $I(U;V)$; in joint training one expects $I_{NWJ}$ to rise or stay and, by the "who does the work"
# argument, the accuracy to stay low or fall further, because even less structure is required of
# the codes. $I_{NCE}$ is pinned near $\log K$ for every critic and will barely move. The explanation
# would be falsified by a deeper critic that gives both a higher bound *and* a clearly higher
# accuracy than the one-layer critic (beyond the seed spread); optimisation difficulties of the
# deeper critic (a lower bound *and* lower accuracy) would not test it.
# :::
#
# :::{exercise} ★★ A tie tolerance you can defend
# :label: ex-5-ties
#
# The verdicts above treat accuracy differences below {glue:text}`ch5_tie` as ties. How would you
# choose this tolerance from data rather than by hand, and what does a single seed per run allow?
# :::
#
# :::{solution} ex-5-ties
# :class: dropdown
#
# Estimate the seed-to-seed standard deviation $s$ of the final accuracy of one configuration from
# several seeds; the difference of two means over $n$ seeds each has standard error
# $s\sqrt{2/n}$, and a tolerance of about two standard errors makes a "clear" difference unlikely
# to be noise. The probe's own variability (SAGA with `tol = 0.1` refitted from scratch) is part of
# $s$. With a single seed per run there is no estimate of $s$ at all, so any tolerance is a stated
# assumption — which is why the chapter states it and why the paper-profile runs use several seeds
# where the budget allows.
# :::
#
# :::{exercise} ★★ Critics on frozen codes
# :label: ex-5-frozen
#
# Freeze two randomly initialised MLP encoders and train only the critics with $I_{NWJ}$. Which
# critic reaches the highest bound on fixed codes, and what does that say about the "who does the
# work" argument?
# :::
#
# ````{solution-start} ex-5-frozen
# :class: dropdown
# ````
#
# On fixed codes only the critic can raise the bound, so the bound measures the critic family:
# the most flexible one should reach the highest value given enough steps — though after a short
# run a more flexible critic may still be behind, because it also has more to fit. The cell does this on
# the small digits data (32-pixel views, random MLP encoders, 600 critic steps with Adam at
# $10^{-3}$, batches of 64; cheap at every profile) and prints each critic's bound on a held-out batch.
# A flexible critic that reaches a high bound *without any change to the codes* is the point of the
# argument above: during joint training, a high bound need not come from codes that a linear probe
# can use.

# %%
import torch

from mi_tutorial.estimators import nwj

frozen_train, frozen_test = digits_views("train"), digits_views("test")
torch.manual_seed(0)
frozen_g1, frozen_g2 = make_encoder("mlp", 32), make_encoder("mlp", 32)
with torch.no_grad():
    codes = [(frozen_g1(v.top), frozen_g2(v.bottom)) for v in (frozen_train, frozen_test)]
(u_train, v_train), (u_test, v_test) = codes
frozen_bounds = {}
for name in CRITIC_ORDER:
    critic = make_critic(name, 100, 100)
    optimizer = torch.optim.Adam(critic.parameters(), lr=1e-3)
    batch_gen = torch.Generator().manual_seed(0)
    for _ in range(600):
        idx = torch.randperm(len(u_train), generator=batch_gen)[:64]
        loss = -nwj(critic(u_train[idx], v_train[idx]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        frozen_bounds[name] = nwj(critic(u_test[:128], v_test[:128])).item()
for name, value in frozen_bounds.items():
    print(f"{name:>9}: I_NWJ on a held-out batch of fixed codes = {value:.3f} nats")
print("highest:", max(frozen_bounds, key=frozen_bounds.get))

# %% [markdown]
# ````{solution-end}
# ````
