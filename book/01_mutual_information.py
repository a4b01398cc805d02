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
# # Mutual information, and why it is hard to estimate
#
# Every method this book studies claims to *maximize mutual information* between two views of an
# image. Before asking whether that claim explains their success — the question of
# {cite:t}`tschannen2020mutual` — we need to be precise about what mutual information (MI) is, which
# properties make it attractive, and which make it treacherous. This chapter covers the definition
# in two equivalent forms, its invariance under invertible maps, the data-processing inequality, the
# closed form for correlated Gaussians that later chapters use as ground truth, and the statistical
# reason why no estimator can certify a large MI from a modest sample.

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt
import numpy as np
import torch
from myst_nb import glue

from mi_tutorial.report.plotting import use_book_style
from mi_tutorial.synthetic import gaussian_mi, gaussian_pairs, rho_for_mi

use_book_style()

# %% tags=["parameters"]
PROFILE = "book"  # "smoke" | "book" | "paper": sample sizes below scale with it
SEED = 0

# %% tags=["remove-cell"]
from mi_tutorial.config import check_profile, check_seeds_parameter

PROFILE = check_profile(PROFILE)  # `papermill -p PROFILE bogus` stops here, with the choices
SEED = check_seeds_parameter([SEED])[0]

# %% tags=["remove-cell"]
N_SAMPLES = {"smoke": 20_000, "book": 200_000, "paper": 2_000_000}[PROFILE]
generator = torch.Generator().manual_seed(SEED)

# %% [markdown]
# ## Definition
#
# For random variables $X$ and $Y$ with joint density $p(x, y)$ and marginals $p(x)$, $p(y)$, the
# mutual information is the Kullback–Leibler divergence between the joint distribution and the
# product of its marginals {cite:p}`cover2006elements`:
#
# $$
# I(X; Y) = D_{\mathrm{KL}}\big(p(x, y) \,\|\, p(x)\,p(y)\big)
#         = \mathbb{E}_{p(x, y)}\left[\log \frac{p(x, y)}{p(x)\,p(y)}\right].
# $$ (eq-mi-kl)
#
# It is zero exactly when $X$ and $Y$ are independent, and it is symmetric. Writing
# $\log \frac{p(x,y)}{p(x)p(y)} = \log p(x \mid y) - \log p(x)$ and taking expectations gives the
# entropy form
#
# $$
# I(X; Y) = H(X) - H(X \mid Y) = H(Y) - H(Y \mid X),
# $$ (eq-mi-entropy)
#
# the reduction in uncertainty about one variable once the other is known. For continuous
# variables $H$ is the differential entropy, which can be negative, but the difference in
# {eq}`eq-mi-entropy` is always non-negative. Throughout the book we measure information in
# **nats** (natural logarithms).
#
# The quantity inside the expectation, the *pointwise* log density ratio
# $\log \frac{p(x,y)}{p(x)p(y)}$, will reappear constantly: every variational estimator of
# chapter 2 tries to learn it with a neural network called a {term}`critic`.

# %% [markdown]
# ## Correlated Gaussians: MI in closed form
#
# Let $x \sim \mathcal N(0, I_d)$ and $y = \rho x + \sqrt{1-\rho^2}\,\eta$ with independent
# $\eta \sim \mathcal N(0, I_d)$. Each coordinate pair is a bivariate Gaussian with correlation
# $\rho$, the $d$ pairs are independent, and MI adds over independent pairs, so
#
# $$
# I(X; Y) = -\frac{d}{2}\,\log\!\left(1 - \rho^2\right).
# $$ (eq-gauss-mi)
#
# This is the ground truth of the estimator benchmarks in chapter 2b {cite:p}`poole2019variational`.
# The library implements it, and its inverse $\rho(I) = \sqrt{1 - e^{-2I/d}}$:
#
# ```{literalinclude} ../mi_tutorial/synthetic.py
# :pyobject: gaussian_mi
# ```
#
# A Monte-Carlo check: for a Gaussian pair the log density ratio is available in closed form, so
# averaging it over samples must recover {eq}`eq-gauss-mi`.


# %%
def gaussian_log_ratio(x: torch.Tensor, y: torch.Tensor, rho: float) -> torch.Tensor:
    """log p(y | x) - log p(y) for the correlated-Gaussian pair, summed over coordinates."""
    var = 1.0 - rho**2
    log_cond = -0.5 * ((y - rho * x) ** 2 / var + np.log(2 * np.pi * var))
    log_marg = -0.5 * (y**2 + np.log(2 * np.pi))
    return (log_cond - log_marg).sum(dim=1)


dim, target_mi = 20, 4.0
rho = rho_for_mi(target_mi, dim)
x, y = gaussian_pairs(N_SAMPLES, dim, rho, generator=generator)
ratios = gaussian_log_ratio(x.double(), y.double(), rho)
mc_mean = ratios.mean().item()
mc_se = (ratios.std() / np.sqrt(N_SAMPLES)).item()
print(
    f"d = {dim}, rho = {rho:.4f}: closed form {gaussian_mi(rho, dim):.4f} nats, "
    f"Monte Carlo {mc_mean:.4f} ± {mc_se:.4f} (n = {N_SAMPLES:,})"
)
glue("ch1_rho", float(rho), display=False)
glue("ch1_mc_mean", float(mc_mean), display=False)
glue("ch1_mc_se", float(mc_se), display=False)

# %% [markdown]
# With $d = 20$ coordinates, a correlation of only $\rho =$ {glue:text}`ch1_rho:.3f` per coordinate
# already carries 4 nats; the Monte-Carlo average gives {glue:text}`ch1_mc_mean:.3f` ±
# {glue:text}`ch1_mc_se:.3f` nats. {numref}`fig-gauss-mi` shows how quickly MI grows with the
# correlation and with the dimension.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Mutual information of $d$ independent Gaussian pairs with correlation $\\rho$ (equation {eq}`eq-gauss-mi`). The dotted line is $\\log 128 \\approx 4.85$ nats, the most an InfoNCE estimate can ever report with a batch of 128 (chapter 2).", "name": "fig-gauss-mi"}}
rhos = np.linspace(0.0, 0.995, 400)
fig, ax = plt.subplots()
for d in (1, 5, 20):
    ax.plot(rhos, [gaussian_mi(float(r), d) for r in rhos], label=f"d = {d}")
ax.axhline(np.log(128), color="0.3", ls=":", lw=1)
ax.set(xlabel="correlation per coordinate ρ", ylabel="I(X; Y) [nats]", ylim=(0, 12))
ax.legend()
plt.show()

# %% [markdown]
# ## Invariance under invertible maps
#
# If $u = f_1(x)$ and $v = f_2(y)$ with $f_1$, $f_2$ smooth and invertible, the change-of-variables
# formula multiplies the joint density by $|\det J_{f_1}(x)|^{-1} |\det J_{f_2}(y)|^{-1}$ and each
# marginal by its own factor. In the ratio of {eq}`eq-mi-kl` the factors cancel, so
#
# $$
# I\big(f_1(X); f_2(Y)\big) = I(X; Y).
# $$ (eq-mi-invariance)
#
# This is why MI is attractive for representation learning — it does not care how information is
# encoded — and also, as the paper stresses, why it cannot be the whole story: an encoder that merely
# scrambles its input invertibly keeps *all* the information and may still be useless to a linear
# classifier (chapters 4a and 4b).
#
# The true MI does not move under such maps, but **estimates** computed from samples do. As a first
# taste, take a naive plug-in estimate (bin the samples on a 30 × 30 grid and apply
# {eq}`eq-mi-kl` to the histogram) before and after applying the invertible maps
# $f_1(x) = x + x^3/3$ and $f_2(y) = e^{y}$ to a one-dimensional Gaussian pair.


# %%
def histogram_mi(a: np.ndarray, b: np.ndarray, bins: int = 30) -> float:
    """Plug-in MI of a 2-d histogram with equal-width bins (a biased, naive estimator)."""
    joint, _, _ = np.histogram2d(a, b, bins=bins)
    p = joint / joint.sum()
    pa, pb = p.sum(axis=1, keepdims=True), p.sum(axis=0, keepdims=True)
    nz = p > 0
    return float((p[nz] * np.log(p[nz] / (pa @ pb)[nz])).sum())


rho_1d = 0.8
x1, y1 = gaussian_pairs(N_SAMPLES, 1, rho_1d, generator=generator)
x1, y1 = x1.numpy().ravel(), y1.numpy().ravel()
u1, v1 = x1 + x1**3 / 3, np.exp(y1)
true_1d = gaussian_mi(rho_1d, 1)
plugin_xy, plugin_uv = histogram_mi(x1, y1), histogram_mi(u1, v1)
print(
    f"true MI {true_1d:.3f} nats; histogram estimate on (x, y): {plugin_xy:.3f}; "
    f"on (f1(x), f2(y)): {plugin_uv:.3f}"
)
glue("ch1_true_1d", float(true_1d), display=False)
glue("ch1_plugin_xy", float(plugin_xy), display=False)
glue("ch1_plugin_uv", float(plugin_uv), display=False)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The same 2,000 sample pairs before (left) and after (right) the invertible maps $f_1(x) = x + x^3/3$, $f_2(y) = e^y$. Both clouds carry exactly the same mutual information.", "name": "fig-invariance"}}
fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.3))
axes[0].scatter(x1[:2000], y1[:2000], s=3, alpha=0.4)
axes[0].set(xlabel="x", ylabel="y")
axes[1].scatter(u1[:2000], v1[:2000], s=3, alpha=0.4, color="C1")
axes[1].set(
    xlabel="f₁(x)",
    ylabel="f₂(y)",
    xlim=np.percentile(u1, [0.5, 99.5]),
    ylim=np.percentile(v1, [0.0, 99.5]),
)
fig.tight_layout()
plt.show()

# %% [markdown]
# The true MI is {glue:text}`ch1_true_1d:.3f` nats in both panels of {numref}`fig-invariance`. The
# histogram estimate is {glue:text}`ch1_plugin_xy:.3f` nats on $(x, y)$ but
# {glue:text}`ch1_plugin_uv:.3f` nats on $(f_1(x), f_2(y))$: the estimator's bins suit one
# parametrisation better than the other. Neural estimators have the same weakness in subtler form —
# their critics are better at some parametrisations than others — and the paper turns this weakness
# into its central observation.

# %% [markdown]
# ## The data-processing inequality
#
# If $X \to Y \to Z$ form a Markov chain ($Z$ depends on $X$ only through $Y$), processing cannot
# create information about $X$ {cite:p}`cover2006elements`:
#
# $$
# I(X; Z) \le I(X; Y).
# $$ (eq-dpi)
#
# Two consequences matter for this book. First, a representation $g(X)$ never holds more
# information about anything than $X$ itself. Second, applying the inequality twice shows that the
# multi-view objective of chapter 3, $I(g_1(X^{(1)}); g_2(X^{(2)}))$, is a lower bound on the
# information the pair of representations keeps about the whole image,
# $I(X; (g_1(X^{(1)}), g_2(X^{(2)})))$ — Proposition 1 of {cite:t}`tschannen2020mutual`, which is how
# the multi-view methods connect to the InfoMax principle {cite:p}`linsker1988self`.
#
# A Gaussian chain makes {eq}`eq-dpi` concrete: with $X \sim \mathcal N(0, 1)$,
# $Y = X + \mathcal N(0, s_1^2)$ and $Z = Y + \mathcal N(0, s_2^2)$ we have
# $I(X;Y) = \tfrac12 \log(1 + 1/s_1^2)$ and $I(X;Z) = \tfrac12\log\big(1 + 1/(s_1^2 + s_2^2)\big)$.
# Each extra processing step adds noise and can only lose information ({numref}`fig-dpi`).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Data-processing inequality in a Gaussian chain $X \\to Y \\to Z$ with $s_1 = 0.3$: the information $Z$ keeps about $X$ never exceeds what $Y$ had, and falls as the second noise level $s_2$ grows.", "name": "fig-dpi"}}
s1 = 0.3
s2 = np.linspace(0.0, 2.0, 200)
fig, ax = plt.subplots()
ax.plot(s2, np.full_like(s2, 0.5 * np.log(1 + 1 / s1**2)), label="I(X; Y)")
ax.plot(s2, 0.5 * np.log(1 + 1 / (s1**2 + s2**2)), label="I(X; Z)")
ax.set(xlabel="second noise level s₂", ylabel="mutual information [nats]", ylim=(0, None))
ax.legend()
plt.show()

# %% [markdown]
# ## Why estimating MI from samples is hard
#
# In representation learning we never know the densities; we only see samples, typically a batch
# of $K$ pairs. {cite:t}`mcallester2020formal` proved a sobering limit: any *distribution-free*
# lower bound on MI (one that is valid with high confidence whatever the unknown distribution) that
# is computed from $N$ samples cannot exceed roughly $\log N$. To certify $I$ nats one needs on the
# order of $e^{I}$ samples. Since the densities are unknown, a bound must stay valid even if the
# dependence is hidden in a part of the space the sample has not visited — and with $N$ samples one
# can only "rule out" events of probability about $1/N$.
#
# The estimators used by the methods we study run into this wall in a very visible way: InfoNCE,
# computed on a batch of $K$ pairs, can never report more than $\log K$ (chapter 2). With the
# paper's batch of 128 that is {glue:text}`ch1_log128:.2f` nats. The true MI between the two halves
# of an MNIST digit is only known to be finite (footnote 6 of the paper): whether it lies above the
# ceiling, and by how much, is not known, and a bound capped at $\log K$ could not tell us. {numref}`fig-samples` shows
# how fast the required sample size grows.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Order of the sample size needed before a distribution-free lower bound can certify $I$ nats ($N \\approx e^{I}$). Dotted: batch sizes 128 and 512 used in the paper, whose InfoNCE ceilings are $\\log 128 \\approx 4.85$ and $\\log 512 \\approx 6.24$ nats.", "name": "fig-samples"}}
mi_grid = np.linspace(0, 20, 200)
fig, ax = plt.subplots()
ax.semilogy(mi_grid, np.exp(mi_grid))
for k in (128, 512):
    ax.axhline(k, color="0.4", ls=":", lw=1)
    ax.text(0.3, k * 1.3, f"K = {k}", fontsize=9, color="0.3")
ax.set(xlabel="mutual information to certify [nats]", ylabel="samples needed (order)")
plt.show()
glue("ch1_log128", float(np.log(128)), display=False)

# %% [markdown]
# So the quantity the methods *report* is a loose lower bound that saturates, not the MI itself.
# Whether maximizing such a bound is what makes a representation good is the paper's question, and
# the rest of this book answers it with experiments.
#
# ## Summary
#
# - MI is the KL divergence between the joint and the product of marginals
#   ({eq}`eq-mi-kl`), equivalently a reduction of entropy ({eq}`eq-mi-entropy`).
# - It is invariant under invertible maps of either variable ({eq}`eq-mi-invariance`) — estimates
#   computed from samples are not.
# - It cannot increase under processing ({eq}`eq-dpi`); the multi-view objective is therefore a lower
#   bound on an InfoMax objective.
# - Correlated Gaussians give exact ground truth ({eq}`eq-gauss-mi`).
# - A distribution-free high-confidence lower bound from $N$ samples cannot exceed about $\log N$.
#
# ## Exercises
#
# :::{exercise} ★ The Gaussian formula
# :label: ex-1-gauss
#
# Derive {eq}`eq-gauss-mi` from the entropy form {eq}`eq-mi-entropy`, using the differential
# entropy of a Gaussian, $\tfrac12 \log\big((2\pi e)^d \det \Sigma\big)$.
# :::
#
# :::{solution} ex-1-gauss
# :class: dropdown
#
# $Y$ is standard normal, so $H(Y) = \tfrac d2 \log(2\pi e)$. Given $X = x$,
# $Y = \rho x + \sqrt{1-\rho^2}\,\eta$ is Gaussian with covariance $(1-\rho^2) I_d$ whatever $x$
# is, so $H(Y \mid X) = \tfrac12\log\big((2\pi e)^d (1-\rho^2)^d\big)$. The difference is
# $I(X;Y) = H(Y) - H(Y\mid X) = -\tfrac d2 \log(1-\rho^2)$. The $2\pi e$ terms cancel, which is
# why MI, unlike differential entropy, does not depend on the units of $Y$.
# :::
#
# :::{exercise} ★★ Bins and parametrisations
# :label: ex-1-bins
#
# Evaluate `histogram_mi` on $(x, y)$ and on $(f_1(x), f_2(y))$ for several bin counts. Which
# parametrisation is estimated more accurately, and why? Does any bin count get both right?
# :::
#
# ````{solution-start} ex-1-bins
# :class: dropdown
# ````
#
# The cell below prints both estimates next to the truth. With equal-width bins the Gaussian pair
# is estimated far better: its samples fill the grid evenly, while $e^{y}$ and $x + x^3/3$ are
# heavy-tailed, so a few extreme samples stretch the range and most of the mass falls into a few
# bins, which discards the dependence inside them (the estimate is too low). More bins help the
# transformed pair but add the upward bias of a plug-in estimate with many sparsely filled cells.
# No single equal-width grid suits both parametrisations — the point of this section: the MI is the
# same, the estimator's behaviour is not.

# %%
for bins in (10, 30, 100, 300):
    print(
        f"{bins:4d} bins: (x, y) {histogram_mi(x1, y1, bins):.3f}, "
        f"(f1(x), f2(y)) {histogram_mi(u1, v1, bins):.3f}   (true {true_1d:.3f} nats)"
    )

# %% [markdown]
# ````{solution-end}
# ````
#
# :::{exercise} ★ How many samples for a Monte-Carlo check?
# :label: ex-1-mc
#
# The Monte-Carlo check above averages $n$ log density ratios. How does its standard error scale
# with $n$, and what does it become at the `smoke` profile's $n$ = 20,000? Check with subsamples.
# :::
#
# ````{solution-start} ex-1-mc
# :class: dropdown
# ````
#
# The standard error is $\mathrm{sd}\big(\log\frac{p(x,y)}{p(x)p(y)}\big)/\sqrt n$, so ten times
# fewer samples give a $\sqrt{10} \approx 3.2$ times wider error bar; the average stays unbiased. The
# cell below recomputes the error bar on the first $n$ ratios for several $n$:

# %%
for n in sorted({2_000, 20_000, N_SAMPLES}):
    sub = ratios[:n]
    print(f"n = {n:>9,}: {sub.mean().item():.4f} ± {(sub.std() / np.sqrt(n)).item():.4f} nats")

# %% [markdown]
# ````{solution-end}
# ````
#
# :::{exercise} ★★ MI of a deterministic pair
# :label: ex-1-finite
#
# Let $Y = X$ with $X \sim \mathcal N(0, 1)$. What is $I(X; Y)$? Why is the MI between the top and
# bottom halves of an MNIST digit nevertheless finite (footnote 6 of the paper)?
# :::
#
# :::{solution} ex-1-finite
# :class: dropdown
#
# Infinite: {eq}`eq-gauss-mi` with $\rho \to 1$ diverges, and in general a continuous $Y$ that is
# a deterministic function of $X$ has $H(Y \mid X) = -\infty$. Two halves of a digit are not
# functions of each other — the same top half is completed in many ways — so the conditional
# density $p(x^{(2)} \mid x^{(1)})$ is spread out and the MI is finite. Finite is all we know,
# though: nothing tells us how large it is, and by the result of {cite:t}`mcallester2020formal` a
# batch of 128 pairs could not certify more than about $\log 128$ nats of it anyway.
# :::
