"""Where a run came from: the git state, package versions, machine and torch build, recorded in
every stored run's JSON (:meth:`mi_tutorial.runs.ResultsStore.save`)."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Paths left out of the "dirty" check: stored results are what runs *produce*, so a checkout
#: that has stored (or re-made) committed runs still holds exactly the committed code.
CODE_ONLY = (":(exclude)results",)


@lru_cache(maxsize=1)
def git_state() -> tuple[str, bool | None]:
    """(commit, dirty) of the repository holding the package, or ("unknown", None); ``dirty``
    says whether tracked files other than stored results (:data:`CODE_ONLY`) differ from the
    commit.

    Read once per process, at its first call: :func:`mi_tutorial.runs.run_sweep` calls it before
    it trains, so a run records the commit of the code it runs even if the checkout changes while
    it trains (not at import, which would run ``git`` for every ``import mi_tutorial``)."""
    repo = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=10
        )
        if commit.returncode != 0:
            return "unknown", None
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", *CODE_ONLY],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=10,
        )
        dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
        return commit.stdout.strip(), dirty
    except (OSError, subprocess.SubprocessError):
        return "unknown", None


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # any failure just means "unknown"
        return "unknown"


def cpu_model() -> str:
    """The processor's model name (Linux ``/proc/cpuinfo``), else :func:`platform.processor`."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def torch_build() -> dict[str, str]:
    """What decides torch's CPU arithmetic: the BLAS/LAPACK it was built with, whether oneDNN
    (MKLDNN) is in, and the SIMD level its kernels dispatch to on this processor."""
    import torch

    config = torch.__config__.show()
    wanted = ("BLAS_INFO", "LAPACK_INFO", "USE_MKLDNN", "USE_OPENMP")
    out = {
        name.lower(): value
        for name, value in re.findall(r"(\w+)=([^,\n]*)", config)
        if name in wanted
    }
    out["mkldnn_available"] = str(torch.backends.mkldnn.is_available())
    out["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    return out


def environment_info(device: str) -> dict[str, Any]:
    """Versions, machine and git state recorded with every saved run (and whether the concat
    critic's pairwise part ran compiled, :func:`mi_tutorial.critics.compiled_scores_enabled`)."""
    import torch

    from .critics import compiled_scores_enabled

    commit, dirty = git_state()
    return {
        "git_commit": commit,
        "git_dirty": dirty,
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "sklearn": _version("scikit-learn"),
            "mi_tutorial": _version("mi-tutorial"),
        },
        "device": str(device),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "cpu_model": cpu_model(),
            "torch_threads": torch.get_num_threads(),
            "torch_interop_threads": torch.get_num_interop_threads(),
            "torch_build": torch_build(),
            "concat_critic_kernel": "compiled" if compiled_scores_enabled() else "eager",
            "cuda_device": (
                torch.cuda.get_device_name(torch.device(device))  # cuda:N names device N
                if str(device).startswith("cuda") and torch.cuda.is_available()
                else None
            ),
        },
    }
