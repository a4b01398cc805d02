"""The book pipeline: chapters execute with papermill; failures name the chapter and the cell."""

from __future__ import annotations

import shutil
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


def test_chapter_one_executes_at_the_smoke_profile(tmp_path):
    source = tmp_path / "01_mutual_information.py"
    shutil.copy(REPO / "book" / "01_mutual_information.py", source)
    seconds = pipeline.execute_chapter(source, {"PROFILE": "smoke"})
    assert seconds > 0
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "hide-cell" in injected[0].metadata["tags"]
    assert "'smoke'" in injected[0].source or '"smoke"' in injected[0].source
    images = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert len(images) >= 3, "figures missing: is MPLBACKEND=Agg leaking into the kernel?"
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors


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
