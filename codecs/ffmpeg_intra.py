"""The anchors papers compare against, as one intra frame through FFmpeg: VVC (VVenC), HEVC
(x265) and AV1 (libaom, SVT-AV1), each encoder and decoder single-threaded.

The RGB image becomes 10-bit BT.709 full-range Y'CbCr in numpy (``pytest_codecbench.kits.ycbcr``,
as CompressAI's VTM/HM anchors convert) and goes to FFmpeg through a pipe as raw planes; the
elementary stream comes back through a pipe. The bitstream is a 4-byte header (width,
height: uint16) and that stream, all counted in bpp. Every encode checks the pixel format
FFmpeg reports for the stream it wrote: FFmpeg converts silently to a format the encoder
takes (libvvenc takes 4:2:0 10-bit only), which would measure another codec.

Quality is the encoder's own knob: QP (VVC, HEVC) or CRF (AV1), lower = more bits.
"""

import struct
from functools import cache, partial

import numpy as np

from pytest_codecbench import Codec, embedded, ffmpeg, load_rgb, stage, ycbcr

BITS = 10
HEADER = struct.Struct(">HH")
PIXEL_FORMATS = {"444": "yuv444p10le", "420": "yuv420p10le"}


@cache
def _ceiling(chroma: str) -> str:
    """PSNR of RGB → 10-bit Y'CbCr → RGB with no coding, on the embedded astronaut photograph:
    the best this conversion allows."""
    image = load_rgb(embedded().images[0].path)
    back = ycbcr.from_planes(ycbcr.planes(image, BITS, chroma), BITS, *image.shape[:2])
    mse = np.mean((image.astype(np.float64) - back) ** 2)
    return (f"{10 * np.log10(255**2 / mse):.1f} dB PSNR" if mse else "lossless") + " on scikit-image's astronaut"


def _coded_size(spec: dict, height: int, width: int) -> tuple[int, int]:
    """4:2:0 encoders take even sizes only: an odd last row or column is repeated, then cropped."""
    return (height + height % 2, width + width % 2) if spec["chroma"] == "420" else (height, width)


def encode(spec: dict, image: np.ndarray, quality: int) -> bytes:
    height, width = image.shape[:2]
    if max(height, width) > 0xFFFF:
        raise ValueError(f"{width}x{height}: the header holds sizes up to 65535")
    pixel_format = PIXEL_FORMATS[spec["chroma"]]
    coded_height, coded_width = _coded_size(spec, height, width)
    with stage("to-yuv"):
        padded = np.pad(image, ((0, coded_height - height), (0, coded_width - width), (0, 0)), mode="edge")
        raw = ycbcr.to_raw(padded, BITS, spec["chroma"])
    with stage("ffmpeg"):
        stream, log = ffmpeg.run(
            [
                "-f",
                "rawvideo",
                "-pix_fmt",
                pixel_format,
                "-s",
                f"{coded_width}x{coded_height}",
                "-i",
                "pipe:0",
                "-frames:v",
                "1",
                "-pix_fmt",
                pixel_format,
                *spec["arguments"](quality),
                "-f",
                spec["stream"],
                "pipe:1",
            ],
            raw,
        )
    wrote = ffmpeg.stream_format(log, "Output")
    if wrote != pixel_format:
        raise ffmpeg.ToolError(f"FFmpeg's {spec['encoder']} wrote {wrote}, not the {pixel_format} asked for")
    return HEADER.pack(width, height) + stream


def decode(spec: dict, data: bytes) -> np.ndarray:
    width, height = HEADER.unpack_from(data)
    pixel_format = PIXEL_FORMATS[spec["chroma"]]
    with stage("ffmpeg"):
        raw, log = ffmpeg.run(
            [
                "-threads",
                "1",
                "-c:v",
                spec["decoder"],
                "-f",
                spec["stream"],
                "-i",
                "pipe:0",
                "-f",
                "rawvideo",
                "-pix_fmt",
                pixel_format,
                "pipe:1",
            ],
            data[HEADER.size :],
        )
    if ffmpeg.stream_format(log, "Input") != pixel_format:
        raise ffmpeg.ToolError(f"the stream holds {ffmpeg.stream_format(log, 'Input')}, not {pixel_format}")
    with stage("to-rgb"):
        coded_height, coded_width = _coded_size(spec, height, width)
        return ycbcr.from_raw(raw, BITS, coded_height, coded_width, spec["chroma"])[:height, :width]


def vvenc(preset: str):
    # -qpa 0: no perceptual QP adaptation, as VTM's common test conditions run (FFmpeg's default is on)
    return lambda qp: ["-c:v", "libvvenc", "-preset", preset, "-qp", str(qp), "-qpa", "0", "-threads", "1"]


def x265(qp):
    single_threaded = "pools=none:frame-threads=1"
    # tune PSNR: no psycho-visual RD, as HM and a PSNR anchor (about 0.5 dB more at QP 32 on Kodak)
    return [
        "-c:v",
        "libx265",
        "-preset",
        "medium",
        "-tune",
        "psnr",
        "-x265-params",
        f"qp={qp}:{single_threaded}:log-level=error",
    ]


def libaom(crf):
    return [
        "-c:v",
        "libaom-av1",
        "-usage",
        "allintra",
        "-cpu-used",
        "4",
        "-crf",
        str(crf),
        "-b:v",
        "0",
        "-tune",
        "psnr",
        "-threads",
        "1",
        "-row-mt",
        "0",
    ]


def svt_av1(crf):
    return ["-c:v", "libsvtav1", "-preset", "8", "-crf", str(crf), "-svtav1-params", "lp=1:avif=1"]


VVC = {"encoder": "libvvenc", "decoder": "vvc", "stream": "vvc", "version": r"libvvenc version: (\S+)"}
HEVC = {"encoder": "libx265", "decoder": "hevc", "stream": "hevc", "version": r"HEVC encoder version (\S+)"}
AV1 = {"decoder": "libdav1d", "stream": "obu"}
QPS = (17, 22, 27, 32, 37, 42, 47)  # 0.1 to 3 bpp on Kodak, as the other codecs' grids
SPECS = {
    # name: (spec, qualities, quality label, quality range, description)
    "vvc": (
        {**VVC, "chroma": "420", "arguments": vvenc("medium")},
        QPS,
        "qp",
        (0, 63),
        "VVenC, preset medium, QPA off",
    ),
    "vvc-faster": (
        {**VVC, "chroma": "420", "arguments": vvenc("faster")},
        QPS,
        "qp",
        (0, 63),
        "VVenC, preset faster, QPA off",
    ),
    "hevc": ({**HEVC, "chroma": "444", "arguments": x265}, QPS, "qp", (0, 51), "x265, preset medium, tune PSNR"),
    "hevc-420": ({**HEVC, "chroma": "420", "arguments": x265}, QPS, "qp", (0, 51), "x265, preset medium, tune PSNR"),
    "av1": (
        {
            **AV1,
            "encoder": "libaom-av1",
            "version": r"\[libaom-av1 @ \S+\] (v\S+)",
            "chroma": "444",
            "arguments": libaom,
        },
        (8, 20, 32, 44, 56),
        "crf",
        (0, 63),
        "libaom all-intra, cpu-used 4, tune PSNR",
    ),
    "av1-420": (
        {
            **AV1,
            "encoder": "libaom-av1",
            "version": r"\[libaom-av1 @ \S+\] (v\S+)",
            "chroma": "420",
            "arguments": libaom,
        },
        (8, 20, 32, 44, 56),
        "crf",
        (0, 63),
        "libaom all-intra, cpu-used 4, tune PSNR",
    ),
    "av1-svt": (
        {**AV1, "encoder": "libsvtav1", "version": r"SVT-AV1 Encoder Lib (\S+)", "chroma": "420", "arguments": svt_av1},
        (10, 22, 34, 46, 58),
        "crf",
        (0, 63),
        "SVT-AV1, preset 8",
    ),
}


def describe(spec: dict, about: str) -> str:
    chroma = {"444": "4:4:4", "420": "4:2:0"}[spec["chroma"]]
    return (
        f"{about}; one intra frame, {chroma} {BITS}-bit BT.709 full-range Y'CbCr (conversion alone: "
        f"{_ceiling(spec['chroma'])})"
    )


CODECS = [
    Codec(
        name,
        partial(encode, spec),
        partial(decode, spec),
        qualities=qualities,
        quality_label=label,
        quality_range=valid,
        integer=True,
        unavailable=partial(ffmpeg.missing, spec["encoder"], spec["decoder"]),
        versions=partial(ffmpeg.versions, spec["encoder"], spec["version"]),
        estimate=lambda image, quality: {"ffmpeg_startup_ms": ffmpeg.startup_ms()},  # in every ffmpeg stage
        family="ffmpeg",
        description=describe(spec, about),
    )
    for name, (spec, qualities, label, valid, about) in SPECS.items()
]
