"""Command-line codecs (kits/command_line.py, codecs/vtm.py), driven by a stand-in VTM: where a
program is found, what a run measures (the child's CPU time and peak memory), the VTM adapters
end to end, and vtm-compressai against CompressAI's own VTM bench class on the same programs."""

import json
import os
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, photo_like
from pytest_codecbench.codec import import_adapter
from pytest_codecbench.kits import command_line, ffmpeg
from pytest_codecbench.measure.memory import Peak
from pytest_codecbench.measure.timing import StageTimer, stage
from pytest_codecbench.report import build

# VTM's options as the adapters and CompressAI pass them; a "stream" that keeps each sample's high
# bits (fewer as the QP grows), so that a round trip is lossy, deterministic and rate-dependent.
STAND_IN = textwrap.dedent(
    """\
    #!{python}
    import os, struct, sys, time, zlib
    import numpy as np

    name, args = os.path.basename(sys.argv[0]), sys.argv[1:]
    with open(os.environ["STAND_IN_LOG"], "a") as log:
        log.write(name + " " + " ".join(args) + "\\n")
    if "--help" in args:
        print("VVCSoftware: VTM " + ("Encoder" if "Encoder" in name else "Decoder") + " Version 99.1 [stand-in]")
        sys.exit(1)
    value = lambda flag: args[args.index(flag) + 1]
    options = dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)
    if "Encoder" in name:
        assert open(value("-c")).read() == "IntraPeriod : 1\\n"
        width, height, qp = int(value("-wdt")), int(value("-hgt")), int(value("-q"))
        bits = int(options["InputBitDepth"])
        samples = np.fromfile(value("-i"), "<u2" if bits > 8 else np.uint8).astype(np.int64)
        assert samples.size == 3 * width * height, "raw size"
        drop = qp // 12 + bits - 8
        head = struct.pack(">HHBB", width, height, bits, drop)
        open(value("-b"), "wb").write(head + zlib.compress((samples >> drop).astype(np.uint16).tobytes()))
        ballast = bytearray(os.urandom(1)) * (64 << 20)  # touched: the child's peak is at least 64 MiB
        start = time.process_time()
        while time.process_time() - start < 0.2:  # the child's CPU time is at least 0.2 s
            pass
    else:
        data = open(value("-b"), "rb").read()
        width, height, bits, drop = struct.unpack_from(">HHBB", data)
        samples = np.frombuffer(zlib.decompress(data[6:]), np.uint16).astype(np.int64) << drop
        samples += (1 << drop) >> 1  # mid-point of the dropped bits
        out = int(value("-d"))
        samples = samples << (out - bits) if out >= bits else samples >> (bits - out)
        samples.astype("<u2" if out > 8 else np.uint8).tofile(value("-o"))
    """
)


@pytest.fixture
def vtm(tmp_path, monkeypatch):
    """A VTM build folder (encoder, decoder, cfg) of stand-ins; returns (folder, log of runs)."""
    folder = tmp_path / "vtm" / "bin"
    folder.mkdir(parents=True)
    for name in ("EncoderAppStatic", "DecoderAppStatic"):
        (folder / name).write_text(STAND_IN.format(python=sys.executable))
        (folder / name).chmod(0o755)
    (folder.parent / "cfg").mkdir()
    (folder.parent / "cfg" / "encoder_intra_vtm.cfg").write_text("IntraPeriod : 1\n")
    log = tmp_path / "runs.log"
    monkeypatch.setenv("STAND_IN_LOG", str(log))
    monkeypatch.delenv(command_line.variable("vtm"), raising=False)
    return folder, log


@pytest.fixture
def adapter(vtm):
    module = import_adapter(REPO / "codecs" / "vtm.py")
    module.versions.cache_clear()
    yield module
    module.versions.cache_clear()


def test_a_program_is_found_by_folder_by_file_by_bin_and_on_path(vtm, monkeypatch, tmp_path):
    folder, _ = vtm
    encoder = command_line.Tool("vtm", ("EncoderAppStatic", "EncoderApp"), "build it")
    decoder = command_line.Tool("vtm", ("DecoderAppStatic", "DecoderApp"), "build it")
    env = command_line.variable("vtm")
    assert env == "CODECBENCH_VTM"
    for setting in (folder, folder.parent, folder / "EncoderAppStatic"):  # the folder, its parent, a sibling
        monkeypatch.setenv(env, str(setting))
        assert (encoder.path(), decoder.path()) == (folder / "EncoderAppStatic", folder / "DecoderAppStatic")
        assert encoder.missing() is None
    monkeypatch.setenv(env, str(tmp_path / "nowhere"))
    assert encoder.path() is None
    assert encoder.missing() == (
        f"EncoderAppStatic or EncoderApp not found (looked in $CODECBENCH_VTM={tmp_path / 'nowhere'}): build it; "
        "then --tool vtm=PATH (or $CODECBENCH_VTM) names it or its folder"
    )
    monkeypatch.delenv(env)
    monkeypatch.setenv("PATH", str(folder))
    assert encoder.path() == folder / "EncoderAppStatic"
    monkeypatch.setenv("PATH", str(tmp_path))
    assert encoder.missing().startswith("EncoderAppStatic or EncoderApp not found (looked in PATH): build it")
    other = tmp_path / "ffmpeg-7"  # an executable of another name is taken as it is
    other.write_text("#!/bin/sh\n")
    other.chmod(0o755)
    monkeypatch.setenv("CODECBENCH_FFMPEG", str(other))
    assert command_line.Tool("ffmpeg", ("ffmpeg",), "").path() == other


def test_settings_take_name_equals_path_and_name_the_bad_entry(tmp_path):
    assert command_line.settings(["vtm = bin/vtm", "hm=/opt/hm"], "--tool", tmp_path) == {
        "vtm": tmp_path / "bin" / "vtm",
        "hm": Path("/opt/hm"),
    }
    with pytest.raises(ValueError, match=r"--tool 'vtm': expected NAME=PATH, e.g. vtm=/opt/vtm/bin"):
        command_line.settings(["vtm"], "--tool", tmp_path)


def test_a_run_counts_the_childs_cpu_time_and_peak_memory(vtm, tmp_path):
    folder, _ = vtm
    raw = tmp_path / "in.yuv"
    raw.write_bytes(bytes(3 * 16 * 8))
    timer = StageTimer()
    with Peak() as peak, timer.run(), stage("encode"):
        command_line.run(
            [str(folder / "EncoderAppStatic"), "-c", str(folder.parent / "cfg" / "encoder_intra_vtm.cfg")]
            + ["-i", str(raw), "-b", str(tmp_path / "out.bin"), "-q", "32", "-wdt", "16", "-hgt", "8"]
            + ["--InputBitDepth=8"]
        )
    assert peak.result()["child_process_mb"] >= 64
    assert timer.summary()["encode"]["cpu_median_s"] >= 0.2  # the stand-in spins that long by its own clock


def test_the_childs_peak_is_its_own_not_that_of_the_process_that_started_it(vtm, tmp_path):
    """wait4's ru_maxrss would report this process's 400 MiB: Linux keeps the high-water mark of the
    address space the child had before exec, this one's."""
    folder, _ = vtm
    raw = tmp_path / "in.yuv"
    raw.write_bytes(bytes(3 * 16 * 8))
    ballast = bytearray(os.urandom(1)) * (400 << 20)  # touched: resident in this process
    with Peak() as peak:
        command_line.run(
            [str(folder / "EncoderAppStatic"), "-c", str(folder.parent / "cfg" / "encoder_intra_vtm.cfg")]
            + ["-i", str(raw), "-b", str(tmp_path / "out.bin"), "-q", "32", "-wdt", "16", "-hgt", "8"]
            + ["--InputBitDepth=8"]
        )
    assert 64 <= peak.result()["child_process_mb"] < 200  # its 64 MiB and a Python interpreter's own
    del ballast


def test_a_failing_program_raises_with_its_last_words(tmp_path):
    script = tmp_path / "fails"
    script.write_text("#!/bin/sh\necho one >&2\necho 'two: bad option' >&2\nexit 3\n")
    script.chmod(0o755)
    with pytest.raises(command_line.ToolError, match=r"fails -x exited with 3: one \| two: bad option"):
        command_line.run([str(script), "-x"])
    # a program that exits without reading its input
    with pytest.raises(command_line.ToolError, match="exited with 3"):
        command_line.run([str(script)], stdin=bytes(1 << 20))


def test_ffmpeg_runs_are_measured_too():
    with Peak() as peak:
        ffmpeg.run(["-f", "lavfi", "-i", "color=c=gray:s=64x64:d=0.04", "-frames:v", "1", "-f", "null", "-"])
    assert peak.result()["child_process_mb"] > 1


@pytest.mark.parametrize("name", ["vtm", "vtm-compressai"])
def test_the_vtm_adapters_round_trip_from_the_bytes_alone(adapter, vtm, monkeypatch, name):
    folder, log = vtm
    monkeypatch.setenv("CODECBENCH_VTM", str(folder))
    codec = next(c for c in adapter.CODECS if c.name == name)
    assert codec.missing_requirement() is None
    image = photo_like(37, 22, 1)
    data = codec.encode(image, 32)
    assert adapter.HEADER.unpack_from(data) == (37, 22)
    decoded = codec.decode(bytes(data))
    assert decoded.shape == image.shape and decoded.dtype == np.uint8
    assert 0 < np.abs(decoded.astype(int) - image).mean() < 4
    assert len(codec.encode(image, 47)) < len(data)
    encoder, decoder = log.read_text().splitlines()[:2]
    bits = 10 if name == "vtm" else 8
    assert "-q 32 -wdt 37 -hgt 22 -fr 1 -f 1 --InputChromaFormat=444" in encoder
    assert f"--InputBitDepth={bits}" in encoder and decoder.endswith(f"-d {bits}")
    assert codec.versions() == {
        "vtm-encoder": "99.1",
        "vtm-decoder": "99.1",
        "cfg": f"encoder_intra_vtm.cfg sha256:{command_line.file_sha256(folder.parent / 'cfg' / adapter.CFG)}",
    }


def test_vtm_compressai_equals_compressais_own_vtm_bench(adapter, vtm, monkeypatch, tmp_path):
    """CompressAI's bench class run on the same stand-in programs: the same stream and image."""
    from compressai.utils.bench.codecs import VTM

    folder, _ = vtm
    monkeypatch.setenv("CODECBENCH_VTM", str(folder))
    image = photo_like(48, 32, 5)
    Image.fromarray(image).save(tmp_path / "image.png")
    args = type("Args", (), {"build_dir": str(folder), "config": str(adapter.cfg()), "rgb": False})
    info, theirs = VTM(args)._run_impl(str(tmp_path / "image.png"), 37)
    codec = next(c for c in adapter.CODECS if c.name == "vtm-compressai")
    data = codec.encode(image, 37)
    assert 8 * (len(data) - adapter.HEADER.size) / image[:, :, 0].size == info["bpp"]
    assert np.array_equal(codec.decode(data), np.asarray(theirs))


def test_a_sweep_records_the_child_no_warm_up_and_versions(project, vtm):
    folder, log = vtm
    result = project.runpytest(
        "--codecs=vtm", "--qualities=27,42", "--metrics=psnr", f"--tool=vtm={folder}", "--benchmark-json=out.json"
    )
    result.assert_outcomes(passed=4)
    encodes = [line for line in log.read_text().splitlines() if line.startswith("EncoderAppStatic -c")]
    assert len(encodes) == 4  # one timed run per item, no warm-up
    data = json.loads((project.path / "out.json").read_text())
    assert data["codecbench"]["codecs"]["vtm"]["versions"]["vtm-encoder"] == "99.1"
    for bench in data["benchmarks"]:
        extra = bench["extra_info"]
        assert extra["peak_memory"]["child_process_mb"] >= 64
        assert extra["timing"]["encode/vtm"]["cpu_median_s"] >= 0.2
        assert set(extra["estimates"]) == {"vtm_encoder_startup_ms", "vtm_decoder_startup_ms"}
        assert bench["stats"]["rounds"] == 1
    # the report says what the times include, and shows the child's memory
    assert build([project.path / "out.json"], project.path / "report") == 0
    (folder,) = [path for path in (project.path / "report").iterdir() if path.is_dir()]
    readme = (folder / "README.md").read_text()
    assert "include starting their program once per encode and per decode: vtm (vtm decoder " in readme
    assert "peak_child_process_mb" in (folder / "stage-times.csv").read_text()


def test_without_vtm_its_items_skip_saying_how_to_get_it(project, vtm, tmp_path):
    result = project.runpytest("--codecs=vtm", "--qualities=32", f"--tool=vtm={tmp_path / 'none'}")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(
        ["codecbench: its items skip: codec 'vtm' cannot run here: EncoderAppStatic or EncoderApp not found*build VTM*"]
    )


def test_a_malformed_tool_setting_is_a_usage_error(project):
    result = project.runpytest("--codecs=vtm", "--tool=vtm")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--tool 'vtm': expected NAME=PATH*"])


def test_tools_are_read_from_the_ini_relative_to_its_folder(project, vtm, monkeypatch):
    folder, _ = vtm
    ini = project.path / "tox.ini"
    relative = os.path.relpath(folder, project.path)
    ini.write_text(ini.read_text().rstrip() + f"\ncodecbench_tools =\n    vtm = {relative}\n")
    result = project.runpytest("--codecs=vtm", "--qualities=42", "--metrics=psnr")
    result.assert_outcomes(passed=2)


def test_the_version_pattern_reads_the_real_vtms_first_line(adapter):
    line = "VVCSoftware: VTM Encoder Version 23.13 [Linux][GCC 12.2.0][64 bit] [SIMD=AVX2] "
    assert command_line.re.search(adapter.VERSION, line)[1] == "23.13"


def test_a_program_interrupted_in_its_item_does_not_outlive_it(tmp_path):
    """The time limit (or Ctrl-C) lands while the program runs: it is killed and reaped."""
    import signal

    script = tmp_path / "sleeps"
    script.write_text(f"#!/bin/sh\necho $$ > {tmp_path / 'pid'}\nexec sleep 60\n")
    script.chmod(0o755)

    def interrupt(*_):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with pytest.raises(KeyboardInterrupt):
            command_line.run([str(script)])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):  # killed and reaped: no such process, not even a zombie
        os.kill(pid, 0)
