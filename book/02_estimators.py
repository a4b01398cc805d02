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
# # Variational lower bounds
#
# The methods studied by {cite:t}`tschannen2020mutual` never compute mutual information: they
# maximise a *lower bound* on it, evaluated on a batch of $K$ pairs through a learned function, the
# critic. This chapter derives the two bounds the paper uses, $I_{NCE}$ and $I_{NWJ}$, places the
# other members of the family (TUBA, Donsker–Varadhan/MINE, Jensen–Shannon, the interpolated
# $I_\alpha$ bound and SMILE) next to them, proves the ceiling $I_{NCE} \le \log K$ that shapes
# every InfoNCE curve in the paper (their footnote 5), and derives a ground truth beyond Gaussians.
# The next chapter ({doc}`02b_estimator_benchmark`) *measures* the bounds where the truth is known.

# %% tags=["remove-cell"]
import math

import numpy as np
import torch
from scipy import stats

from mi_tutorial.paper.estimation import MONTE_CARLO_SAMPLES
from mi_tutorial.synthetic import DEFAULT_NU, rho_for, sample_task, student_t_mi

# %% tags=["parameters"]
PROFILE = "book"  # "smoke" | "book" | "paper"
SEEDS = None  # accepted for uniformity; this chapter trains nothing
USE_CACHE = True  # accepted for uniformity; this chapter trains nothing

# %% tags=["remove-cell"]
from mi_tutorial.config import check_profile, check_seeds_parameter

PROFILE = check_profile(PROFILE)  # `papermill -p PROFILE bogus` stops here, with the choices
SEEDS = check_seeds_parameter(SEEDS)


# %% [markdown]
# ## The setting: a critic and a batch
#
# We observe $K$ pairs $(x_i, y_i)$ drawn i.i.d. from $p(x, y)$ and want
# $I(X; Y) = \mathbb{E}_{p(x,y)}\big[\log \frac{p(y \mid x)}{p(y)}\big]$ (chapter 1). The density
# ratio is unknown, so a *critic* $f(x, y)$ — a neural network — is scored on all $K^2$
# combinations, giving the matrix $S_{ij} = f(x_i, y_j)$. The $K$ diagonal entries are samples of
# the joint distribution; the $K(K-1)$ off-diagonal entries pair $x_i$ with an unrelated $y_j$ and
# stand in for samples of $p(x)\,p(y)$. Every bound below is a function of $S$ only, and is
# maximised over the critic.
#
# ### From a Fenchel inequality: NWJ and TUBA
#
# For any $u > 0$ and $a > 0$, $\log u \le \frac{u}{a} + \log a - 1$ (the tangent of the concave
# logarithm at $a$). The Donsker–Varadhan representation
# $I(X;Y) = \sup_f \mathbb{E}_{p(x,y)}[f] - \log \mathbb{E}_{p(x)p(y)}[e^{f}]$
# {cite:p}`belghazi2018mine` combined with this inequality, applied with a baseline $a(x)$ to the
# inner expectation over $y$ for each $x$, gives Poole et al.'s *tractable unnormalised* bound
#
# $$
# I(X;Y) \;\ge\; I_{TUBA} = 1 + \mathbb{E}_{p(x,y)}\big[f(x,y) - \log a(x)\big]
#   - \mathbb{E}_{p(x)p(y)}\Big[\frac{e^{f(x,y)}}{a(x)}\Big].
# $$ (eq-tuba)
#
# With the constant baseline $a = e$ this is the bound of {cite:t}`nguyen2010estimating`, the
# paper's equation 4:
#
# $$
# I_{NWJ} = \mathbb{E}_{p(x,y)}[f(x,y)] - e^{-1}\,\mathbb{E}_{p(x)p(y)}\big[e^{f(x,y)}\big].
# $$ (eq-nwj)
#
# At the optimal critic $f^*(x, y) = 1 + \log \frac{p(y \mid x)}{p(y)}$ the second term equals 1
# and the bound is tight. The price is the
# exponential: the marginal term averages $e^{f}$, whose batch estimate has a variance that grows
# like $e^{I}$ once the critic is good. For a *fixed* critic $f$ the batch value is an unbiased
# estimate of $I_{NWJ}(f)$ — both terms are plain averages — but $I_{NWJ}(f) \le I$, so it is not an
# unbiased estimate of the MI; and it is very noisy at large MI.
# Keeping the logarithm instead of linearising it gives $I_{DV}$, the value MINE reports; it is
# tighter for a fixed critic, but the log of a batch mean is a biased estimate of the log of the
# expectation.
#
# ### From contrastive classification: InfoNCE
#
# The bound of {cite:t}`oord2018representation`, the paper's equation 3, takes a softmax over the
# $K$ candidates $y_j$ of each row:
#
# $$
# I_{NCE} = \mathbb{E}\left[\frac{1}{K}\sum_{i=1}^K
#   \log \frac{e^{f(x_i, y_i)}}{\frac{1}{K}\sum_{j=1}^K e^{f(x_i, y_j)}}\right],
# $$ (eq-nce)
#
# with optimal critic $f^*(x, y) = \log \frac{p(y \mid x)}{p(y)} + c(x)$ for any function $c$:
# the softmax over each row ignores a function of $x_i$ but not one of $y_j$ (exercise
# {ref}`ex-2-nce-critic`; the paper, citing {cite:t}`poole2019variational`, writes
# $\log p(y \mid x)$, which is optimal once $-\log p(y)$ is added).
# It follows from {eq}`eq-tuba` with the *batch* itself as baseline,
# $a(x_i; y_{1:K}) = \frac1K\sum_j e^{f(x_i, y_j)}$, averaged over which pair plays the positive
# {cite:p}`poole2019variational`. This baseline depends on all $K$ candidates, not on $x_i$ alone,
# so {eq}`eq-tuba` cannot be applied to one pair as it stands: the derivation applies it to $x_1$
# and the whole set $y_{1:K}$, whose MI with $x_1$ equals $I(X; Y)$ only because the other $y_j$
# are independent of $(x_1, y_1)$ — the i.i.d. assumption whose failure chapter 7b examines. The
# normaliser averages $K$ terms instead of exponentiating a single critic value, which makes
# $I_{NCE}$ a low-variance estimator. Its weakness is a hard
# ceiling. The denominator in {eq}`eq-nce` contains the numerator, so
#
# $$
# \frac{e^{f(x_i, y_i)}}{\frac{1}{K}\sum_j e^{f(x_i, y_j)}}
#   \le \frac{e^{f(x_i, y_i)}}{\frac{1}{K} e^{f(x_i, y_i)}} = K
# \quad\Longrightarrow\quad I_{NCE} \le \log K
# $$ (eq-nce-ceiling)
#
# for *every* critic and every batch: with $K = 128$, as in the paper, no InfoNCE estimate can
# exceed $\log 128 \approx 4.85$ nats, however much information the views share.
#
# ### The rest of the family
#
# - **Jensen–Shannon** ($I_{JS}$): train the critic as a logistic classifier of joint versus
#   product samples (the f-GAN objective {cite:p}`nowozin2016fgan`), whose optimum is the log
#   density ratio, then *report* {eq}`eq-tuba` on that critic. Stable training, NWJ's variance.
# - **Interpolated** ($I_\alpha$): replace the baseline in {eq}`eq-tuba` by
#   $\alpha \cdot$ (the InfoNCE normaliser) $+ (1-\alpha) \cdot a(x)$; $\alpha = 1$ recovers a
#   $(K-1)$-sample InfoNCE, $\alpha = 0$ TUBA, and the ceiling becomes
#   $1 + \log\frac{K-1}{\alpha}$ {cite:p}`poole2019variational`.
# - **SMILE**: DV with the critic values in the partition term clipped to $[-\tau, \tau]$, which
#   caps the variance at the cost of a bias {cite:p}`song2020understanding`; the critic is trained
#   with the JS objective.
#
# The library computes all of them from the score matrix in log space:
#
# ```{literalinclude} ../mi_tutorial/estimators.py
# :pyobject: infonce
# ```
#
# ```{literalinclude} ../mi_tutorial/estimators.py
# :pyobject: nwj
# ```
#
# ```{literalinclude} ../mi_tutorial/estimators.py
# :pyobject: dv
# ```
#
# ```{literalinclude} ../mi_tutorial/estimators.py
# :pyobject: js_fgan
# ```
#
# ```{literalinclude} ../mi_tutorial/estimators.py
# :pyobject: smile
# ```
#
# `estimate(name, S)` returns the value an estimator reports and `training_objective(name, S)` the
# value its critic is trained to maximise (they differ only for JS and SMILE).

# %% [markdown]
# ## Ground truths beyond Gaussians
#
# To measure an estimator one needs pairs whose MI is known. Correlated Gaussians are the
# friendliest case (chapter 1): the optimal critic is a quadratic form. Two ground truths with
# other marginals, both implemented in `mi_tutorial.synthetic` and used in {doc}`02b_estimator_benchmark`:
#
# - **An invertible transform.** Apply $y \mapsto y^3$ elementwise to the Gaussian pair. The cube
#   is a bijection of $\mathbb R$, so by the invariance of chapter 1 the MI is *unchanged*, while
#   the marginal of $y$ becomes heavy-tailed and the log density ratio changes shape.
# - **A multivariate Student-t.** Divide the whole $2d$-dimensional Gaussian vector $(x, y)$ by
#   $\sqrt{w}$, with one $w \sim \chi^2_\nu/\nu$ per sample. The pair is multivariate-t with
#   $\nu$ = 5 degrees of freedom; the shared scale adds dependence, so even $\rho = 0$ carries
#   information. The MI follows from the entropy of the multivariate t-distribution
#   {cite:p}`arellano2013shannon`: the Gaussian term plus
#
# $$
# \begin{aligned}
# c(\nu, d) = {} & \log\frac{\Gamma(\frac\nu2)\,\Gamma(\frac{\nu}{2}+d)}{\Gamma(\frac{\nu+d}2)^2}
#   + (\nu + d)\,\psi\big(\tfrac{\nu+d}2\big) \\
#   & - \big(\tfrac\nu2 + d\big)\,\psi\big(\tfrac\nu2 + d\big)
#   - \tfrac\nu2\,\psi\big(\tfrac\nu2\big),
# \end{aligned}
# $$ (eq-student-mi)
#
# with $\psi$ the digamma function. We only trust a closed form we can check, so here is a
# Monte-Carlo check: the average of $\log \frac{p(x, y)}{p(x)p(y)}$ under scipy's multivariate-t
# densities, at $d = 20$ and 4 nats.
#
# ```{literalinclude} ../mi_tutorial/synthetic.py
# :pyobject: student_t_shared_scale_mi
# ```

# %%
n_mc, mc_mi, mc_dim = MONTE_CARLO_SAMPLES[PROFILE], 4.0, 20
mc_rho = rho_for("student_t", mc_mi, mc_dim, DEFAULT_NU)
xs, ys = sample_task(
    "student_t", n_mc, mc_mi, mc_dim, nu=DEFAULT_NU, generator=torch.Generator().manual_seed(0)
)
eye = np.eye(mc_dim)
joint = stats.multivariate_t(
    np.zeros(2 * mc_dim), np.block([[eye, mc_rho * eye], [mc_rho * eye, eye]]), df=DEFAULT_NU
)
marginal = stats.multivariate_t(np.zeros(mc_dim), eye, df=DEFAULT_NU)
xn, yn = xs.double().numpy(), ys.double().numpy()
log_ratios = joint.logpdf(np.hstack([xn, yn])) - marginal.logpdf(xn) - marginal.logpdf(yn)
print(
    f"closed form {student_t_mi(mc_rho, mc_dim, DEFAULT_NU):.3f} nats; Monte Carlo "
    f"{log_ratios.mean():.3f} ± {log_ratios.std() / math.sqrt(n_mc):.3f} over {n_mc:,} samples"
)

# %% [markdown]
# The two agree within the Monte-Carlo error (the unit tests repeat this check at other $d$,
# $\rho$, $\nu$).

# %% [markdown]
# ## Summary
#
# - NWJ/TUBA, InfoNCE and $I_\alpha$ come from one inequality, $\log u \le u/a + \log a - 1$,
#   with different baselines $a$: a constant gives NWJ/TUBA, the batch average gives InfoNCE, a
#   mixture gives $I_\alpha$. The others are not this linearisation: DV keeps the logarithm, JS
#   trains the critic with a different (f-GAN) objective, and SMILE clips DV's partition term.
# - $I_{NCE} \le \log K$ for every critic ({eq}`eq-nce-ceiling`): with the paper's $K = 128$ it
#   cannot report more than 4.85 nats. Bounds without the batch normaliser are not capped, but
#   at the optimal critic the variance of their batch estimate grows exponentially with the MI
#   {cite:p}`song2020understanding`.
# - Ground truths beyond Gaussians: an invertible map of $y$ keeps the MI, and a shared-scale
#   Student-t pair has the closed form {eq}`eq-student-mi`, checked by Monte Carlo above.
#   {doc}`02b_estimator_benchmark` measures every bound against these truths.
#
# ## Exercises
#
# :::{exercise} ★★ The optimal critic of $I_{NWJ}$
# :label: ex-2-nwj-critic
#
# Show that {eq}`eq-nwj` is maximised by $f^*(x, y) = 1 + \log \frac{p(y \mid x)}{p(y)}$ and that
# the maximum is $I(X; Y)$. (Hint: maximise pointwise in $f(x, y)$ after writing both expectations
# as integrals against $p(x)p(y)$.)
# :::
#
# :::{solution} ex-2-nwj-critic
# :class: dropdown
#
# Write $r(x, y) = \frac{p(x, y)}{p(x)p(y)} = \frac{p(y\mid x)}{p(y)}$. Then
# $I_{NWJ}(f) = \int p(x)p(y)\,\big[r(x,y)\, f(x,y) - e^{f(x,y) - 1}\big]\,dx\,dy$. The integrand
# is a concave function of the single number $f(x, y)$; its derivative $r - e^{f - 1}$ vanishes at
# $f = 1 + \log r$, the maximum. There $e^{f^*-1} = r$, so the second expectation is
# $\mathbb{E}_{p(x)p(y)}[r] = 1$, and the first is
# $\mathbb{E}_{p(x,y)}[1 + \log r] = 1 + I(X;Y)$: $I_{NWJ}(f^*) = I(X;Y)$. The "+1" is why the
# optimal NWJ critic is the log density ratio *shifted by one*, and why a critic family that cannot
# add a constant (chapter 5) can only represent it up to that constant.
# :::
#
# :::{exercise} ★★★ The optimal critic of $I_{NCE}$
# :label: ex-2-nce-critic
#
# Show that for every $K$ the expectation {eq}`eq-nce` is maximised by
# $f^*(x, y) = \log \frac{p(y \mid x)}{p(y)} + c(x)$, for any function $c$. Deduce that
# $f^* = \log p(y \mid x) + c(y)$ is optimal for the right $c(y)$, and that the column-normalised
# version of §4 and App. D of the paper (softmax over the $x_j$) is maximised by
# $\log p(y \mid x) + c(y)$ for *any* $c$. What does $I_{NCE}(f^*)$ tend to as $K \to \infty$?
# :::
#
# :::{solution} ex-2-nce-critic
# :class: dropdown
#
# Fix row $i$ and condition on $x_i$ and on the $K$ candidates $y_1, \dots, y_K$. One of them was
# drawn from $p(y \mid x_i)$, the others from $p(y)$, and a priori the positive is equally likely
# at each position. The posterior probability that position $j$ holds the positive is
# $q_j \propto p(y_j \mid x_i)\prod_{k \ne j} p(y_k) \propto \frac{p(y_j\mid x_i)}{p(y_j)}$. The
# row's term $\log \frac{e^{f(x_i, y_i)}}{\sum_j e^{f(x_i, y_j)}}$ is the log-likelihood of a
# $K$-way classifier with logits $f(x_i, y_j)$, and by Gibbs' inequality the expected
# log-likelihood is maximised when the classifier's probabilities equal $q_j$: logits
# $\log\frac{p(y_j \mid x_i)}{p(y_j)}$ plus anything constant within the row, $c(x_i)$. So
# $f^* = \log\frac{p(y\mid x)}{p(y)} + c(x)$. Written as $\log p(y\mid x) + c(y)$, this is the
# choice $c(y) = -\log p(y)$ (plus any function of $x$); a *different* $c(y)$ reweights the
# candidates and is not optimal. For the column version the roles swap: the posterior over which
# $x_j$ is the positive for $y_i$ is $\propto p(y_i \mid x_j)$ (now $p(x_j)$ cancels), and the
# softmax over $x_j$ ignores any $c(y_i)$, so $\log p(y\mid x) + c(y)$ is optimal for every $c$ —
# the form the paper quotes from {cite:t}`poole2019variational`. As $K \to \infty$ the law of
# large numbers gives
#
# $$
# \frac1K\sum_j e^{f^*(x_i, y_j)} \to e^{c(x_i)}\,
#   \mathbb{E}_{p(y)}\Big[\frac{p(y\mid x_i)}{p(y)}\Big] = e^{c(x_i)},
# \qquad\text{so}\qquad
# I_{NCE}(f^*) \to \mathbb{E}\Big[\log \frac{p(y\mid x)}{p(y)}\Big] = I(X;Y):
# $$
#
# tight only in the limit, and capped by $\log K$ for finite $K$.
# :::
#
# :::{exercise} ★ The ceiling
# :label: ex-2-ceiling
#
# Prove $I_{NCE} \le \log K$ for every critic and every batch without looking at
# {eq}`eq-nce-ceiling`. When is the ceiling attained? What does it become for $K = 128$ and
# $K = 512$?
# :::
#
# :::{solution} ex-2-ceiling
# :class: dropdown
#
# Each row's term $\log \frac{e^{S_{ii}}}{\sum_j e^{S_{ij}}}$ is the log of a softmax probability,
# hence $\le 0$; adding $\log K$ and averaging gives $\hat I_{NCE} \le \log K$. Equality needs every
# softmax to put probability 1 on the diagonal, i.e. $S_{ij} - S_{ii} \to -\infty$ for all
# $j \ne i$: attained only in the limit, never by finite scores. The ceiling is
# $\log 128 \approx 4.85$ and $\log 512 \approx 6.24$ nats. It holds batch by batch, so it also holds for the
# expectation, whatever the true MI is.
# :::
#
# :::{exercise} ★★ Check the optimal critics numerically
# :label: ex-2-check
#
# For the Gaussian pair of chapter 1 the log density ratio is known in closed form. Build the score
# matrix of the optimal critics on a batch of $K = 1024$ pairs at 4 nats ($d = 20$) and compare
# $\hat I_{NWJ}$ and $\hat I_{NCE}$ with the truth.
# :::
#
# ````{solution-start} ex-2-check
# :class: dropdown
# ````
#
# With $S_{ij} = \log \frac{p(y_j \mid x_i)}{p(y_j)}$, $\hat I_{NWJ}(S + 1)$ is an unbiased estimate
# of $I$ — its expectation over batches equals $I$ for this fixed critic — but a noisy one, since
# its marginal term averages exponentials of the ratios. $\hat I_{NCE}(S)$ is a little below $I$:
# it is tight only as $K \to \infty$ (and capped by $\log K \approx 6.93$).

# %%
from mi_tutorial.estimators import infonce, nwj
from mi_tutorial.synthetic import gaussian_mi, gaussian_pairs


def optimal_scores(x, y, rho):
    """S_ij = log p(y_j | x_i) - log p(y_j) for the correlated-Gaussian pair (summed over d)."""
    var = 1.0 - rho**2
    cond = -0.5 * (torch.cdist(rho * x, y) ** 2 / var + x.shape[1] * math.log(2 * math.pi * var))
    marg = -0.5 * ((y**2).sum(dim=1) + y.shape[1] * math.log(2 * math.pi))
    return cond - marg[None, :]


check_rho = rho_for("gaussian", 4.0, 20)
gen = torch.Generator().manual_seed(0)
for trial in range(3):
    xg, yg = gaussian_pairs(1024, 20, check_rho, generator=gen)
    S_opt = optimal_scores(xg.double(), yg.double(), check_rho)
    print(
        f"batch {trial}: true {gaussian_mi(check_rho, 20):.3f}, I_NWJ(f*) "
        f"{nwj(S_opt + 1).item():.3f}, I_NCE(f*) {infonce(S_opt).item():.3f} nats"
    )

# %% [markdown]
# ````{solution-end}
# ````
#
# :::{exercise} ★★ $I_{DV}$ and $I_{NWJ}$
# :label: ex-2-dv
#
# Show that $I_{DV} \ge I_{NWJ}$ for every critic (hint: $\log u \le u/e$).
# :::
#
# :::{solution} ex-2-dv
# :class: dropdown
#
# $I_{DV}(f) = \mathbb{E}_p[f] - \log \mathbb{E}_q[e^f]$ and
# $I_{NWJ}(f) = \mathbb{E}_p[f] - e^{-1}\mathbb{E}_q[e^f]$, with $p$ the joint and $q$ the product
# of marginals. With $u = \mathbb{E}_q[e^f] > 0$, the tangent of $\log$ at $e$ gives
# $\log u \le u/e$, so $I_{DV}(f) \ge I_{NWJ}(f)$, with equality iff $\mathbb{E}_q[e^f] = e$. Both are
# lower bounds on $I$, so DV is the tighter one for a fixed critic; NWJ trades that for an
# objective that is an expectation (no log of a mean): for a fixed critic its batch value is an
# unbiased estimate of $I_{NWJ}(f)$ (not of $I$), which the batch value of $I_{DV}$ is not.
# :::
#
