"""AVIF through pillow-avif-plugin (libavif) with the aom encoder, at three speeds.

Single-threaded (max_threads=1), 4:2:0, full range, so timings compare across codecs.
"""

from pytest_codecbench import pillow_codec

QUALITIES = (10, 20, 30, 40, 50, 60, 70, 80, 90)


def versions():
    import pillow_avif
    from pillow_avif import _avif

    codecs = dict(part.split(":", 1) for part in _avif.codec_versions().split(", "))
    return {
        "pillow-avif-plugin": pillow_avif.__version__,
        "libavif": _avif.libavif_version,
        "aom": codecs["aom [enc]"],
        "dav1d": codecs["dav1d [dec]"],
    }


def options(speed):
    return lambda q: {"quality": q, "speed": speed, "codec": "aom", "max_threads": 1, "subsampling": "4:2:0"}


CODECS = [
    pillow_codec(
        name,
        "AVIF",
        options(speed),
        qualities=qualities,
        quality_range=(0, 100),
        integer=True,
        requires=("pillow_avif",),
        versions=versions,
        description=f"libavif + aom, speed {speed}",
    )
    for name, speed, qualities in (
        ("avif", 6, QUALITIES),  # libavif's default speed
        ("avif-s0", 0, (20, 40, 60, 80)),  # slowest and best; a coarser grid keeps a sweep practical
        ("avif-s10", 10, QUALITIES),
    )
]
