"""The folder tree is the architecture: what each room may import, checked on the source."""

import ast
import json
import subprocess
import sys

import pytest

import pytest_codecbench
from conftest import REPO
from pytest_codecbench.kits import weights

PACKAGE = REPO / "pytest_codecbench"


def _imports(path) -> list[str]:
    """Every module a file imports, relative imports resolved against its package."""
    tree = ast.parse(path.read_text())
    package = path.relative_to(REPO).with_suffix("").parts[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found += [module] if node.module else [f"{module}.{alias.name}" for alias in node.names]
    return found


def test_adapters_import_only_the_api():
    for path in sorted((REPO / "codecs").rglob("*.py")):
        ours = [m for m in _imports(path) if m.startswith("pytest_codecbench")]
        assert all(m == "pytest_codecbench" for m in ours), (path, ours)
        tree = ast.parse(path.read_text())
        api = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "pytest_codecbench"]
        names = [alias.name for node in api for alias in node.names]
        assert set(names) <= set(pytest_codecbench.__all__), (path, set(names) - set(pytest_codecbench.__all__))


def test_only_the_plugin_hooks_into_pytest_and_nothing_below_imports_it():
    for path in sorted(PACKAGE.rglob("*.py")):
        room = path.relative_to(PACKAGE).parts[0]
        if room in ("plugin", "cli.py", "__init__.py"):
            continue
        assert not [m for m in _imports(path) if m.startswith("pytest_codecbench.plugin")], path


def test_no_adapter_reaches_into_another():
    for path in sorted((REPO / "codecs").rglob("*.py")):
        text = path.read_text()
        if "import_adapter(" in text:  # the matrix combines its folders; one transform file takes a public list
            assert path.name == "matrix.py" or ".TRANSFORMS" in text, path
        assert not [line for line in text.splitlines() if "import_adapter(" in line and "._" in line], path


def test_a_pillow_sweep_does_not_import_torch(project):
    project.makeconftest(
        """
        import sys

        def pytest_sessionfinish(session):
            print("torch imported:", "torch" in sys.modules)
        """
    )
    result = project.runpytest_subprocess("--codecs=jpeg,png", "--qualities=jpeg=50", "--metrics=psnr,ssim", "-s")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*torch imported: False*"])
    lpips = project.runpytest_subprocess("--codecs=png", "--metrics=psnr,lpips-alex", "-s")
    lpips.assert_outcomes(passed=2)
    lpips.stdout.fnmatch_lines(["*torch imported: True*"])


def test_a_zenodo_file_not_in_the_cache_has_a_path_that_does_not_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("CODECBENCH_CACHE", str(tmp_path))
    wanted = weights.ZenodoFile(123, "the MS-SSIM checkpoint", lambda name: "ssim" in name)
    assert not wanted.path.is_file()  # the header's skip forecast counts it as missing
    wanted.cache_folder.mkdir(parents=True)
    record = {"files": [{"key": "msssim.pt", "checksum": "md5:0"}]}
    (wanted.cache_folder / "record.json").write_text(json.dumps(record))
    assert wanted.path == wanted.cache_folder / "msssim.pt" and not wanted.path.is_file()
    (wanted.cache_folder / "record.json").write_text(json.dumps({"files": [{"key": "other.pt", "checksum": "md5:0"}]}))
    assert not wanted.path.is_file()  # the record's metadata itself is not the checkpoint


@pytest.mark.parametrize("module", ["pytest_codecbench", "pytest_codecbench.plugin", "pytest_codecbench.report"])
def test_each_room_imports_alone(module):
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
