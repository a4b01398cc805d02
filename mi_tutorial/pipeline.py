"""Build the book: jupytext → papermill → jupyter-book.

For every chapter listed in ``_toc.yml`` whose source ``book/NN_slug.py`` exists, the percent-format
source is converted to ``book/NN_slug.ipynb`` and executed **in place** by papermill with
``PROFILE`` (and any other parameters) injected after the cell tagged ``parameters``. The injected
cell is tagged ``hide-cell`` so the page shows it collapsed. Then ``jupyter-book build`` renders the
executed notebooks (``execute_notebooks: "off"``) into ``_build/html`` with warnings as errors,
nitpicky (every cross-reference must resolve).

Independent chapters execute side by side (``--jobs N``, ``auto``: one per CPU), each kernel with
its share of the threads; chapter 8 and the appendix wait for the chapters they read
(:data:`RUNS_AFTER`). Any failing cell stops the build with a :class:`ChapterError` naming the
chapter and the cell.
Execution times and parameters are written to ``_build/execution.json`` (read by the book's
"Environment and execution" page).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from ._validation import positive_int_argument

REPO = Path(__file__).resolve().parents[1]
BOOK_DIR = REPO / "book"
BUILD_DIR = REPO / "_build"
EXECUTION_LOG = BUILD_DIR / "execution.json"


class ChapterError(RuntimeError):
    """A chapter failed to execute."""


def toc_entries(toc_path: Path = REPO / "_toc.yml") -> list[str]:
    """Every ``file:`` entry of ``_toc.yml`` (root first), in reading order."""
    import yaml

    toc = yaml.safe_load(toc_path.read_text())
    files = [toc["root"]]

    def walk(items):
        for item in items or []:
            if "file" in item:
                files.append(item["file"])
            walk(item.get("sections"))
            for part in item.get("chapters", []) or []:
                walk([part])

    walk(toc.get("chapters"))
    for part in toc.get("parts", []) or []:
        walk(part.get("chapters"))
    return files


def chapter_sources(toc_path: Path = REPO / "_toc.yml") -> list[Path]:
    """The jupytext sources (``*.py``) of the executable chapters in ``_toc.yml``."""
    return [
        REPO / f"{entry}.py" for entry in toc_entries(toc_path) if (REPO / f"{entry}.py").is_file()
    ]


def _kernel_environment() -> None:
    """Matplotlib must not be forced to Agg inside the kernel, or figures vanish from the notebook."""
    os.environ.pop("MPLBACKEND", None)
    os.environ.setdefault("PYTHONHASHSEED", "0")


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def parse_jobs(value: str) -> int:
    """``--jobs``: a positive integer, or ``auto`` for one chapter per available CPU."""
    if value == "auto":
        return available_cpus()
    try:
        return positive_int_argument(value)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected an integer >= 1 or 'auto', got {value!r}"
        ) from None


@contextmanager
def threads_per_kernel(jobs: int, cpus: int | None = None):
    """With ``jobs`` kernels at once, give each ``cpus // jobs`` (at least 1) torch/BLAS threads,
    so that they share the machine instead of oversubscribing it; a thread count the caller set
    in the environment wins. The environment is restored afterwards."""
    cpus = cpus or available_cpus()
    if jobs <= 1 or any(name in os.environ for name in THREAD_VARIABLES):
        yield None
        return
    threads = str(max(1, cpus // jobs))
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, threads))
    try:
        yield int(threads)
    finally:
        for name in THREAD_VARIABLES:
            os.environ.pop(name, None)


def execute_chapter(source: Path, parameters: dict, timeout: int | None = None) -> float:
    """Convert ``source`` to a notebook next to it and execute it with papermill; return seconds."""
    import jupytext
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook_path = source.with_suffix(".ipynb")
    nb = jupytext.read(source)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    if not any("parameters" in c.metadata.get("tags", []) for c in nb.cells):
        raise ChapterError(
            f"{source.name} has no cell tagged 'parameters' (add `# %% tags=[\"parameters\"]`)."
        )
    jupytext.write(nb, notebook_path)
    _kernel_environment()
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook_path),
            str(notebook_path),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(source.parent),
            progress_bar=False,
            execution_timeout=timeout,
        )
    except PapermillExecutionError as err:
        raise ChapterError(
            f"chapter {source.stem} failed in cell {err.cell_index} (execution count {err.exec_count}): "
            f"{err.ename}: {err.evalue}\nThe partially executed notebook is {notebook_path}."
        ) from None
    seconds = time.perf_counter() - start
    executed = nbformat.read(notebook_path, as_version=4)
    for cell in executed.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "hide-cell" not in tags:
            cell.metadata["tags"] = [*tags, "hide-cell"]
    nbformat.write(executed, notebook_path)
    return seconds


def build_html(strict: bool = True) -> None:
    """Run ``jupyter-book build`` on the repository root."""
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(REPO)]
    if strict:
        cmd += ["--warningiserror", "--nitpick", "--keep-going"]
    proc = subprocess.run(cmd)
    if proc.returncode != 0:
        raise ChapterError(
            f"jupyter-book build failed (exit {proc.returncode}); see the log above."
        )


#: Chapters that read what other chapters leave behind run after them: chapter 8 loads the
#: encoders that chapters 4a (E1), 4b (E2) and 5 (E4) store, and the appendix pages read the
#: execution log.
#: Keys and values are prefixes of chapter names; ``"*"`` means every other chapter.
RUNS_AFTER: dict[str, tuple[str, ...]] = {
    "08_": ("04a_", "04b_", "05_"),
    "09_": ("04", "05_", "06_", "07"),  # the report reads the runs those chapters train
    "90_": ("*",),
    "91_": ("*",),
}


def dependencies(stems: list[str]) -> dict[str, set[str]]:
    """For each chapter, the chapters (among ``stems``) that must finish before it starts."""
    last = {
        stem for stem in stems if any(stem.startswith(p) for p, b in RUNS_AFTER.items() if "*" in b)
    }
    deps: dict[str, set[str]] = {}
    for stem in stems:
        before = [b for p, bs in RUNS_AFTER.items() if stem.startswith(p) for b in bs]
        deps[stem] = {
            other
            for other in stems
            if other != stem
            and (("*" in before and other not in last) or other.startswith(tuple(before)))
        }
    return deps


def start_order(
    stems: list[str], deps: dict[str, set[str]], expected: dict[str, float]
) -> list[str]:
    """The order in which ready chapters start: those more chapters wait for first (so that
    chapter 8's inputs are done early), then those that waited for more (chapter 8 itself, as
    soon as it can), then the longer ones by the last build's times, then the table of contents'
    order."""
    waiting = {stem: sum(stem in before for before in deps.values()) for stem in stems}
    return sorted(
        stems,
        key=lambda s: (-waiting[s], -len(deps[s]), -expected.get(s, 0.0), stems.index(s)),
    )


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


class Progress:
    """One line per chapter: which, how far, elapsed, and the time left as estimated from the
    previous build's ``execution.json`` (chapters it did not time count as unknown)."""

    def __init__(self, stems: list[str], previous: dict, jobs: int = 1) -> None:
        self.stems, self.start, self.finished_stems = stems, time.perf_counter(), set()
        self.started_count = 0
        self.expected = {s: previous[s]["seconds"] for s in stems if s in previous}
        self.jobs = jobs

    def started(self, stem: str) -> None:
        elapsed = time.perf_counter() - self.start
        self.started_count += 1
        left = [s for s in self.stems if s not in self.finished_stems]
        known = sum(self.expected.get(s, 0.0) for s in left)
        unknown = sum(s not in self.expected for s in left)
        at_once = f", {self.jobs} at a time" if self.jobs > 1 else ""
        estimate = (
            f"about {_minutes(known / self.jobs)} left by the last build's times{at_once}"
            + (f" (+{unknown} chapter(s) never timed)" if unknown else "")
            if self.expected
            else "no earlier build to estimate the time left from"
        )
        print(
            f"[book] {self.started_count}/{len(self.stems)} {stem}: started at {_minutes(elapsed)}; "
            f"{estimate}",
            flush=True,
        )

    def finished(self, stem: str, seconds: float) -> None:
        self.finished_stems.add(stem)
        before = self.expected.get(stem)
        was = f" (last build: {before:.0f} s)" if before is not None else ""
        print(f"[book] {stem}: {seconds:.1f} s{was}", flush=True)


def execute_chapters(
    sources: list[Path], profile: str, timeout: int | None, jobs: int, log: dict, previous: dict
) -> None:
    """Execute ``sources`` (``jobs`` at a time, respecting :data:`RUNS_AFTER`), recording each
    chapter's time in ``log`` and in :data:`EXECUTION_LOG` as soon as it finishes."""
    by_stem = {s.stem: s for s in sources}
    deps = dependencies(list(by_stem))
    same_profile = {  # a smoke build's times say nothing about a book build's
        stem: entry
        for stem, entry in previous.items()
        if entry.get("parameters", {}).get("PROFILE") == profile
    }
    build_started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    progress = Progress(list(by_stem), same_profile, jobs)
    pending = start_order(list(by_stem), deps, progress.expected)
    running, lock = {}, threading.Lock()

    def run(stem: str) -> float:
        progress.started(stem)
        return execute_chapter(by_stem[stem], {"PROFILE": profile}, timeout=timeout)

    with threads_per_kernel(jobs) as threads, ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        if threads:
            print(f"[book] {jobs} chapters at a time, {threads} thread(s) each", flush=True)
        while pending or running:
            ready = [s for s in pending if not deps[s] & (set(pending) | set(running))]
            for stem in ready[: max(1, jobs) - len(running)]:
                pending.remove(stem)
                running[stem] = pool.submit(run, stem)
            finished, _ = wait(running.values(), return_when=FIRST_COMPLETED)
            for stem, future in list(running.items()):
                if future not in finished:
                    continue
                del running[stem]
                seconds = future.result()  # a ChapterError stops the build here
                progress.finished(stem, seconds)
                with lock:
                    log[stem] = {
                        "parameters": {"PROFILE": profile},
                        "seconds": round(seconds, 2),
                        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                        "chapters_at_once": jobs,
                        "build_started": build_started,
                    }
                    EXECUTION_LOG.write_text(json.dumps(log, indent=2))


def elapsed_seconds(log: dict) -> float:
    """Wall-clock seconds from the first chapter's start to the last one's end in the latest build
    of an execution log (a partial rebuild with ``--only`` keeps the other chapters' entries of
    earlier builds); with several chapters at once this is less than the sum of their
    ``seconds``."""
    latest = max((e.get("build_started", "") for e in log.values()), default="")
    entries = [e for e in log.values() if e.get("build_started", "") == latest]
    if not entries:
        return 0.0
    ends = [datetime.strptime(e["finished"], "%Y-%m-%dT%H:%M:%S%z").timestamp() for e in entries]
    return max(ends) - min(end - e["seconds"] for end, e in zip(ends, entries, strict=True))


def chapters_at_once(log: dict) -> int:
    """The most chapters an execution log's builds ran side by side (1 for older logs)."""
    return max((entry.get("chapters_at_once", 1) for entry in log.values()), default=1)


def build_book(
    profile: str = "book",
    only: list[str] | None = None,
    execute: bool = True,
    html: bool = True,
    timeout: int | None = None,
    jobs: int = 1,
) -> dict[str, float]:
    """Execute the chapters (all, or those whose name contains one of ``only``), ``jobs`` at a
    time, and build the site."""
    from .data import ensure_mnist

    sources = chapter_sources()
    if only:
        # --only may also name a chapter that is not (yet) in _toc.yml, to execute it on its own
        candidates = sorted({*sources, *BOOK_DIR.glob("[0-9][0-9]_*.py")})
        sources = [s for s in candidates if any(o in s.stem for o in only)]
        if not sources:
            raise ChapterError(
                f"no chapter matches {only}; chapters: {[s.stem for s in candidates]}"
            )
    BUILD_DIR.mkdir(exist_ok=True)
    previous = json.loads(EXECUTION_LOG.read_text()) if EXECUTION_LOG.exists() else {}
    # A full build starts a fresh log; a partial one (--only) updates the entries it re-runs.
    log = dict(previous) if only or not execute else {}
    if execute:
        ensure_mnist()
        execute_chapters(sources, profile, timeout, jobs, log, previous)
    else:
        missing = [s.name for s in sources if not s.with_suffix(".ipynb").exists()]
        if missing:
            raise ChapterError(f"--no-execute, but these chapters were never executed: {missing}")
    if html:
        build_html()
        print(f"[book] site: {BUILD_DIR / 'html' / 'index.html'}")
    return {k: v["seconds"] for k, v in log.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mi_tutorial.pipeline", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--profile", default="book", choices=("smoke", "book", "paper"))
    parser.add_argument("--only", nargs="*", help="execute only chapters whose name contains these")
    parser.add_argument(
        "--no-execute", action="store_true", help="render the already executed notebooks"
    )
    parser.add_argument("--no-html", action="store_true", help="execute only; skip jupyter-book")
    parser.add_argument("--timeout", type=int, default=None, help="per-cell timeout in seconds")
    parser.add_argument(
        "--jobs",
        type=parse_jobs,
        default=1,
        help="chapters executed at once, each in its own kernel with its share of the CPUs "
        "('auto': one per CPU); chapter 8 and the appendix still wait for what they read",
    )
    args = parser.parse_args(argv)
    try:
        build_book(
            args.profile, args.only, not args.no_execute, not args.no_html, args.timeout, args.jobs
        )
    except ChapterError as err:
        print(f"[book] ERROR: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
