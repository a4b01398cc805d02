"""The "Compute" appendix (book/90_compute.py) executes, reading the committed benchmark JSON, the
build's execution log and the stored runs' provenance; it is not in _toc.yml yet, so the chapter
smoke tests do not cover it."""

from __future__ import annotations

import nbformat
import pandas as pd

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


def test_kernel_choices_are_measured_against_each_group_default():
    from mi_tutorial.report.compute import faster_alternative, kernel_choices

    rows = [
        {"encoder": "convnet", "compared": "layout", "variant": "default", "ms_per_step": 100.0},
        {"encoder": "convnet", "compared": "layout", "variant": "other", "ms_per_step": 85.0},
        {"encoder": "mlp", "compared": "Adam", "variant": "fused", "ms_per_step": 4.0},
        {"encoder": "mlp", "compared": "Adam", "variant": "loop", "ms_per_step": 5.0},
    ]
    table = kernel_choices(rows)
    assert list(table["× the default"]) == [1.0, 0.85, 1.0, 1.25]
    assert faster_alternative(table, "convnet") == "other"
    assert faster_alternative(table, "mlp") is None
    assert kernel_choices([]).empty


def test_stored_run_times_group_the_runs_by_experiment(tmp_path):
    from mi_tutorial.paper import get_configs
    from mi_tutorial.report.compute import stored_run_times
    from mi_tutorial.runs import ResultsStore

    store = ResultsStore(tmp_path)
    assert stored_run_times(store).empty
    config = get_configs("noniid", "smoke")[0]
    records = pd.DataFrame({"step": [0], "metric": ["train_bound"], "value": [0.5]})
    for seed, seconds in ((0, 60.0), (1, 180.0)):
        store.save(config, seed, records, wall_time=seconds, device="cpu")
    (row,) = stored_run_times(store, profiles=(config.profile,)).to_dict("records")
    assert row["experiment"] == "noniid" and row["runs"] == 2
    assert row["mean_min"] == 2.0 and row["total_h"] == 240 / 3600
