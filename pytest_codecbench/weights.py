"""Pretrained weights in the caches their libraries use, fetched and checked the way those libraries do it.

``Checkpoint``: a file in torch.hub's cache, known by its URL. It lives in
``torch.hub.get_dir()/checkpoints/`` under the URL's file name (``$TORCH_HOME/hub/checkpoints``
by default), which is where CompressAI's zoo and torchvision look, so a file fetched by either
is reused. Following torch.hub's convention the file name carries the first hex digits of the
file's SHA-256 (``mbt2018-1-3f36cd77.pth.tar``); a cached file is checked against them before
use, a download while it is written.

``HubFile``: a file of a Hugging Face Hub repository at a pinned commit, in the Hub's cache in
its standard layout (``$HF_HOME/hub/models--ORG--NAME/snapshots/COMMIT/PATH``), where diffusers'
``from_pretrained`` finds it; fetched with huggingface_hub. A file the Hub client stored as a
link to a blob named by its SHA-256 (large files) is checked against that name.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from .digests import file_sha256

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


@dataclass(frozen=True)
class Checkpoint(_Cached):
    url: str
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
        if self.hash_prefix and not digest.startswith(self.hash_prefix):
            return CORRUPT, (
                f"{path} is corrupt: its SHA-256 {digest[:16]}… does not start with {self.hash_prefix}, "
                "the prefix in its name; delete it to download it again"
            )
        return PRESENT, str(path)

    def fetch(self) -> None:
        """Download into the cache, checking the hash while writing (torch.hub's own routine)."""
        import torch.hub

        self.path.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(self.url, str(self.path), hash_prefix=self.hash_prefix, progress=False)


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
    revision: str  # a commit hash: the file as the Hub served it at that commit
    filename: str  # its path in the repository, e.g. "vqvae/config.json"
    cache_name = "Hugging Face cache"

    @property
    def url(self) -> str:
        return f"https://huggingface.co/{self.repo}/resolve/{self.revision}/{self.filename}"

    @property
    def download_url(self) -> str:
        return f"{_endpoint() or 'https://huggingface.co'}/{self.repo}/resolve/{self.revision}/{self.filename}"

    @property
    def cache_folder(self) -> Path:
        return hf_cache()

    @property
    def snapshot(self) -> Path:
        """The repository at the pinned commit, as ``from_pretrained`` reads it from the cache."""
        return hf_cache() / f"models--{self.repo.replace('/', '--')}" / "snapshots" / self.revision

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
