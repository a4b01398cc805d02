"""The "Compute" appendix (book/90_compute.py) executes, reading the committed benchmark JSON, the
build's execution log and the stored runs' provenance; it is not in _toc.yml yet, so the chapter
smoke tests do not cover it."""

from __future__ import annotations

import nbformat

from mi_tutorial import pipeline

SOURCE = pipeline.BOOK_DIR / "90_compute.py"


def test_compute_page_executes(tmp_path, monkeypatch):
    monkeypatch.setenv("MI_TUTORIAL_RESULTS", str(tmp_path / "results"))  # an empty store
    copy = tmp_path / SOURCE.name
    copy.write_text(SOURCE.read_text())
    pipeline.execute_chapter(copy, {"PROFILE": "smoke"})
    nb = nbformat.read(copy.with_suffix(".ipynb"), as_version=4)
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    glued = {
        key
        for o in outputs
        for key in o.get("metadata", {}).get("scrapbook", {}).values()
        if isinstance(key, str)
    }
    text = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    names = {part.split("`")[1].split(":")[0] for part in text.split("{glue:text}")[1:]}
    assert names and names <= glued, names - glued  # every glued name in the prose is defined
