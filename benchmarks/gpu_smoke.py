"""GPU smoke check: every trainer runs on CUDA and gives the CPU's records up to float tolerance.

For one smoke config of each trainer (multi-view MLP + bilinear, multi-view with a ConvNet
encoder, adversarial RealNVP, non-i.i.d. concat critic, and the two seed-vectorised trainers) it

1. runs the config on the CPU and on the CUDA device (same seed; inputs are drawn on the CPU
   in both cases, see :mod:`mi_tutorial.training`) and checks that the records have the same rows and
   that the values agree: ``|cuda - cpu| <= atol + rtol·|cpu|`` (``accuracy``: within 3 test
   examples of sklearn's digits, since a probe may flip an example or two);
2. prints the ms per training step on each device, from two runs of ``steps`` and
   ``steps + extra`` steps evaluated only at step 0: ``(t_long - t_short) / extra``, which leaves
   out start-up and evaluation.

TF32 is switched off for the comparison (``torch.backends.*.allow_tf32 = False``), so CUDA computes
in true fp32 like the CPU.

Usage::

    python benchmarks/gpu_smoke.py              # exits 0 with a message where there is no CUDA
    python benchmarks/gpu_smoke.py --target cpu # the same checks, CPU against CPU (tests the script)

Exit status: 0 when every check passed (or there is no CUDA device), 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from mi_tutorial.paper import get_configs
from mi_tutorial.training import run_config
from mi_tutorial.training.vectorised import run_config_seeds

RTOL, ATOL = 1e-3, 1e-3
ACCURACY_ATOL = 3 / 360  # three of the 360 digits test images
EXTRA_STEPS = 100


def smoke_configs() -> dict[str, object]:
    """One smoke config per trainer (sklearn digits / 2-d Gaussians; seconds each)."""
    e4 = get_configs("critic-capacity", "smoke")[0]
    e5 = next(c for c in get_configs("encoder-vs-estimator", "smoke") if c.encoder == "convnet")
    return {
        "multiview mlp+bilinear": e4,
        "multiview convnet+bilinear (target t)": e5,
        "adversarial realnvp": get_configs("adversarial", "smoke")[0],
        "noniid concat": get_configs("noniid", "smoke")[0],
    }


def _runner(config, vectorised: bool) -> Callable[[object, str], pd.DataFrame]:
    if vectorised:

        def run(cfg, device: str) -> pd.DataFrame:
            out = run_config_seeds(cfg, [0, 1], device=device)
            return pd.concat([out[s].assign(seed=s) for s in sorted(out)], ignore_index=True)

        return run
    return lambda cfg, device: run_config(cfg, 0, device=device, progress=False)


def compare(reference: pd.DataFrame, other: pd.DataFrame) -> str | None:
    """None if the records agree (same rows, values within tolerance), else what differs."""
    if list(reference["step"]) != list(other["step"]) or list(reference["metric"]) != list(
        other["metric"]
    ):
        return "the records have different rows (steps or metrics)"
    a, b = reference["value"].to_numpy(float), other["value"].to_numpy(float)
    is_acc = reference["metric"].isin(["accuracy", "classifier_accuracy"]).to_numpy()
    tol = np.where(is_acc, ACCURACY_ATOL, ATOL + RTOL * np.abs(a))
    both_nan = np.isnan(a) & np.isnan(b)
    bad = ~both_nan & ~(np.abs(a - b) <= tol)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        return (
            f"{int(bad.sum())} value(s) differ, first: step {reference['step'].iloc[i]} "
            f"{reference['metric'].iloc[i]}: {a[i]!r} vs {b[i]!r}"
        )
    return None


def ms_per_step(run: Callable, config, device: str) -> float:
    """Training ms/step on ``device``: two runs evaluated only at step 0, differenced."""
    short = config.replace(eval_every=10**9)
    long = short.replace(steps=short.steps + EXTRA_STEPS)
    seconds = []
    for cfg in (short, long):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        run(cfg, device)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - start)
    return 1e3 * max(seconds[1] - seconds[0], 0.0) / EXTRA_STEPS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--target", default="cuda", help="device to check against the CPU (default: cuda)"
    )
    args = parser.parse_args(argv)
    target = args.target
    if target.startswith("cuda"):
        if not torch.cuda.is_available():
            print("no CUDA device; nothing to check")
            return 0
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        print(f"CUDA device: {torch.cuda.get_device_name(torch.device(target))}")
        torch.zeros(1, device=target)  # create the CUDA context before any timing
    print(f"torch {torch.__version__}; {torch.get_num_threads()} CPU thread(s); target {target}")
    header = f"{'trainer':<42} {'cpu ms/step':>12} {target + ' ms/step':>14}  result"
    print(header)
    print("-" * len(header))
    failures = 0
    cases = [(name, cfg, False) for name, cfg in smoke_configs().items()]
    cases += [
        ("vectorised x2 " + name, cfg, True)
        for name, cfg in smoke_configs().items()
        if name in ("multiview mlp+bilinear", "noniid concat")
    ]
    for name, config, vectorised in cases:
        run = _runner(config, vectorised)
        try:
            problem = compare(run(config, "cpu"), run(config, target))
            cpu_ms, target_ms = ms_per_step(run, config, "cpu"), ms_per_step(run, config, target)
        except Exception as err:  # report every trainer, then fail
            problem, cpu_ms, target_ms = f"{type(err).__name__}: {err}", float("nan"), float("nan")
        failures += problem is not None
        print(
            f"{name:<42} {cpu_ms:>12.2f} {target_ms:>14.2f}  "
            f"{'ok' if problem is None else 'FAIL: ' + problem}"
        )
    print(
        f"\n{len(cases) - failures} of {len(cases)} trainers agree between cpu and {target} "
        f"(rtol {RTOL:g}, atol {ATOL:g}; accuracy within {ACCURACY_ATOL:.4f})."
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
