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
# # The method from scratch
#
# Chapter 3 assembled the multi-view playground from the library's parts. This short chapter
# writes the whole method of {cite:t}`tschannen2020mutual` (§3, equation 2) in about thirty lines of
# plain PyTorch — two MLP encoders, a bilinear critic, the score matrix, $I_{NCE}$ and Adam — runs
# it, judges the result with the linear probe, and then checks that the library's trainer
# `mi_tutorial.training.train_multiview` computes *the same numbers* from the same seed. Everything
# later chapters vary (the encoder, the critic, the bound, a target $t$) is a change to one line of
# this loop. The symbols are those of the {doc}`notation page <notation>`.

# %% tags=["remove-cell"]
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from myst_nb import glue

from mi_tutorial.config import MultiViewConfig
from mi_tutorial.data import digits_views, load_views
from mi_tutorial.evaluation import encode, linear_probe
from mi_tutorial.report.plotting import use_book_style
from mi_tutorial.training import train_multiview
from mi_tutorial.training.scratch import train_from_scratch

use_book_style()
# The models are small: one intra-op thread avoids spinning against other processes on a
# shared machine (it does not change any number).
torch.set_num_threads(1)

# %% tags=["parameters"]
PROFILE = "book"  # "smoke" | "book" | "paper"
SEEDS = None  # None: seed 0
USE_CACHE = True

# %% tags=["remove-cell"]
from mi_tutorial.config import check_profile, check_seeds_parameter

PROFILE = check_profile(PROFILE)  # `papermill -p PROFILE bogus` stops here, with the choices
SEEDS = check_seeds_parameter(SEEDS)

# %% tags=["remove-cell"]
SMOKE = PROFILE == "smoke"
SEED = 0 if SEEDS is None else int(list(SEEDS)[0])
STEPS, BATCH, LR = 300, 128, 1e-4
DATASET = "digits" if SMOKE else "mnist"
if SMOKE:  # sklearn's 8x8 digits: two 32-pixel views, seconds
    train_views, test_views = digits_views("train"), digits_views("test")
else:
    train_views, test_views = load_views("train"), load_views("test")
glue("ch3b_steps", f"{STEPS:,}", display=False)
glue("ch3b_batch", BATCH, display=False)
glue("ch3b_data", "sklearn's 8 × 8 digits" if SMOKE else "MNIST", display=False)

# %% [markdown]
# ## The method in four equations
#
# A batch holds $K$ images; image $i$ gives the pair $(x^{(1)}_i, x^{(2)}_i)$ of its top and bottom
# halves. The encoders map the halves to codes $u_i = g_1(x^{(1)}_i)$ and $v_j = g_2(x^{(2)}_j)$ in
# $\mathbb R^{100}$, and the bilinear critic $f(u, v) = u^\top W v$ scores every pair of the batch:
#
# $$
# S_{ij} = f\big(g_1(x^{(1)}_i),\, g_2(x^{(2)}_j)\big) = u_i^\top W v_j,
# \qquad i, j = 1, \dots, K.
# $$
#
# The diagonal holds the $K$ *positive* pairs (two halves of one image), the off-diagonal entries
# the $K(K-1)$ *negative* ones. InfoNCE {cite:p}`oord2018representation` asks each row to pick out
# its positive, a $K$-way classification with logits $S_{i\cdot}$:
#
# $$
# \hat I_{NCE}(S) = \log K + \frac1K \sum_{i=1}^K \log \frac{e^{S_{ii}}}{\sum_{j=1}^K e^{S_{ij}}}
#   = \log K + \frac1K \sum_{i=1}^K \Big(S_{ii} - \log\sum_{j=1}^K e^{S_{ij}}\Big).
# $$
#
# Each logarithm is a log-probability, so $\hat I_{NCE} \le \log K$ (chapter 2). Training descends
# the loss $-\hat I_{NCE}(S)$ in the parameters $\theta$ of $g_1$, $g_2$ and $W$ with Adam,
# $\theta \leftarrow \mathrm{Adam}\big(\theta, \nabla_\theta[-\hat I_{NCE}(S)]\big)$, on a fresh batch
# at every step. Afterwards $g_2$ and $W$ are discarded, and the representation $g_1$ is judged by a
# linear probe on the codes of the top halves (chapter 3).
#
# ## The code
#
# Here is all of it. The only library pieces used are three seeding helpers — `init_models`
# (`torch.manual_seed(seed)` around the construction), `stream_generator` and `EpochBatches`
# (shuffled epochs from a seeded generator) — so that the next section can compare it with the
# library number for number:
#
# ```{literalinclude} ../mi_tutorial/training/scratch.py
# :pyobject: train_from_scratch
# ```
#
# `S.diagonal() - torch.logsumexp(S, dim=1)` is the log-softmax of each row evaluated at its
# diagonal entry, i.e. the sum in $\hat I_{NCE}$. We run it for {glue:text}`ch3b_steps` steps of
# $K =$ {glue:text}`ch3b_batch` pairs on {glue:text}`ch3b_data`.

# %%
g1, g2, W, bounds = train_from_scratch(train_views, steps=STEPS, batch_size=BATCH, lr=LR, seed=SEED)
accuracy = linear_probe(
    encode(g1, train_views.top), train_views.labels, encode(g1, test_views.top), test_views.labels
)
pixels = linear_probe(train_views.top, train_views.labels, test_views.top, test_views.labels)
print(
    f"I_NCE: first batch {bounds[0]:.3f}, last batch {bounds[-1]:.3f} (log K = {np.log(BATCH):.3f})"
)
print(f"linear probe on g1's codes: {accuracy:.3f}; on the raw top-half pixels: {pixels:.3f}")

# %% tags=["remove-cell"]
finite = bool(np.all(np.isfinite(bounds)))
glue("ch3b_first", f"{bounds[0]:.3f}", display=False)
glue("ch3b_last", f"{bounds[-1]:.3f}" if finite else "diverged", display=False)
glue("ch3b_logk", f"{np.log(BATCH):.3f}", display=False)
glue("ch3b_acc", f"{accuracy:.3f}", display=False)
glue("ch3b_pixels", f"{pixels:.3f}", display=False)
glue(
    "ch3b_acc_vs_pixels",
    "above" if accuracy > pixels else "not above",
    display=False,
)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The training-batch bound $\\hat I_{NCE}(S)$ of the hand-written loop at every step (thin) and its 20-step running mean (thick), below the ceiling $\\log K$ (dashed).", "name": "fig-scratch-curve"}}
fig, ax = plt.subplots(figsize=(6.4, 3.0))
steps = np.arange(len(bounds))
ax.plot(steps, bounds, lw=0.6, alpha=0.5, color="C0")
window = 20
smooth = np.convolve(bounds, np.ones(window) / window, mode="valid")
ax.plot(steps[window - 1 :], smooth, lw=2, color="C0", label=r"$\hat I_{NCE}$ (training batch)")
ax.axhline(np.log(BATCH), ls="--", color="k", lw=1, label=r"$\log K$")
ax.set_xlabel("step")
ax.set_ylabel("nats")
ax.legend(loc="lower right")
plt.tight_layout()
plt.show()

# %% [markdown]
# The bound starts at {glue:text}`ch3b_first` nats — the random critic cannot tell positives from
# negatives, so every row's softmax is close to uniform and the sum is close to $-\log K$ — and
# climbs to {glue:text}`ch3b_last` nats after {glue:text}`ch3b_steps` steps, below the ceiling
# $\log K =$ {glue:text}`ch3b_logk` ({numref}`fig-scratch-curve`). The linear probe on $g_1$'s codes
# reaches {glue:text}`ch3b_acc`, {glue:text}`ch3b_acc_vs_pixels` the {glue:text}`ch3b_pixels` of a
# probe on the raw top-half pixels. These are short runs; chapters 4a–7 train for thousands of steps.
#
# ## The library computes the same numbers
#
# `train_multiview` adds what an experiment needs around this loop — evaluations, noise, targets,
# other bounds and modules, checkpoints, divergence checks — but its training step is the same.
# With the MLP encoder, the bilinear critic and $I_{NCE}$, the same seed gives the same
# initialisation and the same batches, so its training-batch bounds (recorded as `train_bound`,
# the mean over the steps since the previous evaluation) must equal the means of our `bounds` over
# the same steps, and its trained parameters must equal ours. One setting is needed for that: the
# library builds PyTorch's *fused* Adam kernel by default (one pass over memory instead of several
# per parameter tensor; faster for large models). It computes the same update but rounds
# differently, and Adam magnifies last-digit differences in near-zero gradients over the steps. For
# a comparison to the last digit we ask the library for the plain per-parameter loop that our
# `torch.optim.Adam` above runs.

# %%
os.environ["MI_TUTORIAL_FUSED_ADAM"] = "0"  # read when train_multiview builds its optimiser
EVERY = STEPS // 5
config = MultiViewConfig(dataset=DATASET, steps=STEPS, eval_every=EVERY, batch_size=BATCH, lr=LR)
library_models = {}
records = train_multiview(
    config, SEED, data=(train_views, test_views), models=library_models, progress=False
)
library = records.query("metric == 'train_bound'").dropna(subset=["value"]).sort_values("step")
ours = [np.mean(bounds[s - EVERY : s]) for s in library["step"]]
comparison = pd.DataFrame(
    {
        "steps": [f"{s - EVERY}–{s - 1}" for s in library["step"]],
        "from scratch": ours,
        "train_multiview": library["value"].to_numpy(),
    }
)
pairs = [(g1, library_models["g1"]), (g2, library_models["g2"]), (W, library_models["critic"])]
max_diff = max(
    (p - q).abs().max().item()
    for a, b in pairs
    for p, q in zip(a.parameters(), b.parameters(), strict=True)
)
comparison.style.hide(axis="index").format("{:.6f}", subset=["from scratch", "train_multiview"])

# %% tags=["remove-cell"]
bound_diff = float(np.max(np.abs(comparison["from scratch"] - comparison["train_multiview"])))
glue("ch3b_bound_diff", f"{bound_diff:.1e}", display=False)
glue("ch3b_param_diff", f"{max_diff:.1e}", display=False)
glue(
    "ch3b_same",
    "the two agree" if bound_diff < 1e-5 and max_diff < 1e-5 else "the two do NOT agree",
    display=False,
)

# %% [markdown]
# The largest difference between the two columns is {glue:text}`ch3b_bound_diff` nats, and the
# largest difference between any trained parameter of $g_1$, $g_2$ or $W$ is
# {glue:text}`ch3b_param_diff`: {glue:text}`ch3b_same` to floating-point precision.
# `tests/test_scratch.py` asserts this on every test run, so the loop above cannot drift from the
# library without a test failing.
#
# ## Summary
#
# - The method is four equations: codes, scores $S_{ij} = f(g_1(x^{(1)}_i), g_2(x^{(2)}_j))$,
#   $\hat I_{NCE}(S)$ as a $K$-way classification of each row, and gradient ascent on it.
# - The library's trainer runs exactly this step; everything else in it is bookkeeping.
#
# ## Exercises
#
# :::{exercise} ★ The starting value
# :label: ex-3b-start
#
# Show that if all scores of a row are equal, $S_{ij} = c_i$ for all $j$, the row contributes
# exactly $-\log K$ to the sum and $\hat I_{NCE}(S) = 0$. Why does the loop above start close to,
# but not exactly at, 0?
# :::
#
# :::{solution} ex-3b-start
# :class: dropdown
#
# With $S_{ij} = c_i$, $S_{ii} - \log\sum_j e^{S_{ij}} = c_i - \log(K e^{c_i}) = -\log K$, so the
# average is $-\log K$ and $\hat I_{NCE} = 0$. At initialisation the Glorot-initialised encoders and
# $W$ give scores that are random but nearly unrelated to whether a pair is positive, so each row is
# close to — not exactly — constant in the sense that matters: the diagonal is no larger than a
# typical entry. The first batch's value, {glue:text}`ch3b_first` nats, is that small random
# deviation from 0; it can be slightly negative because a random diagonal entry can sit below the
# row's log-mean-exp.
# :::
#
# :::{exercise} ★★ Rows or columns
# :label: ex-3b-columns
#
# Equation 3 of the paper normalises over the $y_j$ of each row, as the loop above does; its §4 and
# App. D normalise over the $x_j$ instead (a softmax down each *column* of $S$, chapter 7). Is the
# column version also a lower bound on the MI between the codes? Compute both on one test batch of
# the trained models and explain the difference.
# :::
#
# ````{solution-start} ex-3b-columns
# :class: dropdown
# ````
#
# Yes: the column version is InfoNCE with the roles of the two variables swapped (pick the top half
# that goes with a given bottom half), so the proof of chapter 2 applies and it is a lower bound
# for *every* critic, also at most $\log K$. But the two are different functions of $S$. The row
# softmax is unchanged when a function $c(x^{(1)}_i)$ is added to row $i$; the column softmax is
# unchanged when $c(x^{(2)}_j)$ is added to column $j$. Training with rows leaves the critic free to
# give each top half its own offset, and such offsets make the column classification harder
# (within a column they favour whichever top half has the largest offset). Nothing in the row
# objective discourages them, so after training with rows the column value can be far below the
# row value — even negative, a valid but useless lower bound:
# %%
with torch.no_grad():
    idx = torch.arange(BATCH)
    S = g1(test_views.top[idx]) @ W(g2(test_views.bottom[idx])).T
    log_k = np.log(BATCH)
    rows = (S.diagonal() - torch.logsumexp(S, dim=1)).mean().item() + log_k
    cols = (S.diagonal() - torch.logsumexp(S, dim=0)).mean().item() + log_k
print(f"softmax over rows (eq. 3): {rows:.4f} nats; over columns (§4, App. D): {cols:.4f} nats")

# %% [markdown]
# ````{solution-end}
# ````
#
# :::{exercise} ★★ What the comparison needs
# :label: ex-3b-same
#
# List everything that must coincide for the comparison table to agree to floating-point
# precision. Which of these would break it: (a) building $g_2$ before $g_1$; (b) Adam's default
# $\epsilon = 10^{-8}$; (c) evaluating more often in `train_multiview`?
# :::
#
# :::{solution} ex-3b-same
# :class: dropdown
#
# The initial parameters (same seed, same layers created and initialised in the same order, Glorot
# weights and zero biases), the batch indices (the same generator stream and epoch permutations),
# the loss and its gradient (the same $\hat I_{NCE}$ formula) and the optimiser (Adam with
# $\epsilon = 10^{-7}$, learning rate $10^{-4}$, and the same kernel: PyTorch's per-parameter
# loop, which is why the comparison sets `MI_TUTORIAL_FUSED_ADAM=0`). (a) breaks it: the global RNG is consumed in
# construction order, so $g_1$ and $g_2$ would swap initialisations. (b) breaks it, slightly: a
# different $\epsilon$ changes every update by a tiny amount, which grows over the steps. (c) does
# not: evaluations draw from a separate generator (`STREAM_EVAL`) and do not update the parameters,
# so the training trajectory is unchanged (this is the determinism guarantee of
# `mi_tutorial.training`).
# :::
