"""Pretrained checkpoints in torch.hub's cache, fetched and hash-checked the way torch.hub does it.

A checkpoint is known by its URL. Its file lives in ``torch.hub.get_dir()/checkpoints/``
under the URL's file name (``$TORCH_HOME/hub/checkpoints`` by default), which is where
CompressAI's zoo and torchvision look, so a file fetched by either is reused. Following
torch.hub's convention the file name carries the first hex digits of the file's SHA-256
(``mbt2018-1-3f36cd77.pth.tar``); a cached file is checked against them before use, a
download while it is written.
"""

from __future__ import annotations

import os
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


@dataclass(frozen=True)
class Checkpoint:
    url: str

    @property
    def filename(self) -> str:
        return os.path.basename(urlparse(self.url).path)

    @property
    def path(self) -> Path:
        return hub_dir() / self.filename

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
            detail += f"; downloading {self.url} failed ({_failed[self.url]})"
        group = f"weights {state} in the torch.hub cache {self.path.parent} (`codecbench weights --download`)"
        raise WeightsUnavailable(f"weights {state}: {detail}", group)
