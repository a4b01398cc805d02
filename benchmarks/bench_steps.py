"""Benchmark: ms per training step for every encoder × critic against a matmul roofline, the
evaluation overhead of `paper`-profile runs, seed-vectorised training, and the book's chapter times.

**Steps.** One step is what :func:`mi_tutorial.training.train_multiview` does per update: two encoders on
the two 392-d views of a batch of 128, the critic's K×K score matrix, :math:`-I_{NCE}` backward and
an Adam update (:func:`mi_tutorial.training.make_adam`, as the trainers build it). Timings are the
median (and the minimum) over ``--reps`` steps, taken in three rounds that interleave all the pairs
(a few warm-up steps each round), so that a change in the machine's load hits every pair alike. Inputs are uniform random views (the cost does not depend on the
pixel values). FLOPs/step are analytic matmul FLOPs (2·m·n·k per product; Linear and Conv2d layers
counted by forward hooks, the critic's K×K products added by hand) × 3 for forward + backward;
elementwise work, Adam and the estimator are ignored. The roofline is the measured fp32 GFLOP/s of a
large ``torch.mm``; "of peak" = (FLOPs/step ÷ time/step) ÷ roofline.

**Kernel choices.** The default kernels timed against their alternatives on the same step,
interleaved: the ConvNet's memory layout (contiguous or channels-last) and backend (oneDNN on or
off), and Adam's update (fused or PyTorch's per-parameter loop) for the MLP and RealNVP steps.

**Evaluation overhead** (needs MNIST). One evaluation of a multi-view run = encoding the 60k + 10k
top halves with :math:`g_1` + the paper's linear probe (SAGA) on those features + the test bound on
the whole test set (78 batches of 128) + for E3 the 128 Jacobians and their SVDs. Measured: the
encoding throughput of every paper encoder (on a subset, scaled to 70k), the probe fit on the real
60k/10k features for both feature sizes (100-d: MLP features; 392-d: the raw pixels, which is what
the near-identity residual MLP and RealNVP give at initialisation), and the Jacobians (a subset,
scaled to 128). Derived: the test bound as 78 × 2 encoder forward passes, E2's step as
``classifier_steps`` frozen forward passes + half a two-encoder step. Training time between
evaluations = ``eval_every`` × ms/step from the step table. Overhead = evaluation ÷ (training +
evaluation) over every config of the experiment at the ``paper`` profile (target ≤ 10 %). E6 has no
separate evaluation (it records the training batch's bound).

**Seed-vectorised training** (:mod:`mi_tutorial.training.vectorised`): S seeds trained one after another
with the sequential trainer vs all S in one vmapped computation, for E6's critic and the paper's MLP
encoders + bilinear critic. Per-step times are differenced, ``(t(N) - t(N0)) / (N - N0)``, so the
set-up and the step-0 evaluation cancel; speed-up = sequential ÷ vectorised.

**Book.** Seconds per chapter from ``_build/execution.json`` (written by ``mi_tutorial.pipeline``).

Usage::

    python benchmarks/bench_steps.py                 # more reps, larger subsets, 300 timed steps
    python benchmarks/bench_steps.py --quick         # ≈100 s on 2 shared CPU cores
    python benchmarks/bench_steps.py --quick --json benchmarks/results/cpu-2core.json \\
        --note "shared machine: a background job used one of the 2 cores"
    python benchmarks/bench_steps.py --sections steps,vectorised   # only some sections
    python benchmarks/bench_steps.py --sections book --update --json benchmarks/results/cpu-2core.json
        # re-measure one section and keep the file's others
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import statistics
import time
from pathlib import Path

import torch
from torch import nn

from mi_tutorial.critics import make_critic
from mi_tutorial.encoders import count_parameters, make_encoder
from mi_tutorial.estimators import training_objective
from mi_tutorial.paper import (
    BOOK_ENCODERS,
    CRITIC_KWARGS,
    PAPER_ENCODERS,
    default_seeds,
    experiment_ids,
    get_configs,
)
from mi_tutorial.training import FUSED_VARIABLE, make_adam

BATCH = 128
VIEW_DIM = 392
ENCODERS = {
    "mlp": PAPER_ENCODERS["mlp"],
    "convnet": PAPER_ENCODERS["convnet"],
    "residual_mlp": PAPER_ENCODERS["residual_mlp"],
    "realnvp": PAPER_ENCODERS["realnvp"],
    "realnvp (book)": BOOK_ENCODERS["realnvp"],
}
CRITICS = ("bilinear", "separable", "concat")


def encoder_flops(encoder: nn.Module, x: torch.Tensor) -> int:
    """Forward matmul FLOPs of ``encoder`` on ``x``, counted with hooks on Linear/Conv2d."""
    total = 0

    def linear_hook(module: nn.Linear, inputs, output) -> None:
        nonlocal total
        rows = inputs[0].numel() // module.in_features
        total += 2 * rows * module.in_features * module.out_features

    def conv_hook(module: nn.Conv2d, inputs, output) -> None:
        nonlocal total
        kh, kw = module.kernel_size
        total += 2 * output.numel() * (module.in_channels // module.groups) * kh * kw

    handles = []
    for m in encoder.modules():
        if isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
        elif isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
    with torch.no_grad():
        encoder(x)
    for h in handles:
        h.remove()
    return total


def critic_flops(name: str, k: int, d: int, kwargs: dict) -> int:
    """Forward matmul FLOPs of the critic on codes x, y of shape [k, d]."""
    if name == "bilinear":  # (x W) yᵀ
        return 2 * k * d * d + 2 * k * k * d
    if name == "separable":  # φ1(x) φ2(y)ᵀ, each φ = d → hidden → out
        h, o = kwargs.get("hidden", 100), kwargs.get("out", 100)
        return 2 * (2 * k * d * h + 2 * k * h * o) + 2 * k * k * o
    if name == "concat":  # first layer split: x W_xᵀ + y W_yᵀ; then K² rows through the rest
        h, layers = kwargs.get("hidden", 200), kwargs.get("layers", 1)
        return 2 * 2 * k * d * h + (layers - 1) * 2 * k * k * h * h + 2 * k * k * h
    raise ValueError(name)


def build_step(encoder: str, enc_kwargs: dict, critic: str, channels_last: bool = False):
    """One training step as the trainer runs it (Adam from :func:`make_adam`, fused unless
    ``MI_TUTORIAL_FUSED_ADAM=0``); ``channels_last`` stores a ConvNet's weights channels-last."""
    torch.manual_seed(0)
    g1 = make_encoder(encoder.split(" ")[0], input_dim=VIEW_DIM, **enc_kwargs)
    g2 = make_encoder(encoder.split(" ")[0], input_dim=VIEW_DIM, **enc_kwargs)
    if channels_last:
        g1, g2 = (g.to(memory_format=torch.channels_last) for g in (g1, g2))
    f = make_critic(critic, g1.out_dim, g2.out_dim, **CRITIC_KWARGS[critic])
    params = [*g1.parameters(), *g2.parameters(), *f.parameters()]
    opt = make_adam(params, lr=1e-4)
    x1, x2 = torch.rand(BATCH, VIEW_DIM), torch.rand(BATCH, VIEW_DIM)

    def step() -> None:
        loss = -training_objective("infonce", f(g1(x1), g2(x2)))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    flops = 3 * (
        encoder_flops(g1, x1)
        + encoder_flops(g2, x2)
        + critic_flops(critic, BATCH, g1.out_dim, CRITIC_KWARGS[critic])
    )
    n_params = count_parameters(g1) + count_parameters(g2) + count_parameters(f)
    return step, flops, n_params


def time_steps(step, warmup: int, reps: int, budget_s: float) -> list[float]:
    """Seconds of each of ``reps`` calls after ``warmup`` calls (fewer if over ``budget_s``)."""
    for _ in range(warmup):
        step()
    times: list[float] = []
    begin = time.perf_counter()
    while len(times) < reps and (len(times) < 3 or time.perf_counter() - begin < budget_s):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return times


def time_step(step, warmup: int, reps: int, budget_s: float) -> tuple[float, float]:
    """(median, min) seconds per call of :func:`time_steps`.

    The minimum is the better estimate of the intrinsic cost on a machine shared with other
    processes; a median far above it means the timing was disturbed."""
    times = time_steps(step, warmup, reps, budget_s)
    return statistics.median(times), min(times)


def matmul_roofline(n: int, reps: int) -> float:
    """Measured fp32 GFLOP/s of an n×n @ n×n torch.mm (best of ``reps``)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    _, fastest = time_step(lambda: torch.mm(a, b), warmup=2, reps=reps, budget_s=30.0)
    return 2 * n**3 / fastest / 1e9


# --------------------------------------------------------------------------------------------------
# Section 1: step table
# --------------------------------------------------------------------------------------------------


class StepTimes:
    """ms/step (median, min) per (encoder, critic), cached. :meth:`measure_interleaved` times a
    set of pairs in ``rounds`` interleaved rounds (the median of all timed steps), so that a change
    in the machine's load hits every pair alike; :meth:`measure` times one pair on demand."""

    def __init__(self, warmup: int, reps: int, budget: float, rounds: int = 3) -> None:
        self.warmup, self.reps, self.budget, self.rounds = warmup, reps, budget, rounds
        self.rows: dict[tuple[str, str], dict] = {}

    def measure_interleaved(self, pairs: list[tuple[str, str]]) -> None:
        built = {
            pair: build_step(pair[0], ENCODERS[pair[0]], pair[1])
            for pair in pairs
            if pair not in self.rows
        }
        samples: dict[tuple[str, str], list[float]] = {pair: [] for pair in built}
        reps, budget = max(self.reps // self.rounds, 3), self.budget / self.rounds
        for _ in range(self.rounds):
            for pair, (step, _, _) in built.items():
                samples[pair] += time_steps(step, self.warmup, reps, budget)
        for (encoder, critic), (_, flops, n_params) in built.items():
            self.rows[encoder, critic] = {
                "encoder": encoder,
                "critic": critic,
                "params": n_params,
                "ms_per_step": 1e3 * statistics.median(samples[encoder, critic]),
                "ms_per_step_min": 1e3 * min(samples[encoder, critic]),
                "gflop_per_step": flops / 1e9,
            }

    def measure(self, encoder: str, critic: str) -> dict:
        self.measure_interleaved([(encoder, critic)])
        return self.rows[encoder, critic]

    def ms(self, encoder: str, critic: str) -> float:
        return self.measure(encoder, critic if critic in CRITICS else "bilinear")["ms_per_step"]


def step_table(times: StepTimes, roof: float) -> dict:
    header = (
        f"{'encoder':<15} {'critic':<10} {'params':>11} {'ms/step':>8} {'(min)':>7} "
        f"{'GFLOP/step':>11} {'GFLOP/s':>8} {'of peak':>8}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    times.measure_interleaved([(encoder, critic) for encoder in ENCODERS for critic in CRITICS])
    for encoder in ENCODERS:
        for critic in CRITICS:
            row = times.measure(encoder, critic)
            achieved = row["gflop_per_step"] / (row["ms_per_step"] / 1e3)
            row["gflop_per_s"], row["of_peak"] = achieved, achieved / roof
            rows.append(row)
            print(
                f"{encoder:<15} {critic:<10} {row['params']:>11,d} {row['ms_per_step']:>8.1f} "
                f"{row['ms_per_step_min']:>7.1f} {row['gflop_per_step']:>11.3f} "
                f"{achieved:>8.0f} {achieved / roof:>8.2f}"
            )
    print("\nconcat / bilinear step-time ratio (target ≤ 2×):")
    ratios = {}
    for encoder in ENCODERS:
        ratio = times.ms(encoder, "concat") / times.ms(encoder, "bilinear")
        ratios[encoder] = ratio
        print(f"  {encoder:<15} {ratio:.2f}×{'' if ratio <= 2 else '  (above target)'}")
    return {"rows": rows, "concat_over_bilinear": ratios}


# --------------------------------------------------------------------------------------------------
# Section 1b: the kernels chosen for speed, each against its alternatives
# --------------------------------------------------------------------------------------------------

#: (encoder, what is compared, {variant: how to build and run it}); the first variant is the default.
KERNEL_CHOICES = (
    (
        "convnet",
        "layout and backend",
        {
            "contiguous, oneDNN (default)": {},
            "channels-last, oneDNN": {"channels_last": True},
            "contiguous, oneDNN off": {"onednn": False},
        },
    ),
    ("mlp", "Adam kernel", {"fused (default)": {}, "per-parameter loop": {"fused": False}}),
    ("realnvp", "Adam kernel", {"fused (default)": {}, "per-parameter loop": {"fused": False}}),
)


def _variant_step(encoder: str, channels_last=False, onednn=True, fused=True):
    previous = os.environ.get(FUSED_VARIABLE)
    os.environ[FUSED_VARIABLE] = "1" if fused else "0"  # read when make_adam builds the optimiser
    try:
        step, _, _ = build_step(encoder, ENCODERS[encoder], "bilinear", channels_last)
    finally:
        if previous is None:
            del os.environ[FUSED_VARIABLE]
        else:
            os.environ[FUSED_VARIABLE] = previous

    def run() -> None:
        before = torch.backends.mkldnn.enabled
        torch.backends.mkldnn.enabled = onednn
        try:
            step()
        finally:
            torch.backends.mkldnn.enabled = before

    return run


def kernel_choices(warmup: int, reps: int, budget: float, rounds: int) -> list[dict]:
    """ms/step (bilinear critic; the median of all timed steps) of each default kernel choice and
    its alternatives, timed in ``rounds`` interleaved rounds so that a change in the machine's load
    hits every variant alike."""
    out = []
    for encoder, compared, variants in KERNEL_CHOICES:
        steps = {name: _variant_step(encoder, **options) for name, options in variants.items()}
        samples: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(rounds):
            for name, step in steps.items():
                samples[name] += time_steps(step, warmup, reps, budget)
        default = statistics.median(next(iter(samples.values())))
        for name, values in samples.items():
            ms = 1e3 * statistics.median(values)
            out.append(
                {"encoder": encoder, "compared": compared, "variant": name, "ms_per_step": ms}
            )
            print(
                f"  {encoder:<8} {compared:<19} {name:<30} {ms:>8.1f} ms  "
                f"{statistics.median(values) / default:>5.2f}× the default"
            )
        del steps
    return out


# --------------------------------------------------------------------------------------------------
# Section 2: evaluation overhead of paper-profile runs
# --------------------------------------------------------------------------------------------------

TEST_BATCHES = 10_000 // BATCH  # the paper profile's bound: the whole test set, 78 batches
N_ENCODED = 70_000  # 60k train + 10k test top halves per evaluation
PAPER_ENCODER_NAMES = ("mlp", "convnet", "residual_mlp", "realnvp")


def evaluation_parts(quick: bool) -> dict | None:
    """Measured pieces of one evaluation (seconds), or None without MNIST."""
    from mi_tutorial.data import load_views
    from mi_tutorial.evaluation import encode, jacobian_log_condition, linear_probe

    try:
        train, test = load_views("train"), load_views("test")
    except Exception as err:  # no MNIST here: the section is skipped, not the benchmark
        print(f"evaluation overhead: skipped ({type(err).__name__}: {err})")
        return None
    subset = 4_096 if quick else 16_384
    encode_s: dict[str, float] = {}
    for name in PAPER_ENCODER_NAMES:
        torch.manual_seed(0)
        g = make_encoder(name, input_dim=VIEW_DIM, **PAPER_ENCODERS[name])
        encode(g, train.top[:256])  # warm-up
        start = time.perf_counter()
        encode(g, train.top[:subset])
        encode_s[name] = (time.perf_counter() - start) * N_ENCODED / subset
    torch.manual_seed(0)
    mlp = make_encoder("mlp", input_dim=VIEW_DIM, **PAPER_ENCODERS["mlp"])
    probe_s: dict[int, float] = {}
    for dim, (f_train, f_test) in {
        100: (encode(mlp, train.top), encode(mlp, test.top)),
        VIEW_DIM: (train.top, test.top),
    }.items():
        start = time.perf_counter()
        linear_probe(f_train, train.labels, f_test, test.labels, seed=0)
        probe_s[dim] = time.perf_counter() - start
    torch.manual_seed(0)
    residual = make_encoder("residual_mlp", input_dim=VIEW_DIM, **PAPER_ENCODERS["residual_mlp"])
    n_jac = 16 if quick else 128
    start = time.perf_counter()
    jacobian_log_condition(residual.eval(), train.top[:n_jac], svd_backend="scipy")
    jacobians_s = (time.perf_counter() - start) * 128 / n_jac
    return {
        "encode_70k_s": encode_s,
        "probe_fit_s": {str(k): v for k, v in probe_s.items()},
        "jacobians_128_s": jacobians_s,
        "encode_subset": subset,
        "jacobian_subset": n_jac,
    }


def _out_dim(encoder: str) -> int:
    return 100 if encoder in ("mlp", "convnet") else VIEW_DIM


def _n_evals(steps: int, eval_every: int) -> int:
    return (steps - 1) // eval_every + 1


def paper_costs(parts: dict, times: StepTimes, noniid_ms: float) -> dict:
    """Per experiment at the paper profile: training and evaluation seconds per seed (summed
    over its configs), the evaluation overhead and the whole experiment's CPU hours."""
    encode_s, probe_s = parts["encode_70k_s"], parts["probe_fit_s"]
    out = {}
    for experiment in experiment_ids():
        train_s = eval_s = 0.0
        configs = get_configs(experiment, "paper")
        for c in configs:
            if c.kind == "noniid":
                train_s += c.steps * noniid_ms / 1e3
                continue
            fwd_batch = encode_s[c.encoder] / N_ENCODED * BATCH  # one eval-mode forward of 128
            n_evals = _n_evals(c.steps, c.eval_every)
            one_eval = encode_s[c.encoder] + probe_s[str(_out_dim(c.encoder))]
            if c.kind == "supervised":  # one encoder + a linear head: ≈ half a two-view step
                train_s += c.steps * times.ms(c.encoder, "bilinear") / 2e3
            elif c.kind == "adversarial":
                step_s = c.classifier_steps * fwd_batch + times.ms(c.encoder, "bilinear") / 2e3
                train_s += c.steps * step_s + c.warmup_steps * fwd_batch
                one_eval += 2 * fwd_batch  # reconstruction check on one test batch
            else:
                train_s += c.steps * times.ms(c.encoder, c.critic) / 1e3
                one_eval += TEST_BATCHES * 2 * fwd_batch
                if c.eval_jacobian:
                    one_eval += parts["jacobians_128_s"]
            eval_s += n_evals * one_eval
        n_seeds = len(default_seeds(experiment, "paper"))
        total = train_s + eval_s
        out[experiment] = {
            "configs": len(configs),
            "seeds": n_seeds,
            "train_s_per_seed": train_s,
            "eval_s_per_seed": eval_s,
            "eval_overhead": eval_s / total if total else 0.0,
            "cpu_hours_all_seeds": total * n_seeds / 3600,
        }
    return out


def print_paper_costs(parts: dict, costs: dict) -> None:
    enc = ", ".join(f"{k} {v:.1f} s" for k, v in parts["encode_70k_s"].items())
    probe = ", ".join(f"{k}-d {v:.1f} s" for k, v in parts["probe_fit_s"].items())
    print(f"one evaluation: encode 70k: {enc}; probe fit: {probe}; ")
    print(f"                E3's 128 Jacobians + SVDs {parts['jacobians_128_s']:.1f} s")
    header = (
        f"{'experiment':<22} {'configs':>7} {'seeds':>5} {'train s/seed':>13} "
        f"{'eval s/seed':>12} {'eval share':>10} {'CPU h (all)':>12}"
    )
    print(header)
    print("-" * len(header))
    for name, c in costs.items():
        flag = "" if c["eval_overhead"] <= 0.2 else "  (above 20 %)"
        print(
            f"{name:<22} {c['configs']:>7} {c['seeds']:>5} {c['train_s_per_seed']:>13.0f} "
            f"{c['eval_s_per_seed']:>12.0f} {100 * c['eval_overhead']:>9.1f}% "
            f"{c['cpu_hours_all_seeds']:>12.1f}{flag}"
        )


# --------------------------------------------------------------------------------------------------
# Section 3: seed-vectorised training
# --------------------------------------------------------------------------------------------------


def _random_views(n: int, seed: int):
    from mi_tutorial.data import TwoViews

    gen = torch.Generator().manual_seed(seed)
    return TwoViews(
        torch.rand(n, VIEW_DIM, generator=gen),
        torch.rand(n, VIEW_DIM, generator=gen),
        torch.randint(0, 10, (n,), generator=gen),
    )


def _per_step_seconds(run, config, n_short: int, n_long: int, *args) -> float:
    """(t(n_long) - t(n_short)) / (n_long - n_short) for ``run(config, *args)``: set-up and the
    step-0 evaluation cancel."""
    seconds = []
    for steps in (n_short, n_long):
        start = time.perf_counter()
        run(config.replace(steps=steps), *args)
        seconds.append(time.perf_counter() - start)
    return max(seconds[1] - seconds[0], 1e-9) / (n_long - n_short)


def vectorised_speedups(quick: bool) -> dict:
    from mi_tutorial.training import train_multiview, train_noniid
    from mi_tutorial.training.vectorised import train_multiview_seeds, train_noniid_seeds

    n_short, n_long = (10, 70) if quick else (20, 320)
    noniid = get_configs("noniid", "paper")[0]
    data = (_random_views(2_048, 0), _random_views(512, 1))  # MNIST-shaped; cost ≠ f(pixels)
    mlp = get_configs("critic-capacity", "paper")[0].replace(eval_every=10**9, eval_batches=1)
    assert (mlp.encoder, mlp.critic) == ("mlp", "bilinear")
    uses = {
        "E6 concat critic (hidden 10 x 5 layers, K=128)": (
            noniid,
            lambda c, seeds: [train_noniid(c, s, progress=False) for s in seeds],
            lambda c, seeds: train_noniid_seeds(c, seeds),
        ),
        "MLP 392-300-300-100 x2 + bilinear (K=128)": (
            mlp,
            lambda c, seeds: [train_multiview(c, s, progress=False, data=data) for s in seeds],
            lambda c, seeds: train_multiview_seeds(c, seeds, data=data),
        ),
    }
    out = []
    print(f"per-step times differenced over {n_long - n_short} steps")
    header = f"{'use':<48} {'seeds':>5} {'sequential ms':>14} {'vectorised ms':>14} {'speed-up':>9}"
    print(header)
    print("-" * len(header))
    for name, (config, sequential, vectorised) in uses.items():
        vectorised(config.replace(steps=2), [0, 1])  # warm-up
        for n_seeds in (4, 8):
            seeds = list(range(n_seeds))
            seq = _per_step_seconds(sequential, config, n_short, n_long, seeds)
            vec = _per_step_seconds(vectorised, config, n_short, n_long, seeds)
            row = {
                "use": name,
                "seeds": n_seeds,
                "sequential_ms_per_step_all_seeds": 1e3 * seq,
                "vectorised_ms_per_step_all_seeds": 1e3 * vec,
                "speedup": seq / vec,
                "steps_timed": n_long - n_short,
            }
            out.append(row)
            print(
                f"{name:<48} {n_seeds:>5} {1e3 * seq:>14.1f} {1e3 * vec:>14.1f} {seq / vec:>8.2f}×"
            )
    return {"rows": out}


def noniid_step_ms(quick: bool) -> float:
    """Sequential E6 ms/step (paper config), differenced like the vectorised timings."""
    from mi_tutorial.training import train_noniid

    config = get_configs("noniid", "paper")[0]
    n_short, n_long = (10, 110) if quick else (20, 520)
    return 1e3 * _per_step_seconds(
        lambda c: train_noniid(c, 0, progress=False), config, n_short, n_long
    )


# --------------------------------------------------------------------------------------------------
# Section 4: the book's chapters
# --------------------------------------------------------------------------------------------------


def book_times() -> dict | None:
    from mi_tutorial.pipeline import EXECUTION_LOG, REPO, chapters_at_once, elapsed_seconds

    if not EXECUTION_LOG.exists():
        print(f"book chapters: not built yet (no {EXECUTION_LOG})")
        return None
    log = json.loads(EXECUTION_LOG.read_text())
    chapters = {
        name: {"seconds": entry["seconds"], "profile": entry["parameters"].get("PROFILE")}
        for name, entry in log.items()
    }
    total, elapsed = sum(c["seconds"] for c in chapters.values()), elapsed_seconds(log)
    at_once = chapters_at_once(log)
    for name, c in chapters.items():
        print(f"  {name:<28} {c['seconds']:>8.1f} s  (PROFILE={c['profile']})")
    print(f"  {'chapter time':<28} {total:>8.1f} s = {total / 60:.1f} min")
    print(
        f"  {'wall clock':<28} {elapsed:>8.1f} s = {elapsed / 60:.1f} min "
        f"(up to {at_once} chapters at once; HTML build not included)"
    )
    source = (
        EXECUTION_LOG.relative_to(REPO) if EXECUTION_LOG.is_relative_to(REPO) else EXECUTION_LOG
    )
    return {  # no machine's path
        "chapters": chapters,
        "total_s": total,
        "elapsed_s": elapsed,
        "chapters_at_once": at_once,
        "source": str(source),
    }


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------

SECTIONS = ("steps", "kernels", "eval", "vectorised", "book")


def machine_info() -> dict:
    return {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer reps, smaller subsets")
    parser.add_argument("--reps", type=int, default=None, help="timed steps per config")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write every number to this file")
    parser.add_argument("--note", default=None, help="free text stored in the JSON (e.g. load)")
    parser.add_argument(
        "--update",
        action="store_true",
        help="keep the sections of the --json file that --sections does not name",
    )
    args = parser.parse_args(argv)
    if args.update and not (args.json and args.json.exists()):
        parser.error("--update needs an existing --json file to update")
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {list(SECTIONS)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    reps = args.reps or (10 if args.quick else 30)
    warmup = 3 if args.quick else 5
    budget = 5.0 if args.quick else 20.0
    began = time.perf_counter()
    report: dict = {
        "timestamp": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "note": args.note,
        "machine": machine_info(),
        "batch": BATCH,
    }

    roof = matmul_roofline(2048 if args.quick else 4096, reps=5 if args.quick else 10)
    report["roofline_gflops"] = roof
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), batch {BATCH}; "
        f"fp32 matmul roofline {roof:.0f} GFLOP/s"
    )
    times = StepTimes(warmup, reps, budget)
    if "steps" in sections:
        report["steps"] = step_table(times, roof)
    if "kernels" in sections:
        print("\nkernel choices (bilinear critic; median over interleaved rounds):")
        report["kernels"] = kernel_choices(warmup, max(reps // 5, 3), budget / 5, rounds=5)
    if "eval" in sections:
        print("\nevaluation overhead of `paper`-profile runs (target ≤ 10 %):")
        parts = evaluation_parts(args.quick)
        if parts is not None:
            noniid_ms = noniid_step_ms(args.quick)
            costs = paper_costs(parts, times, noniid_ms)
            print_paper_costs(parts, costs)
            report["evaluation"] = {
                "parts": parts,
                "noniid_ms_per_step": noniid_ms,
                "ms_per_step_used": {
                    f"{e}+{c}": r["ms_per_step"] for (e, c), r in times.rows.items()
                },
                "paper_profile": costs,
            }
    if "vectorised" in sections:
        print("\nseed-vectorised training vs sequential seeds (mi_tutorial.training.vectorised):")
        report["vectorised"] = vectorised_speedups(args.quick)
    if "book" in sections:
        print("\nbook execution per chapter (_build/execution.json):")
        report["book"] = book_times()
    report["machine"]["load_average_at_end"] = (
        list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    )
    if args.update:
        report = updated_report(json.loads(args.json.read_text()), report, sections)
    rows = target_rows(report)
    print_targets(rows)
    report["targets"] = [
        {"target": n, "threshold": t, "measured": m, "met": ok} for n, t, m, ok in rows
    ]
    report["benchmark_seconds"] = time.perf_counter() - began
    print(f"\nbenchmark wall time {report['benchmark_seconds']:.0f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(_finite(report), indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


def updated_report(old: dict, new: dict, sections: list[str]) -> dict:
    """``old`` with the sections measured now replaced (and the roofline, with the steps); its
    ``updates`` list says when, which and under what load. The machine entry stays that of the
    full run that made ``old``."""
    keys = [
        SECTION_KEYS.get(name, name) for name in sections if SECTION_KEYS.get(name, name) in new
    ]
    if "steps" in keys:
        keys.append("roofline_gflops")
    machine = new["machine"]
    stamp = {
        "timestamp": new["timestamp"],
        "replaced": keys,
        "note": new["note"],
        "threads": machine["threads"],
        "load_average_at_start": machine["load_average_at_start"],
        "load_average_at_end": machine["load_average_at_end"],
    }
    return {**old, **{key: new[key] for key in keys}, "updates": [*old.get("updates", []), stamp]}


#: Where a section's numbers live in the report, where the two names differ.
SECTION_KEYS = {"eval": "evaluation"}


#: The performance issue's targets, each a ratio measured by one section of this benchmark.
COMPUTE_BOUND = (("mlp", "bilinear"), ("convnet", "bilinear"), ("realnvp", "bilinear"))
TARGETS = {
    "of_peak": 0.6,  # compute-bound steps: ≥ 0.6 of the fp32 matmul roofline
    "concat_over_bilinear": 2.0,  # MLP encoder: the concat step ≤ 2× the bilinear step
    "eval_overhead": 0.10,  # evaluation ≤ 10 % of a paper-profile run, every experiment
    "book_minutes": 20.0,  # the whole book's execution on 2 cores
}


def target_rows(report: dict) -> list[tuple[str, str, str, bool]]:
    """(target, threshold, measured, met) for every target the measured sections cover."""
    rows = []
    steps = report.get("steps")
    if steps:
        by_pair = {(r["encoder"], r["critic"]): r for r in steps["rows"]}
        for pair in COMPUTE_BOUND:
            if pair in by_pair:
                value = by_pair[pair]["of_peak"]
                rows.append(
                    (
                        f"{'+'.join(pair)} step, of roofline",
                        "≥ 0.60",
                        f"{value:.2f}",
                        value >= TARGETS["of_peak"],
                    )
                )
        ratio = steps["concat_over_bilinear"].get("mlp")
        if ratio is not None:
            rows.append(
                (
                    "mlp concat / bilinear step",
                    "≤ 2.0×",
                    f"{ratio:.2f}×",
                    ratio <= TARGETS["concat_over_bilinear"],
                )
            )
    costs = (report.get("evaluation") or {}).get("paper_profile") or {}
    for experiment, cost in costs.items():
        if cost["eval_s_per_seed"] > 0:
            value = cost["eval_overhead"]
            rows.append(
                (
                    f"{experiment} evaluation overhead",
                    "≤ 10 %",
                    f"{value:.0%}",
                    value <= TARGETS["eval_overhead"],
                )
            )
    book = report.get("book")
    if book:
        minutes = book.get("elapsed_s", book["total_s"]) / 60  # older reports: one at a time
        rows.append(
            (
                "book execution, wall clock (no HTML)",
                "≤ 20 min",
                f"{minutes:.1f} min",
                minutes <= TARGETS["book_minutes"],
            )
        )
    return rows


def print_targets(rows: list[tuple[str, str, str, bool]]) -> None:
    print("\ntargets (measured on this machine now; see the load average above):")
    for name, threshold, measured, met in rows:
        print(f"  {name:<38} {threshold:>9} {measured:>10}  {'met' if met else 'NOT met'}")


def _finite(value):
    """JSON has no NaN/inf: turn them into None (recursively)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


if __name__ == "__main__":
    raise SystemExit(main())
