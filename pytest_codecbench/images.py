"""Datasets: which images a sweep uses, how they are fetched, verified and decoded."""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".ppm", ".pgm", ".pnm", ".bmp", ".tif", ".tiff", ".webp")
KODAK_URL = "https://r0k.us/graphics/kodak/kodak/"  # the canonical public copy
# A small set of colour photographs shipped inside scikit-image's wheel: works offline.
EMBEDDED_IMAGES = ("astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png")


class DatasetError(Exception):
    """A dataset cannot be found, fetched or verified; the message names the file."""


class ImageError(Exception):
    """An image cannot be used; the message names the file."""


@dataclass(frozen=True)
class ImageRef:
    name: str  # what test ids show, e.g. "kodim01"
    path: Path
    pixels_sha256: str | None = None  # expected hash of the decoded RGB pixels


@dataclass(frozen=True)
class Dataset:
    name: str
    source: str  # where the images are, for the session header and the report
    images: tuple[ImageRef, ...]


def cache_dir() -> Path:
    if os.environ.get("CODECBENCH_CACHE"):
        return Path(os.environ["CODECBENCH_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "codecbench"


def pixels_sha256(pixels: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest()


def kodak_table() -> dict[str, str]:
    """Kodak file name -> SHA-256 of its decoded RGB pixels (file hashes vary by PNG encoder)."""
    text = importlib.resources.files(__package__).joinpath("data/kodak_pixels.sha256").read_text()
    return {name: digest for name, _w, _h, digest in (line.split() for line in text.splitlines() if line)}


def download_verified(url: str, target: Path, expected_pixels: str) -> None:
    """Fetch one image to ``target`` atomically; keep it only if its pixels match."""
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
            out.write(response.read())
        got = pixels_sha256(load_rgb(partial))
        if got != expected_pixels:
            raise DatasetError(f"downloaded {url} but its pixels do not match the Kodak checksum (sha256 {got})")
        os.replace(partial, target)
    except (OSError, ImageError) as error:
        raise DatasetError(f"cannot download {url} to {target}: {error}") from error
    finally:
        partial.unlink(missing_ok=True)


def kodak(path: str | None, base_url: str | None = None) -> Dataset:
    """Kodak from ``path`` (or $CODECBENCH_KODAK_DIR), else from the cache, downloading what is missing."""
    table = kodak_table()
    folder = Path(path or os.environ.get("CODECBENCH_KODAK_DIR") or cache_dir() / "kodak")
    if not (path or os.environ.get("CODECBENCH_KODAK_DIR")):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DatasetError(
                f"cannot create the Kodak cache folder {folder} ({error.strerror or error}): point --kodak-dir "
                "(or $CODECBENCH_KODAK_DIR) at an existing copy, or $CODECBENCH_CACHE at a folder that can be written"
            ) from error
        base = base_url or os.environ.get("CODECBENCH_KODAK_URL") or KODAK_URL
        for name, digest in table.items():
            if not (folder / name).is_file():
                download_verified(base + name, folder / name, digest)
    return Dataset("kodak", str(folder), checked_copy("Kodak", folder, table))


def checked_copy(label: str, folder: Path, table: dict[str, str]) -> tuple[ImageRef, ...]:
    """The images of a dataset's checksum table (file name -> pixels' SHA-256) in ``folder``, each to be verified
    when decoded; DatasetError naming the folder when any is missing."""
    missing = [name for name in table if not (folder / name).is_file()]
    if missing:
        raise DatasetError(f"{label} folder {folder} lacks {len(missing)} images, e.g. {missing[0]}")
    return tuple(ImageRef(Path(name).stem, folder / name, digest) for name, digest in table.items())


def folder_dataset(folder: Path) -> Dataset:
    if not folder.is_dir():
        raise DatasetError(
            f"dataset folder {folder} does not exist (expected 'default', 'kodak', a name `codecbench datasets` "
            "lists, or a folder)"
        )
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not paths:
        raise DatasetError(f"dataset folder {folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    by_name: dict[str, Path] = {}
    for p in paths:
        if p.stem in by_name:
            raise DatasetError(f"dataset folder {folder}: {by_name[p.stem].name} and {p.name} give the same image id")
        by_name[p.stem] = p
    return Dataset(folder.name, str(folder), tuple(ImageRef(n, p) for n, p in by_name.items()))


def embedded() -> Dataset:
    spec = importlib.util.find_spec("skimage")
    if spec is None:
        raise DatasetError("the embedded default images come with scikit-image, which is not installed")
    folder = Path(spec.submodule_search_locations[0]) / "data"
    images = tuple(ImageRef(Path(name).stem, folder / name) for name in EMBEDDED_IMAGES)
    return Dataset("default", f"{len(images)} scikit-image sample photographs in {folder}", images)


def resolve(spec: str, copy: str | None = None) -> Dataset:
    """``default``, ``kodak``, a named dataset (``datasets.ARCHIVES``) or a folder of images; ``copy``: an existing
    copy of the named dataset (its ``--NAME-dir``)."""
    from . import datasets

    if spec == "default":
        return embedded()
    if spec == "kodak":
        return kodak(copy)
    if spec in datasets.ARCHIVES:
        return datasets.resolve(datasets.ARCHIVES[spec], copy)
    return folder_dataset(Path(spec).expanduser())


def to_8_bits(samples: np.ndarray, path: Path) -> np.ndarray:
    """16-bit samples to 8 bits as round(v / 257), the inverse of the usual v · 257 widening."""
    values = np.asarray(samples, dtype=np.float64)
    if values.min() < 0 or values.max() > 65535:
        raise ImageError(f"image {path}: sample values outside 0..65535")
    return np.round(values / 257.0).astype(np.uint8)


def _is_16_bit_colour(im: Image.Image) -> bool:
    """Pillow decodes 16-bit RGB(A) by keeping the high byte (v >> 8); such files are read otherwise."""
    rawmodes = [tile.args[0] if isinstance(tile.args, tuple) else tile.args for tile in im.tile]
    return any(isinstance(r, str) and r.startswith(("RGB;16", "RGBA;16", "RGBX;16")) for r in rawmodes)


def _load_16_bit_colour(path: Path) -> np.ndarray:
    # Pillow cannot return the 16-bit samples of colour images; imagecodecs (libpng, libtiff, …) can.
    import imagecodecs

    try:
        samples = imagecodecs.imread(str(path))
    except Exception as error:
        raise ImageError(f"cannot read 16-bit colour image {path}: {type(error).__name__}: {error}") from error
    if samples.ndim != 3 or samples.shape[2] < 3:
        raise ImageError(f"image {path}: 16-bit samples of shape {samples.shape}, expected H×W×3 or H×W×4")
    return to_8_bits(samples[:, :, :3], path)


def load_rgb(path: Path) -> np.ndarray:
    """Decode an image to H×W×3 uint8 RGB by the documented rules (README, "Images").

    Grey, palette, CMYK and YCbCr images are converted to RGB with Pillow; alpha is
    dropped; 16-bit images, grey or colour, are scaled to 8 bits by rounding v/257;
    other modes fail. EXIF orientation is ignored: codecs compress the stored pixels.
    """
    try:
        with Image.open(path) as im:
            if _is_16_bit_colour(im):
                return _load_16_bit_colour(path)
            im.load()
            if im.mode.startswith("I;16") or im.mode == "I":
                return np.repeat(to_8_bits(np.asarray(im), path)[:, :, None], 3, axis=2)
            if im.mode not in ("RGB", "RGBA", "L", "LA", "P", "PA", "1", "CMYK", "YCbCr"):
                raise ImageError(f"image {path}: pixel mode {im.mode} is not supported")
            return np.asarray(im.convert("RGB"))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ImageError(f"cannot read image {path}: {error}") from error


def centre_crop(pixels: np.ndarray, size: tuple[int, int] | None, path: Path) -> np.ndarray:
    """The centre ``width × height`` window; an image smaller than that fails."""
    if size is None:
        return pixels
    width, height = size
    h, w = pixels.shape[:2]
    if w < width or h < height:
        raise ImageError(f"image {path} is {w}×{h}, smaller than the {width}×{height} crop")
    top, left = (h - height) // 2, (w - width) // 2
    return np.ascontiguousarray(pixels[top : top + height, left : left + width])


def frozen(pixels: np.ndarray) -> np.ndarray:
    """A copy backed by an immutable bytes object: ``setflags(write=True)`` is refused on it, and on
    every view of it (a flag on an array that owns its memory, or on a view of a writable base, is not)."""
    return np.frombuffer(pixels.tobytes(), np.uint8).reshape(pixels.shape)


class ImageStore:
    """Decodes each image once per process and hands the same read-only array to every item.

    ``torch.from_numpy`` ignores the read-only flag, so a codec can still write into the array;
    ``intact`` tells, after an item, whether it did, and then the store forgets the array: the
    next item of that image gets it decoded afresh.
    """

    def __init__(self, crop: tuple[int, int] | None):
        self.crop = crop
        self._cache: dict[Path, np.ndarray | ImageError] = {}
        self._digests: dict[Path, str] = {}

    def get(self, ref: ImageRef) -> np.ndarray:
        if ref.path not in self._cache:
            try:
                pixels = load_rgb(ref.path)
                if ref.pixels_sha256 and pixels_sha256(pixels) != ref.pixels_sha256:
                    raise ImageError(f"image {ref.path}: decoded pixels do not match the dataset's checksum")
                pixels = frozen(centre_crop(pixels, self.crop, ref.path))
                self._cache[ref.path] = pixels
                self._digests.setdefault(ref.path, pixels_sha256(pixels))
            except ImageError as error:
                self._cache[ref.path] = error
        result = self._cache[ref.path]
        if isinstance(result, ImageError):
            raise result
        return result

    def digest(self, ref: ImageRef) -> str:
        """SHA-256 of the pixels items get (after cropping), computed when the image is first decoded."""
        self.get(ref)
        return self._digests[ref.path]

    def intact(self, ref: ImageRef, pixels: np.ndarray) -> bool:
        """Whether ``pixels``, which ``get(ref)`` gave, still hold the image; if not, they are forgotten."""
        if pixels_sha256(pixels) == self.digest(ref):
            return True
        self._cache.pop(ref.path, None)
        return False
