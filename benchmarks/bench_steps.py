"""Benchmark: milliseconds per training step for every encoder × critic, against a matmul roofline.

One step is what :func:`mi_tutorial.train.train_multiview` does per update: two encoders on the two
392-d views of a batch of 128, the critic's K×K score matrix, :math:`-I_{NCE}` backward and an Adam
update (eps 1e-7, as in train.py). Timings are the median (and the minimum) over ``--reps`` steps after a
few warm-up steps. Inputs are uniform random views (the cost does not depend on the pixel values).

FLOPs/step are analytic matmul FLOPs (2·m·n·k per product; Linear and Conv2d layers counted by
forward hooks, the critic's K×K products added by hand) × 3 for forward + backward; elementwise
work, Adam and the estimator are ignored. The roofline is the measured fp32 GFLOP/s of a large
``torch.mm``; "of peak" = (FLOPs/step ÷ time/step) ÷ roofline.

Usage::

    python benchmarks/bench_steps.py            # 30 timed steps each
    python benchmarks/bench_steps.py --quick    # 10 timed steps each, smaller roofline matrix
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from mi_tutorial.critics import make_critic
from mi_tutorial.encoders import count_parameters, make_encoder
from mi_tutorial.estimators import training_objective
from mi_tutorial.experiments import BOOK_ENCODERS, CRITIC_KWARGS, PAPER_ENCODERS
from mi_tutorial.train import ADAM_EPS

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


def build_step(encoder: str, enc_kwargs: dict, critic: str):
    torch.manual_seed(0)
    g1 = make_encoder(encoder.split(" ")[0], input_dim=VIEW_DIM, **enc_kwargs)
    g2 = make_encoder(encoder.split(" ")[0], input_dim=VIEW_DIM, **enc_kwargs)
    f = make_critic(critic, g1.out_dim, g2.out_dim, **CRITIC_KWARGS[critic])
    params = [*g1.parameters(), *g2.parameters(), *f.parameters()]
    opt = torch.optim.Adam(params, lr=1e-4, eps=ADAM_EPS)
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


def time_step(step, warmup: int, reps: int, budget_s: float) -> tuple[float, float]:
    """(median, min) seconds per call after ``warmup`` calls (fewer reps if over ``budget_s``).

    The minimum is the better estimate of the intrinsic cost on a machine shared with other
    processes; a median far above it means the timing was disturbed."""
    for _ in range(warmup):
        step()
    times: list[float] = []
    begin = time.perf_counter()
    while len(times) < reps and (len(times) < 3 or time.perf_counter() - begin < budget_s):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def matmul_roofline(n: int, reps: int) -> float:
    """Measured fp32 GFLOP/s of an n×n @ n×n torch.mm (best of ``reps``)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    _, fastest = time_step(lambda: torch.mm(a, b), warmup=2, reps=reps, budget_s=30.0)
    return 2 * n**3 / fastest / 1e9


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 timed steps, 3 warm-up")
    parser.add_argument("--reps", type=int, default=None, help="timed steps per config")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    reps = args.reps or (10 if args.quick else 30)
    warmup = 3 if args.quick else 5
    budget = 5.0 if args.quick else 20.0

    roof = matmul_roofline(2048 if args.quick else 4096, reps=5 if args.quick else 10)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), batch {BATCH}; "
        f"fp32 matmul roofline {roof:.0f} GFLOP/s"
    )
    header = (
        f"{'encoder':<15} {'critic':<10} {'params':>11} {'ms/step':>8} {'(min)':>7} "
        f"{'GFLOP/step':>11} {'GFLOP/s':>8} {'of peak':>8}"
    )
    print(header)
    print("-" * len(header))
    ms: dict[tuple[str, str], float] = {}
    for encoder, enc_kwargs in ENCODERS.items():
        for critic in CRITICS:
            step, flops, n_params = build_step(encoder, enc_kwargs, critic)
            seconds, fastest = time_step(step, warmup, reps, budget)
            ms[encoder, critic] = 1e3 * seconds
            achieved = flops / seconds / 1e9
            print(
                f"{encoder:<15} {critic:<10} {n_params:>11,d} {1e3 * seconds:>8.1f} "
                f"{1e3 * fastest:>7.1f} "
                f"{flops / 1e9:>11.3f} {achieved:>8.0f} {achieved / roof:>8.2f}"
            )
    print("\nconcat / bilinear step-time ratio (target ≤ 2×):")
    for encoder in ENCODERS:
        ratio = ms[encoder, "concat"] / ms[encoder, "bilinear"]
        print(f"  {encoder:<15} {ratio:.2f}×{'' if ratio <= 2 else '  (above target)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
