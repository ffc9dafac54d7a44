"""Sweeps that survive: durable records, resume after kill -9, native crashes, shards, remote gateways."""

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import execnet
import pytest

from pytest_codecbench.report import build

pytestmark = pytest.mark.slow  # real sweeps in subprocesses

# zlib of the raw samples, with a pause so that a kill lands mid-sweep; and a codec whose
# quality 2 aborts the process inside C code (os.abort is C's abort()).
ADAPTERS = """
import os
import time
import zlib

import numpy as np

from pytest_codecbench import Codec


def encode(image, level, pause=0.0):
    time.sleep(pause)
    height, width, _ = image.shape
    return height.to_bytes(4, "big") + width.to_bytes(4, "big") + zlib.compress(image.tobytes(), level)


def decode(data):
    height, width = int.from_bytes(data[:4], "big"), int.from_bytes(data[4:8], "big")
    return np.frombuffer(zlib.decompress(data[8:]), np.uint8).reshape(height, width, 3)


def encode_or_abort(image, quality):
    if quality == 2:
        os.abort()
    return encode(image, quality)


CODECS = [
    Codec("slowzlib", lambda image, level: encode(image, level, 0.25), decode, qualities=tuple(range(1, 9)),
          quality_label="z", lossless=True),
    Codec("aborts", encode_or_abort, decode, qualities=(1, 2, 3), lossless=True),
]
"""
TIME_COLUMNS = ("_ms", "_mps", "_ci_pct")
MEASURED = ("timing", "peak_memory", "cpu_s")


@pytest.fixture
def sweep_project(project):
    """The test project, with the adapters above in mine/ (named in its ini)."""
    (project.path / "mine").mkdir()
    (project.path / "mine" / "survival.py").write_text(ADAPTERS)
    ini = (project.path / "tox.ini").read_text()
    (project.path / "tox.ini").write_text(ini.replace("codecbench_codec_dirs = ", "codecbench_codec_dirs = mine\n    "))
    return project


def command(project, *args) -> list[str]:
    return [sys.executable, "-m", "pytest", "test_rd.py", "-q", "-p", "no:cacheprovider", *args]


def records_in(folder: Path) -> int:
    return len(list(folder.glob("*/*.json")))


def items(path: Path) -> dict:
    """Item id -> its record without the timings and peak memory (those differ between any two runs)."""
    records = json.loads(path.read_text())["benchmarks"]
    return {r["name"]: {k: v for k, v in r["extra_info"].items() if k not in MEASURED} for r in records}


def tables(paths: list[Path], out: Path) -> dict[str, list[dict]]:
    """The report's rd and per-image tables, without the time columns."""
    assert build(paths, out, anchor="jpeg") == 0
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    rows = {name: csv.DictReader(io.StringIO((folder / name).read_text())) for name in ("rd.csv", "per-image.csv")}
    return {name: [{k: v for k, v in r.items() if not k.endswith(TIME_COLUMNS)} for r in rows[name]] for name in rows}


def test_kill_9_midway_then_resume_measures_only_the_rest(sweep_project):
    project = sweep_project
    sweep = ["--codecs=jpeg,slowzlib", "--qualities=jpeg=30,70", "-n", "2"]
    records = project.path / "records"
    running = subprocess.Popen(
        command(project, *sweep, f"--records={records}", "--benchmark-json=killed.json"),
        cwd=project.path,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    total = 2 * 2 + 8 * 2
    deadline = time.monotonic() + 120
    while records_in(records) < total // 2 and time.monotonic() < deadline and running.poll() is None:
        time.sleep(0.02)
    assert running.poll() is None, "the sweep ended before it could be killed"
    os.killpg(running.pid, signal.SIGKILL)  # the controller and its workers, at once
    running.wait()
    done = records_in(records)
    assert total // 2 <= done < total and not (project.path / "killed.json").exists()

    resumed = subprocess.run(
        command(project, *sweep, f"--records={records}", "--resume", "-rs", "--benchmark-json=resumed.json"),
        cwd=project.path,
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stdout
    assert f"{total - done} passed, {done} skipped" in resumed.stdout  # measured only what was missing
    assert "resumed: measured by an earlier run, record " in resumed.stdout
    assert "fixture was not used" not in resumed.stdout

    whole = subprocess.run(
        command(project, *sweep, "--records=none", "--benchmark-json=whole.json"),
        cwd=project.path,
        capture_output=True,
        text=True,
    )
    assert whole.returncode == 0, whole.stdout
    assert items(project.path / "resumed.json") == items(project.path / "whole.json")
    assert len(items(project.path / "whole.json")) == total
    assert tables([project.path / "resumed.json"], project.path / "r1") == tables(
        [project.path / "whole.json"], project.path / "r2"
    )


def test_a_stale_record_is_measured_again(sweep_project):
    project = sweep_project
    base = ["--codecs=jpeg", "--qualities=30", "--records=records", "--resume"]
    project.runpytest(*base, "--metrics=psnr").assert_outcomes(passed=2)
    project.runpytest(*base, "--metrics=psnr").assert_outcomes(skipped=2)
    project.runpytest(*base, "--metrics=psnr,ssim").assert_outcomes(passed=2)  # another metric set
    (project.path / "imgs" / "img0.png").write_bytes((project.path / "imgs" / "img1.png").read_bytes())
    project.runpytest(*base, "--metrics=psnr").assert_outcomes(passed=1, skipped=1)  # other pixels


def test_a_codec_that_aborts_fails_only_its_items(sweep_project):
    project = sweep_project
    result = project.runpytest("--codecs=aborts,jpeg", "--qualities=jpeg=50", "-n", "2", "--benchmark-json=out.json")
    result.assert_outcomes(passed=2 * 2 + 2, failed=2)
    for image in ("img0", "img1"):
        result.stdout.fnmatch_lines(
            [f"*codec 'aborts' at quality 2 on image imgs/{image}.png ended its worker process: a crash in native*"]
        )
    measured = items(project.path / "out.json")
    assert sorted(measured) == sorted(
        f"test_rd[{codec}-{image}]" for codec in ("aborts-q1", "aborts-q3", "jpeg-q50") for image in ("img0", "img1")
    )
    failed = json.loads((project.path / "out.json").read_text())["codecbench"]["failed"]
    assert [(f["codec"], f["quality"], f["image"]) for f in failed] == [("aborts", 2, "img0"), ("aborts", 2, "img1")]


def test_shards_merge_into_the_whole_run(sweep_project):
    project = sweep_project
    sweep = ["--codecs=jpeg,slowzlib", "--qualities=jpeg=30,70 slowzlib=1,8", "--records=none"]
    project.runpytest(*sweep, "--benchmark-json=whole.json").assert_outcomes(passed=8)
    shards = []
    for index in (1, 2, 3):
        shards.append(project.path / f"shard{index}.json")
        result = project.runpytest(*sweep, f"--shard={index}/3", f"--benchmark-json={shards[-1]}")
        assert result.parseoutcomes()["passed"] in (2, 3)
    assert sum(len(items(s)) for s in shards) == 8
    assert {k: v for s in shards for k, v in items(s).items()} == items(project.path / "whole.json")
    assert tables(shards, project.path / "merged") == tables([project.path / "whole.json"], project.path / "single")


def _socket_server() -> tuple[subprocess.Popen, int]:
    """execnet's socket server on a free port of 127.0.0.1: a stand-in for another machine."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = Path(execnet.__file__).parent / "script" / "socketserver.py"
    server = subprocess.Popen(
        [sys.executable, str(script), f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return server, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("execnet socket server did not start")


def test_remote_gateways_on_127_0_0_1_give_the_single_machine_results(sweep_project, tmp_path):
    project = sweep_project
    # Remote workers get the project by rsync into their own folder; paths on the command
    # line are given absolute (xdist maps them into the synced copy), the images too.
    sweep = [
        f"--dataset={project.path / 'imgs'}",
        "--codecs=jpeg,slowzlib",
        "--qualities=jpeg=30,70 slowzlib=1",
        "--records=none",
    ]
    servers = [_socket_server() for _ in range(2)]
    try:
        gateways = []
        for index, (_, port) in enumerate(servers):
            (tmp_path / f"host{index}").mkdir()
            gateways += ["--tx", f"socket=127.0.0.1:{port}//chdir={tmp_path / f'host{index}'}"]
        run = [
            sys.executable,
            "-m",
            "pytest",
            str(project.path / "test_rd.py"),
            "-q",
            "-p",
            "no:cacheprovider",
            *sweep,
            "-d",
            *gateways,
            f"--rsyncdir={project.path}",
            f"--benchmark-json={project.path / 'gateways.json'}",
        ]
        remote = subprocess.run(run, cwd=project.path, capture_output=True, text=True, timeout=300)
    finally:
        for server, _ in servers:
            server.kill()
    assert remote.returncode == 0, remote.stdout + remote.stderr
    assert (tmp_path / "host0" / project.path.name / "test_rd.py").exists()  # it ran from the synced copy
    local = subprocess.run(
        command(project, *sweep, "--benchmark-json=local.json"), cwd=project.path, capture_output=True, text=True
    )
    assert local.returncode == 0, local.stdout
    remote_items, local_items = items(project.path / "gateways.json"), items(project.path / "local.json")
    assert len(local_items) == 6
    for name, record in local_items.items():
        assert {k: v for k, v in remote_items[name].items() if k != "workers"} == {
            k: v for k, v in record.items() if k != "workers"
        }
    assert tables([project.path / "gateways.json"], project.path / "r1") == tables(
        [project.path / "local.json"], project.path / "r2"
    )
