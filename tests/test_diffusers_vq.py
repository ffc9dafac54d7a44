"""diffusers' VQ autoencoders as codecs: real bytes, the Hub cache's real loading path, fvcore counts.

No Hub is reachable, so the tests save tiny randomly initialised models of each class (VQModel with
group and with spatial normalisation, PaellaVQModel) in the Hugging Face cache layout of a temporary
HF_HOME, under each codec's pinned repository and commit, and the adapter loads them with diffusers'
own from_pretrained, offline, as it loads the published ones.
"""

import hashlib
import http.server
import json
import sys
import threading

import numpy as np
import pytest
import torch
from fvcore.nn import FlopCountAnalysis

from conftest import REPO, embedded_photo, photo_like
from pytest_codecbench.codec import load_codecs
from pytest_codecbench.kits import adaptive, weights
from pytest_codecbench.kits.complexity import HANDLES
from pytest_codecbench.kits.torch_models import to_image

NAMES = ["ldm-sr-vq", "ithq-vq", "kandinsky21-movq", "stable-cascade-paella"]
LEVELS = ["DownEncoderBlock2D"] * 3
# Tiny models with their published counterparts' classes, block types and downsampling (4, 8, 8, 4)
TINY = {
    "ldm-sr-vq": dict(
        block_out_channels=[16, 16, 32],
        down_block_types=LEVELS,
        up_block_types=["UpDecoderBlock2D"] * 3,
        latent_channels=3,
        layers_per_block=1,
        norm_num_groups=8,
        num_vq_embeddings=64,
    ),
    "ithq-vq": dict(
        block_out_channels=[16, 16, 32, 32],
        down_block_types=[*LEVELS, "AttnDownEncoderBlock2D"],
        up_block_types=["AttnUpDecoderBlock2D"] + ["UpDecoderBlock2D"] * 3,
        latent_channels=8,
        vq_embed_dim=4,
        layers_per_block=1,
        norm_num_groups=8,
        num_vq_embeddings=32,
    ),
    "kandinsky21-movq": dict(
        block_out_channels=[32] * 4,
        down_block_types=[*LEVELS, "AttnDownEncoderBlock2D"],
        up_block_types=["AttnUpDecoderBlock2D"] + ["UpDecoderBlock2D"] * 3,
        latent_channels=4,
        vq_embed_dim=4,
        norm_type="spatial",
        layers_per_block=1,
        norm_num_groups=8,
        num_vq_embeddings=128,
    ),
    "stable-cascade-paella": dict(levels=2, bottleneck_blocks=1, embed_dim=16, latent_channels=4, num_vq_embeddings=64),
}


@pytest.fixture
def vq():
    codecs = load_codecs([REPO / "codecs"])
    adapter = sys.modules[codecs["ldm-sr-vq"].encode.func.__module__]
    adapter.load.cache_clear()  # models of an earlier test's HF_HOME
    yield codecs, adapter
    adapter.load.cache_clear()


def save_tiny(adapter, name: str, codebook=None):
    """A tiny model of the codec's class in the Hub cache under its repository, revision and file names,
    in float16 where the codec loads the float16 variant."""
    model = adapter.MODELS[name]
    torch.manual_seed(len(name))
    net = adapter._classes()[model.kind](**TINY[name])
    if codebook is not None:
        adapter.quantizer(net).embedding.weight.data[:] = codebook
    folder = adapter.weights(name)[0].path.parent
    (net.half() if model.variant else net).save_pretrained(folder, variant=model.variant)
    return folder


@pytest.fixture
def tiny(vq, hf_home):
    codecs, adapter = vq
    for name in NAMES:
        save_tiny(adapter, name)
    return codecs, adapter


def test_the_published_configurations_are_the_models_named():
    codecs = load_codecs([REPO / "codecs"])
    adapter = sys.modules[codecs["ldm-sr-vq"].encode.func.__module__]
    expected = {
        "ldm-sr-vq": (4, 8192),
        "ithq-vq": (8, 4096),
        "kandinsky21-movq": (8, 16384),
        "stable-cascade-paella": (4, 8192),
    }
    for name, (unit, codebook) in expected.items():
        with torch.device("meta"):  # the architecture only
            net = adapter._classes()[adapter.MODELS[name].kind].from_config(adapter.MODELS[name].config)
        assert (adapter.factor(net), net.config.num_vq_embeddings) == (unit, codebook), name
        assert adapter.MODELS[name].variant in (None, "fp16") and len(adapter.MODELS[name].revision) == 40
    assert [c.qualities for c in map(codecs.get, NAMES)] == [(1.0, 0.7, 0.5, 0.35, 0.25)] * 4


@pytest.mark.parametrize("name", NAMES)
def test_the_bytes_alone_decode_to_the_models_own_decoding_of_the_indices(tiny, name):
    codecs, adapter = tiny
    codec, net = codecs[name], adapter.load(name, "cpu")
    image = photo_like(53, 41, 2)  # neither side a multiple of 8
    for ratio in (1.0, 0.35):
        data = codec.encode(image, ratio)
        decoded = codec.decode(bytes(data))
        height, width = adapter.resized_size(41, 53, ratio)
        assert adapter.HEADER.unpack_from(data) == (41, 53, height, width)
        # the model's own path: resize, pad, encode, quantise (diffusers' VectorQuantizer), look the
        # indices up and decode as diffusers' VQ-Diffusion pipeline does, crop and resize back
        x = adapter._resize(adapter.to_tensor(image, "cpu"), (height, width))
        unit = adapter.factor(net)
        x = torch.nn.functional.pad(x, (0, -width % unit, 0, -height % unit), mode="replicate")
        paella = name == "stable-cascade-paella"
        x = x if paella else 2 * x - 1
        with torch.no_grad():
            latents = net.encode(x).latents
            quantized, _, (_, _, indices) = adapter.quantizer(net)(latents)
            shape = (1, latents.shape[2], latents.shape[3], adapter.quantizer(net).vq_embed_dim)
            entries = adapter.quantizer(net).get_codebook_entry(indices, shape)
            own = net.decode(entries).sample if paella else net.decode(entries, force_not_quantize=True).sample
            # the same, up to float rounding, as decoding the straight-through quantised latents
            straight = net.decode(quantized).sample if paella else net.decode(latents).sample
        torch.testing.assert_close(own, straight, atol=1e-5, rtol=0)
        own = own[:, :, :height, :width] if paella else (own[:, :, :height, :width] + 1) / 2
        np.testing.assert_array_equal(decoded, to_image(adapter._resize(own, (41, 53))))
        grid = adaptive.decode(data[adapter.HEADER.size :], indices.numel(), net.config.num_vq_embeddings)
        np.testing.assert_array_equal(grid, indices.numpy().ravel())  # the index round trip is exact


@pytest.mark.parametrize("name", NAMES)
def test_the_lowest_ratio_reaches_the_lowest_rates(tiny, name):
    """Ratio 0.01 (the range's end) on a Kodak-sized image: a few hundred tokens, a hundredth of a bit per pixel."""
    codecs, _ = tiny
    image = photo_like(768, 512, 4)
    data = codecs[name].encode(image, 0.01)
    assert codecs[name].decode(bytes(data)).shape == image.shape
    assert 8 * len(data) / (768 * 512) < 0.02


def test_the_index_coder_round_trips_any_indices_and_never_spends_much_more_than_fixed_length():
    rng = np.random.default_rng(0)
    cases = {
        "uniform": (16384, rng.integers(0, 16384, 6144)),
        "skewed": (16384, np.minimum(rng.zipf(1.3, 6144) - 1, 16383)),
        "edges": (8192, np.array([0, 8191] * 100)),
        "one symbol": (4096, np.array([17])),
        "empty": (4096, np.zeros(0, dtype=int)),
        "one letter": (1, np.zeros(50, dtype=int)),
    }
    for case, (alphabet, symbols) in cases.items():
        data = adaptive.encode(symbols, alphabet)
        np.testing.assert_array_equal(adaptive.decode(data, symbols.size, alphabet), symbols, err_msg=case)
        assert 8 * len(data) <= symbols.size * np.log2(alphabet) * 1.002 + 40, case
    # skewed indices cost far less than fixed length, and less than a static model with its table
    from pytest_codecbench.kits.transform_coding import ideal_bits, pack_table

    alphabet, symbols = cases["skewed"]
    spent = 8 * len(adaptive.encode(symbols, alphabet))
    assert spent < 0.6 * symbols.size * np.log2(alphabet)
    assert spent < ideal_bits([symbols]) + 8 * len(pack_table(symbols)[0])
    with pytest.raises(ValueError, match="outside the alphabet 0..99"):
        adaptive.encode(np.array([100]), 100)


def test_a_degenerate_codebook_is_refused_with_the_reason(vq, hf_home):
    codecs, adapter = vq
    save_tiny(adapter, "kandinsky21-movq", codebook=0.0)
    with pytest.raises(adapter.DegenerateCodebook, match=r"all 128 entries are zero, .*Kandinsky 3's published MoVQ"):
        codecs["kandinsky21-movq"].encode(photo_like(32, 32, 0), 1.0)
    save_tiny(adapter, "ldm-sr-vq", codebook=0.25)
    with pytest.raises(
        adapter.DegenerateCodebook,
        match=r"CompVis/ldm-super-resolution-4x-openimages .* all 64 "
        r"entries are the same vector",
    ):
        adapter.load("ldm-sr-vq", "cpu")


def _fvcore(module, *inputs) -> int:
    return FlopCountAnalysis(module, inputs).set_op_handle(**HANDLES).unsupported_ops_warnings(False).total()


@pytest.mark.parametrize("name", NAMES)
def test_macs_equal_fvcore_run_directly_on_the_submodules(vq, name):
    _, adapter = vq
    height, width, ratio = 100, 76, 0.7  # resized to 84×64, padded to the model's unit
    counted = adapter.count(name, ratio, height, width)
    net = adapter.counting_model(name)
    unit = adapter.factor(net)
    padded = [-(-side // unit) * unit for side in adapter.resized_size(height, width, ratio)]
    with torch.no_grad():
        x = torch.zeros(1, 3, *padded)
        if name == "stable-cascade-paella":
            h = net.down_blocks(net.in_block(x))
            quantized = net.vquantizer(h)[0]
            encoder = _fvcore(net.in_block, x) + _fvcore(net.down_blocks, net.in_block(x)) + _fvcore(net.vquantizer, h)
            decoder = _fvcore(net.up_blocks, quantized) + _fvcore(net.out_block, net.up_blocks(quantized))
        else:
            features = net.encoder(x)
            h = net.quant_conv(features)
            quantized = net.quantize(h)[0]
            spatial = quantized if net.config.norm_type == "spatial" else None
            post = net.post_quant_conv(quantized)
            encoder = _fvcore(net.encoder, x) + _fvcore(net.quant_conv, features) + _fvcore(net.quantize, h)
            decoder = _fvcore(net.post_quant_conv, quantized) + _fvcore(net.decoder, post, spatial)
    assert (counted["complexity"]["encoder_macs"], counted["complexity"]["decoder_macs"]) == (encoder, decoder)
    assert counted["complexity"]["encoder_kmacs_per_pixel"] == encoder / (height * width) / 1e3
    # the codebook search: one multiply-add per coordinate of each (token, entry) pair
    tokens = padded[0] * padded[1] // unit**2
    search = "net.vquantizer" if name == "stable-cascade-paella" else "net.quantize"
    entries, dim = net.config.num_vq_embeddings, adapter.quantizer(net).vq_embed_dim
    assert counted["macs_by_module"][search] == tokens * entries * dim
    assert "aten::scaled_dot_product_attention" not in counted["not_counted"]["encoder"]


def test_the_attention_handle_counts_what_a_hand_count_gives():
    from diffusers.models.attention_processor import Attention

    channels, height, width = 32, 6, 10
    block = Attention(
        query_dim=channels,
        heads=1,
        dim_head=channels,
        norm_num_groups=8,
        residual_connection=True,
        bias=True,
        upcast_softmax=True,
        _from_deprecated_attn_block=True,
    ).eval()  # a VAE mid-block's
    analysis = FlopCountAnalysis(block, (torch.zeros(1, channels, height, width),)).set_op_handle(**HANDLES)
    tokens = height * width
    by_operator = analysis.unsupported_ops_warnings(False).by_operator()
    assert by_operator["scaled_dot_product_attention"] == 2 * tokens * tokens * channels  # Q·Kᵀ and weights·V
    assert by_operator["linear"] == 4 * tokens * channels * channels  # q, k, v and the output projection


def test_counts_at_a_full_size_are_fvcores_there():
    codecs = load_codecs([REPO / "codecs"])
    adapter = sys.modules[codecs["ldm-sr-vq"].encode.func.__module__]
    from pytest_codecbench.kits import complexity

    net = adapter.counting_model("stable-cascade-paella")  # a published configuration cheap enough to run
    with torch.no_grad():
        direct = complexity.count(adapter.pipeline(net), (torch.zeros(1, 3, 256, 384),), adapter.parts(net), 256 * 384)
    assert adapter.count("stable-cascade-paella", 1.0, 256, 384) == direct


def test_missing_present_and_corrupt_weights_name_repository_file_and_cache(vq, hf_home, capsys):
    from pytest_codecbench.cli import main

    codecs, adapter = vq
    config, model = adapter.weights("ithq-vq")
    assert model.filename == "vqvae/diffusion_pytorch_model.fp16.safetensors"
    cache = hf_home / "hub"
    with pytest.raises(weights.WeightsUnavailable) as error:
        model.ensure()
    assert str(error.value).startswith(
        f"weights missing: vqvae/diffusion_pytorch_model.fp16.safetensors of microsoft/vq-diffusion-ithq at revision "
        f"3f796fb49ee559370dc638dea1d8116af131d993 is not in the Hugging Face cache {cache}; downloading "
        f"http://127.0.0.1:9/microsoft/vq-diffusion-ithq/resolve/3f796fb49ee559370dc638dea1d8116af131d993/vqvae/"
        "diffusion_pytorch_model.fp16.safetensors failed (ConnectError: "
    )
    assert error.value.group == f"weights missing in the Hugging Face cache {cache} (`codecbench weights --download`)"
    save_tiny(adapter, "ithq-vq")
    assert config.status()[0] == model.status()[0] == weights.PRESENT
    assert main(["weights", "--codec-dir", str(REPO / "codecs")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1] == f"Hugging Face cache: {cache}"
    state = [line.split()[:2] for line in out if line.split()[0].rsplit("-r", 1)[0] in NAMES]
    assert sorted(state) == sorted(
        [[f"{name}-r1.0", "missing"] for name in NAMES for _ in "cw" if name != "ithq-vq"]
        + [["ithq-vq-r1.0", "present"]] * 2
    )


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A stand-in for the Hub on 127.0.0.1: ``files`` maps a repository path to bytes; answers HEAD and
    GET of ``/REPO/resolve/REVISION/PATH`` with the headers huggingface_hub reads (the commit, and an
    ETag that is the SHA-256 of the file, as the Hub gives large files)."""
    files = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            self._answer(body=False)

        def do_GET(self):
            self._answer(body=True)

        def _answer(self, body):
            repo_path, _, rest = self.path.partition("/resolve/")
            revision, _, name = rest.partition("/")
            data = files.get((repo_path.strip("/"), name))
            if data is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("X-Repo-Commit", revision)
            self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    yield files
    server.shutdown()


def test_weights_download_into_the_hub_cache_and_a_damaged_blob_is_caught(vq, hf_home, tmp_path, hub, capsys):
    from pytest_codecbench.cli import main

    codecs, adapter = vq
    source = save_tiny(adapter, "stable-cascade-paella")  # what the stand-in Hub serves, then out of the cache
    for checkpoint in adapter.weights("stable-cascade-paella"):
        hub[("stabilityai/stable-cascade", checkpoint.filename)] = checkpoint.path.read_bytes()
        checkpoint.path.unlink()
    assert not any(source.iterdir())
    main(["weights", "--download", "--codec-dir", str(REPO / "codecs")])
    out = capsys.readouterr().out
    assert [line.split()[1] for line in out.splitlines() if "stable-cascade/" in line] == ["present"] * 2
    image = embedded_photo("coffee")[:64, :96]
    decoded = codecs["stable-cascade-paella"].decode(codecs["stable-cascade-paella"].encode(image, 0.5))
    assert decoded.shape == image.shape
    blob = adapter.weights("stable-cascade-paella")[1].path.resolve()
    assert blob.parent.name == "blobs" and blob.name == hashlib.sha256(blob.read_bytes()).hexdigest()
    blob.write_bytes(blob.read_bytes()[:-1] + b"!")
    state, detail = adapter.weights("stable-cascade-paella")[1].status()
    assert state == weights.CORRUPT and "its SHA-256 is not" in detail


def test_the_token_grids_join_the_transform_coder_matrix(tiny):
    codecs, adapter = tiny
    image = photo_like(40, 36, 5)
    for coder in ("adaptive", "ans", "range", "huffman", "jpegls", "zstd", "lzma"):
        codec = codecs[f"ithq-vq+{coder}"]
        assert codec.weights(0.5) == adapter.weights("ithq-vq") and codec.baseline == "ithq-vq+adaptive"
        decoded = codec.decode(codec.encode(image, 0.5))
        np.testing.assert_array_equal(decoded, codecs["ithq-vq"].decode(codecs["ithq-vq"].encode(image, 0.5)))
        assert codec.estimate(image, 0.5)["symbols"] == 4 * 4  # 36×40 at half the pixels: 25×28, 8× fewer per side


@pytest.mark.slow
def test_a_sweep_times_the_stages_and_skips_without_weights_naming_the_file(project, vq, hf_home):
    _, adapter = vq
    save_tiny(adapter, "ldm-sr-vq")
    project.makepyfile(test_complexity=(REPO / "benchmarks" / "test_complexity.py").read_text())
    result = project.runpytest(
        "--codecs=ldm-sr-vq,ithq-vq", "--qualities=1,0.35", "--benchmark-json=out.json", "-rs", "-n", "2"
    )
    result.assert_outcomes(passed=12, skipped=4)
    cache = hf_home / "hub"
    result.stdout.fnmatch_lines(
        [
            f"*ithq-vq-r0.35: weights missing: vqvae/config.json of microsoft/vq-diffusion-ithq at revision "
            f"3f796fb49ee559370dc638dea1d8116af131d993 is not in the Hugging Face cache {cache}*",
        ]
    )
    records = json.loads((project.path / "out.json").read_text())["benchmarks"]
    rd = [r["extra_info"] for r in records if r["name"].startswith("test_rd")]
    assert len(rd) == 4
    stages = {
        "encode/resize",
        "encode/encoder",
        "encode/quantize",
        "encode/entropy-coding",
        "decode/entropy-decoding",
        "decode/decoder",
        "decode/resize",
    }
    for info in rd:
        assert stages <= set(info["timing"]), info["timing"].keys()
        assert info["bpp"] == 8 * info["bytes"] / (192 * 176)
        assert info["estimates"]["fixed_length_bpp"] == info["estimates"]["tokens"] * 6 / (192 * 176)
    macs = [r for r in records if r["name"].startswith("test_macs")]
    assert len(macs) == 8 and all(r["extra_info"]["complexity"]["decoder_macs"] > 0 for r in macs)
