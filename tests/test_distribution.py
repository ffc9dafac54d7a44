"""FID and KID over a sweep's items (metrics/distribution.py): the patch protocol, the values against
torch-fidelity and textbook formulas, and the same aggregate whichever way a sweep ran."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
from PIL import Image
from torch.nn import functional as F

from conftest import photo_like
from generated_weights import generated_inception
from pytest_codecbench.cli import main
from pytest_codecbench.kits import weights
from pytest_codecbench.kits.torch_compat import import_torchvision
from pytest_codecbench.metrics import distribution
from pytest_codecbench.report import build

import_torchvision()
from torch_fidelity import feature_extractor_inceptionv3 as inception  # noqa: E402
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric  # noqa: E402
from torch_fidelity.metric_kid import kid_features_to_metric  # noqa: E402

UNREACHABLE = "http://127.0.0.1:9/"


def _features(rows: int, seed: int) -> np.ndarray:
    """Non-negative, skewed, of uneven scale per dimension: like Inception pool features."""
    rng = np.random.default_rng(seed)
    return (rng.gamma(0.5, 0.5, (rows, 2048)) * rng.random(2048)).astype(np.float32)


def test_patches_follow_hifics_protocol_as_ms_illm_cuts_them():
    image = photo_like(768, 512, 3)
    tiles = distribution.patches(image)
    assert tiles.shape == (6 + 2, 3, 256, 256) and tiles.dtype == np.uint8
    # MS-ILLM's update_patch_fid (NeuralCompression): torch's unfold, then the grid shifted by half a patch
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float()
    grids = [x, x[:, :, 128:, 128:]]
    theirs = torch.cat([F.unfold(g, 256, stride=256).permute(0, 2, 1).reshape(-1, 3, 256, 256) for g in grids])
    assert np.array_equal(tiles, theirs.to(torch.uint8).numpy())
    assert len(distribution.patches(photo_like(383, 300, 1))) == 1  # under 384 in one direction: no shifted grid
    assert len(distribution.patches(photo_like(255, 900, 1))) == 0


def test_the_weights_are_torch_fidelitys_in_torch_hubs_cache_and_codecbench_weights_lists_them(
    tmp_path, monkeypatch, capsys
):
    assert distribution.INCEPTION.url == inception.URL_INCEPTION_V3
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    assert distribution.INCEPTION.path.parent == weights.hub_dir() == tmp_path / "torch" / "hub" / "checkpoints"
    (tmp_path / "none").mkdir()
    assert main(["weights", "--codec-dir", str(tmp_path / "none")]) == 1
    assert f"metric fid                   missing  {inception.URL_INCEPTION_V3}" in capsys.readouterr().out


def test_a_set_against_itself_is_zero():
    real = _features(200, 1)  # fewer patches than features: torch-fidelity's value would be 1e-5 off zero
    assert distribution.fid(real, real) == pytest.approx(0, abs=1e-9)
    assert distribution.kid(real, real) == (pytest.approx(0, abs=1e-12), pytest.approx(0, abs=1e-12))


def test_fid_agrees_with_torch_fidelity_and_with_scipys_square_root(monkeypatch):
    """On 3000 patches the covariances are regular: the cross-Gram route (used up to GRAM_LIMIT patches)
    gives torch-fidelity's value and scipy's sqrtm's (pytorch-fid's and clean-fid's way); above
    GRAM_LIMIT torch-fidelity's value is taken as it is."""
    real, fake = _features(3000, 1), _features(3000, 2) * 1.1
    statistics = [fid_features_to_statistics(torch.from_numpy(f)) for f in (real, fake)]
    theirs = fid_statistics_to_metric(*statistics, verbose=False)["frechet_inception_distance"]
    (mu1, sigma1), (mu2, sigma2) = [(s["mu"], s["sigma"]) for s in statistics]
    root = scipy.linalg.sqrtm(sigma1 @ sigma2).real
    scipys = (mu1 - mu2) @ (mu1 - mu2) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(root)
    ours = distribution.fid(real, fake)
    assert ours == pytest.approx(scipys, abs=1e-6) and ours == pytest.approx(theirs, abs=1e-6)
    monkeypatch.setattr(distribution, "GRAM_LIMIT", 1000)
    assert distribution.fid(real, fake) == theirs


def test_kid_is_the_paired_u_statistic_with_torch_fidelitys_kernel():
    """With fewer patches than a subset holds, every subset is the whole set: the mean is the textbook
    U-statistic over pairs i != j of h = k(xi, xj) + k(yi, yj) - k(xi, yj) - k(xj, yi)."""
    real = _features(150, 3)
    fake = real + np.random.default_rng(4).normal(0, 0.2, real.shape).astype(np.float32)
    x, y = real.astype(np.float64), fake.astype(np.float64)
    kernel = lambda a, b: (a @ b.T / 2048 + 1) ** 3  # noqa: E731 - torch-fidelity's defaults
    h = kernel(x, x) + kernel(y, y) - kernel(x, y) - kernel(x, y).T
    n = len(x)
    expected = (h.sum() - np.trace(h)) / (n * (n - 1))
    mean, spread = distribution.kid(real, fake)
    assert mean == pytest.approx(expected, rel=1e-9) and spread == pytest.approx(0, abs=1e-12)


def test_kid_unpaired_is_torch_fidelitys_own_over_the_items_features():
    """``kid_unpaired`` is torch-fidelity's kid_features_to_metric on the items' features joined, as the
    field computes KID; unlike the paired ``kid`` it is not 0 for a set against itself (its bias)."""
    real, fake = _features(300, 5), _features(300, 6)
    stored = [
        {"reference": distribution.encode(real[i : i + 100]), "decoded": distribution.encode(fake[i : i + 100])}
        for i in (0, 100, 200)
    ]
    values = distribution.aggregate(stored, ["fid", "kid"])
    theirs = kid_features_to_metric(torch.from_numpy(real), torch.from_numpy(fake), kid_subset_size=300, verbose=False)
    assert values["kid_unpaired"] == pytest.approx(theirs["kernel_inception_distance_mean"], abs=1e-12)
    assert values["set_patches"] == 300 and list(values) == distribution.columns(["fid", "kid"])
    assert distribution.kid_unpaired(real, real) < -1e-4  # the paired kid of a set against itself: 0
    assert distribution.kid(real, real)[0] == pytest.approx(0, abs=1e-12)


@pytest.fixture(scope="session")
def inception_file(tmp_path_factory) -> Path:
    return generated_inception(tmp_path_factory.mktemp("torch") / "hub" / "checkpoints")


@pytest.fixture
def inception_weights(inception_file, monkeypatch):
    """Generated weights in the torch.hub cache, and INCEPTION pointed at them."""
    monkeypatch.setenv("TORCH_HOME", str(inception_file.parents[2]))
    monkeypatch.setattr(distribution, "INCEPTION", weights.Checkpoint(UNREACHABLE + inception_file.name))
    distribution._extractor.cache_clear()
    monkeypatch.setattr(distribution, "_references", type(distribution._references)(size=256))
    yield inception_file
    distribution._extractor.cache_clear()


def test_features_are_torch_fidelitys_inception_on_the_patches(inception_weights):
    image = photo_like(512, 384, 5)
    model = inception.FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048"], feature_extractor_weights_path=str(inception_weights)
    )
    with torch.no_grad():
        theirs = model(torch.from_numpy(distribution.patches(image)))[0].numpy()
    ours = distribution.features(image)
    assert ours.shape == (3, 2048) and ours.std() > 0.01
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)
    stored = distribution.item_features(image, image)
    assert stored["patches"] == 3 and distribution.decode(stored["decoded"]).tobytes() == ours.tobytes()


@pytest.fixture
def set_project(project, inception_weights):
    """The test project with three 512×384 images (3 patches each) and, for its subprocesses and
    xdist workers, a conftest that points INCEPTION at the generated weights. Processes running
    different numbers of torch threads get features equal to float32 rounding, so aggregates are
    compared to 1e-6 (the CSV's six digits: 1e-5)."""
    (project.path / "big").mkdir()
    for i in range(3):
        Image.fromarray(photo_like(512, 384, 10 + i)).save(project.path / "big" / f"p{i}.png")
    project.makeconftest(
        "from pytest_codecbench.kits.weights import Checkpoint\n"
        "from pytest_codecbench.metrics import distribution\n"
        f"distribution.INCEPTION = Checkpoint({UNREACHABLE + inception_weights.name!r})\n"
    )
    return project


SWEEP = ["--dataset=big", "--codecs=jpeg,png", "--qualities=jpeg=10,60", "--metrics=psnr,fid,kid"]


def _points(path: Path) -> dict:
    section = json.loads(path.read_text())["codecbench"]["sets"]
    return {(p["codec"], str(p["quality"])): p for p in section["points"]}


def _rd(folder: Path) -> dict:
    [group] = [p for p in folder.iterdir() if p.is_dir()]
    with open(group / "rd.csv") as file:
        return {(r["codec"], r["quality"]): r for r in csv.DictReader(file)}


@pytest.mark.slow
def test_xdist_shards_and_resume_give_the_single_process_aggregate(set_project, tmp_path):
    project = set_project
    project.runpytest(*SWEEP, "--records=none", "--benchmark-json=single.json").assert_outcomes(passed=9)
    single = _points(project.path / "single.json")
    assert len(single) == 3 and {("jpeg", "10"), ("jpeg", "60")} < set(single)  # and PNG's one setting
    lossless = next(p for (codec, _), p in single.items() if codec == "png")
    assert lossless["fid"] == pytest.approx(0, abs=1e-9) and lossless["kid"] == pytest.approx(0, abs=1e-12)
    assert single["jpeg", "10"]["fid"] > single["jpeg", "60"]["fid"] > 1e-6
    assert all(p["images"] == 3 and p["set_patches"] == 9 for p in single.values())

    def same(points):
        assert set(points) == set(single)
        for key, point in points.items():
            for column in ("fid", "kid", "kid_std", "kid_unpaired"):
                assert point[column] == pytest.approx(single[key][column], rel=1e-6, abs=1e-12), (key, column)

    # in a subprocess: its controller imports nothing of torch but what the set metrics need
    result = project.runpytest_subprocess(*SWEEP, "--records=none", "-n", "2", "--benchmark-json=xdist.json")
    result.assert_outcomes(passed=9)
    same(_points(project.path / "xdist.json"))

    records = f"--records={project.path / 'records'}"
    project.runpytest(*SWEEP, records, "--shard=1/2", "--benchmark-json=part.json")
    result = project.runpytest(*SWEEP, records, "--resume", "-n", "2", "--benchmark-json=resumed.json")
    assert result.parseoutcomes()["skipped"] == 5  # shard 1/2 measured every other item
    same(_points(project.path / "resumed.json"))

    shards = []
    for index in (1, 2):
        shards.append(project.path / f"shard{index}.json")
        project.runpytest(*SWEEP, "--records=none", f"--shard={index}/2", f"--benchmark-json={shards[-1]}")
    assert build(shards, tmp_path / "merged", anchor="jpeg") == 0
    assert build([project.path / "single.json"], tmp_path / "whole", anchor="jpeg") == 0
    merged, whole = _rd(tmp_path / "merged"), _rd(tmp_path / "whole")
    for key, row in whole.items():
        assert float(row["fid"]) == pytest.approx(single[key]["fid"], rel=1e-5)  # the CSV keeps 6 digits
        for column in ("fid", "kid"):
            assert float(merged[key][column]) == pytest.approx(float(row[column]), rel=1e-5, abs=1e-12)
    assert list((tmp_path / "whole").glob("*/dp-fid-psnr.png"))


def test_missing_weights_leave_the_set_columns_out_naming_file_and_folder(project, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    name = "weights-inception-2015-12-05-6726825d.pth"
    monkeypatch.setattr(distribution, "INCEPTION", weights.Checkpoint(UNREACHABLE + name))
    result = project.runpytest("--codecs=png", "--metrics=psnr,fid", "--benchmark-json=out.json")
    result.assert_outcomes(passed=2)
    folder = tmp_path / "empty" / "hub" / "checkpoints"
    result.stdout.fnmatch_lines([f"codecbench: fid off: its columns are left out: *{name} is not in the torch.hub*"])
    assert str(folder) in result.stdout.str()
    data = json.loads((project.path / "out.json").read_text())
    assert "fid" not in data["codecbench"]["metrics"] and "sets" not in data["codecbench"]
    assert any(name in note for note in data["codecbench"]["metric_notes"])
