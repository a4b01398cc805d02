"""Every chapter of the book executes at the `smoke` profile (seconds each), from an empty results
store, so CI proves the chapters' code runs; `make book` then executes them at the `book` profile."""

from __future__ import annotations

import nbformat
import pytest

from mi_tutorial import pipeline

CHAPTERS = pipeline.chapter_sources()


@pytest.mark.parametrize("source", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_executes_at_the_smoke_profile(source, tmp_path, monkeypatch):
    monkeypatch.setenv("MI_TUTORIAL_RESULTS", str(tmp_path / "results"))
    copy = tmp_path / source.name
    copy.write_text(source.read_text())
    pipeline.execute_chapter(copy, {"PROFILE": "smoke"})
    nb = nbformat.read(copy.with_suffix(".ipynb"), as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
