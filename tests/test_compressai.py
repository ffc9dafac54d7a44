"""CompressAI's zoo: real bitstreams, weights from torch.hub's cache, fvcore counts.

No pretrained weights can be downloaded here, so the tests write generated checkpoints
(randomly initialised models of the zoo's architectures, entropy tables updated) into a
temporary TORCH_HOME under zoo-style names, and every zoo URL points at a closed port on
127.0.0.1: the adapter's real loading path (compressai.zoo with pretrained=True, reading
torch.hub's cache) runs unchanged.
"""

import hashlib
import io
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import compressai.zoo
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fvcore.nn import FlopCountAnalysis

from conftest import REPO, embedded_photo, photo_like
from pytest_codecbench.codec import load_codecs
from pytest_codecbench.kits import compressai_models, weights
from pytest_codecbench.kits.torch_models import to_image, to_tensor

ZOO = compressai.zoo.image
ZOO_CODECS = {f"{architecture}-{metric}" for architecture in ZOO.model_urls for metric in ("mse", "ms-ssim")}
UNREACHABLE = "http://127.0.0.1:9/"


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty TORCH_HOME, and zoo URLs that cannot be reached."""
    home = tmp_path / "torch"
    monkeypatch.setenv("TORCH_HOME", str(home))
    monkeypatch.setattr(weights, "_failed", {})
    for table in (t for by_metric in ZOO.model_urls.values() for t in by_metric.values()):
        for quality, url in table.items():
            monkeypatch.setitem(table, quality, UNREACHABLE + os.path.basename(url))
    return home


def generate(monkeypatch, architecture: str, metric: str, quality: int) -> Path:
    """A generated checkpoint in the hub cache, named by its own hash, and the zoo pointed at it."""
    codecs = load_codecs([REPO / "codecs"])
    adapter = sys.modules[codecs["mbt2018-mse"].encode.func.__module__]
    path = adapter.generated_checkpoint(architecture, quality, weights.hub_dir())
    monkeypatch.setitem(ZOO.model_urls[architecture][metric], quality, UNREACHABLE + path.name)
    return path


@pytest.fixture
def zoo_codecs():
    codecs = load_codecs([REPO / "codecs"])
    return codecs, sys.modules[codecs["mbt2018-mse"].encode.func.__module__]


def test_names_and_grids_follow_the_zoo(project, zoo_codecs):
    codecs, adapter = zoo_codecs
    for architecture, (top, _) in compressai_models.ARCHITECTURES.items():
        for metric in ("mse", "ms-ssim"):
            assert sorted(ZOO.model_urls[architecture][metric]) == list(codecs[f"{architecture}-{metric}"].qualities)
            assert list(range(1, top + 1)) == sorted(ZOO.model_urls[architecture][metric])
    project.makepyfile(test_complexity=(REPO / "benchmarks" / "test_complexity.py").read_text())
    for expression, prefixes, count in [
        ("mbt2018-mean and mse and not matrix", ("mbt2018-mean-mse-q",), 8 * 2 * 2),
        ("cheng2020", ("cheng2020-anchor-mse-q", "cheng2020-anchor-ms-ssim-q", "cheng2020-attn-m"), 4 * 6 * 2 * 2),
    ]:
        result = project.runpytest("--collect-only", "-q", "-k", expression)
        ids = [line.split("[", 1)[1] for line in result.outlines if "::test_" in line]
        assert len(ids) == count and all(i.startswith(prefixes) for i in ids), (expression, ids[:5])


ARCHITECTURES = ["bmshj2018-factorized", "bmshj2018-hyperprior", "mbt2018-mean", "mbt2018", "cheng2020-anchor"]


@pytest.mark.parametrize("architecture", [*ARCHITECTURES, "cheng2020-attn"])
def test_the_bytes_alone_decode_to_the_models_reconstruction(torch_home, monkeypatch, zoo_codecs, architecture):
    codecs, adapter = zoo_codecs
    generate(monkeypatch, architecture, "mse", 2)
    codec = codecs[f"{architecture}-mse"]
    image = photo_like(45, 70, 1)  # neither side a multiple of 64: padded, then cropped back
    data = codec.encode(image, 2)
    decoded = codec.decode(bytes(data))
    model = compressai_models.model(architecture, "mse", 2, "cpu")
    crop = compressai_models.padding(70, 45)[1]
    with torch.no_grad():
        if architecture in adapter.AUTOREGRESSIVE:
            # forward() quantises y as round(y), the coder as round(y - mean) + mean with means
            # from the causal context: compare with the coder's own in-memory round trip.
            coded = model.compress(compressai_models.padded(image, "cpu"))
            expected = model.decompress(coded["strings"], coded["shape"])["x_hat"]
        else:
            expected = model(compressai_models.padded(image, "cpu"))["x_hat"]
    np.testing.assert_array_equal(decoded, to_image(F.pad(expected, crop)))


@pytest.mark.parametrize("size", [(1, 1), (64, 64), (63, 65), (130, 67)])
def test_any_image_size_round_trips(torch_home, monkeypatch, zoo_codecs, size):
    codecs, _ = zoo_codecs
    generate(monkeypatch, "mbt2018-mean", "ms-ssim", 1)
    image = photo_like(*size, seed=3)
    decoded = codecs["mbt2018-mean-ms-ssim"].decode(codecs["mbt2018-mean-ms-ssim"].encode(image, 1))
    assert decoded.shape == image.shape and decoded.dtype == np.uint8


@pytest.mark.parametrize("architecture", ["bmshj2018-factorized", "mbt2018-mean", "mbt2018"])
def test_bpp_from_bytes_is_within_a_few_percent_of_the_estimate(torch_home, monkeypatch, zoo_codecs, architecture):
    codecs, _ = zoo_codecs
    generate(monkeypatch, architecture, "mse", 3)
    codec = codecs[f"{architecture}-mse"]
    image = embedded_photo("astronaut")[128:384, 128:384]
    bpp = 8 * len(codec.encode(image, 3)) / image.shape[0] / image.shape[1]
    estimate = codec.estimate(image, 3)["bpp_likelihood"]
    assert abs(bpp / estimate - 1) < 0.05, (bpp, estimate)


@pytest.mark.slow
def test_a_sweep_with_weights_records_stages_estimates_and_counts(project, torch_home, monkeypatch):
    generate(monkeypatch, "mbt2018-mean", "mse", 1)
    generate(monkeypatch, "mbt2018", "ms-ssim", 1)
    project.makepyfile(test_complexity=(REPO / "benchmarks" / "test_complexity.py").read_text())
    result = project.runpytest(
        "--codecs=mbt2018-mean-mse,mbt2018-ms-ssim", "--qualities=1", "--benchmark-json=out.json"
    )
    result.assert_outcomes(passed=8)
    records = json.loads((project.path / "out.json").read_text())["benchmarks"]
    rd = [r["extra_info"] for r in records if r["name"].startswith("test_rd")]
    assert len(rd) == 4
    for info in rd:
        assert {"encode/analysis", "encode/entropy-encoding", "decode/entropy-decoding", "decode/synthesis"} <= set(
            info["timing"]
        )
        assert info["estimates"]["bpp_likelihood"] > 0 and info["bpp"] == 8 * info["bytes"] / (192 * 176)
    from pytest_codecbench.report import build

    assert build([project.path / "out.json"], project.path / "results", anchor="mbt2018-mean-mse") == 0
    (folder,) = [p for p in (project.path / "results").iterdir() if p.is_dir()]
    assert "bpp_likelihood" in (folder / "rd.csv").read_text().splitlines()[0]
    assert len((folder / "macs.csv").read_text().splitlines()) == 1 + 2


def _direct_fvcore(architecture: str, quality: int, height: int, width: int) -> tuple[int, int]:
    """Encoder and decoder MACs from fvcore run on each module with its own input."""
    model = ZOO.model_architectures[architecture](*ZOO.cfgs[architecture][quality]).eval()
    total = lambda module, *inputs: FlopCountAnalysis(module, inputs).unsupported_ops_warnings(False).total()  # noqa: E731
    with torch.no_grad():
        x = torch.zeros(1, 3, height, width)
        y = model.g_a(x)
        z = model.h_a(y)
        params = model.h_s(z)
        common = total(model.h_s, z)
        if architecture == "mbt2018":
            context = model.context_prediction(y)
            common += total(model.context_prediction, y)
            common += total(model.entropy_parameters, torch.cat((params, context), dim=1))
        return total(model.g_a, x) + total(model.h_a, y) + common, common + total(model.g_s, y)


@pytest.mark.slow
def test_without_weights_rd_items_skip_naming_the_file_and_counts_match_fvcore(project, torch_home):
    project.makepyfile(test_complexity=(REPO / "benchmarks" / "test_complexity.py").read_text())
    result = project.runpytest(
        "--codecs=bmshj2018-hyperprior-mse,mbt2018-mse",
        "--qualities=1,6",
        "--benchmark-json=out.json",
        "-rs",
        *("-n", "2"),  # records, with compressai's versions in their keys, travel to the controller
    )
    result.assert_outcomes(passed=8, skipped=8)
    assert "fixture was not used" not in result.stdout.str()  # a skipped item is not an unused benchmark
    cache = weights.hub_dir()
    result.stdout.fnmatch_lines(
        [
            f"codecbench: rate–distortion items of 2 codecs skip unless their weights download into {cache} *",
            f"codecbench: 8 skipped: weights missing in the torch.hub cache {cache} (`codecbench weights --download`)",
        ]
    )
    for architecture, quality in [("bmshj2018-hyperprior", 1), ("mbt2018", 6)]:
        name = os.path.basename(ZOO.model_urls[architecture]["mse"][quality])
        result.stdout.fnmatch_lines(
            [
                f"*{architecture}-mse-q{quality}: weights missing: {name} is not in the "
                f"torch.hub cache {cache}; downloading*"
            ]
        )
    records = json.loads((project.path / "out.json").read_text())["benchmarks"]
    assert len(records) == 8 and all(r["name"].startswith("test_macs") for r in records)
    for record in records:
        params, info = record["params"], record["extra_info"]
        architecture = params["codec"].removesuffix("-mse")
        encoder, decoder = _direct_fvcore(architecture, params["quality"], 192, 192)  # 192×176 padded to 64
        assert info["complexity"]["encoder_macs"] == encoder and info["complexity"]["decoder_macs"] == decoder
        assert info["complexity"]["encoder_kmacs_per_pixel"] == encoder / (192 * 176) / 1e3
        assert "aten::pow" in info["not_counted"]["encoder"]  # GDN's square, not counted by fvcore


def test_the_header_names_the_first_codecs_that_will_skip_and_all_with_v(project, torch_home):
    cache = weights.hub_dir()
    result = project.runpytest("--collect-only", "--codecs=*-ms-ssim")
    result.stdout.fnmatch_lines(
        [
            f"codecbench: rate–distortion items of 6 codecs skip unless their weights download into {cache} (*): "
            "bmshj2018-factorized-ms-ssim, bmshj2018-hyperprior-ms-ssim, mbt2018-mean-ms-ssim … and 3 more (-v lists "
            "them)"
        ]
    )
    verbose = project.runpytest("--collect-only", "-v", "--codecs=*-ms-ssim")
    verbose.stdout.fnmatch_lines(["codecbench: rate–distortion items of 6 codecs skip *, cheng2020-attn-ms-ssim"])


def test_corrupt_missing_and_present_checkpoints(torch_home, monkeypatch, capsys):
    from pytest_codecbench.cli import main

    generate(monkeypatch, "bmshj2018-factorized", "mse", 1)
    corrupt = weights.Checkpoint(ZOO.model_urls["bmshj2018-factorized"]["mse"][2])
    corrupt.path.write_bytes(b"not a checkpoint")
    with pytest.raises(weights.WeightsUnavailable, match=rf"weights corrupt: {corrupt.path} is corrupt: its SHA-256"):
        corrupt.ensure()
    assert main(["weights", "--codec-dir", str(REPO / "codecs")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"torch.hub cache: {weights.hub_dir()}"
    zoo = [line for line in lines[2:] if line.split()[0].rsplit("-q", 1)[0] in ZOO_CODECS]
    state = {line.split()[0]: line.split()[1] for line in zoo}
    assert state["bmshj2018-factorized-mse-q1"] == "present" and state["bmshj2018-factorized-mse-q2"] == "corrupt"
    assert state["cheng2020-attn-ms-ssim-q6"] == "missing" and len(state) == 2 * (4 * 8 + 2 * 6)

    assert main(["weights", "--download", "--codec-dir", str(REPO / "codecs")]) == 1  # offline: each says why
    lines = capsys.readouterr().out.splitlines()
    missing = [line for line in lines if " missing " in line and line.split()[0].rsplit("-q", 1)[0] in ZOO_CODECS]
    assert len(missing) == len(state) - 2
    assert all(f"{UNREACHABLE}" in line and "(download failed: URLError: " in line for line in missing), missing[0]


def _saved(value) -> bytes:
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def test_a_download_is_hash_checked(torch_home, server):
    root, url = server
    payload = _saved({"weight": torch.ones(3)})
    good = f"model-{hashlib.sha256(payload).hexdigest()[:8]}.pth.tar"
    (root / good).write_bytes(payload)
    (root / "model-00000000.pth.tar").write_bytes(payload)
    assert weights.Checkpoint(url + good).ensure().read_bytes() == payload
    assert torch.equal(weights.Checkpoint(url + good).load()["weight"], torch.ones(3))
    bad = weights.Checkpoint(url + "model-00000000.pth.tar")
    with pytest.raises(weights.WeightsUnavailable, match=r"weights missing: .*invalid hash value"):
        bad.ensure()
    assert not bad.path.exists()
    pinned = weights.Checkpoint(url + good, sha256="0" * 64)  # a full hash, where one is known, decides
    with pytest.raises(weights.WeightsUnavailable, match=r"weights corrupt: .* its SHA-256 is not 0000"):
        pinned.ensure()


class _RunsCode:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w')",)


def test_a_checkpoint_that_would_run_code_is_never_unpickled(project, torch_home, monkeypatch, tmp_path):
    """A pickle whose name carries the right hash prefix (32 bits: a match can be found in minutes) but that
    would run code when unpickled as CompressAI's zoo does (weights_only=False): its items skip, naming it."""
    marker = tmp_path / "code-ran"
    payload = pickle.dumps({"g_a.0.weight": _RunsCode(marker)}, protocol=2)  # as torch.save writes
    pickle.loads(payload)  # as torch.load(weights_only=False) would: the code runs
    assert marker.exists()
    marker.unlink()
    name = f"bmshj2018-factorized-prior-1-{hashlib.sha256(payload).hexdigest()[:8]}.pth.tar"
    (weights.hub_dir()).mkdir(parents=True)
    (weights.hub_dir() / name).write_bytes(payload)
    monkeypatch.setitem(ZOO.model_urls["bmshj2018-factorized"]["mse"], 1, UNREACHABLE + name)
    result = project.runpytest(
        "--codecs=bmshj2018-factorized-mse", "--qualities=1", "--max-images=1", "-k", "test_rd", "-rs"
    )
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        [
            f"*weights corrupt: {weights.hub_dir() / name} is corrupt or unsafe: "
            "torch.load(weights_only=True)*refuses it (UnpicklingError: Unsupported global*"
        ]
    )
    assert not marker.exists()


@pytest.mark.slow
def test_compressai_piq_and_diffusers_import_after_the_torchvision_fix():
    # A fresh interpreter, as a user's: on a CPU-only torch, `import torchvision` alone fails here.
    script = (
        "from pytest_codecbench import import_torchvision\n"
        "import_torchvision()\n"
        "import compressai.zoo, piq\n"
        "from diffusers import VQModel\n"
        "print('ok', compressai.__version__)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("ok"), done.stderr[-2000:]


def test_the_payload_is_what_compressais_own_evaluation_codes(torch_home, monkeypatch, zoo_codecs):
    # compressai.utils.eval_model pads, compresses and counts bpp from the strings alone;
    # importing it sets one torch thread, as it evaluates with.
    threads = torch.get_num_threads()
    from compressai.utils.eval_model.__main__ import inference

    torch.set_num_threads(threads)
    codecs, adapter = zoo_codecs
    generate(monkeypatch, "mbt2018-mean", "mse", 3)
    image = embedded_photo("coffee")[:200, :300]
    data = codecs["mbt2018-mean-mse"].encode(image, 3)
    theirs = inference(compressai_models.model("mbt2018-mean", "mse", 3, "cpu"), to_tensor(image, "cpu")[0])
    payload = len(data) - adapter.HEADER.size - adapter.LENGTH.size  # our header: 9 bytes and one length
    assert payload * 8 / (200 * 300) == theirs["bpp"]
