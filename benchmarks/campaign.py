"""Run a list of paper-profile (config, seed) pairs with a fixed number of worker processes and a
deadline: the tool behind the committed campaigns on a borrowed multi-core or GPU machine.

    python benchmarks/campaign.py --plan fidelity --workers 14 --deadline 480 --gpu-workers 10

Each job is ``(experiment, config filter, seed)`` from a named plan below; it runs in its own
process with one torch thread through :func:`mi_tutorial.runs.run_sweep`, so it is stored with
full provenance and is found by ``mi-tutorial report`` exactly like a run of ``mi-tutorial run``.
Jobs start in plan order (most expensive first); at the deadline every job still running is
stopped (SIGTERM) and reported, and its stored checkpoint (if any) lets a later
``mi-tutorial run`` resume it. The first ``--gpu-workers`` slots train on CUDA when it is present,
the others on the CPU; a job's ``slot`` says which kind of slot may take it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class Job:
    """One (config, seed) pair: the ``index``-th paper config of ``experiment``, with ``changes``."""

    experiment: str
    index: int
    seed: int
    changes: tuple[tuple[str, object], ...] = field(default=())
    slot: str = "gpu"  # where it may run when CUDA is present: "gpu", "cpu" or "any"
    force: bool = False  # re-make a stored run (e.g. one stored from a dirty tree)

    def config(self):
        from mi_tutorial import paper

        return paper.get_configs(self.experiment, "paper")[self.index].replace(**dict(self.changes))

    def describe(self) -> str:
        c = self.config()
        names = [getattr(c, n, None) for n in ("encoder", "critic", "estimator", "target", "iid")]
        label = "/".join(str(n) for n in names if n is not None)
        extra = "".join(f" {k}={v}" for k, v in self.changes) + (" (remake)" if self.force else "")
        return f"{self.experiment}[{c.key()} {label}{extra}] seed {self.seed}"


def _jobs(experiment: str, seeds, *, slot="gpu", force=False, changes=(), **where) -> list[Job]:
    from mi_tutorial import paper

    configs = paper.get_configs(experiment, "paper")
    chosen = [i for i, c in enumerate(configs) if all(getattr(c, k) == v for k, v in where.items())]
    if not chosen:
        raise SystemExit(f"no paper config of {experiment} matches {where}")
    return [Job(experiment, i, s, tuple(changes), slot, force) for s in seeds for i in chosen]


def fidelity_plan() -> list[Job]:
    """The fidelity issue's paper-profile runs: the faithful-RealNVP E1/E2 runs first (E1 at 3
    seeds per estimator, seed 0 first; E2's paper setting at 3 seeds plus each notebook setting
    once), then the extra seeds and re-made dirty-tree runs, dearest first."""
    return [
        *_jobs("bijective", [0, 1, 2]),
        *_jobs("adversarial", [0, 1, 2], classifier_lr=1e-4),
        *_jobs("adversarial", [0], classifier_lr=1e-3),
        *_jobs("encoder-vs-estimator", range(3, 5), encoder="convnet"),
        *_jobs("supervised", [0], force=True, encoder="convnet"),
        *_jobs("supervised", [3, 4], encoder="convnet"),
        *_jobs("residual", [0], force=True),
        *_jobs("residual", [3, 4]),
        *_jobs("critic-capacity", range(3, 5), critic="concat"),
        *_jobs(
            "critic-capacity",
            range(3),
            changes=[("adam", "tf1")],
            critic="bilinear",
            estimator="infonce",
        ),
        *_jobs("critic-capacity", range(3, 5), critic="separable"),
        *_jobs("critic-capacity", range(3, 5), critic="bilinear"),
        *_jobs("encoder-vs-estimator", range(3, 5), slot="any", encoder="mlp"),
        *_jobs("supervised", [0], slot="any", force=True, encoder="mlp"),
        *_jobs("supervised", [3, 4], slot="any", encoder="mlp"),
        *_jobs("noniid", range(3), slot="cpu", force=True),
        *_jobs("noniid", range(3, 5), slot="cpu"),
    ]


def local_plan() -> list[Job]:
    """What two CPU cores can do in a few hours, cheapest first (so the most runs land): the
    fidelity plan without E1/E2 and the E5 ConvNet runs."""
    dear = ("bijective", "adversarial")
    jobs = [j for j in fidelity_plan() if j.experiment not in dear]
    jobs = [j for j in jobs if not (j.experiment == "encoder-vs-estimator" and j.slot == "gpu")]
    order = ("noniid", "supervised-mlp", "encoder-vs-estimator", "critic-capacity", "residual")

    def rank(job: Job) -> int:
        name = job.experiment
        if name == "supervised":
            return 1 if job.slot == "any" else len(order)
        return order.index(name)

    return sorted(jobs, key=rank)


PLANS = {"fidelity": fidelity_plan, "local": local_plan}
JOB_SLOTS = ("gpu", "cpu", "any")


def run_job(job: Job, device: str) -> None:
    """Train (or find stored) the job's pair, in this process, with one torch thread."""
    import torch

    from mi_tutorial.runs import ResultsStore, run_sweep

    torch.set_num_threads(1)
    config, store = job.config(), ResultsStore()
    if (
        job.force
        and store.has(config, job.seed)
        and not store.provenance(config, job.seed).get("git_dirty", True)
    ):
        print(f"{job.describe()}: already re-made from a clean tree")
        return
    run_sweep([config], [job.seed], n_jobs=1, device=device, progress=False, force=job.force)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", choices=sorted(PLANS), default="fidelity")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--gpu-workers", type=int, default=0)
    parser.add_argument("--deadline", type=float, default=float("inf"), help="seconds")
    parser.add_argument("--list", action="store_true", help="print the plan and exit")
    parser.add_argument("--job", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    args = parser.parse_args()
    plan = PLANS[args.plan]()
    if args.list:
        for i, job in enumerate(plan):
            print(i, job.describe(), f"({job.slot})")
        return 0
    if args.job is not None:
        run_job(plan[args.job], args.device)
        return 0

    import torch

    has_cuda = torch.cuda.is_available()
    start = time.monotonic()
    pending = list(range(len(plan)))
    running: dict[int, tuple[int, subprocess.Popen, float]] = {}  # slot -> (job, process, t0)
    done, failed = [], []
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    while pending or running:
        for slot in range(args.workers):
            if slot in running or not pending:
                continue
            gpu_slot = has_cuda and slot < args.gpu_workers
            fits = ("gpu", "any") if gpu_slot else ("cpu", "any") if has_cuda else JOB_SLOTS
            pick = next((j for j in pending if plan[j].slot in fits), None)
            if pick is None:
                continue
            pending.remove(pick)
            device = "cuda" if gpu_slot else "cpu"
            cmd = [sys.executable, __file__, "--plan", args.plan, "--job", str(pick)]
            proc = subprocess.Popen([*cmd, "--device", device], cwd=ROOT, env=env)
            running[slot] = (pick, proc, time.monotonic())
            print(f"[{time.monotonic() - start:6.0f}s] start {plan[pick].describe()} on {device}")
        for slot, (j, proc, t0) in list(running.items()):
            if proc.poll() is not None:
                (done if proc.returncode == 0 else failed).append(j)
                status = "done" if proc.returncode == 0 else f"FAILED ({proc.returncode})"
                print(
                    f"[{time.monotonic() - start:6.0f}s] {status} {plan[j].describe()} "
                    f"in {time.monotonic() - t0:.0f}s"
                )
                del running[slot]
        if time.monotonic() - start > args.deadline:
            for j, proc, _ in running.values():
                proc.terminate()
                print(f"deadline: stopped {plan[j].describe()}")
            for _, proc, _ in running.values():
                proc.wait()
            break
        time.sleep(1)
    not_started = [plan[j].describe() for j in pending]
    print(
        f"{len(done)} done, {len(failed)} failed, {len(running)} stopped, "
        f"{len(not_started)} not started: {not_started}"
    )
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
