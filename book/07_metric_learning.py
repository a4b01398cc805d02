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
# # The metric-learning view
#
# The previous chapters found that the *value* of an MI bound says little about how useful a
# representation is. {cite:t}`tschannen2020mutual` (§4) suggest a different reading of what the
# multi-view methods optimize: with a shared encoder and an inner-product critic, maximizing
# $I_{NCE}$ is exactly minimizing the multi-class K-pair loss of deep metric learning
# {cite:p}`sohn2016improved`. This chapter derives that identity and checks it on MNIST batches,
# then runs an experiment that the paper's derivation suggests but that the paper does not run:
# the same encoder trained with InfoNCE and a bilinear critic, with the K-pair loss, and with a
# triplet loss. The next chapter ({doc}`07b_noniid_negatives`) reproduces the paper's only
# experiment of §4 (Fig. 4c), on negatives that are not independent.

# %% tags=["remove-cell"]
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import display
from myst_nb import glue

from mi_tutorial import paper
from mi_tutorial.critics import make_critic
from mi_tutorial.data import digits_views, load_views
from mi_tutorial.encoders import make_encoder
from mi_tutorial.estimators import TRIPLET_MARGIN, infonce, k_pair_loss
from mi_tutorial.paper.common import ROW_NORMALISATION
from mi_tutorial.report import metric_learning as report
from mi_tutorial.report.plotting import use_book_style

use_book_style()

# %% tags=["parameters"]
PROFILE = "book"  # "smoke" | "book" | "paper"
SEEDS = None  # None: the default seeds of the profile
USE_CACHE = True  # reuse runs already in the results store

# %% tags=["remove-cell"]
from mi_tutorial.config import check_profile, check_seeds_parameter

PROFILE = check_profile(PROFILE)  # `papermill -p PROFILE bogus` stops here, with the choices
SEEDS = check_seeds_parameter(SEEDS)


# %% tags=["remove-cell"]
ML_CONFIGS = paper.get_configs("metric-learning", PROFILE)
K = ML_CONFIGS[0].batch_size
LOADER = load_views if ML_CONFIGS[0].dataset == "mnist" else digits_views

# %% [markdown]
# ## From triplets to K-pair losses
#
# Deep metric learning trains an embedding $\phi$ so that distances reflect similarity. Its
# classic objective is the **triplet loss** {cite:p}`schroff2015facenet`: for an *anchor* $x$, a
# *positive* $y$ (something that should be close to $x$) and a *negative* $z$ (something that
# should not), with $d(a, b) = \lVert \phi(a) - \phi(b) \rVert_2$ and a margin $m > 0$,
#
# $$
# L_{triplet}(x, y, z) = \max\big(0,\; m + d(x, y)^2 - d(x, z)^2\big).
# $$ (eq-triplet)
#
# The loss vanishes once the positive is closer than the negative by the margin. Each anchor is
# compared with a *single* negative, so most triplets quickly become uninformative, and much of the
# metric-learning literature is about *mining* hard negatives. In supervised metric learning
# positives share a class label; the self-supervised methods of this book build them from the data
# itself — here, the two halves of the same digit.
#
# {cite:t}`sohn2016improved` proposed to compare each anchor with *many* negatives at once. Take a
# batch of $K$ pairs $(x_i, y_i)$ and use, for anchor $x_i$, its own $y_i$ as the positive and the
# other $K - 1$ elements $y_j$ of the batch as negatives. With similarities
# $s_{ij} = \phi(x_i)^\top \phi(y_j)$, the **multi-class K-pair loss** (Sohn calls it "N-pair") is
#
# $$
# L_{K\text{-pair-mc}} = \frac{1}{K} \sum_{i=1}^K
#     \log\Big(1 + \sum_{j \ne i} e^{s_{ij} - s_{ii}}\Big).
# $$ (eq-kpair)
#
# Each term is a smooth version of "the positive must beat every negative": it is small only when
# $s_{ii}$ exceeds all $s_{ij}$, and every negative contributes a gradient in proportion to how
# close it comes. With $K = 2$ and the hinge replaced by a softplus, it is a triplet loss on the
# inner-product similarity.

# %% [markdown]
# ## InfoNCE is log K minus the K-pair loss
#
# Write the critic's scores on a batch as the $K \times K$ matrix $S_{ij} = f(x_i, y_j)$, with the
# positives on the diagonal. The InfoNCE bound {cite:p}`oord2018representation` used throughout
# the book is
#
# $$
# I_{NCE} = \log K + \frac{1}{K}\sum_{i=1}^K \Big(S_{ii} - \log \sum_{j=1}^K e^{S_{ij}}\Big).
# $$ (eq-ml-infonce)
#
# Take one term and pull $S_{ii}$ inside the logarithm:
#
# $$
# S_{ii} - \log \sum_{j} e^{S_{ij}} = -\log \sum_{j} e^{S_{ij} - S_{ii}}
#     = -\log\Big(1 + \sum_{j \ne i} e^{S_{ij} - S_{ii}}\Big),
# $$
#
# because the $j = i$ term of the sum is $e^0 = 1$. Averaging over $i$,
#
# $$
# I_{NCE} = \log K - \frac{1}{K}\sum_{i=1}^K \log\Big(1 + \sum_{j \ne i} e^{S_{ij} - S_{ii}}\Big).
# $$ (eq-nce-kpair)
#
# This is pure algebra and holds for *every* score matrix. (A difference of convention: §4 and
# App. C, D of the paper normalise over the $x_j$ — a softmax down each *column* of $S$ — whereas
# this book keeps the row form of the paper's equation 3 throughout. The identity holds for either
# with rows and columns exchanged; the two values differ on a batch, see exercise
# {ref}`ex-3b-columns`.) It becomes a statement about metric
# learning once the critic has the K-pair form: if both views go through **one shared encoder**
# $g = g_1 = g_2$ and the critic is the **inner product**, $S_{ij} = g(x_i)^\top g(y_j)$, then the
# sum in {eq}`eq-nce-kpair` is exactly {eq}`eq-kpair` with $\phi = g$, and
#
# $$
# I_{NCE} = \log K - L_{K\text{-pair-mc}}.
# $$ (eq-nce-equals-kpair)
#
# Maximizing InfoNCE *is* minimizing Sohn's loss; the constant $\log K$ is also why $I_{NCE}$ can
# never exceed $\log K$ (the loss is non-negative). The library computes both sides from the same
# score matrix; note that `k_pair_loss` is written with a `logsumexp` over the off-diagonal
# entries, not as `log K - infonce`, so comparing them is a real check:
#
# ```{literalinclude} ../mi_tutorial/estimators.py
# :pyobject: infonce
# ```
#
# ```{literalinclude} ../mi_tutorial/estimators.py
# :pyobject: k_pair_loss
# ```

# %% [markdown]
# ### The identity, executed
#
# We take the encoder of the experiments below (an MLP, initialized as in the rest of the book),
# share it between the two views, and evaluate both sides of {eq}`eq-nce-equals-kpair` on real
# batches of $K$ image halves. The right-hand side is computed independently, straight from the
# embeddings with Sohn's formula {eq}`eq-kpair`, in double precision.


# %%
def sohn_k_pair_loss(phi_x: np.ndarray, phi_y: np.ndarray) -> float:
    """Sohn's multi-class K-pair loss written from the embeddings, one anchor at a time."""
    k = len(phi_x)
    total = 0.0
    for i in range(k):
        s = phi_x[i] @ phi_y.T  # similarities of anchor i to every y_j
        others = np.delete(s, i) - s[i]
        top = max(others.max(), 0.0)  # stable log(1 + sum exp(.))
        total += top + np.log(np.exp(-top) + np.exp(others - top).sum())
    return total / k


config = ML_CONFIGS[0]
views = LOADER("test")
with torch.random.fork_rng(devices=[]):
    torch.manual_seed(0)
    encoder = make_encoder("mlp", input_dim=views.top.shape[1], **dict(config.encoder_kwargs))
critic = make_critic("inner", encoder.out_dim)
order = torch.randperm(len(views), generator=torch.Generator().manual_seed(0))
n_batches = min(10, len(views) // K)
rows = []
with torch.no_grad():
    for b in range(n_batches):
        idx = order[b * K : (b + 1) * K]
        phi_x, phi_y = encoder(views.top[idx]), encoder(views.bottom[idx])  # g1 = g2
        scores = critic(phi_x, phi_y)  # float32, S_ij = g(x_i)^T g(y_j)
        nce = infonce(scores).item()
        rows.append(
            {
                "batch": b,
                "I_NCE": nce,
                "log K - L (library, float32)": math.log(K) - k_pair_loss(scores).item(),
                "log K - L (Sohn, float64)": math.log(K)
                - sohn_k_pair_loss(phi_x.double().numpy(), phi_y.double().numpy()),
                "I_NCE (float64)": infonce(critic(phi_x.double(), phi_y.double())).item(),
            }
        )
identity = pd.DataFrame(rows).set_index("batch")
diff32 = float((identity["I_NCE"] - identity["log K - L (library, float32)"]).abs().max())
diff64 = float((identity["I_NCE (float64)"] - identity["log K - L (Sohn, float64)"]).abs().max())
print(
    f"{n_batches} batches of K = {K}: max |I_NCE - (log K - L)| = {diff32:.2e} (float32), "
    f"{diff64:.2e} (float64, Sohn's formula from the embeddings)"
)
display(identity.round(6))
glue("ch7_k", K, display=False)
glue("ch7_n_batches", n_batches, display=False)
glue("ch7_diff32", diff32, display=False)
glue("ch7_diff64", diff64, display=False)
glue("ch7_eps32", float(np.finfo(np.float32).eps), display=False)
glue("ch7_nce_min", float(identity["I_NCE"].min()), display=False)
glue("ch7_nce_max", float(identity["I_NCE"].max()), display=False)

# %% [markdown]
# On {glue:text}`ch7_n_batches` batches of $K =$ {glue:text}`ch7_k` halves, the untrained shared
# encoder gives $I_{NCE}$ between {glue:text}`ch7_nce_min:.3f` and {glue:text}`ch7_nce_max:.3f`
# nats, and the two sides of {eq}`eq-nce-equals-kpair` differ by at most
# {glue:text}`ch7_diff32:.1e` in single precision (machine epsilon
# {glue:text}`ch7_eps32:.1e`) and {glue:text}`ch7_diff64:.1e` in double precision with Sohn's
# formula evaluated from the embeddings — rounding error, nothing else.
#
# ### Asymmetric variants
#
# The methods the paper discusses do not quite use {eq}`eq-kpair`. CPC, DIM and CMC encode the two
# views with **different encoders** $g_1 \ne g_2$, and most use a **bilinear critic**
# $f(x, y) = x^\top W y$ — the default of this book. The identity {eq}`eq-nce-kpair` still holds
# with $S_{ij} = g_1(x_i)^\top W g_2(y_j) = \phi_1(x_i)^\top \phi_2(y_j)$ for
# $\phi_1 = g_1$ and $\phi_2 = W g_2$: an *asymmetric* K-pair loss, with one embedding per view
# (the bilinear matrix is just an extra linear layer on one branch). Negatives are always taken
# from the $y$ side, because the softmax in {eq}`eq-ml-infonce` runs over each row; averaging the
# row and column versions gives the symmetric losses of later methods. Either way the learning
# signal is the same as in metric learning: pull each positive pair together relative to $K - 1$
# negatives, in a space where the critic — an inner product — measures similarity. The paper
# argues that this view explains two observations the MI view does not: simple critics work
# better (chapter 5), and the choice of negatives matters. The experiment below tests the
# first consequence of the identity; {doc}`07b_noniid_negatives` takes up the negatives.

# %% [markdown]
# ## An experiment the derivation suggests
#
# If the metric-learning view is right, the details that distinguish "MI maximization" from
# "metric learning" should matter little, and the number of negatives per anchor should matter.
# We train the same MLP encoder (392 → 300 → 300 → 100, as in chapter 5) on the same MNIST halves
# with three objectives, and probe $g_1$ with the paper's linear classifier:
#
# - **(a)** InfoNCE with separate encoders $g_1, g_2$ and a bilinear critic — the paper's setup;
# - **(b)** InfoNCE with a shared encoder $g_1 = g_2$ and the inner-product critic — by
#   {eq}`eq-nce-equals-kpair`, exactly the multi-class K-pair loss;
# - **(c)** the triplet loss {eq}`eq-triplet` with a shared encoder, on the parameter-free critic
#   $S_{ij} = -\lVert g(x_i) - g(y_j) \rVert^2$, with **one negative per anchor**: the next element
#   of the (randomly shuffled) batch, $y_{(i+1) \bmod K}$, and margin $m =$
#   {glue:text}`ch7_margin:.1f`. The embeddings are not normalized, so the margin only fixes their
#   scale.
#
# Variant (c) is not an MI estimator; for it the records report the InfoNCE bound of the same
# score matrix, which is still a valid lower bound on $I(g(X^{(1)}); g(X^{(2)}))$.
#
# ```{literalinclude} ../mi_tutorial/estimators.py
# :pyobject: triplet_loss
# ```
#
# ```{literalinclude} ../mi_tutorial/critics.py
# :pyobject: NegSquaredDistanceCritic
# ```

# %%
glue("ch7_margin", float(TRIPLET_MARGIN), display=False)
paper.print_deviations("metric-learning", PROFILE)
print(f"  - {ROW_NORMALISATION} (a convention of the whole book)")
ml = paper.run("metric-learning", PROFILE, seeds=SEEDS, force=not USE_CACHE, progress=False)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Linear-probe test accuracy of the MLP encoder $g_1$ trained with (a) InfoNCE and a bilinear critic with separate encoders, (b) InfoNCE with a shared encoder and inner-product critic (the K-pair loss) and (c) a triplet loss with one negative per anchor. Mean ± 1 SD over seeds where there are several.", "name": "fig-ml-accuracy"}}
report.plot_objectives(ml, K)
plt.show()

# %% tags=["hide-input"]
ml_table, ml_facts = report.objective_findings(ml, K)
display(ml_table.round(4))
for key, value in ml_facts.items():
    glue(f"ch7_{key}", value, display=False)

# %% [markdown]
# After {glue:text}`ch7_ml_step` steps (from {glue:text}`ch7_acc0:.3f` at initialization) the
# probe reaches {glue:text}`ch7_acc_a:.3f` for (a), {glue:text}`ch7_acc_b:.3f` for (b) and
# {glue:text}`ch7_acc_c:.3f` for (c), with {glue:text}`ch7_seeds_ml` seed(s) per variant. The
# paper's setup and its K-pair special case are {glue:text}`ch7_ab_text`
# ({glue:text}`ch7_gap_ab:+.2f` points for (b) − (a)); the triplet loss, which sees one negative
# per anchor instead of {glue:text}`ch7_k` − 1, ends {glue:text}`ch7_triplet_text`
# ({glue:text}`ch7_gap_triplet:+.2f` points against the better of the two). The best variant in
# this run is {glue:text}`ch7_best`. With a single seed and a shortened schedule these are
# indications, not settled differences; the exercises suggest how to firm them up.
#
# The right panel connects to the previous chapters. Variant (c) never optimizes a bound, yet the
# InfoNCE bound of its scores {glue:text}`ch7_bound_c_text` during training (from
# {glue:text}`ch7_bound_c_start:.2f` to {glue:text}`ch7_bound_c_end:.2f` nats); and in this run the
# final test bound {glue:text}`ch7_rank_text`. Comparing bounds across *critics* is in any case
# delicate: each variant's bound is computed with its own critic, so the numbers measure the
# critics as much as the representations.

# %% [markdown]
# ## Summary
#
# - For every score matrix, $I_{NCE} = \log K - \frac1K\sum_i \log(1 + \sum_{j\ne i}
#   e^{S_{ij}-S_{ii}})$ ({eq}`eq-nce-kpair`). With a shared encoder and an inner-product critic the
#   subtracted term is Sohn's multi-class K-pair loss ({eq}`eq-nce-equals-kpair`); numerically
#   the two sides agree to rounding error on MNIST batches.
# - Separate encoders and a bilinear critic give an asymmetric K-pair loss; the triplet loss is
#   the one-negative, hinge version of the same idea.
# - Trained on MNIST halves for the same number of steps, InfoNCE with a bilinear critic reaches
#   {glue:text}`ch7_acc_a:.3f`, its K-pair special case {glue:text}`ch7_acc_b:.3f` and the triplet
#   loss {glue:text}`ch7_acc_c:.3f` linear-probe accuracy — an experiment suggested by the
#   paper's derivation, which the paper itself does not run.
#
# ## Exercises
#
# :::{exercise} ★ Two candidates
# :label: ex-7-k2
#
# Show that for $K = 2$ each term of the K-pair loss {eq}`eq-kpair` is
# $\mathrm{softplus}(s_{ij} - s_{ii})$, and relate it to the triplet loss {eq}`eq-triplet` with
# the critic $-\lVert\phi(a) - \phi(b)\rVert^2$.
# :::
#
# :::{solution} ex-7-k2
# :class: dropdown
#
# With one negative $j \ne i$, $\log(1 + e^{s_{ij} - s_{ii}}) = \mathrm{softplus}(s_{ij} - s_{ii})$.
# With $s_{ab} = -d(a, b)^2$ this is $\mathrm{softplus}\big(d(x, y)^2 - d(x, z)^2\big)$: the triplet
# loss with the hinge $\max(0, m + \cdot)$ replaced by its smooth version $\log(1 + e^{\cdot})$,
# whose "margin" is implicit (the loss keeps decreasing as the gap grows, instead of vanishing at
# $m$). $I_{NCE}$ with $K = 2$ is then $\log 2$ minus this logistic triplet loss.
# :::
#
# :::{exercise} ★★ More negatives
# :label: ex-7-negatives
#
# $I_{NCE} \le \log K$. If variant (b) were repeated with $K \in \{32, 128, 512\}$, what would the
# bound do, and why can the representation still change when the bound is saturated?
# :::
#
# :::{solution} ex-7-negatives
# :class: dropdown
#
# The ceiling rises from $\log 32 \approx 3.47$ to $\log 512 \approx 6.24$ nats, and since the
# bound saturates near its ceiling within a few thousand steps on MNIST (chapters 4a–5), the
# reported value mostly tracks $\log K$. The gradient, however, is not the value: with more
# negatives each anchor is contrasted with more (and, by chance, harder) candidates, which changes
# what the encoder is pushed to separate. Whether that helps the linear probe is an empirical
# question on which the evidence is mixed (the paper cites results in both directions); the
# paper's footnote 5 reports consistent results for batch sizes up to 512 on its MNIST setup.
# :::
