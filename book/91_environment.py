# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Environment and execution
#
# This page is generated while the site is built: it records the software and the machine that
# executed the chapters, and, for every chapter, the parameters papermill injected and how long it
# took. It is executed last, so the table covers every chapter of this build.

# %% tags=["parameters"]
PROFILE = "book"

# %% tags=["remove-cell"]
from mi_tutorial.config import check_profile

PROFILE = check_profile(PROFILE)  # `papermill -p PROFILE bogus` stops here, with the choices

# %% tags=["remove-input"]
import json
import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version

import pandas as pd
import torch
from myst_nb import glue

from mi_tutorial.pipeline import EXECUTION_LOG, REPO, chapters_at_once, elapsed_seconds

PACKAGES = [
    "mi-tutorial",
    "torch",
    "torchvision",
    "numpy",
    "pandas",
    "scikit-learn",
    "matplotlib",
    "seaborn",
    "jupyter-book",
    "myst-nb",
    "sphinx",
    "papermill",
    "jupytext",
]


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return out.stdout.strip() + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


machine = pd.DataFrame(
    [
        ("python", platform.python_version()),
        ("platform", platform.platform()),
        ("processor", platform.processor() or platform.machine()),
        ("CPU cores visible", str(os.cpu_count())),
        ("torch threads", str(torch.get_num_threads())),
        (
            "CUDA device",
            torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none (CPU run)",
        ),
        ("git commit", git_commit()),
        ("book profile", PROFILE),
    ],
    columns=["item", "value"],
)
versions = pd.DataFrame([(p, package_version(p)) for p in PACKAGES], columns=["package", "version"])
machine.style.hide(axis="index")

# %% [markdown]
# ## Package versions

# %% tags=["remove-input"]
versions.style.hide(axis="index")

# %% [markdown]
# ## Chapter execution
#
# Wall-clock seconds of each chapter's papermill run (kernel start and imports included), in
# reading order, as recorded in `_build/execution.json` by the build pipeline.

# %% tags=["remove-input"]
log = json.loads(EXECUTION_LOG.read_text()) if EXECUTION_LOG.exists() else {}
rows = [
    {
        "chapter": name,
        "parameters": json.dumps(entry["parameters"]),
        "seconds": entry["seconds"],
        "finished": entry["finished"],
    }
    for name, entry in log.items()
]
execution = pd.DataFrame(rows, columns=["chapter", "parameters", "seconds", "finished"])
total = float(execution["seconds"].sum()) if len(execution) else 0.0
glue("env_total_minutes", total / 60.0, display=False)
glue("env_elapsed_minutes", elapsed_seconds(log) / 60.0, display=False)
glue("env_at_once", chapters_at_once(log), display=False)
glue("env_n_chapters", len(execution), display=False)
execution.style.hide(axis="index").format({"seconds": "{:.1f}"})

# %% [markdown]
# Executing the {glue:text}`env_n_chapters` chapters above took
# {glue:text}`env_total_minutes:.1f` minutes of chapter time and {glue:text}`env_elapsed_minutes:.1f`
# minutes of wall-clock time, with up to {glue:text}`env_at_once` chapters at once (this page itself
# is not yet in the log while it runs).
