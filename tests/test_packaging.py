"""pyproject.toml and environment.yml must name the same dependencies; the toc must resolve."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CONDA_TO_PYPI = {"pytorch": "torch"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_pyproject_and_environment_name_the_same_dependencies():
    """environment.yml lists the core dependencies and those of the extras it installs
    (``-e .[book,dev]``); other extras (``cluster``) stay optional."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_lines = next(dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict))
    editable = next(r for r in pip_lines if r.startswith("-e"))
    extras = re.search(r"\[(.*)\]", editable).group(1).split(",")
    assert set(extras) <= set(project["optional-dependencies"]), extras
    declared = {_name(r) for r in project["dependencies"]}
    for extra in extras:
        declared |= {_name(r) for r in project["optional-dependencies"][extra]}

    listed: set[str] = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            listed |= {_name(r) for r in dep["pip"] if not r.startswith("-e")}
        else:
            listed.add(CONDA_TO_PYPI.get(_name(dep), _name(dep)))
    listed -= {"python", "pip"}
    assert declared == listed, (
        f"only in pyproject: {sorted(declared - listed)}; only in environment.yml: "
        f"{sorted(listed - declared)}"
    )


def test_torch_is_never_required_newer_than_the_local_cap():
    for path in ("pyproject.toml", "environment.yml"):
        text = (REPO / path).read_text()
        for match in re.finditer(r"(?:torch|pytorch)\s*([<>=!~][^\n\"]*)", text):
            assert "<=2.14.1" in match.group(1), (
                f"{path}: torch spec {match.group(1)!r} is uncapped"
            )


def test_jupyter_book_is_pinned_below_2():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    (spec,) = [r for r in project["optional-dependencies"]["book"] if _name(r) == "jupyter-book"]
    assert ">=1.0.4" in spec and "<2" in spec


def test_every_toc_entry_has_a_source():
    from mi_tutorial.pipeline import toc_entries

    for entry in toc_entries():
        candidates = [REPO / f"{entry}{ext}" for ext in (".py", ".md", ".ipynb")]
        assert any(c.is_file() for c in candidates), f"_toc.yml entry {entry!r} has no source file"
