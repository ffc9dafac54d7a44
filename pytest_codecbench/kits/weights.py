"""Pretrained weights in the caches their libraries use, fetched and checked the way those libraries do it.

``Checkpoint``: a file in torch.hub's cache, known by its URL. It lives in
``torch.hub.get_dir()/checkpoints/`` under the URL's file name (``$TORCH_HOME/hub/checkpoints``
by default), which is where CompressAI's zoo and torchvision look, so a file fetched by either
is reused. Following torch.hub's convention the file name carries the first hex digits of the
file's SHA-256 (``mbt2018-1-3f36cd77.pth.tar``); a cached file is checked against them (or
against its full SHA-256 where one is known) before use, a download while it is written. Eight
hex digits are 32 bits, which a crafted file can match in minutes: a checkpoint is also only
ever unpickled by ``torch.load(weights_only=True)`` (tensors and plain types, no code), and a
file that needs more is reported corrupt.

``ZenodoFile``: a file of a Zenodo record, in ``$CODECBENCH_CACHE/zenodo/RECORD/`` with the
record's metadata (``record.json``, from Zenodo's API), which gives the file's name and MD5; a
cached file is checked against that MD5 before use, a download before it is kept.

``HubFile``: a file of a Hugging Face Hub repository at a pinned commit, in the Hub's cache in
its standard layout (``$HF_HOME/hub/models--ORG--NAME/snapshots/COMMIT/PATH``), where diffusers'
``from_pretrained`` finds it; fetched with huggingface_hub. A file the Hub client stored as a
link to a blob named by its SHA-256 (large files) is checked against that name.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlparse

from .digests import file_md5, file_sha256

PRESENT, MISSING, CORRUPT = "present", "missing", "corrupt"
_failed: dict[str, str] = {}  # URL -> why its download failed, so a process tries each once


class WeightsUnavailable(Exception):
    """A checkpoint is missing or corrupt and could not be fetched; the message names the file,
    ``group`` says it in words shared by every checkpoint of that cache in the same state."""

    def __init__(self, message: str, group: str):
        super().__init__(message)
        self.group = group


def hub_dir() -> Path:
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


class _Cached:
    """What a cached file of weights shares: ``ensure``. Subclasses give ``url`` (the file's identity),
    ``download_url`` (where ``fetch()`` gets it), ``path``, ``cache_folder``, ``cache_name``, ``status()``
    and ``fetch()``."""

    def ensure(self) -> Path:
        """The verified file, downloaded if missing; raises WeightsUnavailable naming it otherwise."""
        state, detail = self.status()
        if state == MISSING and self.url not in _failed:
            try:
                self.fetch()
            except Exception as error:  # offline: DNS/connection errors; or a bad download
                _failed[self.url] = f"{type(error).__name__}: {error}"
            state, detail = self.status()
        if state == PRESENT:
            return self.path
        if state == MISSING:
            detail += f"; downloading {self.download_url} failed ({_failed[self.url]})"
        group = f"weights {state} in the {self.cache_name} {self.cache_folder} (`codecbench weights --download`)"
        raise WeightsUnavailable(f"weights {state}: {detail}", group)


@cache
def _unpickling_refused(path: str, size: int, mtime_ns: int) -> str | None:
    """Why ``torch.load(weights_only=True)`` refuses this version of the file, or None."""
    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "Detected pickle protocol 4": the refusal says what matters
            torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickle.UnpicklingError for what is not allowed; anything unreadable
        text = str(error)
        found = re.search(r"WeightsUnpickler error:\s*(.+?)(\n\n|$)", text, re.S)  # torch's reason, not its advice
        return f"{type(error).__name__}: {found[1].strip() if found else text.strip()[:300]}"
    return None


@dataclass(frozen=True)
class Checkpoint(_Cached):
    url: str
    sha256: str | None = None  # the file's full SHA-256, where it is known
    cache_name = "torch.hub cache"

    @property
    def filename(self) -> str:
        return os.path.basename(urlparse(self.url).path)

    @property
    def download_url(self) -> str:
        return self.url

    @property
    def path(self) -> Path:
        return hub_dir() / self.filename

    @property
    def cache_folder(self) -> Path:
        return hub_dir()

    @property
    def hash_prefix(self) -> str | None:
        import torch.hub

        match = torch.hub.HASH_REGEX.search(self.filename)
        return match.group(1) if match else None

    def status(self) -> tuple[str, str]:
        """(PRESENT, MISSING or CORRUPT, and a detail for people)."""
        path = self.path
        if not path.is_file():
            return MISSING, f"{self.filename} is not in the torch.hub cache {path.parent}"
        digest = file_sha256(path)
        if self.sha256 and digest != self.sha256:
            return CORRUPT, f"{path} is corrupt: its SHA-256 is not {self.sha256}; delete it to download it again"
        if self.hash_prefix and not digest.startswith(self.hash_prefix):
            return CORRUPT, (
                f"{path} is corrupt: its SHA-256 {digest[:16]}… does not start with {self.hash_prefix}, "
                "the prefix in its name; delete it to download it again"
            )
        stat = path.stat()
        refused = _unpickling_refused(str(path), stat.st_size, stat.st_mtime_ns)
        if refused:
            return CORRUPT, (
                f"{path} is corrupt or unsafe: torch.load(weights_only=True), which runs no code from the file, "
                f"refuses it ({refused}); it is not loaded. Delete it to download it again"
            )
        return PRESENT, str(path)

    def load(self) -> dict:
        """The checkpoint's content, unpickled without running code from it (see ``status``)."""
        import torch

        return torch.load(self.ensure(), map_location="cpu", weights_only=True)

    def fetch(self) -> None:
        """Download into the cache, checking the hash while writing (torch.hub's own routine)."""
        import torch.hub

        self.path.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(self.url, str(self.path), hash_prefix=self.hash_prefix, progress=False)
        if self.sha256 and file_sha256(self.path) != self.sha256:
            self.path.unlink()
            raise ValueError(f"{self.url}: its SHA-256 is not {self.sha256}")


def hf_cache() -> Path:
    """The Hugging Face Hub cache, as huggingface_hub chooses it ($HF_HUB_CACHE, else $HF_HOME/hub, else
    ~/.cache/huggingface/hub), read at each call: huggingface_hub reads it once, at import."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(os.environ.get("HF_HOME") or os.path.join(cache, "huggingface")).expanduser() / "hub"


def _endpoint() -> str | None:
    """$HF_ENDPOINT (a mirror of the Hub), read at each call as ``hf_cache`` is."""
    return os.environ.get("HF_ENDPOINT") or None


@dataclass(frozen=True)
class HubFile(_Cached):
    repo: str  # "ORG/NAME"
    # a commit hash: the file as the Hub served it at that commit; or a branch where no commit is known
    # (then the commit the cache's ref names, once fetched: the cache's blob SHA-256 still checks the file)
    revision: str
    filename: str  # its path in the repository, e.g. "vqvae/config.json"
    cache_name = "Hugging Face cache"

    @property
    def commit(self) -> str:
        """The revision, a branch resolved to the commit the cache's ``refs/BRANCH`` names (as huggingface_hub
        reads it offline); the branch itself before anything was fetched."""
        if re.fullmatch(r"[0-9a-f]{40}", self.revision):
            return self.revision
        ref = self._folder / "refs" / self.revision
        return ref.read_text().strip() if ref.is_file() else self.revision

    @property
    def _folder(self) -> Path:
        return hf_cache() / f"models--{self.repo.replace('/', '--')}"

    @property
    def url(self) -> str:
        return f"https://huggingface.co/{self.repo}/resolve/{self.commit}/{self.filename}"

    @property
    def download_url(self) -> str:
        return f"{_endpoint() or 'https://huggingface.co'}/{self.repo}/resolve/{self.revision}/{self.filename}"

    @property
    def cache_folder(self) -> Path:
        return hf_cache()

    @property
    def snapshot(self) -> Path:
        """The repository at the pinned commit, as ``from_pretrained`` reads it from the cache."""
        return self._folder / "snapshots" / self.commit

    @property
    def path(self) -> Path:
        return self.snapshot / self.filename

    def status(self) -> tuple[str, str]:
        path = self.path
        if not path.is_file():
            where = f"{self.filename} of {self.repo} at revision {self.revision}"
            return MISSING, f"{where} is not in the {self.cache_name} {hf_cache()}"
        blob = path.resolve()
        if re.fullmatch(r"[0-9a-f]{64}", blob.name) and file_sha256(blob) != blob.name:
            return (
                CORRUPT,
                f"{path} is corrupt: its SHA-256 is not {blob.name}, its blob's name; delete both to fetch it",
            )
        return PRESENT, str(path)

    def fetch(self) -> None:
        """Download into the cache with huggingface_hub (which reads HF_TOKEN for gated repositories)."""
        from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url

        endpoint = _endpoint()
        # one request first: hf_hub_download retries an unreachable Hub for 23 s before it gives up
        get_hf_file_metadata(hf_hub_url(self.repo, self.filename, revision=self.revision, endpoint=endpoint))
        hf_hub_download(self.repo, self.filename, revision=self.revision, cache_dir=hf_cache(), endpoint=endpoint)


ZENODO = "https://zenodo.org"  # $CODECBENCH_ZENODO_URL overrides it (a mirror)


@dataclass(frozen=True)
class ZenodoFile(_Cached):
    record: int
    role: str  # which of the record's files, in words ("the MS-SSIM checkpoint")
    choose: Callable[[str], bool]  # true for that file's name, and for no other file of the record
    cache_name = "codecbench cache"

    @property
    def url(self) -> str:
        return f"{ZENODO}/records/{self.record}#{self.role.replace(' ', '-')}"

    @property
    def download_url(self) -> str:
        return f"{os.environ.get('CODECBENCH_ZENODO_URL') or ZENODO}/api/records/{self.record}"

    @property
    def cache_folder(self) -> Path:
        from ..images import cache_dir

        return cache_dir() / "zenodo" / str(self.record)

    def _entry(self, metadata: dict) -> dict:
        files = metadata.get("files") or []
        chosen = [f for f in files if self.choose(f["key"])]
        if len(chosen) != 1:
            names = ", ".join(f["key"] for f in files) or "none"
            raise ValueError(f"Zenodo record {self.record} has {len(chosen)} files that are {self.role}: {names}")
        return chosen[0]

    def _metadata(self) -> dict | None:
        path = self.cache_folder / "record.json"
        return json.loads(path.read_text()) if path.is_file() else None

    @property
    def path(self) -> Path:
        """The file once the record's metadata names it; before that (or when the record has no such
        file) a path in the cache folder that does not exist, named by the role."""
        try:
            return self.cache_folder / self._entry(self._metadata() or {})["key"]
        except ValueError:
            return self.cache_folder / f"({self.role}: not in the record's cached file list)"

    def status(self) -> tuple[str, str]:
        metadata = self._metadata()
        if metadata is None:
            return MISSING, (
                f"{self.role} of Zenodo record {self.record} is not in the {self.cache_name} "
                f"{self.cache_folder} (nor the record's file list, record.json)"
            )
        try:
            entry = self._entry(metadata)
        except ValueError as error:
            return MISSING, str(error)
        path = self.cache_folder / entry["key"]
        if not path.is_file():
            return MISSING, f"{entry['key']} ({self.role} of Zenodo record {self.record}) is not in {self.cache_folder}"
        if file_md5(path) != entry["checksum"].removeprefix("md5:"):
            return CORRUPT, f"{path} is corrupt: its MD5 is not the record's {entry['checksum']}; delete it to fetch it"
        return PRESENT, str(path)

    def fetch(self) -> None:
        """The record's metadata from Zenodo's API, then the file, kept only if its MD5 is the record's."""
        folder = self.cache_folder
        folder.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(self.download_url, timeout=60) as response:
            metadata = json.loads(response.read())
        entry = self._entry(metadata)
        link = entry.get("links", {}).get("self") or f"{ZENODO}/records/{self.record}/files/{entry['key']}"
        partial = folder / f".{entry['key']}.{os.getpid()}.part"
        try:
            with urllib.request.urlopen(link, timeout=60) as response, open(partial, "wb") as out:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
            if file_md5(partial) != entry["checksum"].removeprefix("md5:"):
                raise ValueError(f"{link}: its MD5 is not the record's {entry['checksum']}")
            os.replace(partial, folder / entry["key"])
            (folder / "record.json").write_text(json.dumps(metadata))
        finally:
            partial.unlink(missing_ok=True)
