r"""Evaluating representations: the paper's linear probe, the pixel baseline, Jacobian conditioning.

**Linear probe** (the official protocol, from the authors' colab). Features of the 60k training
images are scaled to [0, 1] per feature by a ``MinMaxScaler`` fitted on the training features, a
multinomial logistic regression is fitted by SAGA on *all* training features with all labels
(``tol=0.1``, ``C=10``, scikit-learn's default ``max_iter=100``), and the accuracy on the 10k test
images is reported. The loose ``tol`` makes SAGA stop early; that is part of the protocol.

scikit-learn ≥ 1.8 has no ``multi_class`` argument any more (it was deprecated in 1.5); for
``n_classes >= 3`` every solver but liblinear fits the multinomial loss, which is what the
official ``multi_class='multinomial'`` asked for. We therefore never pass it, which gives the
same model on every supported version (≥ 1.3, where ``'auto'`` picks multinomial for SAGA).

**Jacobian conditioning** (§3.1, Fig 2). For an encoder :math:`g` and an input :math:`x`, with
singular values :math:`\sigma_1 \ge \dots \ge \sigma_r` of :math:`J_g(x) = \partial g / \partial x`,
we report the natural log of the condition number :math:`\log(\sigma_1 / \sigma_r)`. It is 0 for
the identity and :math:`\infty` where :math:`J_g(x)` is singular.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._validation import check_float, check_int, choose

ArrayLike = np.ndarray | torch.Tensor


# --------------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------------


def _device_and_dtype(module: nn.Module) -> tuple[torch.device, torch.dtype]:
    """Where the module's parameters live and their floating dtype (CPU / float32 if none)."""
    for tensor in module.parameters():
        if tensor.is_floating_point():
            return tensor.device, tensor.dtype
    return torch.device("cpu"), torch.float32


def encode(encoder: nn.Module, x: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
    """:math:`g(x)` for every row of ``x``: batched, without gradients, in eval mode.

    Inputs are cast to the encoder's device and dtype; the result is a CPU float32 tensor. The
    encoder's train/eval mode is restored afterwards.
    """
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    x = torch.as_tensor(x)
    if x.ndim != 2:
        raise ValueError(f"encode expects a 2-d batch [N, d], got shape {tuple(x.shape)}.")
    device, dtype = _device_and_dtype(encoder)
    was_training = encoder.training
    encoder.eval()
    try:
        with torch.no_grad():
            parts = [
                encoder(x[i : i + batch_size].to(device=device, dtype=dtype)).to(
                    "cpu", torch.float32
                )
                for i in range(0, len(x), batch_size)
            ]
    finally:
        encoder.train(was_training)
    if not parts:
        raise ValueError("encode got an empty batch (0 rows); pass at least one example.")
    return torch.cat(parts)


# --------------------------------------------------------------------------------------------------
# Linear probe
# --------------------------------------------------------------------------------------------------


def _as_numpy(a: ArrayLike, name: str) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    try:
        return np.asarray(a)
    except Exception as err:  # pragma: no cover - exotic inputs
        raise TypeError(f"{name} must be a numpy array or torch tensor, got {type(a)!r}") from err


def check_probe_inputs(train_x, train_y, test_x, test_y):
    arrays = []
    for name, feats, labels in (("train", train_x, train_y), ("test", test_x, test_y)):
        feats = _as_numpy(feats, f"{name}_x")
        labels = _as_numpy(labels, f"{name}_y")
        if feats.ndim != 2:
            raise ValueError(
                f"{name}_x must be a 2-d feature matrix [N, d], got shape {feats.shape}; "
                "flatten the features first."
            )
        if labels.ndim != 1:
            raise ValueError(f"{name}_y must be a 1-d label vector [N], got shape {labels.shape}.")
        if len(feats) != len(labels):
            raise ValueError(
                f"{name}_x has {len(feats)} rows but {name}_y has {len(labels)} labels; "
                "they must describe the same examples."
            )
        if len(feats) == 0:
            raise ValueError(f"{name}_x is empty; the probe needs at least one example.")
        if not np.isfinite(feats).all():
            raise ValueError(
                f"{name}_x contains NaN or inf; the encoder diverged or the inputs are broken."
            )
        arrays += [feats.astype(np.float64, copy=False), labels]
    if arrays[0].shape[1] != arrays[2].shape[1]:
        raise ValueError(
            f"train_x has {arrays[0].shape[1]} features but test_x has {arrays[2].shape[1]}; "
            "encode both splits with the same encoder."
        )
    if len(np.unique(arrays[1])) < 2:
        raise ValueError("train_y contains a single class; a classifier needs at least two.")
    return arrays


def probe_objective(
    weight: ArrayLike, bias: ArrayLike, x: ArrayLike, y: ArrayLike, C: float = 10.0
) -> float:
    r"""The probe objective :math:`J(W, b) = \frac1n\sum_i \ell_i + \lVert W\rVert_F^2 / (2Cn)`,
    scikit-learn's ``C``-weighted objective divided by :math:`Cn` (see :mod:`mi_tutorial.probes`).
    ``weight`` is ``[classes, features]``, ``x`` the *scaled* training features, ``y`` class
    indices."""
    w, b = torch.as_tensor(weight, dtype=torch.float64), torch.as_tensor(bias, dtype=torch.float64)
    x = torch.as_tensor(x, dtype=torch.float64)
    y = torch.as_tensor(np.asarray(y), dtype=torch.long)
    loss = F.cross_entropy(x @ w.T + b, y) + (w**2).sum() / (2 * C * len(y))
    return float(loss)


def check_inverse_regularisation(C: float) -> float:
    """``C`` as a float > 0 (the probe's inverse regularisation strength), else ``ValueError``."""
    C = check_float(C, "C", minimum=0.0)
    if C == 0.0:
        raise ValueError("C must be > 0 (it is the inverse regularisation strength); try C=10.")
    return C


def linear_probe_report(
    train_x: ArrayLike,
    train_y: ArrayLike,
    test_x: ArrayLike,
    test_y: ArrayLike,
    *,
    tol: float = 0.1,
    C: float = 10.0,
    max_iter: int = 100,
    seed: int = 0,
) -> dict[str, float | int]:
    """Fit the official linear probe and return ``{"accuracy", "n_iter", "fit_seconds",
    "test_cross_entropy", "objective"}`` (test cross-entropy in nats; the training objective
    :func:`probe_objective` at the fitted weights, to compare with a converged fit).

    ``n_iter`` is SAGA's number of epochs (``n_iter_``); it equals ``max_iter`` when SAGA did not
    reach ``tol``. The expected ``ConvergenceWarning`` is silenced. ``seed`` is SAGA's
    ``random_state`` (the order in which it visits examples), so a fixed seed gives a fixed result.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import MinMaxScaler

    tol = check_float(tol, "tol", minimum=0.0)
    C = check_inverse_regularisation(C)
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    train_x, train_y, test_x, test_y = check_probe_inputs(train_x, train_y, test_x, test_y)

    start = time.perf_counter()
    scaler = MinMaxScaler().fit(train_x)
    train_scaled = scaler.transform(train_x)
    clf = LogisticRegression(solver="saga", tol=tol, C=C, max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        clf.fit(train_scaled, train_y)
    fit_seconds = time.perf_counter() - start
    test_scaled = scaler.transform(test_x)
    accuracy = float(clf.score(test_scaled, test_y))
    log_proba = _log_proba(clf, test_scaled)
    test_index = np.searchsorted(clf.classes_, test_y).clip(max=len(clf.classes_) - 1)
    seen = clf.classes_[test_index] == test_y  # a class absent from training has probability 0
    test_log_proba = np.where(seen, log_proba[np.arange(len(test_y)), test_index], -np.inf)
    return {
        "accuracy": accuracy,
        "n_iter": int(np.max(clf.n_iter_)),
        "fit_seconds": float(fit_seconds),
        "test_cross_entropy": float(-test_log_proba.mean()),
        "objective": probe_objective(
            *_softmax_parameters(clf), train_scaled, np.searchsorted(clf.classes_, train_y), C
        ),
    }


def _softmax_parameters(clf) -> tuple[np.ndarray, np.ndarray]:
    """A fitted ``LogisticRegression``'s weights ``[classes, features]`` and biases as a softmax
    model. With two classes scikit-learn keeps one logit (the second class's); the first class's
    is 0, which gives the same probabilities and the same penalty."""
    weight, bias = clf.coef_, clf.intercept_
    if len(clf.classes_) == 2:
        weight, bias = np.vstack([np.zeros_like(weight), weight]), np.append(0.0, bias)
    return weight, bias


def _log_proba(clf, x: np.ndarray) -> np.ndarray:
    """Log class probabilities as the log-softmax of the logits: finite where ``predict_log_proba``
    (the log of ``predict_proba``) gives -inf for probabilities that underflow to 0."""
    from scipy.special import log_softmax

    weight, bias = _softmax_parameters(clf)
    return log_softmax(x @ weight.T + bias, axis=1)


def linear_probe(
    train_x: ArrayLike,
    train_y: ArrayLike,
    test_x: ArrayLike,
    test_y: ArrayLike,
    *,
    tol: float = 0.1,
    C: float = 10.0,
    max_iter: int = 100,
    seed: int = 0,
) -> float:
    """Test accuracy of the official linear probe (see :func:`linear_probe_report`)."""
    report = linear_probe_report(
        train_x, train_y, test_x, test_y, tol=tol, C=C, max_iter=max_iter, seed=seed
    )
    return float(report["accuracy"])


def probe_encoder(
    encoder: nn.Module | None,
    train_views,
    test_views,
    *,
    noise_std: float = 0.0,
    seed: int = 0,
    batch_size: int = 2048,
    **probe_kwargs,
) -> dict[str, float | int]:
    r"""Linear-probe report for :math:`g_1(x^{(1)})` on two :class:`~mi_tutorial.data.TwoViews`.

    ``encoder=None`` probes the raw top halves (the pixel baseline). With ``noise_std > 0``,
    Gaussian noise :math:`N(0, \sigma^2 I)` is added to the top halves before encoding, with
    independent fresh draws for the train and the test split (generator seeded by ``seed``), as in
    the official notebook's evaluation of the Fig 2 experiment. ``probe_kwargs`` go to
    :func:`linear_probe_report`; its SAGA ``seed`` is the same ``seed``.
    """
    from .data import add_shared_noise

    noise_std = check_float(noise_std, "noise_std", minimum=0.0)
    seed = check_int(seed, "seed", minimum=0)
    gen = torch.Generator().manual_seed(seed)
    features = []
    for views in (train_views, test_views):
        top = views.top
        if noise_std > 0:
            # Only the top half is encoded, so the coupled noise on the bottom half is irrelevant.
            top, _ = add_shared_noise(top, top, noise_std, generator=gen)
        features.append(top if encoder is None else encode(encoder, top, batch_size=batch_size))
    return linear_probe_report(
        features[0], train_views.labels, features[1], test_views.labels, seed=seed, **probe_kwargs
    )


def pixel_baseline(
    split_views_train, split_views_test, noise_std: float = 0.0, seed: int = 0
) -> float:
    """Linear-probe accuracy on the raw top-half pixels (paper: ≈0.85 clean, ≈0.84 with σ = 0.05).

    ``split_views_train`` / ``split_views_test`` are :class:`~mi_tutorial.data.TwoViews`
    (e.g. ``load_views("train")`` and ``load_views("test")``); see :func:`probe_encoder` for the
    noise.
    """
    report = probe_encoder(
        None, split_views_train, split_views_test, noise_std=noise_std, seed=seed
    )
    return float(report["accuracy"])


# --------------------------------------------------------------------------------------------------
# Jacobian conditioning
# --------------------------------------------------------------------------------------------------


def jacobians(encoder: nn.Module, x: torch.Tensor, chunk_size: int = 32) -> torch.Tensor:
    r"""Per-example Jacobians :math:`J_g(x_b) = \partial g(x_b) / \partial x_b`, ``[B, out, in]``.

    Computed with ``torch.func.jacrev`` vectorised by ``vmap`` (``chunk_size`` examples at a
    time), on the encoder's device and in its dtype (float64 encoders give float64 Jacobians), in
    the encoder's current train/eval mode.
    """
    from torch.func import jacrev, vmap

    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    x = torch.as_tensor(x)
    if x.ndim != 2:
        raise ValueError(f"expected a 2-d batch [B, d], got shape {tuple(x.shape)}.")
    device, dtype = _device_and_dtype(encoder)

    def single(v: torch.Tensor) -> torch.Tensor:
        return encoder(v.unsqueeze(0)).squeeze(0)

    jac = vmap(jacrev(single))
    parts = [
        jac(x[i : i + chunk_size].to(device=device, dtype=dtype)).detach()
        for i in range(0, len(x), chunk_size)
    ]
    return torch.cat(parts)


SVD_BACKENDS = ("torch", "scipy")


def singular_values(matrices: torch.Tensor, backend: str = "torch") -> np.ndarray:
    """Singular values (descending, float64) of a batch of matrices ``[B, m, n]`` → ``[B, min(m, n)]``.

    ``"torch"``: ``torch.linalg.svdvals`` in float64. ``"scipy"``: ``scipy.linalg.svdvals`` per
    matrix with scipy's own LAPACK limited to one thread (``threadpoolctl``, scoped; PyTorch's
    thread settings are untouched). Both agree to ~1e-14. Why offer the second: on our 2-core
    machines, with other processes running, PyTorch's multi-threaded LAPACK took 0.1–1.3 s per
    *near-identity* 392×392 matrix (exactly the residual MLP's Jacobians early in training) against
    ≈0.02–0.03 s single-threaded.
    """
    choose(backend, SVD_BACKENDS, "SVD backend")
    mats = matrices.detach().to("cpu", torch.float64)
    if backend == "torch":
        return torch.linalg.svdvals(mats).numpy()
    from scipy.linalg import svdvals
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        rows = [svdvals(m, check_finite=False) for m in mats.numpy()]
    return np.stack(rows) if rows else np.zeros((0, min(mats.shape[1:])))


def jacobian_log_condition(
    encoder: nn.Module, x: torch.Tensor, chunk_size: int = 32, svd_backend: str = "torch"
) -> np.ndarray:
    r"""Natural log of the Jacobian's condition number, :math:`\log(\sigma_{max}/\sigma_{min})`.

    One value per row of ``x``: a float64 array ``[B]``; ``inf`` where :math:`\sigma_{min} = 0`
    (the Jacobian is singular, so :math:`g` is not locally invertible there). Singular values are
    computed in float64 (see :func:`singular_values` for ``svd_backend``). For a non-square
    Jacobian ``[m, n]`` the smallest of the :math:`\min(m, n)` singular values is used. The
    encoder is evaluated in eval mode.
    """
    choose(svd_backend, SVD_BACKENDS, "SVD backend")
    was_training = encoder.training
    encoder.eval()
    try:
        jac = jacobians(encoder, x, chunk_size=chunk_size)
    finally:
        encoder.train(was_training)
    sv = singular_values(jac, backend=svd_backend)
    smax, smin = sv[:, 0], sv[:, -1]
    with np.errstate(divide="ignore"):
        out = np.log(smax) - np.log(smin)
    out[smin == 0] = np.inf
    return out


def logcond_quantiles(values: ArrayLike) -> dict[str, float]:
    """The paper's Fig 2c bands: min, 20/40/60/80th percentiles, max, and the median."""
    arr = _as_numpy(values, "values").astype(np.float64).ravel()
    if arr.size == 0:
        raise ValueError("logcond_quantiles needs at least one value, got an empty array.")
    if np.isnan(arr).any():
        raise ValueError("values contain NaN; drop them or fix the Jacobian computation first.")
    names = ("min", "p20", "p40", "median", "p60", "p80", "max")
    return {
        name: _percentile(arr, q)
        for name, q in zip(names, (0, 20, 40, 50, 60, 80, 100), strict=True)
    }


def _percentile(arr: np.ndarray, q: float) -> float:
    """NumPy's default (linear) percentile, except that a band touching ``inf`` is ``inf``.

    ``np.percentile`` returns NaN there (it computes inf - inf); singular Jacobians give inf.
    """
    s = np.sort(arr)
    pos = q / 100.0 * (len(s) - 1)
    lo, hi = int(np.floor(pos)), int(np.ceil(pos))
    a, b, t = s[lo], s[hi], pos - lo
    if t == 0.0:
        return float(a)
    if np.isinf(b):
        return float("inf")
    return float(a + (b - a) * t)
