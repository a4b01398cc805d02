r"""Variational bounds on mutual information, computed from a critic's score matrix.

**The convention (used by the whole package).** A batch holds :math:`K` positive pairs
:math:`(x_i, y_i) \sim p(x, y)`. A critic :math:`f` scores every combination, giving the
:math:`K \times K` matrix

.. math:: S_{ij} = f(x_i, y_j), \qquad i, j = 1, \dots, K,

so **row** :math:`i` belongs to :math:`x_i`, **column** :math:`j` to :math:`y_j`, the :math:`K`
positives sit on the **diagonal**, and the :math:`K(K-1)` off-diagonal pairs :math:`(x_i, y_j)`,
:math:`i \ne j`, stand in for samples of :math:`p(x)p(y)`. Every function here takes ``S`` and
returns a 0-d tensor that stays differentiable.

Conventions for the reported numbers follow the official code of Tschannen et al. (2020): the
InfoNCE softmax runs over the :math:`y`'s of each row, and :math:`I_{NWJ}` is Poole et al.'s TUBA
bound applied to :math:`S - 1`. All functions work in log space (``logsumexp``), so entries of
size :math:`10^4` neither overflow nor produce ``inf - inf``; a bound whose true value is
:math:`-e^{10^4}` is returned honestly as ``-inf``, never as NaN.

References: van den Oord et al. (2018) (InfoNCE); Nguyen, Wainwright & Jordan (2010) (NWJ);
Donsker & Varadhan (1983), Belghazi et al. (2018) (DV, MINE); Nowozin et al. (2016) (f-GAN);
Poole et al. (2019) (TUBA, :math:`I_\alpha`, JS); Song & Ermon (2020) (SMILE); Sohn (2016) (K-pair).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from . import registry
from ._validation import check_float

ESTIMATORS: tuple[str, ...] = registry.BOUNDS  # names typed once, in the torch-free registry

#: The two estimators Tschannen et al. (2020) train encoders with, in the paper's order, and the
#: names the book and the ledger print for them.
PAPER_ESTIMATOR_NAMES: dict[str, str] = {"infonce": "I_NCE", "nwj": "I_NWJ"}

#: Estimators whose critic is trained with a different objective than the one reported.
TRAINED_WITH_JS: tuple[str, ...] = ("js", "smile")

#: Training objectives that are *not* MI estimators (no bound): the metric-learning losses of §4.
#: :func:`estimate` reports :func:`infonce` of the same scores for them (a valid bound on
#: :math:`I(g_1(X^{(1)}); g_2(X^{(2)}))` for any critic), :func:`training_objective` returns the
#: negated loss.
LOSSES: tuple[str, ...] = registry.LOSSES

#: Everything a trainer accepts as ``estimator``: the MI estimators, then the losses.
OBJECTIVES: tuple[str, ...] = (*ESTIMATORS, *LOSSES)

#: Default margin of :func:`triplet_loss`, in units of the scores (for the ``neg_sqdist`` critic: a
#: squared Euclidean distance between unnormalised codes, so it only fixes the codes' scale).
TRIPLET_MARGIN = 1.0


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def _check_scores(scores: object) -> Tensor:
    """Accept a floating-point, square, 2-d tensor with K >= 2; otherwise say what is wrong."""
    if not isinstance(scores, Tensor):
        raise TypeError(
            f"scores must be a torch.Tensor S[K, K] with S[i, j] = f(x_i, y_j), "
            f"got {type(scores).__name__}."
        )
    shape = tuple(scores.shape)
    if scores.ndim != 2 or shape[0] != shape[1]:
        raise ValueError(
            f"scores must be a square K x K matrix S[i, j] = f(x_i, y_j), got shape {shape}; "
            "pass critic(x, y) for one batch of K pairs."
        )
    if shape[0] < 2:
        raise ValueError(
            f"scores of shape {shape} has K = {shape[0]}; the bounds need K >= 2 pairs "
            "(the off-diagonal pairs are the negatives)."
        )
    if not scores.is_floating_point():
        raise TypeError(f"scores must be floating point, got dtype {scores.dtype}; use .float().")
    return scores


def _offdiag(scores: Tensor) -> Tensor:
    r"""The off-diagonal entries as a [K, K-1] tensor; row i holds :math:`S_{ij}, j \ne i` in order.

    Flattening drops the first entry, after which every diagonal entry is the last of a row of
    length K + 1; dropping that column leaves exactly the off-diagonal entries, row by row.
    """
    k = scores.shape[0]
    return scores.flatten()[1:].view(k - 1, k + 1)[:, :-1].reshape(k, k - 1)


def _log_mean_exp_offdiag(scores: Tensor) -> Tensor:
    r""":math:`\log \frac{1}{K(K-1)} \sum_{i \ne j} e^{S_{ij}}`, computed with ``logsumexp``."""
    k = scores.shape[0]
    return torch.logsumexp(_offdiag(scores).reshape(-1), dim=0) - math.log(k * (k - 1))


def _row_baseline(log_baseline: float | Tensor, scores: Tensor) -> Tensor:
    """A log baseline as a [K, 1] column: a number, a 0-d tensor or one value per row (per x_i)."""
    k = scores.shape[0]
    if isinstance(log_baseline, Tensor):
        if log_baseline.ndim == 0:
            return log_baseline.to(scores).reshape(1, 1)
        if tuple(log_baseline.shape) == (k,):
            return log_baseline.to(scores).reshape(k, 1)
        raise ValueError(
            f"log_baseline must be a number or a tensor of shape [K] = [{k}] (one value "
            f"log a(x_i) per row), got shape {tuple(log_baseline.shape)}."
        )
    return scores.new_tensor(check_float(log_baseline, "log_baseline")).reshape(1, 1)


def _log_loo_sum_exp(scores: Tensor) -> Tensor:
    r"""Leave-one-out log-sum-exp along rows: :math:`L_{ij} = \log \sum_{k \ne j} e^{S_{ik}}`.

    Stable for any finite scores. With :math:`m_i = \max_k S_{ik}` (attained at column
    :math:`a_i`) and :math:`E_{ik} = e^{S_{ik} - m_i} \le 1`:

    * for :math:`j \ne a_i`, :math:`L_{ij} = m_i + \log(\sum_k E_{ik} - E_{ij})`. The maximum term
      (:math:`E_{ia_i} = 1`) stays in the sum, so the difference is at least 1 and the
      subtraction loses at most a factor 2 in relative precision;
    * for :math:`j = a_i` the subtraction could cancel catastrophically, so that single entry per
      row is a direct ``logsumexp`` over the row with column :math:`a_i` masked out.

    :math:`m_i` is detached: :math:`L_{ij}` does not depend on the shift, so gradients stay exact.
    """
    k = scores.shape[0]
    m, argmax = scores.detach().max(dim=1, keepdim=True)
    is_max = torch.zeros_like(scores, dtype=torch.bool).scatter_(1, argmax, True)
    e = torch.exp(scores - m)
    rest = e.sum(dim=1, keepdim=True) - e
    # "Safe where": never take log(0) in the branch that where() discards (its gradient is NaN).
    general = m + torch.log(torch.where(is_max, torch.ones_like(rest), rest))
    at_max = torch.logsumexp(scores.masked_fill(is_max, float("-inf")), dim=1, keepdim=True)
    return torch.where(is_max, at_max.expand(k, k), general)


# --------------------------------------------------------------------------------------------------
# The bounds
# --------------------------------------------------------------------------------------------------


def infonce(scores: Tensor) -> Tensor:
    r"""The InfoNCE bound (van den Oord et al., 2018), official form:

    .. math:: I_{NCE} = \log K + \frac{1}{K}\sum_{i=1}^K
              \Big(S_{ii} - \log\sum_{j=1}^K e^{S_{ij}}\Big)
              = \frac{1}{K}\sum_i \log \frac{e^{f(x_i, y_i)}}{\frac{1}{K}\sum_j e^{f(x_i, y_j)}}.

    A softmax over the :math:`y_j` of each row. Every term is :math:`\le 0` before adding
    :math:`\log K`, so :math:`I_{NCE} \le \log K` for *any* score matrix. Optimal critic:
    :math:`f^*(x, y) = \log \frac{p(y|x)}{p(y)} + c(x)` (the row softmax ignores :math:`c(x)`).
    """
    scores = _check_scores(scores)
    k = scores.shape[0]
    return math.log(k) + (scores.diagonal() - torch.logsumexp(scores, dim=1)).mean()


def tuba(scores: Tensor, log_baseline: float | Tensor = 0.0) -> Tensor:
    r"""Poole et al.'s TUBA bound with baseline :math:`a(x) > 0`, :math:`\ell(x) = \log a(x)`:

    .. math:: I_{TUBA} = 1 + \frac{1}{K}\sum_i \big(S_{ii} - \ell(x_i)\big)
              - \frac{1}{K(K-1)}\sum_{i \ne j} e^{S_{ij} - \ell(x_i)}.

    ``log_baseline`` is a number or a tensor of shape [K] (one :math:`\ell(x_i)` per row).
    Optimal critic: :math:`f^*(x, y) = \ell(x) + \log \frac{p(y|x)}{p(y)}` (the bound is tight).
    The marginal term is ``exp(logmeanexp(...))``: it overflows to ``inf`` (bound ``-inf``) only
    when the true value itself is beyond floating point.
    """
    scores = _check_scores(scores)
    shifted = scores - _row_baseline(log_baseline, scores)
    return 1.0 + shifted.diagonal().mean() - torch.exp(_log_mean_exp_offdiag(shifted))


def nwj(scores: Tensor) -> Tensor:
    r"""The NWJ bound (Nguyen et al., 2010; eq. 4 of Tschannen et al.), official form:

    .. math:: I_{NWJ} = \frac{1}{K}\sum_i S_{ii}
              - e^{-1}\,\frac{1}{K(K-1)}\sum_{i \ne j} e^{S_{ij}},

    i.e. :func:`tuba` applied to :math:`S - 1`. Optimal critic
    :math:`f^*(x, y) = 1 + \log \frac{p(y|x)}{p(y)}`.
    """
    return tuba(_check_scores(scores) - 1.0)


def dv(scores: Tensor) -> Tensor:
    r"""The Donsker–Varadhan bound (the value MINE reports):

    .. math:: I_{DV} = \frac{1}{K}\sum_i S_{ii} - \log \frac{1}{K(K-1)}\sum_{i \ne j} e^{S_{ij}}.

    Invariant to adding a constant to :math:`S`; optimal critic
    :math:`f^*(x, y) = \log \frac{p(y|x)}{p(y)} + c`. Its mini-batch gradient is biased, which
    :class:`MineDV` corrects.
    """
    scores = _check_scores(scores)
    return scores.diagonal().mean() - _log_mean_exp_offdiag(scores)


def js_fgan(scores: Tensor) -> Tensor:
    r"""The f-GAN Jensen–Shannon objective (Nowozin et al., 2016) used to *train* a critic:

    .. math:: \hat J = \frac{1}{K}\sum_i -\mathrm{softplus}(-S_{ii})
              - \frac{1}{K(K-1)}\sum_{i \ne j} \mathrm{softplus}(S_{ij}).

    It is a logistic-regression objective (positives vs. off-diagonal negatives, equally weighted),
    maximised by the log density ratio :math:`T^*(x, y) = \log \frac{p(y|x)}{p(y)}`. This is *not*
    an MI estimate (it lower-bounds :math:`2\,\mathrm{JS} - \log 4`); see :func:`estimate` with
    ``"js"`` for the number that is reported. ``softplus(z)`` is computed as ``logaddexp(0, z)``.
    """
    scores = _check_scores(scores)
    zero = scores.new_zeros(())
    positive = -torch.logaddexp(zero, -scores.diagonal()).mean()
    negative = torch.logaddexp(zero, _offdiag(scores)).mean()
    return positive - negative


def js_nwj(scores: Tensor) -> Tensor:
    r"""The MI reported for a critic trained with :func:`js_fgan` (Poole et al.'s :math:`I_{JS}`).

    .. math:: I_{JS} = I_{NWJ}(S + 1) = 1 + \frac{1}{K}\sum_i S_{ii}
              - \frac{1}{K(K-1)}\sum_{i \ne j} e^{S_{ij}}.

    Why the :math:`+1`: JS training drives the critic towards :math:`T^* = \log\frac{p(y|x)}{p(y)}`,
    while :math:`I_{NWJ}` is tight at :math:`f^* = 1 + \log\frac{p(y|x)}{p(y)}`. Evaluating NWJ on
    :math:`T + 1` therefore makes the estimate tight at the JS optimum (it equals :func:`tuba`
    with a zero log baseline). Note: Poole et al.'s and Song & Ermon's public notebooks evaluate
    NWJ on the raw critic :math:`T`, which at the JS optimum reports :math:`I - e^{-1}`; we follow
    the math.
    """
    return nwj(_check_scores(scores) + 1.0)


def interpolated(scores: Tensor, alpha: float = 0.01, log_baseline: float | Tensor = 0.0) -> Tensor:
    r"""Poole et al.'s :math:`I_\alpha` bound, interpolating between InfoNCE (:math:`\alpha = 1`)
    and TUBA (:math:`\alpha = 0`), on the batch with one pair held out as the independent sample.

    For row :math:`i` let :math:`\ell_{i \setminus j} = \log \frac{1}{K-1}\sum_{k \ne j} e^{S_{ik}}`
    (a leave-one-out InfoNCE normaliser over the :math:`y`'s) and :math:`b_i = \log a(x_i)` the log
    baseline. The log of the interpolated normaliser is

    .. math:: N_{ij} = \log\big(\alpha\, e^{\ell_{i \setminus j}} + (1 - \alpha)\, e^{b_i}\big),

    and the bound is

    .. math:: I_\alpha = 1 + \frac{1}{K(K-1)}\sum_{i \ne j}\big(S_{ii} - N_{ij}\big)
              - \frac{1}{K(K-1)}\sum_{i \ne j} e^{S_{ij} - N_{ii}}.

    The joint term holds :math:`y_j` out of the normaliser of positive :math:`i`; the marginal
    term pairs :math:`x_i` with :math:`y_j` and normalises over the :math:`K-1` samples
    :math:`y_{k \ne i}`, all independent of :math:`x_i`. In expectation every choice of held-out
    pair is Poole et al.'s :math:`(K-1)`-sample :math:`I_\alpha`, so the average estimates a lower
    bound on :math:`I(X; Y)`. The positive stays in its own normaliser, so every joint summand is
    at most :math:`\log\frac{K-1}{\alpha}` and :math:`I_\alpha \le 1 + \log\frac{K-1}{\alpha}`
    for any :math:`S`. At :math:`\alpha = 1` the marginal term is exactly 1 and :math:`I_\alpha`
    is the average :math:`(K-1)`-sample InfoNCE (:math:`\le \log(K-1)`); at :math:`\alpha = 0`
    it equals :func:`tuba`.

    ``alpha`` defaults to 0.01 (Poole et al.'s experiments use ``alpha_logit = -4.595``); there they
    learn the baseline, here ``log_baseline`` is a number or a [K] tensor computed by the caller.
    Everything is in log space; the leave-one-out sums use :func:`_log_loo_sum_exp`.
    """
    scores = _check_scores(scores)
    alpha = check_float(alpha, "alpha", minimum=0.0)
    if alpha > 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}.")
    k = scores.shape[0]
    b = _row_baseline(log_baseline, scores).expand(k, k)
    if alpha == 0.0:
        log_norm = b
    else:
        loo = _log_loo_sum_exp(scores) - math.log(k - 1)
        if alpha == 1.0:
            log_norm = loo
        else:
            log_norm = torch.logaddexp(loo + math.log(alpha), b + math.log1p(-alpha))
    joint = (scores.diagonal()[:, None] - _offdiag(log_norm)).mean()
    marginal = torch.exp(_log_mean_exp_offdiag(scores - log_norm.diagonal()[:, None]))
    return 1.0 + joint - marginal


def smile(scores: Tensor, clip: float | None = 5.0) -> Tensor:
    r"""SMILE (Song & Ermon, 2020): DV with the partition term computed on clipped scores,

    .. math:: I_{SMILE} = \frac{1}{K}\sum_i S_{ii}
              - \log \frac{1}{K(K-1)}\sum_{i \ne j} e^{\mathrm{clip}(S_{ij}, -\tau, \tau)},

    (``clip`` = :math:`\tau`; ``None`` gives :func:`dv`). Clipping trades a small bias for a large
    cut in variance; it is not a guaranteed bound. As in the authors' reference implementation, the
    critic is *trained* with :func:`js_fgan` (see :func:`training_objective`), whose optimum
    :math:`\log\frac{p(y|x)}{p(y)}` is where this estimate is (nearly) tight.
    """
    scores = _check_scores(scores)
    if clip is None:
        return dv(scores)
    tau = check_float(clip, "clip")
    if tau <= 0:
        raise ValueError(f"clip must be > 0 (or None for no clipping), got {clip}.")
    return scores.diagonal().mean() - _log_mean_exp_offdiag(scores.clamp(-tau, tau))


def k_pair_loss(scores: Tensor) -> Tensor:
    r"""Sohn's (2016) multi-class K-pair loss, written on the score matrix:

    .. math:: L_{K\text{-pair-mc}} = \frac{1}{K}\sum_i
              \log\Big(1 + \sum_{j \ne i} e^{S_{ij} - S_{ii}}\Big).

    Computed as :math:`\log(1 + e^{z_i})` (``logaddexp(0, z)``) with
    :math:`z_i = \operatorname{logsumexp}_{j \ne i}(S_{ij} - S_{ii})`, so it is stable and
    precise. For every :math:`S` (Tschannen et al., §4):
    :math:`I_{NCE} = \log K - L_{K\text{-pair-mc}}`.
    """
    scores = _check_scores(scores)
    z = torch.logsumexp(_offdiag(scores) - scores.diagonal()[:, None], dim=1)
    return torch.logaddexp(z.new_zeros(()), z).mean()


def triplet_loss(scores: Tensor, margin: float = TRIPLET_MARGIN) -> Tensor:
    r"""The triplet (hinge) loss with **one negative per anchor**, on the score matrix:

    .. math:: L_{triplet} = \frac{1}{K}\sum_{i=1}^K
              \max\big(0,\; m - S_{ii} + S_{i, n(i)}\big), \qquad n(i) = (i + 1) \bmod K.

    Anchor :math:`x_i`, positive :math:`y_i`, negative :math:`y_{n(i)}`: the loss is zero once the
    positive outscores the negative by the margin :math:`m`. With the ``neg_sqdist`` critic
    :math:`S_{ij} = -\lVert \phi(x_i) - \phi(y_j) \rVert^2` this is the classic
    :math:`\max(0, m + d(a, p)^2 - d(a, n)^2)` of Schroff et al. (2015). Batches are drawn in random
    order, so the cyclic neighbour :math:`n(i)` is a random other example. It is a training loss,
    not an MI bound: compare :func:`k_pair_loss`, which uses all :math:`K - 1` negatives.
    """
    scores = _check_scores(scores)
    m = check_float(margin, "margin")
    if m < 0:
        raise ValueError(f"margin must be >= 0, got {margin}.")
    negatives = scores.roll(-1, dims=1).diagonal()  # S[i, (i + 1) mod K]
    return torch.relu(m - scores.diagonal() + negatives).mean()


# --------------------------------------------------------------------------------------------------
# MINE: DV with the moving-average gradient correction
# --------------------------------------------------------------------------------------------------


class MineDV(nn.Module):
    r"""MINE (Belghazi et al., 2018): reports :func:`dv`, trains with a bias-corrected gradient.

    The DV gradient :math:`\mathbb{E}_P[\nabla T] - \mathbb{E}_Q[e^T \nabla T] / \mathbb{E}_Q[e^T]`
    divides by a mini-batch estimate of the partition function, which biases it. MINE replaces the
    denominator by an exponential moving average
    :math:`\bar Z_t = \beta \bar Z_{t-1} + (1-\beta) Z_t` (``ema_decay`` = :math:`\beta` = 0.99)
    with :math:`Z_t = \frac{1}{K(K-1)}\sum_{i\ne j} e^{S_{ij}}`.

    :meth:`training_objective` updates :math:`\bar Z` (first, as MINE does; the first batch
    initialises it) and returns a tensor whose *value* is :math:`I_{DV}` and whose *gradient* is
    :math:`\frac{1}{K}\sum_i \nabla S_{ii}
    - \frac{1}{K(K-1)}\sum_{i\ne j} e^{S_{ij}}\nabla S_{ij} / \bar Z`.
    The average is kept in log space (``log_ema``), so large scores do not overflow.
    """

    log_ema: Tensor
    updates: Tensor

    def __init__(self, ema_decay: float = 0.99) -> None:
        super().__init__()
        decay = check_float(ema_decay, "ema_decay", minimum=0.0)
        if decay >= 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {ema_decay}.")
        self.ema_decay = decay
        self.register_buffer("log_ema", torch.zeros((), dtype=torch.float64))
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))

    def reset(self) -> None:
        """Forget the moving average."""
        self.log_ema.zero_()
        self.updates.zero_()

    def forward(self, scores: Tensor) -> Tensor:
        """The reported value, :func:`dv` (does not touch the moving average)."""
        return dv(scores)

    def training_objective(self, scores: Tensor, update: bool = True) -> Tensor:
        """Update the moving average (if ``update``) and return the MINE surrogate to maximise."""
        scores = _check_scores(scores)
        log_z = _log_mean_exp_offdiag(scores)
        if update:
            with torch.no_grad():
                batch = log_z.detach().to(self.log_ema)
                if self.ema_decay > 0:
                    mixed = torch.logaddexp(
                        self.log_ema + math.log(self.ema_decay),
                        batch + math.log1p(-self.ema_decay),
                    )
                    batch = torch.where(self.updates == 0, batch, mixed)
                self.log_ema.copy_(batch)
                self.updates += 1
        elif int(self.updates) == 0:
            raise RuntimeError(
                "MineDV.training_objective(update=False) was called before any update; "
                "call it once with update=True so the moving average exists."
            )
        surrogate = scores.diagonal().mean() - torch.exp(log_z - self.log_ema.to(log_z))
        value = dv(scores)
        return value.detach() + (surrogate - surrogate.detach())


# --------------------------------------------------------------------------------------------------
# Dispatch by name
# --------------------------------------------------------------------------------------------------

_REPORTED: dict[str, Callable[..., Tensor]] = {
    "infonce": infonce,
    "nwj": nwj,
    "tuba": tuba,
    "dv": dv,
    "js": js_nwj,
    "interpolated": interpolated,
    "smile": smile,
    "triplet": infonce,  # a loss, not a bound: the InfoNCE bound of its scores is reported
}

#: The training losses of :data:`LOSSES` (minimised; :func:`training_objective` negates them).
_LOSS_FNS: dict[str, Callable[..., Tensor]] = {"triplet": triplet_loss}


def _bind(name: str, kwargs: dict, fn: Callable[..., Tensor] | None = None) -> dict:
    """Check ``kwargs`` against the estimator's signature; a TypeError lists the accepted ones."""
    params = list(inspect.signature(fn or _REPORTED[name]).parameters)[1:]
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        accepted = ", ".join(params) if params else "no keyword arguments"
        raise TypeError(
            f"estimator {name!r} got unexpected keyword argument(s) {', '.join(unknown)}; "
            f"it accepts: {accepted}."
        )
    return kwargs


def estimate(name: str, scores: Tensor, **kw) -> Tensor:
    r"""The MI value reported for estimator ``name`` (one of :data:`ESTIMATORS`), differentiable.

    ``"js"`` reports :func:`js_nwj` (NWJ on :math:`S + 1`); ``"smile"`` reports :func:`smile`;
    the others report the bound of the same name. Keyword arguments go to that function
    (``log_baseline`` for tuba / interpolated, ``alpha`` for interpolated, ``clip`` for smile).
    A training loss of :data:`LOSSES` (``"triplet"``) is not a bound: for it the :func:`infonce`
    bound of the same scores is reported (no keyword arguments).
    """
    custom = registry.ESTIMATORS.factory(name)
    if custom is not None:  # a registered bound (mi_tutorial.registry.register_estimator)
        return custom(scores, **kw)
    return _REPORTED[name](scores, **_bind(name, kw))


def training_objective(name: str, scores: Tensor, **kw) -> Tensor:
    r"""What a trainer *maximises* for estimator ``name``.

    Equal to :func:`estimate` except for ``"js"`` and ``"smile"``, whose critics are trained with
    the f-GAN Jensen–Shannon objective :func:`js_fgan` (Poole et al., 2019; Song & Ermon, 2020).
    Accepts the same keyword arguments as :func:`estimate` (those of the reported value are checked
    and, for JS-trained estimators, do not change the objective). For a loss of :data:`LOSSES` it
    returns the negated loss, e.g. :math:`-L_{triplet}` (keyword ``margin``).
    """
    custom = registry.ESTIMATORS.factory(name)
    if custom is not None:  # a registered bound is maximised as it is reported
        return custom(scores, **kw)
    if name in _LOSS_FNS:
        return -_LOSS_FNS[name](scores, **_bind(name, kw, _LOSS_FNS[name]))
    kw = _bind(name, kw)
    if name in TRAINED_WITH_JS:
        return js_fgan(scores)
    return _REPORTED[name](scores, **kw)
