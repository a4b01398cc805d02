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
# # Compute
#
# What the experiments cost, and how to run the paper's full protocol (and the MI benchmark's sweep). Every number on this page
# is read from files, never typed: the committed benchmark output
# (`benchmarks/results/*.json`, written by `python benchmarks/bench_steps.py --json PATH`), the
# chapter times of the current build (`_build/execution.json`) and the provenance that the results
# store keeps with every stored run (its wall time and device).

# %% tags=["parameters"]
PROFILE = "book"  # unused here; every chapter accepts it
BENCHMARK = "benchmarks/results/cpu-2core.json"  # relative to the repository root
BEFORE = "benchmarks/results/cpu-2core-before.json"  # what the performance work started from

# %% tags=["remove-cell"]
from mi_tutorial.config import check_profile

PROFILE = check_profile(PROFILE)  # `papermill -p PROFILE bogus` stops here, with the choices

# %% tags=["remove-cell"]
import json

import pandas as pd
from IPython.display import display
from myst_nb import glue

from mi_tutorial.paper import EXPERIMENTS
from mi_tutorial.pipeline import EXECUTION_LOG, REPO, elapsed_seconds
from mi_tutorial.report.compute import faster_alternative, kernel_choices, stored_run_times
from mi_tutorial.runs import ResultsStore

NOT_MEASURED = "not measured"


def read_json(path):
    return json.loads(path.read_text()) if path.exists() else None


bench = read_json(REPO / BENCHMARK)
# Benchmark files measured on a CUDA machine (none is committed unless someone ran one).
gpu_benches = [
    b
    for b in (read_json(p) for p in sorted((REPO / "benchmarks" / "results").glob("*.json")))
    if b and (b.get("machine") or {}).get("cuda")
]
gpu = gpu_benches[0] if gpu_benches else None

# %% [markdown]
# ## The machine that was measured

# %% tags=["remove-input"]
if bench is None:
    machine = pd.DataFrame(
        [("benchmark file", f"{BENCHMARK} is missing")], columns=["item", "value"]
    )
else:
    m = bench["machine"]
    machine = pd.DataFrame(
        [
            ("benchmark file", BENCHMARK),
            ("measured", bench["timestamp"]),
            ("processor", m.get("processor")),
            ("CPU cores visible", m.get("cpu_count")),
            ("torch threads", m.get("threads")),
            ("torch", m.get("torch")),
            (
                "load average at start / end",
                f"{m.get('load_average_at_start')} / {m.get('load_average_at_end')}",
            ),
            ("fp32 matmul roofline (GFLOP/s)", f"{bench['roofline_gflops']:.0f}"),
            ("quick mode", bench.get("quick")),
            ("note", bench.get("note") or ""),
            *(
                (
                    f"re-measured {u['timestamp'][:10]}: {', '.join(u['replaced'])}",
                    f"{u['threads']} thread(s), load {u['load_average_at_start'][0]:.2f}; "
                    f"{u.get('note') or ''}",
                )
                for u in bench.get("updates", [])
            ),
        ],
        columns=["item", "value"],
    )
glue("compute_roofline", float(bench["roofline_gflops"]) if bench else float("nan"), display=False)
glue("compute_threads", int(bench["machine"]["threads"]) if bench else 0, display=False)
machine.style.hide(axis="index")

# %% [markdown]
# The measurement ran with {glue:text}`compute_threads` torch thread(s); the fp32 matmul roofline of
# that setting was {glue:text}`compute_roofline:.0f` GFLOP/s. Read the note above: a machine shared
# with other jobs gives slower and noisier timings than an idle one.
#
# ## The performance targets, before and after
#
# `make bench` checks each target of the performance work as a ratio. The table sets the
# measurement the work began from beside the current one. The two were taken under different
# conditions (threads, load: below, and the notes of both files), so a ratio that depends on
# them — the step times' share of the roofline most of all — is not like for like between the
# columns. The book row is the wall clock of the chapters' execution in the build that the
# measurement read (the earlier file recorded only chapter times, of a build that reused stored
# runs, so it has no comparable value).

# %% tags=["remove-input"]
import importlib.util

spec = importlib.util.spec_from_file_location("bench_steps", REPO / "benchmarks" / "bench_steps.py")
bench_steps = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_steps)
before = read_json(REPO / BEFORE)


def target_values(report) -> dict:
    if report and report.get("book") and "elapsed_s" not in report["book"]:
        # an older file: its log's chapter times are of whatever build it read, not a wall clock
        report = {**report, "book": None}
    rows = bench_steps.target_rows(report) if report else []
    return {name: (threshold, measured, met) for name, threshold, measured, met in rows}


def conditions(report) -> str:
    if not report:
        return "missing"
    m = report["machine"]
    load = (m.get("load_average_at_start") or [float("nan")])[0]
    return f"{report['timestamp'][:10]}, {m.get('threads')} torch thread(s), load {load:.2f}"


then, now = target_values(before), target_values(bench)
targets = pd.DataFrame(
    [
        {
            "target": name,
            "threshold": (now.get(name) or then.get(name))[0],
            "before": then[name][1] if name in then else NOT_MEASURED,
            "now": now[name][1] if name in now else NOT_MEASURED,
            "met now": ("yes" if now[name][2] else "no") if name in now else NOT_MEASURED,
        }
        for name in dict.fromkeys([*then, *now])
    ]
)
glue("compute_before_conditions", conditions(before), display=False)
glue("compute_now_conditions", conditions(bench), display=False)
glue("compute_targets_met", f"{sum(v[2] for v in now.values())} of {len(now)}", display=False)
targets.style.hide(axis="index")

# %% [markdown]
# Before: {glue:text}`compute_before_conditions`; now: {glue:text}`compute_now_conditions`
# (1-minute load average at the start). {glue:text}`compute_targets_met` targets are met now.
#
# ## What each experiment costs at the `paper` profile
#
# Estimated from the measurements: training = steps × measured ms/step of that encoder and critic
# (batch 128); evaluation = measured encoding of the 70k top halves + the paper's linear probe fitted
# on 60k real features + the test bound on the whole test set (+ E3's 128 Jacobians), at every
# `eval_every`-th step. The evaluation share is the fraction of a run spent evaluating (the target
# is at most 10 %). CPU hours cover every config and every seed of the experiment.

# %% tags=["remove-input"]
rows = []
costs = (bench or {}).get("evaluation", {}).get("paper_profile", {})
gpu_costs = (gpu or {}).get("evaluation", {}).get("paper_profile", {})
for name, c in costs.items():
    g = gpu_costs.get(name)
    rows.append(
        {
            "experiment": f"{EXPERIMENTS[name].code} {name}" if name in EXPERIMENTS else name,
            "configs × seeds": f"{c['configs']} × {c['seeds']}",
            "training h / seed": c["train_s_per_seed"] / 3600,
            "evaluation share": f"{100 * c['eval_overhead']:.1f} %",
            "CPU hours (all runs)": c["cpu_hours_all_seeds"],
            "GPU hours (all runs)": f"{g['cpu_hours_all_seeds']:.1f}" if g else NOT_MEASURED,
        }
    )
cost_table = pd.DataFrame(rows)
total_hours = float(cost_table["CPU hours (all runs)"].sum()) if len(cost_table) else float("nan")
worst = max(costs.items(), key=lambda kv: kv[1]["eval_overhead"]) if costs else None
glue("compute_paper_cpu_hours", total_hours, display=False)
glue("compute_paper_cpu_days", total_hours / 24, display=False)
glue(
    "compute_worst_eval_share",
    100 * worst[1]["eval_overhead"] if worst else float("nan"),
    display=False,
)
glue("compute_worst_eval_experiment", worst[0] if worst else NOT_MEASURED, display=False)
glue("compute_n_over_target", sum(c["eval_overhead"] > 0.1 for c in costs.values()), display=False)
glue("compute_gpu_status", "measured" if gpu else NOT_MEASURED, display=False)
top_two = sorted(costs, key=lambda name: -costs[name]["cpu_hours_all_seeds"])[:2]
glue("compute_top_two", " and ".join(top_two) if top_two else NOT_MEASURED, display=False)
glue(
    "compute_top_two_share",
    100 * sum(costs[n]["cpu_hours_all_seeds"] for n in top_two) / total_hours
    if top_two
    else float("nan"),
    display=False,
)
if len(cost_table):
    display_table = cost_table.style.hide(axis="index").format(
        {"training h / seed": "{:.2f}", "CPU hours (all runs)": "{:.1f}"}
    )
else:
    display_table = pd.DataFrame(
        [{"status": "the benchmark has no evaluation section (MNIST missing?)"}]
    )
display(display_table)

# %% [markdown]
# Running the whole `paper` profile on this machine would take about
# {glue:text}`compute_paper_cpu_hours:.0f` CPU hours (≈ {glue:text}`compute_paper_cpu_days:.1f`
# days), {glue:text}`compute_top_two_share:.0f` % of it in {glue:text}`compute_top_two` (the
# 30-coupling RealNVP and the ConvNet are the expensive encoders). The largest evaluation share
# is {glue:text}`compute_worst_eval_share:.1f` % ({glue:text}`compute_worst_eval_experiment`);
# {glue:text}`compute_n_over_target` experiment(s) exceed the 10 % target. The cause is the protocol:
# every evaluation encodes all 70,000 images and fits the linear probe by SAGA on 60,000 of them
# (single-threaded scikit-learn), while the small MLP encoders train 1,000 steps in seconds. On a
# GPU the training steps get much faster but the probe does not, so there the evaluation share is
# larger still. GPU numbers: {glue:text}`compute_gpu_status`.
#
# ## Step times against the roofline

# %% tags=["remove-input"]
steps = pd.DataFrame((bench or {}).get("steps", {}).get("rows", []))
if len(steps):
    steps = steps[
        ["encoder", "critic", "ms_per_step", "ms_per_step_min", "gflop_per_step", "of_peak"]
    ]
    ratio = (bench["steps"]["concat_over_bilinear"] or {}).get("mlp", float("nan"))
    glue("compute_concat_ratio_mlp", float(ratio), display=False)
    shown = steps.style.hide(axis="index").format(
        {
            "ms_per_step": "{:.1f}",
            "ms_per_step_min": "{:.1f}",
            "gflop_per_step": "{:.3f}",
            "of_peak": "{:.2f}",
        }
    )
else:
    glue("compute_concat_ratio_mlp", float("nan"), display=False)
    shown = pd.DataFrame([{"status": "no step table in the benchmark file"}])
display(shown)

# %% [markdown]
# Milliseconds per training step (median and minimum over the timed steps), analytic GFLOP per step
# and the achieved fraction of the matmul roofline. With the MLP encoders a concat-critic step costs
# {glue:text}`compute_concat_ratio_mlp:.1f` × a bilinear one. The concat critic's pairwise part
# (`mi_tutorial.critics.one_hidden_layer_scores`) runs through `torch.compile`, which fuses the
# broadcast, the ReLU and the sum over hidden units into one loop instead of storing
# $K \times K \times 200$ activations; `MI_TUTORIAL_COMPILE=0` runs it in eager PyTorch, and
# every stored run's provenance names the kernel it used (`concat_critic_kernel`).
#
# ## Kernel choices
#
# Each default below was chosen by timing it against its alternatives on the same step (bilinear
# critic, interleaved rounds, so a change of load hits every variant alike).

# %% tags=["remove-input"]
kernels = kernel_choices((bench or {}).get("kernels", []))
by_variant = kernels.set_index(["encoder", "variant"])["× the default"]
for key, (encoder, variant) in {
    "compute_loop_adam_realnvp": ("realnvp", "per-parameter loop"),
    "compute_loop_adam_mlp": ("mlp", "per-parameter loop"),
    "compute_channels_last": ("convnet", "channels-last, oneDNN"),
    "compute_no_onednn": ("convnet", "contiguous, oneDNN off"),
}.items():
    glue(key, float(by_variant.get((encoder, variant), float("nan"))), display=False)
faster = faster_alternative(kernels, "convnet")
glue(
    "compute_convnet_verdict",
    NOT_MEASURED
    if kernels.empty
    else "no alternative is more than 10 % faster (the step time alone swings by about that "
    "between rounds), so the ConvNet keeps the contiguous layout on oneDNN"
    if faster is None
    else f"'{faster}' is more than 10 % faster here, a candidate for the default",
    display=False,
)
kernels_shown = kernels.style.hide(axis="index").format(
    {"ms_per_step": "{:.1f}", "× the default": "{:.2f}×"}
)
display(kernels_shown)

# %% [markdown]
# **Adam.** PyTorch's default Adam on a CPU loops over the parameter tensors and makes several
# elementwise passes over each; its fused kernel (`fused=True`) makes one. With PyTorch's loop the
# RealNVP step (28 million parameters in the two encoders) takes
# {glue:text}`compute_loop_adam_realnvp:.2f`× as long and the MLP step
# {glue:text}`compute_loop_adam_mlp:.2f`× as long, so `mi_tutorial.training.make_adam` builds the
# fused optimiser by default. The update is the same formula and agrees with the loop up to float
# rounding; `MI_TUTORIAL_FUSED_ADAM=0` restores the loop, with which every run stored before this
# change was made (a run's provenance names its kernel: `adam_kernel`).
#
# **The ConvNet.** Storing its weights channels-last takes {glue:text}`compute_channels_last:.2f`×
# the time of the default contiguous layout, and turning PyTorch's oneDNN backend off
# {glue:text}`compute_no_onednn:.2f`×: {glue:text}`compute_convnet_verdict`.
#
# ## Training several seeds at once
#
# `mi_tutorial.training.vectorised` stacks the models of S seeds and trains them in one batched
# (`torch.func.vmap`) computation, each seed with its own initialisation, data stream and Adam state.

# %% tags=["remove-input"]
vec = pd.DataFrame((bench or {}).get("vectorised", {}).get("rows", []))
if len(vec):
    best = vec.loc[vec["speedup"].idxmax()]
    glue("compute_vec_best", float(best["speedup"]), display=False)
    glue("compute_vec_best_use", f"{best['use']}, {best['seeds']} seeds", display=False)
    glue("compute_vec_worst", float(vec["speedup"].min()), display=False)
    vec_shown = vec[
        [
            "use",
            "seeds",
            "sequential_ms_per_step_all_seeds",
            "vectorised_ms_per_step_all_seeds",
            "speedup",
        ]
    ]
    vec_shown = vec_shown.style.hide(axis="index").format(
        {
            "sequential_ms_per_step_all_seeds": "{:.1f}",
            "vectorised_ms_per_step_all_seeds": "{:.1f}",
            "speedup": "{:.2f}×",
        }
    )
else:
    for key in ("compute_vec_best", "compute_vec_worst"):
        glue(key, float("nan"), display=False)
    glue("compute_vec_best_use", NOT_MEASURED, display=False)
    vec_shown = pd.DataFrame([{"status": "no vectorised section in the benchmark file"}])
display(vec_shown)

# %% [markdown]
# On these CPU cores the best speed-up was {glue:text}`compute_vec_best:.2f`× ({glue:text}`compute_vec_best_use`)
# and the worst {glue:text}`compute_vec_worst:.2f`× (below 1 means slower): the steps are already
# dominated by arithmetic on large tensors rather than per-operation overhead, so batching seeds
# saves little on a CPU. The library therefore keeps training seeds one by one (in parallel
# processes with `--jobs`); the vectorised trainers are there for GPUs and tiny models.
#
# ## This build's chapters

# %% tags=["remove-input"]
log = read_json(EXECUTION_LOG) or {}
chapters = pd.DataFrame(
    [
        {"chapter": name, "profile": e["parameters"].get("PROFILE"), "seconds": e["seconds"]}
        for name, e in log.items()
    ],
    columns=["chapter", "profile", "seconds"],
)
glue(
    "compute_book_minutes",
    float(chapters["seconds"].sum()) / 60 if len(chapters) else float("nan"),
    display=False,
)
glue("compute_book_status", "recorded" if len(chapters) else "not built yet", display=False)
glue("compute_book_elapsed", elapsed_seconds(log) / 60 if log else float("nan"), display=False)
chapters.style.hide(axis="index").format({"seconds": "{:.1f}"})

# %% [markdown]
# Executing the chapters of the current build took {glue:text}`compute_book_minutes:.1f` minutes
# of chapter time, {glue:text}`compute_book_elapsed:.1f` minutes of wall-clock time with chapters
# executed side by side (status: {glue:text}`compute_book_status`; the HTML build comes on top). A chapter reuses the runs
# already in the results store, so a chapter whose runs were stored earlier executes in seconds: these
# are the costs of this build, not of training from scratch.
#
# ## Stored runs
#
# Wall time and device of every run stored under `results/paper/` (and, for comparison, `results/book/`),
# from the provenance written with each run.

# %% tags=["remove-input"]
store = ResultsStore()
per_experiment = stored_run_times(store)
n_paper = int(per_experiment.loc[per_experiment["profile"] == "paper", "runs"].sum())
glue("compute_n_paper_runs", n_paper, display=False)
per_experiment.style.hide(axis="index").format({"mean_min": "{:.1f}", "total_h": "{:.2f}"})

# %% [markdown]
# {glue:text}`compute_n_paper_runs` run(s) of the `paper` profile are stored in this checkout.
#
# ## The ground-truth MI benchmark's sweep (B1)
#
# The full sweep of {doc}`the MI benchmark <10_mi_benchmark>` (every bound × critic × task × seed)
# is CPU work: small critics on small batches, one thread per run. Its cost is read from the stored
# runs' provenance (`cpu_time_s`, the CPU seconds of the run's process; `wall_time_s`).

# %% tags=["remove-cell"]
from mi_tutorial.paper import default_seeds, get_configs
from mi_tutorial.report.mi_benchmark import sweep_cpu_seconds

benchmark_configs = get_configs("mi-benchmark", "paper")
benchmark_total = len(benchmark_configs) * len(default_seeds("mi-benchmark", "paper"))
benchmark_meta = [
    store.provenance(config, seed)
    for config in benchmark_configs
    for seed in store.stored_seeds(config)
]
benchmark_cost = sweep_cpu_seconds(benchmark_meta)
benchmark_threads = sorted(
    {str((m.get("machine") or {}).get("torch_threads")) for m in benchmark_meta}
)
glue("compute_mib_runs", int(benchmark_cost["runs"]), display=False)
glue("compute_mib_total", benchmark_total, display=False)
glue("compute_mib_cpu_h", benchmark_cost["cpu_s"] / 3600, display=False)
glue("compute_mib_cpu_s_per_run", benchmark_cost["cpu_s_per_run"], display=False)
glue(
    "compute_mib_full_cpu_h",
    benchmark_cost["cpu_s_per_run"] * benchmark_total / 3600,
    display=False,
)
glue("compute_mib_wall_h", benchmark_cost["wall_s"] / 3600, display=False)
glue("compute_mib_threads", ", ".join(benchmark_threads) or "none stored", display=False)
complete = int(benchmark_cost["runs"]) == benchmark_total
glue(
    "compute_mib_basis",
    "the measured total, since every run of the sweep is stored"
    if complete
    else "the mean of the stored runs times the number of runs, an extrapolation while the sweep "
    "is incomplete (its runs are stored task by task, and the tasks differ in cost); nan while no "
    "run is stored",
    display=False,
)

# %% [markdown]
# {glue:text}`compute_mib_runs` of the sweep's {glue:text}`compute_mib_total` runs are stored; they
# took {glue:text}`compute_mib_cpu_h:.2f` CPU hours ({glue:text}`compute_mib_cpu_s_per_run:.1f` CPU
# seconds per run; wall time {glue:text}`compute_mib_wall_h:.2f` h on shared cores; torch threads
# per run: {glue:text}`compute_mib_threads`), so the full sweep costs about
# {glue:text}`compute_mib_full_cpu_h:.2f` CPU hours on one thread of this machine:
# {glue:text}`compute_mib_basis`. It runs with
#
# ```bash
# OMP_NUM_THREADS=1 mi-tutorial run mi-benchmark --profile paper --jobs 2
# ```
#
# ## Running the `paper` profile
#
# The paper's protocol (21,000 steps evaluated every 1,000, 20 seeds) is meant for a GPU. One
# experiment at a time, finished runs are stored and reused, and an unfinished multi-view run saves
# its state after every evaluation (`mi_tutorial.training.checkpoint`), so an interrupted command can
# simply be started again: it loses at most one evaluation interval, and the resumed run's records
# equal those of an uninterrupted one.
#
# ```bash
# mi-tutorial run EXP --profile paper --seeds N --jobs J --device cuda
# # e.g. the critics of §3.2 with the paper's 20 seeds, two runs at a time on one GPU:
# mi-tutorial run critic-capacity --profile paper --seeds 20 --jobs 2 --device cuda
# ```
#
# `EXP` is one of `mi-tutorial list`; `--seeds N` runs seeds 0 … N-1; `--jobs J` runs J
# `(config, seed)` runs in parallel processes (each gets its share of the CPU threads). Without a
# GPU leave out `--device cuda` and expect the CPU hours above. To check a GPU machine first, run
# `python benchmarks/gpu_smoke.py` (it compares every trainer on CUDA against the CPU and prints ms
# per step on both). On a cluster, `mi_tutorial.runs.run_sweep` takes joblib's Dask or Ray
# backend (README, "Running on a cluster").
