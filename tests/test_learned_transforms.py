"""Learned transforms in the transform × coder matrix: CompressAI's latents under the zoo's own models,
MCUCoder with its checkpoint from a stand-in Zenodo, WaLLoC and LiVeAction with theirs in the Hub cache.

Weights are generated as in test_compressai.py (randomly initialised zoo architectures in a
temporary torch.hub cache), set so that the latents spread over several symbols, as a trained
model's do, within the range the entropy bottleneck's tables cover: g_a's output scaled up, z kept
near zero, and the hyper-synthesis giving every y symbol a scale of 4 (and a mean of 0).
"""

import hashlib
import json

import compressai.zoo
import numpy as np
import pytest
import torch
from fvcore.nn import FlopCountAnalysis

from conftest import REPO, embedded_photo
from generated_weights import in_hub_cache, saved, wavelet_checkpoints
from pytest_codecbench.codec import import_adapter, load_codecs
from pytest_codecbench.kits import compressai_models, weights
from pytest_codecbench.kits.torch_models import to_image, to_tensor

ZOO = compressai.zoo.image
ARCHITECTURES = ["bmshj2018-factorized", "bmshj2018-hyperprior", "mbt2018-mean"]


@pytest.fixture
def zoo_weights(tmp_path, monkeypatch):
    """Point the zoo's quality-2 MSE models at generated checkpoints with spread latents."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    for architecture in ARCHITECTURES:
        torch.manual_seed(7)
        model = ZOO.model_architectures[architecture](*ZOO.cfgs[architecture][2])
        with torch.no_grad():
            model.g_a[-1].weight.mul_(8 if architecture != "bmshj2018-factorized" else 2)
            if architecture != "bmshj2018-factorized":
                model.h_a[-1].weight.mul_(0.05)
                last = [m for m in model.h_s if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))][-1]
                last.weight.zero_()
                last.bias.zero_()
                last.bias[: model.M].fill_(4)  # the scales (mbt2018-mean: the first half; then the means)
        model.update(force=True)
        folder = weights.hub_dir()
        folder.mkdir(parents=True, exist_ok=True)
        scratch = folder / "scratch"
        torch.save(model.state_dict(), scratch)
        name = f"{architecture}-2-{hashlib.sha256(scratch.read_bytes()).hexdigest()[:8]}.pth.tar"
        scratch.rename(folder / name)
        monkeypatch.setitem(ZOO.model_urls[architecture]["mse"], 2, "http://127.0.0.1:9/" + name)
    codecs = load_codecs([REPO / "codecs"])
    compressai_models.model.cache_clear()
    yield codecs
    compressai_models.model.cache_clear()


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_compressais_latents_code_under_the_zoos_models_with_every_coder(zoo_weights, architecture):
    codecs, image = zoo_weights, embedded_photo("coffee")[40:200, 100:340]
    native = codecs[f"{architecture}-mse"]
    native_bytes = native.encode(image, 2)
    reconstruction = native.decode(native_bytes)
    sizes = {}
    for coder in ("compressai-rans", "ans", "range", "adaptive"):
        codec = codecs[f"{architecture}-mse+{coder}"]
        data = codec.encode(image, 2)
        np.testing.assert_array_equal(codec.decode(data), reconstruction)  # the zoo's symbols and synthesis
        estimate = codec.estimate(image, 2)  # also checks that the symbols round-trip
        sizes[coder] = len(data)
        # against Σ −log2 p under the transform's models: constriction codes with their exact
        # probabilities, CompressAI rounds each y scale up to one of its table's 64
        bound = {"ans": 1.5, "range": 1.5, "compressai-rans": 6}.get(coder)
        if bound:
            assert -2 < estimate["coder_overhead_pct"] < bound, (coder, estimate)  # below: the range sent
    assert sizes["ans"] <= sizes["compressai-rans"]
    assert codecs[f"{architecture}-mse+ans"].baseline == f"{architecture}-mse+compressai-rans"
    assert len(native_bytes) > 1000 and sizes["ans"] > 500  # spread latents: a real amount of information


@pytest.fixture
def zenodo(server, tmp_path, monkeypatch):
    """A stand-in for Zenodo on 127.0.0.1 with MCUCoder's record (an MSE and an MS-SSIM checkpoint,
    Lightning-style, of a narrower decoder than the published one), and an empty codecbench cache."""
    root, url = server
    monkeypatch.setenv("CODECBENCH_ZENODO_URL", url.rstrip("/"))
    monkeypatch.setenv("CODECBENCH_CACHE", str(tmp_path / "cache"))
    codecs = load_codecs([REPO / "codecs"])
    module = import_adapter(REPO / "codecs" / "transforms" / "mcucoder.py")  # the matrix's own module
    module.load.cache_clear()
    files = []
    for name, seed in (("mcucoder_mse.ckpt", 1), ("mcucoder_msssim.ckpt", 2)):
        torch.manual_seed(seed)
        model = module.architecture(width=32)
        (root / "files").mkdir(exist_ok=True)
        torch.save({"state_dict": model.state_dict(), "hyper_parameters": {"loss": name}}, root / "files" / name)
        digest = hashlib.md5((root / "files" / name).read_bytes()).hexdigest()
        files.append({"key": name, "checksum": f"md5:{digest}", "links": {"self": f"{url}files/{name}"}})
    (root / "api" / "records").mkdir(parents=True)
    (root / "api" / "records" / "14988203").write_text(json.dumps({"id": 14988203, "files": files}))
    yield codecs, module, root
    module.load.cache_clear()


def test_mcucoder_fetches_its_checkpoint_and_codes_the_first_k_channels(zenodo):
    codecs, module, root = zenodo
    checkpoint = module.CHECKPOINT
    assert checkpoint.status()[0] == weights.MISSING
    path = checkpoint.ensure()  # the record's metadata, then the MS-SSIM file, MD5-checked
    assert path.name == "mcucoder_msssim.ckpt" and path.read_bytes() == (root / "files" / path.name).read_bytes()
    model = module.load("cpu")
    assert sum(p.numel() for p in model.encoder.parameters()) == 10524  # the paper's 10.5 thousand
    image = embedded_photo("chelsea")[:61, :90]  # neither side a multiple of 8
    for k in (3, 12):
        codec = codecs["mcucoder-msssim+huffman"]
        data = codec.encode(image, k)
        header, planes = module.analysis(image, k)
        assert len(planes) == k and all(p.min() >= 0 and p.max() <= 255 for p in planes)
        # the decoder sees the kept channels dequantised and zeros in the others
        x = torch.nn.functional.pad(to_tensor(image, "cpu"), (0, 6, 0, 3), mode="replicate")
        with torch.no_grad():
            latent = model.encoder(x)
            low = latent.flatten(2).min(2).values[..., None, None]
            step = (latent.flatten(2).max(2).values[..., None, None] - low) / 255
            latent = low + ((latent - low) / step).round() * step
            latent[:, k:] = 0
            expected = to_image(model.decoder(latent)[:, :, :61, :90])
        np.testing.assert_allclose(codec.decode(data), expected, atol=1)  # float32 dequantisation order
        assert codec.estimate(image, k)["symbols"] == k * 8 * 12
    assert codecs["mcucoder-msssim+huffman"].baseline == "mcucoder-msssim+huffman"


def test_mcucoder_without_its_checkpoint_names_the_record_and_a_damaged_file_is_caught(zenodo, monkeypatch):
    _, module, _ = zenodo
    checkpoint, cache = module.CHECKPOINT, module.CHECKPOINT.cache_folder
    served = checkpoint.download_url
    monkeypatch.setenv("CODECBENCH_ZENODO_URL", "http://127.0.0.1:9")
    with pytest.raises(
        weights.WeightsUnavailable,
        match=rf"the MS-SSIM checkpoint of Zenodo record 14988203 is not "
        rf"in the codecbench cache {cache} .*downloading http://127.0.0.1:9/api/records/14988203 "
        "failed",
    ):
        checkpoint.ensure()
    monkeypatch.setattr(weights, "_failed", {})
    monkeypatch.setenv("CODECBENCH_ZENODO_URL", served.removesuffix("/api/records/14988203"))
    path = checkpoint.ensure()
    path.write_bytes(path.read_bytes()[:-1])
    state, detail = checkpoint.status()
    assert state == weights.CORRUPT and detail.startswith(f"{path} is corrupt: its MD5 is not the record's md5:")


def test_mcucoders_counts_are_fvcores_on_its_encoder_and_decoder():
    codecs = load_codecs([REPO / "codecs"])
    counted = codecs["mcucoder-msssim+huffman"].complexity(4, 61, 90)
    assert codecs["mcucoder-msssim+ans"].complexity is None  # counted once per transform
    module = import_adapter(REPO / "codecs" / "transforms" / "mcucoder.py")
    net = module.architecture()
    with torch.no_grad():
        x = torch.zeros(1, 3, 64, 96)
        encoder = FlopCountAnalysis(net.encoder, (x,)).unsupported_ops_warnings(False).total()
        decoder = FlopCountAnalysis(net.decoder, (net.encoder(x),)).unsupported_ops_warnings(False).total()
    assert counted["complexity"]["encoder_macs"] == encoder and counted["complexity"]["decoder_macs"] == decoder
    assert counted["complexity"]["encoder_params"] == 10524
    assert counted["complexity"]["decoder_kmacs_per_pixel"] > 1000 * counted["complexity"]["encoder_kmacs_per_pixel"]


@pytest.fixture
def wavelet_codecs(hf_home):
    """WaLLoC's and LiVeAction's adapters with seeded random checkpoints of their published configurations
    in the Hub cache (config and weights, as the Hub serves them); their loaders' caches cleared."""
    walloc = import_adapter(REPO / "codecs" / "transforms" / "walloc.py")
    liveaction = import_adapter(REPO / "codecs" / "transforms" / "liveaction.py")
    wavelet_checkpoints(walloc, liveaction)
    for module in (walloc, liveaction):
        module.load.cache_clear()
    yield load_codecs([REPO / "codecs"]), walloc, liveaction
    for module in (walloc, liveaction):
        module.load.cache_clear()


def test_walloc_and_liveaction_code_their_packages_latents_and_decode_as_their_notebooks_do(wavelet_codecs):
    codecs, walloc, liveaction = wavelet_codecs
    image = embedded_photo("chelsea")[:100, :150]  # neither side a multiple of 8 or 16
    for module, quality, unit in ((walloc, "RGB_16x", 8), (liveaction, "rgb_f16c12_ft", 16)):
        codec = codecs[f"{module.TRANSFORMS[0].name}+jpegls"]
        assert codec.baseline == codec.name  # JPEG-LS: their default coder
        data = codec.encode(image, quality)
        header, planes = module.PLANES.analysis(image, quality)
        assert len(planes) == 12 and planes[0].shape == (-(-100 // unit), -(-150 // unit))
        assert all(p.dtype == np.int32 and p.min() >= -128 and p.max() <= 127 for p in planes)
        model = module.load(quality, "cpu")
        height, width = (-(-side // unit) * unit for side in (100, 150))
        x = torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].float()
        x = torch.nn.functional.pad(x, (0, width - 150, 0, height - 100), mode="reflect")
        with torch.no_grad():  # the README's and the evaluation notebooks' own calls
            if module is walloc:
                latent = model.encoder(model.wavelet_analysis(x / 255 - 0.5, J=model.J))
                out = model.clamp(model.wavelet_synthesis(model.decoder(latent), J=model.J)) + 0.5
            else:
                latent = model.quantize.compand(model.encode(x / 127.5 - 1)).round()
                out = model.decode(latent).clamp(-1, 1) / 2 + 0.5
        assert np.array_equal(np.stack(planes), latent[0].numpy().astype(np.int32))
        expected = to_image(out[:, :, :100, :150])
        np.testing.assert_allclose(codec.decode(data), expected, atol=1)
        assert codec.estimate(image, quality)["symbols"] == 12 * planes[0].size


def test_a_checkpoint_that_would_run_code_is_refused(wavelet_codecs, tmp_path):
    _, walloc, _ = wavelet_codecs
    ran = tmp_path / "ran"
    config = walloc.PUBLISHED["RGB_16x"]
    evil = {"model_state_dict": {}, "payload": _Runs(str(ran))}
    weights.hf_cache().joinpath("models--danjacobellis--walloc").rename(tmp_path / "moved")
    in_hub_cache("danjacobellis/walloc", {"RGB_16x.json": json.dumps(config).encode(), "RGB_16x.pth": saved(evil)})
    with pytest.raises(ValueError, match=r"RGB_16x.pth does not load with torch.load\(weights_only=True\)"):
        walloc.load("RGB_16x", "cpu")
    assert not ran.exists()


class _Runs:
    """Unpickling this would create a file: what a checkpoint must not be able to do."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_without_weights_their_rows_are_listed_counted_and_their_items_skip_naming_the_file(project):
    result = project.runpytest("--codecs=walloc+jpegls,liveaction+jpegls", "-rs")
    result.assert_outcomes(skipped=4)
    result.stdout.fnmatch_lines(
        [
            "*walloc+jpegls-RGB_16x: weights missing: RGB_16x.json of danjacobellis/walloc at revision main is not "
            "in the Hugging Face cache *",
            "*liveaction+jpegls-rgb_f16c12_ft: weights missing: rgb_f16c12_ft.pth of danjacobellis/autocodec at "
            "revision main is not in the Hugging Face cache *",
        ]
    )
    project.makepyfile(test_complexity=(REPO / "benchmarks" / "test_complexity.py").read_text())
    result = project.runpytest(
        "test_complexity.py", "--codecs=walloc+jpegls,liveaction+jpegls", "--benchmark-json=c.json"
    )
    result.assert_outcomes(passed=4)
    counts = {
        r["params"]["codec"]: r["extra_info"]["complexity"]
        for r in json.loads((project.path / "c.json").read_text())["benchmarks"]
    }
    assert counts["walloc+jpegls"]["encoder_params"] == 2316  # the 1×1 convolution: 192·12 + 12
    assert (
        counts["walloc+jpegls"]["decoder_kmacs_per_pixel"]
        > 1000 * counts["walloc+jpegls"]["encoder_kmacs_per_pixel"] / 10
    )


def test_wavelet_filter_banks_count_as_their_convolutions_and_einsums_as_their_multiply_adds():
    """pytorch_wavelets' AFB2D and SFB2D (autograd Functions, opaque to fvcore) count, inlined, as the
    convolutions their forward runs; a two-operand einsum as its multiply-adds."""
    from pytorch_wavelets import DWTForward, DWTInverse
    from pytorch_wavelets.dwt import lowlevel

    from pytest_codecbench.kits.complexity import HANDLES, functions_inlined

    forward = DWTForward(J=1, wave="bior4.4", mode="periodization")
    inverse = DWTInverse(wave="bior4.4", mode="periodization")
    x = torch.zeros(1, 3, 32, 48)
    low, high = forward(x)

    def macs(module, *inputs):
        analysis = FlopCountAnalysis(module, inputs).set_op_handle(**HANDLES)
        return analysis.unsupported_ops_warnings(False).total(), analysis.unsupported_ops()

    class Plain(torch.nn.Module):  # AFB2D's forward, written out
        def forward(self, x):
            lohi = lowlevel.afb1d(x, forward.h0_row, forward.h1_row, mode="periodization", dim=3)
            return lowlevel.afb1d(lohi, forward.h0_col, forward.h1_col, mode="periodization", dim=2)

    assert macs(forward, x) == (0, {"prim::PythonOp.AFB2D": 1})  # what fvcore sees of the Function
    with functions_inlined(lowlevel.AFB2D, lowlevel.SFB2D):
        analysis, _ = macs(forward, x)
        synthesis, _ = macs(_Inverse(inverse), low, high[0])
        assert np.array_equal(forward(x)[0], low)  # the same result, inlined
    plain, _ = macs(Plain(), x)
    assert analysis == plain > 2 * 3 * 32 * 48 * 10  # bior4.4's 10 taps, plus what periodization pads
    assert synthesis > 0 and lowlevel.AFB2D.apply.__self__ is lowlevel.AFB2D  # Function.apply is back
    assert macs(_Einsum(), torch.zeros(2, 50, 8), torch.zeros(2, 8, 9))[0] == 2 * 50 * 8 * 9


class _Inverse(torch.nn.Module):
    def __init__(self, inverse):
        super().__init__()
        self.inverse = inverse

    def forward(self, low, high):
        return self.inverse((low, [high]))


class _Einsum(torch.nn.Module):
    def forward(self, q, kv):
        return torch.einsum("bnc,bcv->bnv", q, kv)
