"""The high-resolution datasets papers report on, by name (``--dataset clic2020-professional-valid``):
where each is published, its archive's checksum and licence; fetched once into the cache, verified,
extracted, and every image's decoded pixels hashed so that each later use is verified too.

The archives' SHA-256 and sizes are those TensorFlow Datasets publishes (``url_checksums/clic.txt``
and ``div2k.txt``); no checksum of the Tecnick archive is published anywhere we could read, so its
first download records one (and says so). No image of these sets could be downloaded where this was
written, so the per-image pixel checksums are recorded from the first download whose archive
checksum matched (``PIXELS.sha256`` in the cache folder); ``pixels_table`` prefers a table shipped
in the package (``data/datasets/NAME.sha256``) where one has been added.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import shutil
import sys
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .images import (
    IMAGE_SUFFIXES,
    Dataset,
    DatasetError,
    ImageError,
    cache_dir,
    checked_copy,
    folder_dataset,
    load_rgb,
    pixels_sha256,
)

PIXELS = "PIXELS.sha256"  # in a dataset's cache folder: "NAME SHA256" per image, '#' lines say where from
CLIC = "https://clic.compression.cc/2020/ (images from Unsplash: the Unsplash licence)"
CLIC_LICENCE = "Unsplash licence (free to use; see unsplash.com/license), as the CLIC 2020 organisers state"


@dataclass(frozen=True)
class Archive:
    name: str  # what --dataset takes
    url: str
    sha256: str | None  # of the archive, as published; None: none known, the first download records one
    size: int | None  # bytes
    folder: str  # the images' folder inside the archive (a suffix of their parent's path); "" for any
    images: int | None  # how many images it holds, where published
    licence: str
    source: str  # the page that describes the set

    @property
    def env(self) -> str:
        """The environment variable naming an existing copy."""
        return "CODECBENCH_" + self.name.upper().replace("-", "_") + "_DIR"

    @property
    def option(self) -> str:
        return f"--{self.name}-dir"

    def members(self, names: list[str]) -> list[str]:
        """The archive's image files in ``folder``, without macOS's resource-fork copies."""
        chosen = []
        for name in names:
            path = PurePosixPath(name)
            if path.suffix.lower() not in IMAGE_SUFFIXES or "__MACOSX" in path.parts or path.name.startswith("."):
                continue
            if path.parent.as_posix().endswith(self.folder):
                chosen.append(name)
        return sorted(chosen)


ARCHIVES = {
    archive.name: archive
    for archive in (
        Archive(
            "clic2020-professional-valid",
            "https://data.vision.ee.ethz.ch/cvl/clic/professional_valid_2020.zip",
            "00be38092ade2ab5163b65f7f6523d46c7bca147007f559adbb02c0afc236b7d",
            134834429,
            "",
            41,
            CLIC_LICENCE,
            CLIC,
        ),
        Archive(
            "clic2020-mobile-valid",
            "https://data.vision.ee.ethz.ch/cvl/clic/mobile_valid_2020.zip",
            "ff0280382eeb32fdceb28c81a7f47ac9ad86d933ebe901680845635d04e47a10",
            236556531,
            "",
            61,
            CLIC_LICENCE,
            CLIC,
        ),
        Archive(
            "clic2020-professional-test",
            "https://data.vision.ee.ethz.ch/cvl/clic/test/CLIC2020Professional_test.zip",
            "857df244fc2bfa5da28d4c66bf0db16ee99bfc79eb807be8afa89cd507852884",
            891643809,
            "",
            None,
            CLIC_LICENCE,
            CLIC,
        ),
        Archive(
            "clic2020-mobile-test",
            "https://data.vision.ee.ethz.ch/cvl/clic/test/CLIC2020Mobile_test.zip",
            "2025f07a6c652270e534640de4271feef3b3dd3260beed4ac4821064837aa732",
            721789976,
            "",
            None,
            CLIC_LICENCE,
            CLIC,
        ),
        Archive(
            "tecnick-sampling-1200",
            "https://sourceforge.net/projects/testimages/files/OLD/OLD_SAMPLING/testimages.zip/download",
            None,
            None,
            "RGB/RGB_OR_1200x1200",
            100,
            "CC BY-NC-SA 3.0 (TESTIMAGES 1.0, Nicola Asuni, Tecnick.com; its README.TXT)",
            "https://testimages.org/ (TESTIMAGES/RGB/RGB_OR_1200x1200: the 1200×1200 RGB originals)",
        ),
        Archive(
            "div2k-valid-hr",
            "https://data.vision.ee.ethz.ch/cvl/DIV2K/DIV2K_valid_HR.zip",
            "20dd31fd84d777bc1cf5d6b7654a3f569c0aec74458ae094122ad1d0489900fc",
            448993893,
            "DIV2K_valid_HR",
            100,
            "academic research use only (DIV2K's terms)",
            "https://data.vision.ee.ethz.ch/cvl/DIV2K/",
        ),
    )
}


def pixels_table(archive: Archive) -> tuple[dict[str, str], str] | None:
    """File name -> SHA-256 of its decoded pixels, and where the table comes from: the package's, else the one
    recorded in the cache by a verified download; None where there is neither."""
    shipped = importlib.resources.files(__package__).joinpath(f"data/datasets/{archive.name}.sha256")
    recorded = cache_dir() / archive.name / PIXELS
    for table, where in ((shipped, "the package's checksums"), (recorded, f"checksums recorded in {recorded}")):
        if table.is_file():
            text = table.read_text().splitlines()
            lines = [line.rsplit(maxsplit=1) for line in text if line and not line.startswith("#")]
            return {name: digest for name, digest in lines}, where
    return None


def _download(archive: Archive, target: Path) -> str:
    """Stream the archive to ``target`` with a progress bar; its SHA-256, after checking size and hash."""
    from tqdm import tqdm

    digest, size = hashlib.sha256(), 0
    try:
        with (
            urllib.request.urlopen(archive.url, timeout=60) as response,
            open(target, "wb") as out,
            tqdm(total=archive.size, unit="B", unit_scale=True, desc=archive.name, file=sys.stderr) as bar,
        ):
            while chunk := response.read(1 << 20):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                bar.update(len(chunk))
    except OSError as error:
        raise DatasetError(f"cannot download {archive.url} to {target}: {error}") from error
    got = digest.hexdigest()
    if archive.size is not None and size != archive.size:
        raise DatasetError(f"downloaded {archive.url} but got {size} bytes, not the published {archive.size}")
    if archive.sha256 is not None and got != archive.sha256:
        raise DatasetError(f"downloaded {archive.url} but its SHA-256 is {got}, not the published {archive.sha256}")
    return got


def fetch(archive: Archive) -> Path:
    """Download, verify and extract ``archive`` into the cache (once), hashing every image's pixels into
    ``PIXELS.sha256``; the folder. Nothing is kept unless all of it succeeded."""
    folder = cache_dir() / archive.name
    if (folder / PIXELS).is_file():
        return folder
    staging = cache_dir() / f".{archive.name}.{os.getpid()}.part"
    try:
        staging.mkdir(parents=True, exist_ok=True)
        zipped = staging / PurePosixPath(archive.url.removesuffix("/download")).name
        got = _download(archive, zipped)
        how = "published" if archive.sha256 else "recorded by this first download: no published checksum is known"
        lines = [f"# {archive.url}", f"# archive sha256 {got} ({how})"]
        with zipfile.ZipFile(zipped) as zf:
            members = archive.members(zf.namelist())
            if archive.images is not None and len(members) != archive.images:
                raise DatasetError(
                    f"{archive.url} holds {len(members)} images in {archive.folder or 'it'}, not {archive.images}"
                )
            names = [PurePosixPath(member).name for member in members]
            if len(set(names)) < len(names):
                raise DatasetError(f"{archive.url} holds two images of one name in different folders")
            for member, name in zip(members, names, strict=True):
                path = staging / name
                with zf.open(member) as src, open(path, "wb") as out:
                    shutil.copyfileobj(src, out)
                lines.append(f"{path.name} {pixels_sha256(load_rgb(path))}")
        zipped.unlink()
        (staging / PIXELS).write_text("\n".join(lines) + "\n")
        os.replace(staging, folder)
    except (OSError, zipfile.BadZipFile, ImageError) as error:
        raise DatasetError(f"cannot fetch {archive.name} from {archive.url} into {folder}: {error}") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if archive.sha256 is None:
        warnings.warn(
            f"{archive.name}: no published checksum of {archive.url} is known; this first download's SHA-256 {got} "
            f"and its images' pixel checksums are recorded in {folder / PIXELS} and verify every later use",
            stacklevel=2,
        )
    return folder


def resolve(archive: Archive, path: str | None) -> Dataset:
    """``archive``'s images from ``path`` (or its environment variable), else from the cache, fetching it once.
    Images are verified against the pixel checksums where any are known; a copy without them says so."""
    given = path or os.environ.get(archive.env)
    folder = Path(given).expanduser() if given else fetch(archive)
    if not folder.is_dir():
        raise DatasetError(f"{archive.name} folder {folder} does not exist ({archive.option} or ${archive.env})")
    table = pixels_table(archive)
    if table is None:
        unverified = folder_dataset(folder).images
        why = f"not verified: no pixel checksums of {archive.name} are known; a download records them"
        return Dataset(archive.name, f"{folder} ({why})", unverified)
    checksums, where = table
    return Dataset(archive.name, f"{folder} (verified against {where})", checked_copy(archive.name, folder, checksums))
