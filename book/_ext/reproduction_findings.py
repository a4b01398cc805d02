"""Sphinx extension: the front page's findings, generated from the claims ledger at every build.

1. **The findings** (``builder-inited``). The ledger of :mod:`mi_tutorial.report.ledger` is
   evaluated on the committed paper-profile runs (:func:`mi_tutorial.paper.stored_records`, which
   trains nothing; the MNIST pixel baseline of claim 2 as chapter 9 computes it), turned into a few
   Markdown lines by :func:`mi_tutorial.report.findings.findings_lines`, and written to
   ``_build/generated/findings.md``, which ``index.md`` includes. The file is rewritten only when
   its text changes, so Sphinx re-reads the front page exactly when the findings change.

2. **Links to the evidence** (``doctree-read``). A chapter shows an experiment's claims by calling
   ``paper_profile_claims("experiment", ...)`` in a code cell. For every such call in the chapters
   of ``_toc.yml`` the section holding the cell gets the label ``claims-evidence-<experiment>``
   (:func:`mi_tutorial.report.findings.evidence_label`), which the findings reference. Nothing
   names a chapter file: renaming or splitting chapters moves the links with the calls. A claim
   whose experiment no chapter shows links to the full ledger (label ``claims-ledger``).
"""

from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

from mi_tutorial.report.findings import (
    claim_labels,
    evidence_label,
    experiments_shown,
    findings_lines,
)

LOGGER = logging.getLogger(__name__)
#: Where the findings are written, relative to the book's root; ``index.md`` includes this file.
FINDINGS_FILE = Path("_build") / "generated" / "findings.md"
#: The label of the full ledger in the reproducibility report.
LEDGER_LABEL = "claims-ledger"


def _shown_code(cell: dict) -> str:
    """A notebook cell's code if the page shows the cell (its input or its output), else ``""``."""
    if cell.get("cell_type") != "code":
        return ""
    tags = set(cell.get("metadata", {}).get("tags", []))
    if {"remove-input", "remove-output"} <= tags or "remove-cell" in tags:
        return ""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _notebook_cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8")).get("cells", [])


def chapter_notebooks(root: Path) -> list[Path]:
    """The executed notebooks of the chapters listed in ``root/_toc.yml``, in reading order."""
    from mi_tutorial.pipeline import toc_entries

    notebooks = (root / f"{entry}.ipynb" for entry in toc_entries(root / "_toc.yml"))
    return [path for path in notebooks if path.is_file()]


def experiments_in_chapters(root: Path) -> set[str]:
    """Every experiment whose paper-profile claims some chapter of the book shows."""
    return {
        experiment
        for path in chapter_notebooks(root)
        for cell in _notebook_cells(path)
        for experiment in experiments_shown(_shown_code(cell))
    }


def paper_profile_ledger():
    """(the ledger over the committed paper-profile runs, the number of runs it read)."""
    from mi_tutorial.paper import stored_records
    from mi_tutorial.report.ledger import compute_baselines, evaluate_claims

    records = stored_records("paper")
    baselines = compute_baselines("paper") if len(records) else {}
    runs = records.groupby(["experiment", "config_key", "seed"]).ngroups if len(records) else 0
    return evaluate_claims(records, baselines), runs


def write_findings(app: Sphinx) -> None:
    from mi_tutorial.paper import CLAIMS

    root = Path(app.srcdir)
    try:
        table, runs = paper_profile_ledger()
    except Exception as err:  # the data error or a failing check, named in the build log
        raise ExtensionError(
            f"could not evaluate the claims ledger for the front page: {err}"
        ) from err
    shown = experiments_in_chapters(root)
    labels = claim_labels(((claim.id, claim.experiment) for claim in CLAIMS), shown)
    lines = findings_lines(
        table,
        labels,
        LEDGER_LABEL,
        runs=f"the {runs} runs at the paper's settings committed to this repository",
    )
    text = "\n".join(lines) + "\n"
    target = root / FINDINGS_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
        LOGGER.info(f"[findings] wrote {FINDINGS_FILE}")


def _link_text(section: nodes.section) -> str:
    """The title of the chapter's top-level part that holds ``section`` (the chapter's title if
    ``section`` is a direct part of the chapter, or the chapter itself)."""
    chain = []
    node = section
    while isinstance(node, nodes.section):
        chain.append(node)
        node = node.parent
    chain.reverse()  # chapter, part, ..., section
    shown = chain[1] if len(chain) > 2 else chain[0]
    return shown.next_node(nodes.title).astext()


def label_evidence(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".ipynb":
        return
    cells = _notebook_cells(path)
    std = app.env.get_domain("std")
    for cell in doctree.findall(nodes.container):
        index = cell.get("cell_index")
        if cell.get("nb_element") != "cell_code" or index is None or index >= len(cells):
            continue
        section = cell.parent
        while section is not None and not isinstance(section, nodes.section):
            section = section.parent
        if section is None or not section["ids"]:
            continue
        for experiment in experiments_shown(_shown_code(cells[index])):
            label = evidence_label(experiment)
            earlier = std.labels.get(label)
            if earlier and earlier[0] != docname:
                LOGGER.info(
                    f"[findings] {experiment}: evidence kept in {earlier[0]}, not {docname}"
                )
                continue
            std.labels[label] = (docname, section["ids"][0], _link_text(section))
            std.anonlabels[label] = (docname, section["ids"][0])


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", write_findings)
    app.connect("doctree-read", label_evidence)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
