"""benchmarks/bench_steps.py: the cost arithmetic, the JSON output and the book section (no timing
is checked; the only measurement run here is the small roofline matmul)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "bench_steps", REPO / "benchmarks" / "bench_steps.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _fake_times(bench, ms: float):
    times = bench.StepTimes(warmup=0, reps=1, budget=0.0)
    for encoder in bench.ENCODERS:
        for critic in bench.CRITICS:
            times.rows[encoder, critic] = {"ms_per_step": ms}
    return times


PARTS = {
    "encode_70k_s": {"mlp": 0.5, "convnet": 20.0, "residual_mlp": 1.0, "realnvp": 25.0},
    "probe_fit_s": {"100": 3.0, "392": 6.0},
    "jacobians_128_s": 6.0,
}


def test_paper_costs_arithmetic(bench):
    costs = bench.paper_costs(PARTS, _fake_times(bench, 10.0), noniid_ms=5.0)
    assert set(costs) >= {"critic-capacity", "noniid", "residual"}
    for c in costs.values():
        assert 0.0 <= c["eval_overhead"] < 1.0 and c["cpu_hours_all_seeds"] > 0
    assert costs["noniid"]["eval_overhead"] == 0.0  # E6 records the training batch's bound
    # E4 by hand: 6 configs x (21,000 steps x 10 ms) training; 21 evaluations each of
    # encode 0.5 s + probe 3 s + 78 test batches x 2 forward passes of 128 / 70,000 x 0.5 s.
    e4 = costs["critic-capacity"]
    assert e4["train_s_per_seed"] == pytest.approx(6 * 21_000 * 0.010)
    one_eval = 0.5 + 3.0 + 78 * 2 * 128 / 70_000 * 0.5
    assert e4["eval_s_per_seed"] == pytest.approx(6 * 21 * one_eval)
    assert e4["seeds"] == 20
    # E3 adds the Jacobians to every evaluation
    e3 = costs["residual"]
    per_eval = e3["eval_s_per_seed"] / (2 * 21)
    assert per_eval == pytest.approx(1.0 + 6.0 + 78 * 2 * 128 / 70_000 * 1.0 + 6.0)


def test_json_output_and_book_not_built(bench, tmp_path, monkeypatch, capsys):
    import mi_tutorial.pipeline as pipeline

    monkeypatch.setattr(pipeline, "EXECUTION_LOG", tmp_path / "missing.json")
    out = tmp_path / "bench.json"
    assert (
        bench.main(["--quick", "--sections", "book", "--json", str(out), "--note", "shared"]) == 0
    )
    assert "not built yet" in capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["note"] == "shared" and report["book"] is None and report["quick"] is True
    assert report["roofline_gflops"] > 0 and report["machine"]["threads"] == 1


def test_book_section_reads_the_execution_log(bench, tmp_path, monkeypatch):
    import mi_tutorial.pipeline as pipeline

    log = tmp_path / "execution.json"
    log.write_text(
        json.dumps(
            {
                "01_a": {
                    "parameters": {"PROFILE": "book"},
                    "seconds": 60.0,
                    "finished": "2026-12-06T10:01:00+0000",
                    "chapters_at_once": 2,
                },
                "02_b": {  # beside 01_a
                    "parameters": {"PROFILE": "book"},
                    "seconds": 30.0,
                    "finished": "2026-12-06T10:00:40+0000",
                    "chapters_at_once": 2,
                },
            }
        )
    )
    monkeypatch.setattr(pipeline, "EXECUTION_LOG", log)
    book = bench.book_times()
    assert book["total_s"] == 90.0 and book["chapters"]["02_b"]["seconds"] == 30.0
    assert book["elapsed_s"] == 60.0 and book["chapters_at_once"] == 2


def test_unknown_section_is_a_usage_error(bench):
    with pytest.raises(SystemExit):
        bench.main(["--sections", "stpes"])


def test_json_has_no_nan(bench):
    assert bench._finite({"a": [float("nan"), 1.0], "b": float("inf")}) == {
        "a": [None, 1.0],
        "b": None,
    }


def test_targets_say_met_or_not_for_each_measured_ratio(bench, capsys):
    report = {
        "steps": {
            "rows": [
                {"encoder": "mlp", "critic": "bilinear", "of_peak": 0.47},
                {"encoder": "convnet", "critic": "bilinear", "of_peak": 0.65},
            ],
            "concat_over_bilinear": {"mlp": 4.9},
        },
        "evaluation": {
            "paper_profile": {
                "residual": {"eval_s_per_seed": 10.0, "eval_overhead": 0.31},
                "critic-capacity": {"eval_s_per_seed": 5.0, "eval_overhead": 0.08},
                "noniid": {"eval_s_per_seed": 0.0, "eval_overhead": 0.0},
            }
        },
        "book": {"total_s": 1500.0, "elapsed_s": 1260.0},  # the wall clock is what counts
    }
    rows = bench.target_rows(report)
    met = {name: ok for name, _, _, ok in rows}
    assert met == {
        "mlp+bilinear step, of roofline": False,
        "convnet+bilinear step, of roofline": True,
        "mlp concat / bilinear step": False,
        "residual evaluation overhead": False,
        "critic-capacity evaluation overhead": True,
        "book execution, wall clock (no HTML)": False,
    }
    bench.print_targets(rows)
    out = capsys.readouterr().out
    assert "4.90×  NOT met" in out and "21.0 min  NOT met" in out


def test_the_book_target_reads_the_wall_clock_of_a_parallel_build(bench):
    rows = bench.target_rows({"book": {"total_s": 1500.0, "elapsed_s": 1000.0}})
    assert rows == [("book execution, wall clock (no HTML)", "≤ 20 min", "16.7 min", True)]
    older = bench.target_rows({"book": {"total_s": 1500.0}})  # a report from before: sequential
    assert older[0][2:] == ("25.0 min", False)


def test_update_replaces_the_named_sections_and_keeps_the_others(bench, tmp_path, monkeypatch):
    import mi_tutorial.pipeline as pipeline

    monkeypatch.setattr(pipeline, "EXECUTION_LOG", tmp_path / "missing.json")
    out = tmp_path / "bench.json"
    with pytest.raises(SystemExit):  # nothing to update yet
        bench.main(["--sections", "book", "--update", "--json", str(out)])
    old = {"note": "full run", "steps": {"rows": [], "concat_over_bilinear": {"mlp": 1.5}}}
    out.write_text(json.dumps({**old, "book": {"total_s": 3000.0}}))
    assert bench.main(["--quick", "--sections", "book", "--update", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["note"] == "full run" and report["steps"] == old["steps"]
    assert report["book"] is None  # re-measured: the log is missing now
    (update,) = report["updates"]
    assert update["replaced"] == ["book"] and update["threads"] == 1
    assert [t["target"] for t in report["targets"]] == ["mlp concat / bilinear step"]


def test_kernel_choices_time_every_variant_against_the_default(bench, monkeypatch):
    choices = (("mlp", "Adam kernel", {"fused (default)": {}, "loop": {"fused": False}}),)
    monkeypatch.setattr(bench, "KERNEL_CHOICES", choices)
    monkeypatch.setitem(bench.ENCODERS, "mlp", {"hidden": (8,), "out_dim": 4})
    rows = bench.kernel_choices(warmup=0, reps=1, budget=0.0, rounds=1)
    assert [r["variant"] for r in rows] == ["fused (default)", "loop"]
    assert all(r["ms_per_step"] > 0 for r in rows)
