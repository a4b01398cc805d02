"""Every chapter of the book executes at the `smoke` profile (seconds each), from an empty results
store, so CI proves the chapters' code runs; `make book` then executes them at the `book` profile."""

from __future__ import annotations

import jupytext
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


def heading_levels(markdown: str) -> list[int]:
    """The levels of the Markdown headings in ``markdown``, skipping fenced blocks and math."""
    levels, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith(("```", ":::", "$$")):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            hashes = len(line) - len(line.lstrip("#"))
            if line[hashes : hashes + 1] == " ":
                levels.append(hashes)
    return levels


def test_heading_levels_count_up_one_at_a_time():
    """Sphinx warns (and `make book` fails) on a jump such as H1 → H3; catch it without a build."""
    jumps = {}
    for source in CHAPTERS:
        notebook = jupytext.read(source)
        text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
        levels = heading_levels(text)
        bad = [(a, b) for a, b in zip(levels, levels[1:], strict=False) if b > a + 1]
        if bad:
            jumps[source.name] = bad
    assert not jumps


def test_heading_levels_sees_a_jump():
    assert heading_levels("# A\n```\n## not a heading\n```\n### B\n") == [1, 3]
