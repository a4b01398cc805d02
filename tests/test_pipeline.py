"""The book pipeline: chapters execute with papermill; failures name the chapter and the cell."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from mi_tutorial import pipeline

REPO = Path(__file__).resolve().parents[1]

BROKEN_CHAPTER = """# %% [markdown]
# # A broken chapter

# %% tags=["parameters"]
PROFILE = "book"

# %%
x = 1

# %%
raise RuntimeError("boom in the third code cell")
"""


FIGURE_CHAPTER = """# %% [markdown]
# # A chapter with a figure

# %% tags=["parameters"]
PROFILE = "book"

# %%
import matplotlib.pyplot as plt

plt.plot([0, 1], [0, PROFILE == "smoke"])
plt.show()
"""


def test_a_chapter_executes_with_injected_parameters_and_keeps_its_figures(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")  # the pipeline must remove it for the kernel
    source = tmp_path / "97_figure.py"
    source.write_text(FIGURE_CHAPTER)
    seconds = pipeline.execute_chapter(source, {"PROFILE": "smoke"})
    assert seconds > 0
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "hide-cell" in injected[0].metadata["tags"]
    assert "smoke" in injected[0].source
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs), "MPLBACKEND=Agg leaked"


def test_a_failing_cell_names_the_chapter_and_the_cell(tmp_path):
    source = tmp_path / "99_broken.py"
    source.write_text(BROKEN_CHAPTER)
    with pytest.raises(pipeline.ChapterError, match=r"99_broken failed in cell \d+.*boom"):
        pipeline.execute_chapter(source, {"PROFILE": "smoke"})


def test_a_chapter_without_parameters_cell_is_refused(tmp_path):
    source = tmp_path / "98_noparams.py"
    source.write_text("# %%\nx = 1\n")
    with pytest.raises(pipeline.ChapterError, match="parameters"):
        pipeline.execute_chapter(source, {"PROFILE": "smoke"})


def test_pipeline_cli_reports_unknown_chapter_with_exit_code(capsys):
    assert pipeline.main(["--only", "no-such-chapter", "--no-html"]) == 1
    assert "no chapter matches" in capsys.readouterr().err


def test_dependencies_put_chapters_8_and_9_after_the_experiments_and_the_appendix_last():
    stems = ["01_a", "04a_b", "04b_b", "04c_b", "05_c", "08_beyond_mi", "09_r", "90_compute"]
    stems += ["91_environment"]
    deps = pipeline.dependencies(stems)
    assert deps["08_beyond_mi"] == {"04a_b", "04b_b", "05_c"}  # E1, E2, E4 encoders; not E3's
    assert deps["09_r"] == {"04a_b", "04b_b", "04c_b", "05_c"}  # the runs the report reads
    assert deps["01_a"] == deps["04c_b"] == set()
    everything_else = {"01_a", "04a_b", "04b_b", "04c_b", "05_c", "08_beyond_mi", "09_r"}
    assert deps["90_compute"] == deps["91_environment"] == everything_else  # not each other


def test_parallel_execution_respects_dependencies_and_logs_every_chapter(
    tmp_path, monkeypatch, capsys
):
    """Two workers: a chapter never starts before the chapters it reads from have finished."""
    import threading
    import time

    events: list[tuple[str, str]] = []
    lock = threading.Lock()

    def fake_execute(source, parameters, timeout=None):
        with lock:
            events.append(("start", source.stem))
        time.sleep(0.05 if source.stem != "04a_b" else 0.2)
        with lock:
            events.append(("end", source.stem))
        return 1.0

    monkeypatch.setattr(pipeline, "execute_chapter", fake_execute)
    monkeypatch.setattr(pipeline, "EXECUTION_LOG", tmp_path / "execution.json")
    stems = ["01_a", "04a_b", "05_c", "08_beyond_mi", "91_environment"]
    sources = [tmp_path / f"{s}.py" for s in stems]
    log: dict = {}
    previous = {
        "04a_b": {"seconds": 61.0, "parameters": {"PROFILE": "smoke"}},
        "05_c": {"seconds": 900.0, "parameters": {"PROFILE": "book"}},  # another profile: unused
    }
    pipeline.execute_chapters(sources, "smoke", None, 2, log, previous)
    order = list(events)
    assert set(log) == set(stems)
    assert order.index(("start", "08_beyond_mi")) > order.index(("end", "04a_b"))
    assert order.index(("start", "91_environment")) > order.index(("end", "08_beyond_mi"))
    assert sum(1 for kind, _ in order[:2] if kind == "start") == 2  # two ran at once
    # 61 s of chapters left, two at a time; not the book build's 900 s
    assert "about 0 min 30 s left by the last build's times, 2 at a time" in capsys.readouterr().out


def test_progress_lines_estimate_the_time_left_from_the_last_build(capsys):
    progress = pipeline.Progress(
        ["01_a", "04_b"], {"01_a": {"seconds": 30.0}, "04_b": {"seconds": 90.0}}
    )
    progress.started("01_a")
    progress.finished("01_a", 31.0)
    progress.started("04_b")
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("[book] 1/2 01_a: started at 0 min 00 s; about 2 min 00 s left")
    assert out[1] == "[book] 01_a: 31.0 s (last build: 30 s)"
    assert "about 1 min 30 s left" in out[2]
    fresh = pipeline.Progress(["01_a"], {})
    fresh.started("01_a")
    assert "no earlier build" in capsys.readouterr().out


def test_chapters_that_others_wait_for_start_first():
    stems = ["01_a", "02_long", "04a_b", "05_c", "08_beyond_mi", "91_environment"]
    deps = pipeline.dependencies(stems)
    order = pipeline.start_order(stems, deps, {"02_long": 300.0, "01_a": 5.0})
    assert order[:2] == ["04a_b", "05_c"]  # chapter 8 reads them
    assert order.index("08_beyond_mi") < order.index("02_long")  # it waited: first when ready
    assert order.index("02_long") < order.index("01_a")  # then the longer first
    assert order[-1] == "91_environment"


def test_parallel_kernels_share_the_cpus_and_the_environment_is_restored(monkeypatch):
    for name in pipeline.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with pipeline.threads_per_kernel(2, cpus=2) as threads:
        assert threads == 1 and os.environ["OMP_NUM_THREADS"] == "1"
    assert "OMP_NUM_THREADS" not in os.environ
    with pipeline.threads_per_kernel(3, cpus=16) as threads:
        assert threads == 5 and os.environ["MKL_NUM_THREADS"] == "5"
    with pipeline.threads_per_kernel(1, cpus=2) as threads:
        assert threads is None and "OMP_NUM_THREADS" not in os.environ
    monkeypatch.setenv("OMP_NUM_THREADS", "4")  # the caller's choice wins
    with pipeline.threads_per_kernel(2, cpus=2) as threads:
        assert threads is None and os.environ["OMP_NUM_THREADS"] == "4"


@pytest.mark.parametrize("bad", ["0", "-1", "two", ""])
def test_jobs_must_be_a_positive_integer_or_auto(bad, capsys):
    with pytest.raises(SystemExit):
        pipeline.main(["--jobs", bad, "--no-html", "--no-execute"])
    assert "expected an integer >= 1 or 'auto'" in capsys.readouterr().err
    assert pipeline.parse_jobs("auto") == pipeline.available_cpus() >= 1


def test_elapsed_time_of_a_parallel_build_is_less_than_its_chapter_time():
    log = {
        "01_a": {"seconds": 60.0, "finished": "2026-12-06T10:01:00+0000"},
        "02_b": {"seconds": 90.0, "finished": "2026-12-06T10:01:30+0000"},  # beside 01_a
        "03_c": {"seconds": 30.0, "finished": "2026-12-06T10:02:00+0000"},
    }
    assert pipeline.elapsed_seconds(log) == 120.0  # 10:00:00 to 10:02:00; 180 s of chapter time
    assert pipeline.elapsed_seconds({}) == 0.0
    rebuilt = {
        name: {**entry, "build_started": "2026-12-06T10:00:00+0000"} for name, entry in log.items()
    }
    rebuilt["02_b"] = {"seconds": 40.0, "finished": "2026-12-06T12:00:40+0000"}
    rebuilt["02_b"]["build_started"] = "2026-12-06T12:00:00+0000"  # a later `--only 02` build
    assert pipeline.elapsed_seconds(rebuilt) == 40.0
