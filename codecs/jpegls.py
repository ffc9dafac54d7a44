"""JPEG-LS through pillow-jpls (CharLS): lossless and near-lossless (max error NEAR)."""

from importlib.metadata import version

from pytest_codecbench import pillow_codec


def versions():
    # pillow-jpls links CharLS statically and does not expose CharLS's own version.
    return {"pillow-jpls": version("pillow-jpls"), "CharLS": f"bundled with pillow-jpls {version('pillow-jpls')}"}


CODECS = [
    pillow_codec(
        name,
        "JPEG-LS",
        lambda near: {"near_lossless": near},
        qualities=qualities,
        quality_label="near",
        quality_range=quality_range,
        integer=True,
        lossless=lossless,
        requires=("pillow_jpls",),
        versions=versions,
        description=description,
    )
    for name, qualities, quality_range, lossless, description in (
        ("jpegls", (0,), (0, 0), True, "CharLS lossless (NEAR=0)"),
        ("jpegls-nl", (1, 2, 3, 5, 8, 12, 16), (1, 255), False, "CharLS near-lossless, max abs error NEAR"),
    )
]
