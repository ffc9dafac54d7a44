"""One item's measurement: timed encode/decode round trips, the real bitstream, the metrics."""

from __future__ import annotations

import hashlib
import statistics
from dataclasses import dataclass
from time import perf_counter

import numpy as np
import pytest

from .. import metrics as metric_set
from .. import schema
from ..codec import Codec, Quality
from ..images import ImageRef, pixels_sha256
from ..runtime import RUNTIME
from . import bench
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
    set_features: dict | None = None  # what the set metrics (FID, KID) aggregate over items


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


class _Outputs:
    """What every run of the round trip returned (the warm-up too), checked as it comes: bytes from
    encode, an image of the reference's shape from decode, and the same stream and image each run
    unless the codec declares itself nondeterministic (then the spread of sizes is kept)."""

    def __init__(self, where: str, codec: Codec, shape: tuple[int, ...]):
        self.where, self.codec, self.shape = where, codec, shape
        self.sizes: list[int] = []
        self.first: tuple[bytes, np.ndarray] | None = None
        self.streams, self.images = 1, 1  # distinct bitstreams and decoded images seen

    def check(self, data, decoded) -> None:
        if not isinstance(decoded, np.ndarray) or decoded.dtype != np.uint8 or decoded.shape != self.shape:
            got = f"{decoded.dtype} {decoded.shape}" if isinstance(decoded, np.ndarray) else type(decoded).__name__
            raise CodecFailure(f"{self.where}: decode returned {got}, expected uint8 {self.shape}")
        data = bytes(data)
        self.sizes.append(len(data))
        if self.first is None:
            self.first = data, decoded.copy()  # a codec may hand out the same buffer every run
            return
        self.streams += data != self.first[0]
        self.images += not np.array_equal(decoded, self.first[1])
        if self.codec.deterministic and (self.streams > 1 or self.images > 1):
            what = "bitstream" if self.streams > 1 else "decoded image"
            raise CodecFailure(
                f"{self.where}: its {what} differed between runs of the same round trip "
                f"({min(self.sizes):,}–{max(self.sizes):,} bytes over {len(self.sizes)} runs); bpp would be one "
                "run's. A codec whose output varies by design declares deterministic=False: its bpp spread is recorded"
            )

    def spread(self, pixels: int) -> dict | None:
        """For a nondeterministic codec: the bpp of its runs and how many distinct outputs they gave."""
        if self.codec.deterministic:
            return None
        bpp = [8 * size / pixels for size in self.sizes]
        spread = {"bpp_min": min(bpp), "bpp_median": statistics.median(bpp), "bpp_max": max(bpp), "runs": len(bpp)}
        return {**spread, "distinct_bitstreams": self.streams, "distinct_images": self.images}


def _evaluate(where: str, codec: Codec, data, decoded, reference: np.ndarray, metrics, timings) -> Measurement:
    """bpp, metrics and (if lossless) bit-exactness of what ``_Outputs`` accepted."""
    data = bytes(data)
    try:
        values = metric_set.compute(metrics, reference, decoded)
        stored = metric_set.set_features(metrics, reference, decoded)
    except metric_set.MetricError as error:
        raise CodecFailure(f"{where}: {error}") from error
    height, width = reference.shape[:2]
    mismatch = _mismatch(reference, decoded) if codec.lossless else None
    return Measurement(data, decoded, 8 * len(data) / (width * height), values, timings, mismatch, stored)


def _estimate(where: str, codec: Codec, reference: np.ndarray, quality: Quality) -> dict | None:
    if not codec.estimate:
        return None
    try:
        return codec.estimate(reference, quality)
    except PASSES_THROUGH:
        raise
    except BaseException as error:
        raise CodecFailure(f"{where}: estimate failed: {type(error).__name__}: {error}") from error


def _time(benchmark, roundtrip, timer: StageTimer, outputs: _Outputs, precision: float, where: str, warm_up: bool):
    """The round trip's result and why its rounds stopped, timed over rounds after one warm-up run
    (first-call costs such as loading a model are not kept; none if not ``warm_up``). Rounds go on
    until the median round trip's confidence interval is within ±precision of it ("precise"), or
    --benchmark-max-time is spent ("max-time"); never fewer than --benchmark-min-rounds. Each run's
    output is checked outside its time."""
    try:
        if warm_up or not benchmark.enabled:
            result = roundtrip()
            outputs.check(*result)
            if not benchmark.enabled:
                return result, "timing disabled"
        timer.runs.clear()
        min_rounds, max_time = bench.limits(benchmark)
        durations: list[float] = []
        start = perf_counter()
        while True:
            began = perf_counter()
            result = roundtrip()
            durations.append(perf_counter() - began)
            outputs.check(*result)
            if len(durations) >= min_rounds:
                if precise_enough(durations, precision):
                    stopped = "precise"
                    break
                if perf_counter() - start >= max_time:
                    stopped = "max-time"
                    break
        bench.record_rounds(benchmark, durations)
        return result, stopped
    except (CodecFailure, *PASSES_THROUGH):
        raise
    except BaseException as error:
        raise CodecFailure(f"{where} failed: {type(error).__name__}: {error}") from error


def measure(benchmark, codec: Codec, quality: Quality, image: ImageRef, reference: np.ndarray, sweep) -> Measurement:
    """Time ``codec`` on ``reference`` with pytest-benchmark and record everything in its extra_info;
    ``sweep`` gives the metrics, the timing precision, the number of workers and the image store."""
    where = f"codec {codec.name!r} at quality {quality!r} on image {image.path}"
    timer = StageTimer()
    outputs = _Outputs(where, codec, reference.shape)

    def roundtrip():
        with timer.run():
            with stage("encode"):
                data = codec.encode(reference, quality)
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise CodecFailure(f"{where}: encode returned {type(data).__name__}, not bytes")
            with stage("decode"):
                out = codec.decode(bytes(data))
        return data, out

    try:
        metric_set.check_memory(sweep.metrics, reference)
    except metric_set.MetricError as error:
        raise CodecFailure(f"{where}: {error}") from error
    with Peak(RUNTIME.device) as peak:
        start = cpu_seconds()
        try:
            (data, decoded), stopped = _time(
                benchmark, roundtrip, timer, outputs, sweep.time_precision, where, codec.warm_up
            )
            roundtrips = cpu_seconds() - start
            estimates = _estimate(where, codec, reference, quality)
            if not sweep.store.intact(image, reference):  # before the metrics read it, or cache it
                raise CodecFailure(
                    f"{where}: the codec wrote into the reference image it was given (read-only; torch.from_numpy "
                    "ignores that): the item fails, and later items get the image decoded afresh"
                )
            start = cpu_seconds()
            result = _evaluate(where, codec, data, decoded, reference, sweep.metrics, timer.summary())
            metrics_cpu = cpu_seconds() - start
        except Exception:
            bench.mark_failed(benchmark)  # keeps an incomplete record out of the JSON
            raise
    height, width = reference.shape[:2]
    if estimates:
        benchmark.extra_info["estimates"] = estimates
    if result.set_features:
        benchmark.extra_info["set_features"] = result.set_features
    spread = outputs.spread(width * height)
    if spread:
        benchmark.extra_info["bpp_spread"] = spread
    benchmark.extra_info.update(
        {
            "kind": schema.RD,
            "width": width,
            "height": height,
            "bytes": len(result.bitstream),
            "bpp": result.bpp,
            "bitstream_sha256": hashlib.sha256(result.bitstream).hexdigest(),
            "decoded_sha256": pixels_sha256(result.decoded),  # two machines' JSONs compare at a glance
            "lossless": codec.lossless,
            "bit_exact": None if not codec.lossless else result.mismatch is None,
            "metrics": result.metrics,
            "timing": result.timings,
            "rounds_stopped": stopped,  # "precise", "max-time" or "timing disabled" (see _time)
            "peak_memory": peak.result(),  # codec round trips and metrics, above the item's start
            # all round trips (the warm-up too) and the metrics: the sweep's floor (sweep_efficiency.py)
            "cpu_s": {"roundtrips": roundtrips, "metrics": metrics_cpu},
            "workers": sweep.workers,
            "machine": machine(),  # where it was timed: a remote xdist worker's own
        }
    )
    return result
