"""Failures stay with their own items; every other item is measured and reported."""

import json

import numpy as np
import pytest
from PIL import Image

from conftest import photo_like
from pytest_codecbench.images import ImageError, load_rgb

ADAPTERS = """
import io
import numpy as np
from PIL import Image
from pytest_codecbench import Codec


def png(image, quality):
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="PNG")
    return out.getvalue()


def off_by_one(data):
    pixels = np.array(Image.open(io.BytesIO(data)))
    pixels[3, 5, 1] ^= 1
    return pixels


def crash_at_2(image, quality):
    if quality == 2:
        raise ValueError("simulated encoder failure")
    return png(image, quality)


CODECS = [
    Codec("liar", png, off_by_one, (1,), lossless=True),
    Codec("crashy", crash_at_2, lambda data: np.asarray(Image.open(io.BytesIO(data))), (1, 2), lossless=True),
]
"""


@pytest.fixture
def broken(project):
    (project.path / "extra").mkdir()
    (project.path / "extra" / "broken.py").write_text(ADAPTERS)
    return project


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_lossless_mismatch_or_a_raising_codec_fails_only_its_items(broken, workers):
    result = broken.runpytest_subprocess(
        "--codec-dir", "extra", "--codecs", "liar,crashy,png", "--benchmark-json", "out.json", "-rfE", "-n", workers
    )
    result.assert_outcomes(passed=4, failed=2, errors=2)
    output = result.stdout.str()
    assert "lossless codec is not bit-exact: 1 of 33792 pixels differ, max abs error 1, first at (x=5, y=3)" in output
    assert "codec 'crashy' at quality 2 on image imgs/img0.png failed: ValueError: simulated encoder failure" in output
    report = json.loads((broken.path / "out.json").read_text())
    names = {b["name"]: b["extra_info"] for b in report["benchmarks"]}
    # failed items (not bit-exact, or raising) are not in the JSON: no table or plot can use them
    assert sorted(names) == sorted(f"test_rd[{c}-img{i}]" for c in ("crashy-q1", "png-z6") for i in (0, 1))
    assert names["test_rd[png-z6-img0]"]["bit_exact"] is True


def test_last_failed_reruns_only_the_failures(broken):
    broken.runpytest("--codec-dir", "extra", "--codecs", "liar,png")
    result = broken.runpytest("--codec-dir", "extra", "--codecs", "liar,png", "--lf")
    result.assert_outcomes(failed=2)  # and nothing passed: only the failures ran


def write_odd_images(folder):
    folder.mkdir()
    rgb = photo_like(201, 163, 7)
    Image.fromarray(rgb).save(folder / "odd.png")
    Image.fromarray(rgb).convert("L").save(folder / "grey.png")
    Image.fromarray(rgb).convert("RGBA").save(folder / "rgba.png")
    Image.fromarray(rgb).convert("P").save(folder / "palette.png")
    red = rgb[:, :, 0].astype(np.uint16)
    Image.fromarray((red * 257 - (red > 0) * 100).astype(np.uint16)).save(
        folder / "deep.png"
    )  # 16-bit grey, slightly below v·257
    Image.fromarray(rgb[:8, :8]).save(folder / "tiny.png")
    (folder / "truncated.png").write_bytes((folder / "odd.png").read_bytes()[:500])


def test_odd_images_are_converted_or_fail_alone(project):
    write_odd_images(project.path / "odd")
    result = project.runpytest(
        "--dataset", "odd", "--codecs", "png,jpeg", "--qualities", "jpeg=75", "-rfE", "--benchmark-json", "out.json"
    )
    result.assert_outcomes(passed=10, errors=4)
    reported = {b["params"]["image"] for b in json.loads((project.path / "out.json").read_text())["benchmarks"]}
    assert reported == {"odd", "grey", "rgba", "palette", "deep"}  # failed items leave no partial record
    output = result.stdout.str()
    assert "cannot read image odd/truncated.png" in output
    assert (
        "codec 'png' at quality 6 on image odd/tiny.png: SSIM needs at least 11 pixels per side; the image is 8×8"
        in output
    )
    assert project.runpytest("--dataset", "odd", "--codecs", "png", "--metrics", "psnr", "-k", "tiny").ret == 0


def test_conversion_rules(tmp_path):
    write_odd_images(tmp_path / "odd")
    rgb = load_rgb(tmp_path / "odd" / "odd.png")
    assert rgb.shape == (163, 201, 3) and rgb.dtype == np.uint8
    grey = load_rgb(tmp_path / "odd" / "grey.png")
    assert np.array_equal(grey[:, :, 0], grey[:, :, 2]) and np.array_equal(grey[:, :, 0], grey[:, :, 1])
    assert np.array_equal(load_rgb(tmp_path / "odd" / "rgba.png"), rgb)
    assert np.array_equal(
        load_rgb(tmp_path / "odd" / "deep.png")[:, :, 0], rgb[:, :, 0]
    )  # round((257 v - 100) / 257) = v
    with pytest.raises(ImageError, match="truncated.png"):
        load_rgb(tmp_path / "odd" / "truncated.png")


def test_a_crop_larger_than_the_image_fails_naming_it(project):
    result = project.runpytest("--codecs", "png", "--crop", "512", "-rE")
    result.assert_outcomes(errors=2)
    assert "image imgs/img0.png is 192×176, smaller than the 512×512 crop" in result.stdout.str()


def test_a_codec_whose_library_is_missing_skips_with_the_reason(project):
    (project.path / "extra").mkdir()
    (project.path / "extra" / "needs.py").write_text(
        "from pytest_codecbench import Codec\n"
        "CODECS = [Codec('needy', bytes, bytes, (1,), requires=('no_such_codec_module',))]\n"
    )
    result = project.runpytest("--codec-dir", "extra", "--codecs", "needy,png", "-rs")
    result.assert_outcomes(passed=2, skipped=2)
    assert "codec 'needy' needs the module 'no_such_codec_module', which does not import" in result.stdout.str()


def test_16_bit_grey_and_colour_follow_one_rule(tmp_path):
    """round(v / 257) for both, where Pillow alone would truncate colour (v >> 8)."""
    import imagecodecs

    samples = np.random.default_rng(5).integers(0, 65536, (9, 11, 3), dtype=np.uint16)
    samples[0, 0] = [128, 383, 65535]  # v >> 8 gives 0, 1, 255; round(v / 257) gives 0, 1, 255 ...
    samples[0, 1] = [200, 450, 32896]  # ... and here 0, 1, 128 against round: 1, 2, 128
    (tmp_path / "rgb16.png").write_bytes(imagecodecs.png_encode(samples))
    expected = np.round(samples / 257).astype(np.uint8)
    assert np.array_equal(load_rgb(tmp_path / "rgb16.png"), expected)
    assert load_rgb(tmp_path / "rgb16.png")[0, 1].tolist() == [1, 2, 128]
    Image.fromarray(samples[:, :, 1]).save(tmp_path / "grey16.png")
    assert np.array_equal(load_rgb(tmp_path / "grey16.png")[:, :, 0], expected[:, :, 1])
