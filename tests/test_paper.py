"""The experiment registry's promises: config keys that match the committed runs, one module per
experiment owning its claims, and the layout of ``mi_tutorial.paper`` / ``mi_tutorial.report``
(imports one way, no cycles, no private names across modules, short modules)."""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path

import pytest

from mi_tutorial import paper

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "mi_tutorial"
COMMITTED = REPO / "results" / "paper"

#: Experiments whose current paper configs all have committed runs. E1 and E2's committed runs
#: predate the notebook's RealNVP permutations (their configs, hence keys, changed since).
WITH_COMMITTED_RUNS = (
    "residual",
    "critic-capacity",
    "encoder-vs-estimator",
    "noniid",
    "supervised",
)

#: The paper-profile config keys of the other experiments, in the order the registry builds them:
#: a key names a run's folder, so a change here orphans the runs stored under the old one.
PAPER_KEYS = {
    "bijective": ["98860249341ab758", "a1ee838bce5702b6"],
    "adversarial": ["b98d598ff4c4701d", "16e1f40e877c0d5f", "ff73ce4d3c9ef792"],
    "critic-capacity-cifar": [
        "4161dcd5e8fc99bc",
        "ecb2df5dec4f03fb",
        "f7f54dcd733ef6fd",
        "5d16c8c07685e42f",
        "9f27728d8b692bf3",
        "db57e07ff3069968",
    ],
    "encoder-vs-estimator-cifar": [
        "bbc342b6f317f5c4",
        "00417fea84ce33a5",
        "fc47fb9c381577a5",
        "c4a988738c048376",
        "dda480849a05f115",
        "bd84c68417ed3db4",
        "be3a07c5bfdf8f61",
        "5dfc3e51497f2e9d",
    ],
    "initialisation": ["29b2c738e6bb7722", "050d48e547ac179f"],
    "metric-learning": ["06ce36a9df293303", "d8c931264a546ab1", "0d2c06054082e997"],
}


#: Committed runs beside an experiment's paper configs: variants that measure one of our choices.
VARIANTS = {"critic-capacity": paper.critic_capacity.adam_variants}


@pytest.mark.parametrize("experiment", WITH_COMMITTED_RUNS)
def test_every_paper_config_has_its_committed_folder(experiment):
    configs = [*paper.get_configs(experiment, "paper")]
    if experiment in VARIANTS:
        configs += VARIANTS[experiment]("paper")
    keys = {c.key() for c in configs}
    folders = sorted(p.name for p in (COMMITTED / experiment).iterdir() if p.is_dir())
    assert sorted(keys) == folders


@pytest.mark.parametrize("experiment", PAPER_KEYS)
def test_paper_config_keys_are_pinned(experiment):
    assert [c.key() for c in paper.get_configs(experiment, "paper")] == PAPER_KEYS[experiment]


def test_each_study_owns_the_claims_and_paper_points_about_it():
    for study in paper.STUDIES:
        for claim in study.claims:
            assert claim.experiment in (study.experiment.id, "(none: a derivation)")
    assert {c.id for c in paper.CLAIMS} == {c.id for s in paper.STUDIES for c in s.claims}
    assert [e for e, *_ in paper.PAPER_POINTS] == [
        s.experiment.id for s in paper.STUDIES for _ in s.paper_points
    ]
    assert paper.paper_points("residual", "accuracy")[0][0] == {"estimator": "infonce"}


def test_schedules_are_declared_per_experiment_and_profile():
    for experiment in paper.experiment_ids(include_cifar10=True):
        for profile in ("smoke", "book", "paper"):
            steps, every = paper.schedule(experiment, profile)
            assert paper.SCHEDULES[profile][experiment] == (steps, every)
            assert {c.steps for c in paper.get_configs(experiment, profile)} == {steps}
    assert paper.schedule("critic-capacity-cifar", "paper") == (63_000, 1_000)
    assert paper.schedule("encoder-vs-estimator-cifar", "book") == (1_501, 750)


def test_listing_the_experiments_imports_neither_torch_nor_the_report():
    code = (
        "import sys, mi_tutorial.paper as p; p.get_configs('critic-capacity', 'paper'); "
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('mi_tutorial.report')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------------------- layout
@functools.cache
def _modules() -> dict[str, Path]:
    return {
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): path
        for path in PACKAGE.rglob("*.py")
    }


def _imports(name: str, path: Path, top_level_only: bool) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) for every import in ``path``, resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            module = ".".join(p for p in (base if node.level else "", node.module or "") if p)
            names = [alias.name for alias in node.names]
            found.append((module, names))
            found += [(f"{module}.{n}", []) for n in names if f"{module}.{n}" in _modules()]
    return found


LAYERED = [m for m in _modules() if m.startswith(("mi_tutorial.paper", "mi_tutorial.report"))]


@pytest.mark.parametrize("module", LAYERED)
def test_paper_and_report_import_one_way(module):
    forbidden = ["mi_tutorial.cli", "mi_tutorial.pipeline", "book"]
    if module.startswith("mi_tutorial.paper"):
        forbidden.append("mi_tutorial.report")
    imported = {m for m, _ in _imports(module, _modules()[module], top_level_only=False)}
    assert not {m for m in imported if m.startswith(tuple(forbidden))}


@pytest.mark.parametrize("module", LAYERED)
def test_no_private_names_across_modules_and_no_long_modules(module):
    path = _modules()[module]
    for imported, names in _imports(module, path, top_level_only=False):
        if imported.startswith("mi_tutorial"):
            assert not [n for n in names if n.startswith("_")], (module, imported)
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 450


def test_no_import_cycles_between_modules():
    modules = _modules()
    graph = {
        name: {m for m, _ in _imports(name, path, top_level_only=True) if m in modules} - {name}
        for name, path in modules.items()
    }
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for child in sorted(graph[name]):
            is_parent = name.startswith(child + ".")  # a submodule sees its package initialised
            assert state.get(child) != "open" or is_parent, " -> ".join([*trail, child])
            if child not in state:
                visit(child, [*trail, child])
        state[name] = "done"

    for name in sorted(modules):
        if name not in state:
            visit(name, [name])


def test_e1_shows_the_first_versions_runs_labelled_until_faithful_ones_exist(tmp_path):
    """Runs stored before the notebook's RealNVP permutations keep their keys; the report shows
    them, with a ``variant`` column, for each config that has no run of its own yet."""
    import pandas as pd

    from mi_tutorial.paper.common import SHARED_PERMUTATIONS, without_notebook_permutations
    from mi_tutorial.runs import ResultsStore

    store = ResultsStore(tmp_path)
    current = paper.get_configs("bijective", "smoke")
    earlier = without_notebook_permutations(current)
    assert all(dict(c.encoder_kwargs)["permutations"] == "notebook" for c in current)
    assert {c.key() for c in earlier}.isdisjoint(c.key() for c in current)
    frame = pd.DataFrame({"step": [0, 10], "metric": "accuracy", "value": [0.5, 0.6]})
    assert paper.stored_records("smoke", store, ["bijective"]).empty
    for config in earlier:
        store.save(config, 0, frame, wall_time=1.0)
    shown = paper.stored_records("smoke", store, ["bijective"])
    assert set(shown["variant"]) == {SHARED_PERMUTATIONS} and len(shown) == 4
    store.save(current[0], 0, frame, wall_time=1.0)
    mixed = paper.stored_records("smoke", store, ["bijective"])
    assert set(mixed["config_key"]) == {current[0].key(), earlier[1].key()}
    by_key = mixed.groupby("config_key")["variant"].first()
    assert pd.isna(by_key[current[0].key()]) and by_key[earlier[1].key()] == SHARED_PERMUTATIONS
    store.save(current[1], 0, frame, wall_time=1.0)
    faithful = paper.stored_records("smoke", store, ["bijective"])
    assert "variant" not in faithful and set(faithful["config_key"]) == {c.key() for c in current}
