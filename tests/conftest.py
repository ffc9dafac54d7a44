"""Fixtures for the plugin's own tests: a throwaway pytest project with the real codecs."""

import functools
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pytest_codecbench import images
from pytest_codecbench.kits import weights
from pytest_codecbench.kits.torch_compat import import_quietly
from pytest_codecbench.plugin import process

# pytester's in-process runs forget modules first imported inside them, and torch
# cannot be imported twice in one process: import what the codecs and metrics need up front.
process.prepare_torch(threads=2)
import_quietly("compressai.zoo")
import_quietly("fvcore.nn")

REPO = Path(__file__).resolve().parents[1]
# Tests use nothing outside the repo and their temporary folders: generated images, or the
# photographs that ship with scikit-image (the sweep's embedded default dataset).
EMBEDDED = {ref.name: ref.path for ref in images.embedded().images}


def embedded_photo(name: str) -> np.ndarray:
    """One of the embedded default photographs (astronaut, chelsea, coffee, motorcycle_left), H×W×3 uint8."""
    return images.load_rgb(EMBEDDED[name])


def photo_like(width: int, height: int, seed: int) -> np.ndarray:
    """A smooth colour image with some texture, so codecs behave as on photographs."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(width, height)
    base = np.stack([np.sin(6 * x + seed), np.cos(5 * y), np.sin(4 * (x + y))], axis=2) * 90 + 128
    return np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)


@pytest.fixture(autouse=True)
def hf_home(tmp_path, monkeypatch):
    """No test reads or writes the user's Hugging Face cache or reaches the Hub: an empty HF_HOME,
    and an endpoint on a closed port of 127.0.0.1."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(weights, "_failed", {})
    return tmp_path / "hf"


@pytest.fixture
def project(pytester, monkeypatch):
    """A project with benchmarks/test_rd.py, the repo's codecs and two 192×176 images in imgs/.

    Its sessions are not xdist workers, also when these tests run under xdist: pytest-benchmark
    would take the worker's environment for its own and switch itself off."""
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
    pytester.makepyfile(test_rd=(REPO / "benchmarks" / "test_rd.py").read_text())
    pytester.makeini(
        f"""
        [pytest]
        codecbench_codec_dirs = {REPO / "codecs"}
        codecbench_dataset = imgs
        addopts = --benchmark-min-rounds=1 --benchmark-max-time=0
        """
    )
    (pytester.path / "imgs").mkdir()
    for i in range(2):
        Image.fromarray(photo_like(192, 176, i)).save(pytester.path / "imgs" / f"img{i}.png")
    return pytester


@pytest.fixture
def server(tmp_path):
    """A static HTTP server on 127.0.0.1 serving tmp_path/www."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
