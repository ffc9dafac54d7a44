"""Transforms × entropy coders: every coder round-trips every kind of plane from its bytes and the
shapes alone; coders agree with each other; the transforms invert; the matrix runs as codecs."""

import csv
import io
import json

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, photo_like
from pytest_codecbench.codec import import_adapter, no_weights
from pytest_codecbench.kits.transform_coding import (
    Categorical,
    EntropyCoder,
    Gaussian,
    SymbolMismatch,
    combine,
    ideal_bits,
    pack_table,
)
from pytest_codecbench.metrics import _psnr
from pytest_codecbench.report import build

MATRIX = import_adapter(REPO / "codecs" / "matrix.py")
CODERS = {coder.name: coder for coder in MATRIX.CODERS}
TRANSFORMS = {transform.name: transform for transform in MATRIX.TRANSFORMS}


def planes_of_every_kind(rng) -> list[np.ndarray]:
    laplacian = np.rint(rng.laplace(0, 3, (40, 37))).astype(np.int32)
    return [
        laplacian,
        np.zeros((0, 5), dtype=np.int32),  # an empty plane
        np.full((7, 9), -4, dtype=np.int32),  # a single value
        np.array([[-32768, 32767], [0, 1]], dtype=np.int32),  # a 16-bit alphabet's edges
        rng.integers(-3, 4, (1, 1)).astype(np.int32),  # one symbol
        rng.integers(0, 2, (64, 3)).astype(np.int32),  # two values
        np.rint(rng.laplace(0, 200, (33, 50))).astype(np.int32),  # a wide alphabet, mostly unused values
    ]


@pytest.mark.parametrize("name", sorted(CODERS))
def test_every_coder_round_trips_every_kind_of_plane(name):
    coder, rng = CODERS[name], np.random.default_rng(1)
    planes = planes_of_every_kind(rng)
    if name == "compressai-rans":  # 16-bit frequencies: a table holds one symbol fewer than 2^16, and an escape
        with pytest.raises(ValueError, match="CompressAI's rANS tables hold at most 65534 symbols"):
            coder.encode(planes)
        planes[3] = np.array([[-32767, 32766], [0, 1]], dtype=np.int32)
    data = coder.encode(planes)
    decoded = coder.decode(data, [p.shape for p in planes])  # the bytes and the shapes: nothing else
    assert [p.shape for p in decoded] == [p.shape for p in planes]
    for got, want in zip(decoded, planes, strict=True):
        np.testing.assert_array_equal(got, want)


def test_coders_agree_and_the_arithmetic_coders_come_close_to_the_ideal():
    rng = np.random.default_rng(2)
    planes = [np.rint(rng.laplace(0, s, (128, 96))).astype(np.int32) for s in (0.6, 2, 9)]
    ideal = ideal_bits(planes) / 8
    tables = sum(len(pack_table(p)[0]) for p in planes)
    sizes = {name: len(coder.encode(planes)) for name, coder in CODERS.items()}
    for name in ("ans", "range"):  # static models in the stream: the ideal, the tables and a few words
        assert ideal + tables <= sizes[name] <= 1.005 * ideal + tables + 8 * len(planes), sizes
    assert abs(sizes["ans"] - sizes["range"]) <= 8 * len(planes)
    assert sizes["huffman"] >= ideal + tables  # a whole number of bits per symbol, at least
    # every coder gives back the same symbols
    for coder in CODERS.values():
        assert all(
            np.array_equal(a, b)
            for a, b in zip(coder.decode(coder.encode(planes), [p.shape for p in planes]), planes, strict=True)
        )


def laplace(scale: float):
    """A discretised Laplace distribution as a ``Categorical``'s pmf."""

    def pmf(low: int, high: int) -> np.ndarray:
        edges = np.arange(low, high + 2) - 0.5
        cdf = np.where(edges < 0, 0.5 * np.exp(edges / scale), 1 - 0.5 * np.exp(-edges / scale))
        return np.diff(cdf)

    return pmf


def test_coders_that_take_a_transforms_models_code_under_them():
    rng = np.random.default_rng(3)
    scales = rng.uniform(0.3, 12, (3, 24, 32))
    z = [np.rint(rng.laplace(0, 2, (6, 8))).astype(np.int32) for _ in range(4)] + [np.zeros((0, 8), np.int32)]
    y = [np.rint(rng.normal(0, s)).astype(np.int32) for s in scales]
    planes, shapes = z + y, [p.shape for p in z + y]

    def models(decoded):  # a hyperprior's order: z under a factorised model, then y given z
        assert all(np.array_equal(a, b) for a, b in zip(decoded, planes, strict=False))
        return [Categorical(laplace(2))] * len(z) if not decoded else [Gaussian(s) for s in scales]

    information = ideal_bits(planes, models) / 8
    sizes = {}
    for name in ("ans", "range", "compressai-rans"):
        data = CODERS[name].encode(planes, models)
        decoded = CODERS[name].decode(data, shapes, models)
        assert all(np.array_equal(a, b) for a, b in zip(decoded, planes, strict=True)), name
        sizes[name] = len(data)
    # constriction under the exact models: within 1 % and a few bytes of their information content;
    # CompressAI rounds each scale up to its table's (64 scales), which costs a little more
    for name in ("ans", "range"):
        assert information <= sizes[name] + 16 <= 1.01 * information + 32, (sizes, information)
    assert information <= sizes["compressai-rans"] <= 1.06 * information + 32, (sizes, information)
    # without models the same coders send tables and code far less well than under them
    assert len(CODERS["ans"].encode(planes)) > 1.05 * sizes["ans"]


def test_jpegls_refuses_what_it_cannot_code():
    with pytest.raises(ValueError, match="JPEG-LS takes at most 16 bits"):
        CODERS["jpegls"].encode([np.array([[0, 70000]], dtype=np.int32)])
    with pytest.raises(ValueError, match="JPEG-LS codes 2-D planes"):
        CODERS["jpegls"].encode([np.zeros(5, dtype=np.int32)])


@pytest.mark.parametrize("quality", [10, 50, 75, 90])
def test_dct_tables_are_libjpegs(quality):
    out = io.BytesIO()
    Image.new("RGB", (16, 16)).save(out, "JPEG", quality=quality)
    luma, chroma = (np.array(t).reshape(8, 8) for t in Image.open(out).quantization.values())
    dct = import_adapter(REPO / "codecs" / "transforms" / "dct.py")
    np.testing.assert_array_equal(dct.tables(quality), [luma, chroma, chroma])


@pytest.mark.parametrize("name", sorted(n for n, t in TRANSFORMS.items() if t.weights is no_weights))
def test_transforms_invert_and_know_their_shapes(name):  # learned transforms: in their own tests
    transform = TRANSFORMS[name]
    image = photo_like(53, 37, 3)  # odd sizes: padding and cropping
    header, planes = transform.analysis(image, 100)
    assert transform.shapes(header) == [p.shape for p in planes]
    assert all(p.dtype == np.int32 for p in planes)
    assert _psnr(image, transform.synthesis(header, planes))["psnr"] > 40
    low, high = (transform.synthesis(*transform.analysis(image, q))[:1] for q in (20, 90))
    assert low.shape == high.shape == (1, 53, 3)


def test_a_coder_that_loses_symbols_fails_the_item():
    lossy = EntropyCoder("lossy", CODERS["zstd"].encode, lambda data, shapes: [np.zeros(s, np.int32) for s in shapes])
    codec = combine(TRANSFORMS["dct8"], lossy)
    with pytest.raises(SymbolMismatch, match="coder 'lossy' did not return the symbols of transform 'dct8'"):
        codec.estimate(photo_like(32, 32, 4), 50)


@pytest.mark.slow
def test_the_matrix_in_a_sweep(project):
    result = project.runpytest(
        "--codecs=dct8+*,cdf97+ans", "--qualities=30,70", "--max-images=1", "--metrics=psnr", "--benchmark-json=o.json"
    )
    result.assert_outcomes(passed=2 * (len(CODERS) + 1))
    records = {
        b["params"]["codec"]: b["extra_info"] for b in json.loads((project.path / "o.json").read_text())["benchmarks"]
    }
    assert set(records) == {f"dct8+{c}" for c in CODERS} | {"cdf97+ans"}
    psnr = {round(r["metrics"]["psnr"], 9) for name, r in records.items() if name.startswith("dct8")}
    assert len(psnr) == 1  # the same transform, whatever the coder
    for record in records.values():
        assert {"encode/analysis", "encode/entropy-coding", "decode/entropy-decoding", "decode/synthesis"} <= set(
            record["timing"]
        )
        assert record["estimates"]["symbols"] > 0 and record["estimates"]["ideal_bpp"] > 0
    assert records["dct8+ans"]["bpp"] < records["dct8+huffman"]["bpp"]

    # the report's transform × coder table: against the transform's default coder (JPEG's Huffman)
    assert build([project.path / "o.json"], project.path / "out") == 0
    (table,) = (project.path / "out").glob("*/matrix.csv")
    rows = {r["transform"] + "+" + r["coder"]: r for r in csv.DictReader(table.read_text().splitlines())}
    assert set(rows) == set(records)
    assert rows["dct8+huffman"]["baseline"] == "dct8+huffman" and rows["dct8+huffman"]["bd_rate_psnr"] == "0"
    assert float(rows["dct8+ans"]["bd_rate_psnr"]) < -10  # ANS needs far fewer bits than whole-bit Huffman codes
    assert 0 < float(rows["dct8+ans"]["overhead_pct"]) < float(rows["dct8+huffman"]["overhead_pct"])
    assert all(float(r["coder_decode_msymbols_s"]) > 0 for r in rows.values())
    assert rows["cdf97+ans"]["bd_rate_psnr"] == "0"  # ANS is the wavelet's default coder
