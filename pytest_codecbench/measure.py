"""One item's measurement: timed encode/decode round trips, the real bitstream, the metrics."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from time import perf_counter

import numpy as np
import pytest

from . import bench
from . import metrics as metric_set
from .codec import Codec, Quality
from .images import ImageRef
from .memory import Peak
from .records import machine
from .timing import StageTimer, cpu_seconds, precise_enough, stage


class CodecFailure(Exception):
    """The codec raised or returned something unusable; the message names codec, quality and image."""


# What a codec may raise that is not its own failure: Ctrl-C, and pytest's outcomes (a
# pytest-timeout limit fails the item through pytest.fail). Anything else, SystemExit
# included, fails only the item.
PASSES_THROUGH = (KeyboardInterrupt, pytest.fail.Exception, pytest.skip.Exception)


@dataclass
class Measurement:
    bitstream: bytes
    decoded: np.ndarray
    bpp: float
    metrics: dict[str, float | None]
    timings: dict[str, dict[str, float]]
    mismatch: str | None  # why a lossless codec's output differs from its input


def _mismatch(reference: np.ndarray, decoded: np.ndarray) -> str | None:
    differs = np.any(reference != decoded, axis=2)
    if not differs.any():
        return None
    y, x = np.argwhere(differs)[0]
    worst = int(np.abs(reference.astype(np.int16) - decoded).max())
    return (
        f"lossless codec is not bit-exact: {int(differs.sum())} of {differs.size} pixels differ, "
        f"max abs error {worst}, first at (x={x}, y={y}): {reference[y, x].tolist()} -> {decoded[y, x].tolist()}"
    )


def _evaluate(where: str, codec: Codec, data, decoded, reference: np.ndarray, metrics, timings) -> Measurement:
    """Check what the codec returned, then bpp, metrics and (if lossless) bit-exactness."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CodecFailure(f"{where}: encode returned {type(data).__name__}, not bytes")
    data = bytes(data)
    if not isinstance(decoded, np.ndarray) or decoded.dtype != np.uint8 or decoded.shape != reference.shape:
        got = f"{decoded.dtype} {decoded.shape}" if isinstance(decoded, np.ndarray) else type(decoded).__name__
        raise CodecFailure(f"{where}: decode returned {got}, expected uint8 {reference.shape}")
    try:
        values = metric_set.compute(metrics, reference, decoded)
    except metric_set.MetricError as error:
        raise CodecFailure(f"{where}: {error}") from error
    height, width = reference.shape[:2]
    mismatch = _mismatch(reference, decoded) if codec.lossless else None
    return Measurement(data, decoded, 8 * len(data) / (width * height), values, timings, mismatch)


def _estimate(where: str, codec: Codec, reference: np.ndarray, quality: Quality) -> dict | None:
    if not codec.estimate:
        return None
    try:
        return codec.estimate(reference, quality)
    except PASSES_THROUGH:
        raise
    except BaseException as error:
        raise CodecFailure(f"{where}: estimate failed: {type(error).__name__}: {error}") from error


def _time(benchmark, roundtrip, timer: StageTimer, precision: float, where: str):
    """The round trip's result, timed over rounds after one warm-up run (first-call costs such as
    loading a model are not kept). Rounds go on until the median round trip's confidence
    interval is within ±precision of it, or --benchmark-max-time is spent; never fewer than
    --benchmark-min-rounds."""
    try:
        if not benchmark.enabled:
            return roundtrip()
        roundtrip()
        timer.runs.clear()
        min_rounds, max_time = bench.limits(benchmark)
        durations: list[float] = []
        start = perf_counter()
        while True:
            began = perf_counter()
            result = roundtrip()
            durations.append(perf_counter() - began)
            if len(durations) >= min_rounds and (
                perf_counter() - start >= max_time or precise_enough(durations, precision)
            ):
                break
        bench.record_rounds(benchmark, durations)
        return result
    except PASSES_THROUGH:
        raise
    except BaseException as error:
        raise CodecFailure(f"{where} failed: {type(error).__name__}: {error}") from error


def measure(benchmark, codec: Codec, quality: Quality, image: ImageRef, reference: np.ndarray, sweep) -> Measurement:
    """Time ``codec`` on ``reference`` with pytest-benchmark and record everything in its extra_info;
    ``sweep`` gives the metrics, the timing precision and the number of workers."""
    where = f"codec {codec.name!r} at quality {quality!r} on image {image.path}"
    timer = StageTimer()

    def roundtrip():
        with timer.run():
            with stage("encode"):
                data = codec.encode(reference, quality)
            with stage("decode"):
                out = codec.decode(bytes(data))
        return data, out

    try:
        metric_set.check_memory(sweep.metrics, reference)
    except metric_set.MetricError as error:
        raise CodecFailure(f"{where}: {error}") from error
    with Peak(metric_set.device) as peak:
        start = cpu_seconds()
        data, decoded = _time(benchmark, roundtrip, timer, sweep.time_precision, where)
        roundtrips = cpu_seconds() - start
        try:
            result = _evaluate(where, codec, data, decoded, reference, sweep.metrics, timer.summary())
            metrics_cpu = cpu_seconds() - start - roundtrips
            estimates = _estimate(where, codec, reference, quality)
        except Exception:
            bench.mark_failed(benchmark)  # keeps an incomplete record out of the JSON
            raise
    height, width = reference.shape[:2]
    if estimates:
        benchmark.extra_info["estimates"] = estimates
    benchmark.extra_info.update(
        {
            "width": width,
            "height": height,
            "bytes": len(result.bitstream),
            "bpp": result.bpp,
            "bitstream_sha256": hashlib.sha256(result.bitstream).hexdigest(),
            "lossless": codec.lossless,
            "bit_exact": None if not codec.lossless else result.mismatch is None,
            "metrics": result.metrics,
            "timing": result.timings,
            "peak_memory": peak.result(),  # codec round trips and metrics, above the item's start
            # all round trips (the warm-up too) and the metrics: the sweep's floor (sweep_efficiency.py)
            "cpu_s": {"roundtrips": roundtrips, "metrics": metrics_cpu},
            "workers": sweep.workers,
            "machine": machine(),  # where it was timed: a remote xdist worker's own
        }
    )
    return result
