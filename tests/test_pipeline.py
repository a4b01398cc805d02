"""The book pipeline: chapters execute with papermill; failures name the chapter and the cell."""

from __future__ import annotations

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
