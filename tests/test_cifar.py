"""The CIFAR-10 path (App. G, E7/E8) on synthetic CIFAR-shaped data: views, loading and its errors,
the 3-channel ConvNet, the E7/E8 experiment configs. Nothing here downloads CIFAR-10."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from mi_tutorial import data, paper
from mi_tutorial.config import PROFILES
from mi_tutorial.encoders import ConvNetEncoder, count_parameters, make_encoder
from mi_tutorial.report import summaries
from mi_tutorial.runs import ResultsStore

CIFAR_IDS = ["critic-capacity-cifar", "encoder-vs-estimator-cifar"]


def fake_images(n: int, seed: int = 0) -> np.ndarray:
    """uint8 [n, 32, 32, 3] with every value 0..255 present (so the range check is tight)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    images.reshape(-1)[:256] = np.arange(256, dtype=np.uint8)
    return images


class FakeCIFAR10:
    """Stands in for torchvision.datasets.CIFAR10: ``.data`` [N, 32, 32, 3] uint8, ``.targets``."""

    calls: list[tuple[str, bool, bool]] = []

    def __init__(self, root, train: bool, download: bool) -> None:
        FakeCIFAR10.calls.append((str(root), train, download))
        n = 40 if train else 20
        self.data = fake_images(n, seed=1 if train else 2)
        self.targets = [i % 10 for i in range(n)]


@pytest.fixture
def fake_torchvision(monkeypatch):
    FakeCIFAR10.calls = []
    monkeypatch.setattr(data, "_cifar10_dataset", FakeCIFAR10)
    data._load_cifar10_views.cache_clear()
    yield FakeCIFAR10
    data._load_cifar10_views.cache_clear()


# ---------------------------------------------------------------- views
def test_views_are_the_flattened_halves_in_unit_range():
    images = fake_images(5)
    views = data.cifar10_views_from_arrays(images, np.arange(5))
    assert views.top.shape == views.bottom.shape == (5, data.CIFAR10_VIEW_DIM) == (5, 1536)
    assert views.top.dtype == views.bottom.dtype == torch.float32
    assert views.labels.dtype == torch.int64 and views.labels.tolist() == [0, 1, 2, 3, 4]
    for v in (views.top, views.bottom):
        assert 0.0 <= float(v.min()) and float(v.max()) <= 1.0
    assert float(views.top.min()) == 0.0 and float(views.top.max()) == 1.0  # 0 and 255 present
    # (row, column, channel) order, like the MNIST halves: index (r * 32 + c) * 3 + k.
    i, r, c, k = 3, 7, 29, 2
    assert views.top[i, (r * 32 + c) * 3 + k] == pytest.approx(images[i, r, c, k] / 255.0)
    assert views.bottom[i, (r * 32 + c) * 3 + k] == pytest.approx(images[i, r + 16, c, k] / 255.0)
    # top and bottom stacked along the rows give the image back, exactly.
    shape = (5, *data.CIFAR10_VIEW_SHAPE)
    whole = torch.cat([views.top.reshape(shape), views.bottom.reshape(shape)], dim=1)
    assert torch.equal(torch.round(whole * 255).to(torch.uint8), torch.from_numpy(images))


def test_views_reject_bad_input_with_a_clear_message():
    with pytest.raises(ValueError, match=r"\[N, 32, 32, 3\].*transpose"):
        data.cifar10_views_from_arrays(np.zeros((2, 3, 32, 32), np.uint8), [0, 1])
    with pytest.raises(ValueError, match="uint8"):
        data.cifar10_views_from_arrays(np.zeros((2, 32, 32, 3), np.float32), [0, 1])
    with pytest.raises(ValueError, match="2 images but 3 labels"):
        data.cifar10_views_from_arrays(np.zeros((2, 32, 32, 3), np.uint8), [0, 1, 2])


# ---------------------------------------------------------------- loading
def test_cifar10_views_load_through_torchvision(tmp_path, fake_torchvision):
    (tmp_path / data.CIFAR10_DIR).mkdir()
    train = data.cifar10_views("train", root=tmp_path)
    test = data.cifar10_views("test", root=tmp_path)
    assert (len(train), len(test)) == (40, 20)
    assert train.top.shape == (40, 1536) and test.bottom.shape == (20, 1536)
    assert all(download is False for _, _, download in fake_torchvision.calls)
    with pytest.raises(ValueError, match="unknown split"):
        data.cifar10_views("valid", root=tmp_path)


def test_missing_cifar10_is_a_clear_error_and_nothing_is_downloaded(tmp_path, fake_torchvision):
    with pytest.raises(data.DataError) as err:
        data.ensure_cifar10(tmp_path, allow_download=False)
    message = str(err.value)
    assert "CIFAR-10 not found" in message and "cannot be downloaded here" in message
    assert "mi-tutorial data --cifar10" in message and "MI_TUTORIAL_DATA" in message
    assert fake_torchvision.calls == []


def test_offline_machines_do_not_try_to_download(tmp_path, monkeypatch, fake_torchvision):
    monkeypatch.setenv("MI_TUTORIAL_OFFLINE", "1")
    with pytest.raises(data.DataError, match="MI_TUTORIAL_OFFLINE=1.*mi-tutorial data --cifar10"):
        data.cifar10_views("train", root=tmp_path)
    assert fake_torchvision.calls == []


def test_a_failed_download_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.delenv("MI_TUTORIAL_OFFLINE", raising=False)

    def no_network(root, train, download):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(data, "_cifar10_dataset", no_network)
    with pytest.raises(data.DataError, match="download failed.*name resolution.*--cifar10"):
        data.ensure_cifar10(tmp_path)
    assert list(tmp_path.iterdir()) == []  # no scratch folder, no partial cifar-10-batches-py


def test_a_successful_download_is_moved_into_place(tmp_path, monkeypatch):
    monkeypatch.delenv("MI_TUTORIAL_OFFLINE", raising=False)
    seen = []

    def download(root, train, download):
        seen.append(download)
        folder = root / data.CIFAR10_DIR
        folder.mkdir(exist_ok=True)
        (folder / ("data_batch_1" if train else "test_batch")).write_bytes(b"x")

    monkeypatch.setattr(data, "_cifar10_dataset", download)
    assert data.ensure_cifar10(tmp_path) == tmp_path.resolve()
    assert sorted(p.name for p in (tmp_path / data.CIFAR10_DIR).iterdir()) == [
        "data_batch_1",
        "test_batch",
    ]
    assert seen == [True, True] and [p.name for p in tmp_path.iterdir()] == [data.CIFAR10_DIR]


def test_a_damaged_folder_is_reported_not_replaced(tmp_path, monkeypatch):
    (tmp_path / data.CIFAR10_DIR).mkdir()

    def corrupted(root, train, download):
        raise RuntimeError("Dataset not found or corrupted.")

    monkeypatch.setattr(data, "_cifar10_dataset", corrupted)
    with pytest.raises(data.DataError, match="incomplete or corrupted.*Delete"):
        data.ensure_cifar10(tmp_path)
    assert (tmp_path / data.CIFAR10_DIR).is_dir()


def test_training_code_resolves_the_cifar10_dataset_name(tmp_path, monkeypatch, fake_torchvision):
    from mi_tutorial.training import loop as train

    assert "cifar10" in train.DATASETS
    monkeypatch.setenv("MI_TUTORIAL_DATA", str(tmp_path))
    (tmp_path / data.CIFAR10_DIR).mkdir()
    tr, te = train.load_data("cifar10", None)
    assert (tr.top.shape[1], te.bottom.shape[1], len(tr), len(te)) == (1536, 1536, 40, 20)
    with pytest.raises(ValueError, match="Did you mean 'cifar10'"):
        train.load_data("cifar", None)


# ---------------------------------------------------------------- the ConvNet on CIFAR halves
def test_convnet_takes_cifar_halves():
    enc = make_encoder("convnet", input_dim=1536, input_shape=data.CIFAR10_VIEW_SHAPE)
    x = data.cifar10_views_from_arrays(fake_images(4), np.zeros(4)).top
    assert enc(x).shape == (4, 100)
    assert enc.feature_maps(x).shape == (4, 128, 4, 8)  # 16×32 → 8×16 → 4×8
    # Only the input layer changes: 25 · 3 · 64 weights instead of 25 · 64.
    assert count_parameters(enc) == 219_748 + 25 * 2 * 64 == 222_948
    assert count_parameters(ConvNetEncoder()) == 219_748


def test_convnet_reads_the_view_as_a_channels_first_image():
    images = fake_images(2)
    x = data.cifar10_views_from_arrays(images, [0, 1]).top
    enc = ConvNetEncoder(input_shape=(16, 32, 3))
    seen = []
    enc.conv1.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    enc(x)
    expected = torch.from_numpy(images[:, :16]).permute(0, 3, 1, 2).float() / 255.0
    assert torch.equal(seen[0], expected)


def test_convnet_input_shape_errors_name_the_fix():
    with pytest.raises(ValueError, match=r"\(height, width\) or \(height, width, channels\)"):
        ConvNetEncoder(input_shape=(16,))
    with pytest.raises(ValueError, match=r"\(16, 32, 3\)"):
        make_encoder("convnet", input_dim=1536)  # the MNIST default (14, 28) does not fit


# ---------------------------------------------------------------- E7 / E8 configs
def test_cifar_experiments_are_registered_but_not_in_the_default_list():
    assert not set(CIFAR_IDS) & set(paper.experiment_ids())
    every = paper.experiment_ids(include_cifar10=True)
    assert every[7:9] == CIFAR_IDS and [paper.EXPERIMENTS[i].code for i in CIFAR_IDS] == [
        "E7",
        "E8",
    ]
    assert "Fig. 8" in paper.describe(CIFAR_IDS[0]) and "Fig. 9" in paper.describe(CIFAR_IDS[1])
    assert paper.CIFAR10_VIEW_SHAPE == data.CIFAR10_VIEW_SHAPE


@pytest.mark.parametrize("experiment", CIFAR_IDS)
@pytest.mark.parametrize("profile", PROFILES)
def test_cifar_configs_are_their_mnist_twins_with_app_g_changes(experiment, profile):
    twin = paper.get_configs(paper.CIFAR10_OF[experiment], profile)
    configs = paper.get_configs(experiment, profile)
    assert len(configs) == len(twin) and len({c.key() for c in configs}) == len(configs)
    assert not {c.key() for c in configs} & {c.key() for c in twin}
    for c, t in zip(configs, twin, strict=True):
        assert (c.experiment, c.profile, c.lr) == (experiment, profile, 1e-5)
        assert (c.encoder, c.critic, c.estimator, c.target) == (
            t.encoder,
            t.critic,
            t.estimator,
            t.target,
        )
        assert (c.batch_size, c.critic_kwargs, c.eval_batches) == (
            t.batch_size,
            t.critic_kwargs,
            t.eval_batches,
        )
        if profile == "smoke":  # no CIFAR-10 needed
            assert c.dataset == "digits" and c.steps <= 21
            assert c.encoder_kwargs == t.encoder_kwargs
            continue
        assert c.dataset == "cifar10"
        if profile == "paper":
            assert c.steps == 3 * t.steps == 63_000 and c.eval_every == t.eval_every
        else:
            assert c.steps - 1 == 3 * (t.steps - 1) and (c.steps - 1) % c.eval_every == 0
        kwargs, twin_kwargs = dict(c.encoder_kwargs), dict(t.encoder_kwargs)
        if c.encoder == "convnet":
            assert kwargs == twin_kwargs | {"input_shape": (16, 32, 3)}
        else:
            assert kwargs == twin_kwargs
    assert paper.default_seeds(experiment, profile) == (
        list(range(20)) if profile == "paper" else [0]
    )


def test_cifar_profile_deviations():
    for experiment in CIFAR_IDS:
        assert paper.profile_deviations(experiment, "paper") == []
        smoke = paper.profile_deviations(experiment, "smoke")
        assert "dataset: digits (paper: cifar10)" in smoke
        assert any("not CIFAR-10" in line for line in smoke)
    book = paper.profile_deviations("encoder-vs-estimator-cifar", "book")
    assert sum("estimator=nwj" in line for line in book) == 4
    steps = paper.get_configs("encoder-vs-estimator-cifar", "book")[0].steps
    assert f"steps: {steps} (paper: 63000)" in book


def test_cifar_paper_configs_train_on_cifar_shaped_data():
    """The E8 paper config of the ConvNet (16×32×3 input, lr 1e-5), shortened, on random images."""
    config = next(
        c
        for c in paper.get_configs("encoder-vs-estimator-cifar", "paper")
        if c.encoder == "convnet" and c.target == 4.0 and c.estimator == "infonce"
    ).replace(steps=3, eval_every=2, batch_size=16, eval_batches=1)
    from mi_tutorial.training import run_config

    train = data.cifar10_views_from_arrays(fake_images(48, 3), np.arange(48) % 10)
    test = data.cifar10_views_from_arrays(fake_images(32, 4), np.arange(32) % 10)
    records = run_config(config, 0, progress=False, data=(train, test))
    assert set(records["step"]) == {0, 2}
    values = records[records["metric"] != "train_bound"]["value"]
    assert np.isfinite(values).all() and {"accuracy", "bound", "objective"} <= set(
        records["metric"]
    )


def test_cifar_smoke_profile_needs_no_cifar10(tmp_path, monkeypatch):
    """The smoke runs train (for real, on the digits) with an empty data root and no network."""
    pytest.importorskip("mi_tutorial.critics")
    monkeypatch.setenv("MI_TUTORIAL_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("MI_TUTORIAL_OFFLINE", "1")
    records = paper.run(
        "critic-capacity-cifar", "smoke", store=ResultsStore(tmp_path / "r"), progress=False
    )
    assert set(records["critic"]) == {"bilinear", "separable", "concat"}
    assert set(records["dataset"]) == {"digits"} and set(records["lr"]) == {1e-5}
    finals = summaries.final_summary(records)
    assert not finals.empty and np.isfinite(finals["mean"]).all()
    assert not (tmp_path / "empty").exists()


def test_stored_records_load_current_configs_only(tmp_path):
    store = ResultsStore(tmp_path)
    config = paper.get_configs("critic-capacity-cifar", "paper")[0]
    frame = pd.DataFrame({"step": [0, 1000], "metric": "accuracy", "value": [0.3, 0.34]})
    for seed in (0, 3):
        store.save(config, seed, frame, wall_time=1.0)
    stale = config.replace(lr=2e-5)  # a config the code no longer builds
    store.save(stale, 0, frame, wall_time=1.0)
    records = paper.stored_records("paper", store)
    assert set(records["seed"]) == {0, 3} and set(records["config_key"]) == {config.key()}
    assert set(records["experiment"]) == {"critic-capacity-cifar"} and len(records) == 4
    assert paper.stored_records("paper", store, experiments=["critic-capacity"]).empty
    assert paper.stored_records("book", store).empty
    assert math.isclose(records["value"].max(), 0.34)
