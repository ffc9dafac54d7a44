"""codecbench report: merging, tables, BD-rate against the bjontegaard package, bad input."""

import copy
import csv
import json
import re
import subprocess
import sys
import warnings
from html import escape
from pathlib import Path

import bjontegaard
import pytest
from PIL import Image

from conftest import REPO, photo_like
from pytest_codecbench.cli import main
from pytest_codecbench.report import build
from pytest_codecbench.report.load import merge
from pytest_codecbench.report.tables import bd_rows, rd_rows

GRID = "jpeg=15,30,50,70,90 jxl=15,30,50,70,90 webp=15,30,50,70,90"


def sweep(folder, *args):
    """A real sweep through pytest, as a user runs it; returns the JSON path."""
    out = folder / "run.json"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "benchmarks/test_rd.py",
        "-q",
        "-p",
        "no:cacheprovider",
        "--benchmark-min-rounds=1",
        "--benchmark-max-time=0",
        f"--benchmark-json={out}",
        f"--records={folder / 'records'}",
        *args,
    ]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    return out


def groups(out: Path) -> list[Path]:
    """The group folders of a report (beside them: index.html, index.md, plotly.min.js)."""
    return [path for path in out.iterdir() if path.is_dir()]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "imgs").mkdir()
    for i in range(3):
        Image.fromarray(photo_like(200, 184, i)).save(folder / "imgs" / f"img{i}.png")
    return sweep(folder, f"--dataset={folder / 'imgs'}", "--codecs=jpeg,jxl,webp,png", f"--qualities={GRID}")


def test_bd_rate_of_the_anchor_against_itself_is_zero(run):
    (group,), _ = merge([run])
    jpeg = next(row for row in bd_rows(group, "jpeg") if row["codec"] == "jpeg")
    for column in ("psnr", "psnr_y", "ssim", "ms_ssim_db"):
        assert jpeg[f"bd_rate_{column}"] == pytest.approx(0, abs=1e-9)
        assert jpeg[f"bd_{column}"] == pytest.approx(0, abs=1e-9)
    assert jpeg["bd_rate_mean"] == pytest.approx(0, abs=1e-9)


def test_several_anchors_each_get_their_table(run, tmp_path):
    assert main(["report", str(run), "-o", str(tmp_path), "--anchor", "jpeg,webp"]) == 0
    (folder,) = groups(tmp_path)
    (group,), _ = merge([run])
    assert (folder / "bd-rate-webp.csv").read_text().count("\n") == 1 + len(bd_rows(group, "webp")) == 1 + 3
    readme = (folder / "README.md").read_text()
    assert "## BD-rate against jpeg (pchip)" in readme and "## BD-rate against webp (pchip)" in readme


@pytest.mark.parametrize("method", ["pchip", "akima"])
def test_bd_rate_agrees_with_the_bjontegaard_package(run, method):
    (group,), _ = merge([run])
    report = json.loads(run.read_text())
    curves = {}
    for codec in ("jpeg", "jxl"):  # the mean RD curve, computed here from the raw JSON
        points = {}
        for bench in report["benchmarks"]:
            if bench["params"]["codec"] == codec:
                points.setdefault(bench["params"]["quality"], []).append(bench["extra_info"])
        rows = sorted(
            (sum(r["bpp"] for r in rs) / len(rs), sum(r["metrics"]["psnr"] for r in rs) / len(rs))
            for rs in points.values()
        )
        curves[codec] = ([r for r, _ in rows], [d for _, d in rows])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = bjontegaard.bd_rate(*curves["jpeg"], *curves["jxl"], method=method)
        expected_psnr = bjontegaard.bd_psnr(*curves["jpeg"], *curves["jxl"], method=method)
    jxl = next(row for row in bd_rows(group, "jpeg", method) if row["codec"] == "jxl")
    assert jxl["bd_rate_psnr"] == pytest.approx(expected, rel=1e-9)
    assert jxl["bd_psnr"] == pytest.approx(expected_psnr, rel=1e-9)


def test_rd_table_averages_psnr_in_db_per_image(run):
    (group,), _ = merge([run])
    report = json.loads(run.read_text())
    values = [b["extra_info"]["metrics"]["psnr"] for b in report["benchmarks"] if b["param"].startswith("jpeg-q50-")]
    row = next(r for r in rd_rows(group) if r["codec"] == "jpeg" and r["quality"] == "50")
    assert row["images"] == 3 and row["psnr"] == pytest.approx(sum(values) / 3, rel=1e-12)


def shard(run, folder, parts):
    report = json.loads(run.read_text())
    paths = []
    for index in range(parts):
        part = copy.deepcopy(report)
        part["benchmarks"] = report["benchmarks"][index::parts]
        paths.append(folder / f"shard{index}.json")
        paths[-1].write_text(json.dumps(part))
    return paths


def test_shards_merge_into_the_report_of_the_whole_run(run, tmp_path):
    assert build([run], tmp_path / "whole") == 0
    assert build(shard(run, tmp_path, 3), tmp_path / "merged") == 0
    (whole,) = groups(tmp_path / "whole")
    (merged,) = groups(tmp_path / "merged")
    assert whole.name == merged.name
    for name in ("rd.csv", "per-image.csv", "bd-rate.csv", "stage-times.csv"):
        assert (whole / name).read_text() == (merged / name).read_text(), name


def test_duplicates_are_reported_once_with_a_warning(run, tmp_path, capsys):
    (group,), _ = merge([run, run])
    (line,) = capsys.readouterr().err.splitlines()  # one line on stderr, not a Python warning with a source path
    assert re.fullmatch(
        r"codecbench report: .*run.json: \d+ items were already in an earlier file; the records "
        r"of .*run.json are kept",
        line,
    )
    assert len(group.items) == len(json.loads(run.read_text())["benchmarks"])


def test_other_crops_datasets_and_machines_are_kept_apart(run, tmp_path):
    other = json.loads(run.read_text())
    other["codecbench"]["crop"] = [128, 128]
    (tmp_path / "crop.json").write_text(json.dumps(other))
    other["machine_info"]["cpu"]["brand_raw"] = "Another CPU"
    for bench in other["benchmarks"]:  # each item names the machine that timed it
        bench["extra_info"]["machine"] = "Another CPU, 8 cores"
    (tmp_path / "machine.json").write_text(json.dumps(other))
    groups, _ = merge([run, tmp_path / "crop.json", tmp_path / "machine.json"])
    assert len(groups) == 3 and len({g.name for g in groups}) == 3


def test_bad_input_gets_a_clear_message_and_the_rest_is_reported(run, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "truncated.json").write_text(run.read_text()[:5000])
    plain = json.loads(run.read_text())
    del plain["codecbench"]
    (tmp_path / "plain.json").write_text(json.dumps(plain))
    empty = json.loads(run.read_text())
    empty["benchmarks"] = []
    (tmp_path / "empty.json").write_text(json.dumps(empty))
    files = ["notes.txt", "truncated.json", "plain.json", "missing.json", "empty.json"]
    status = main(["report", *(str(tmp_path / f) for f in files), str(run), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert f"codecbench report: {tmp_path / 'empty.json'}: an empty run, no items measured" in err
    assert status == 1
    assert "notes.txt: not valid JSON, truncated?" in err
    assert "truncated.json: not valid JSON, truncated?" in err
    assert "plain.json: a pytest-benchmark report, but not written by codecbench" in err
    assert "missing.json: no such file" in err
    (folder,) = groups(tmp_path / "out")
    assert (folder / "rd.csv").read_text().count("\n") == 1 + 15 + 1  # header, 15 lossy points, png


def test_only_bad_input_writes_nothing(tmp_path, capsys):
    (tmp_path / "a.json").write_text("{}")
    assert main(["report", str(tmp_path / "a.json"), "-o", str(tmp_path / "out")]) == 2
    assert "nothing written" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_malformed_reports_and_items_are_named_and_the_rest_is_reported(run, tmp_path, capsys):
    good = json.loads(run.read_text())
    (tmp_path / "folder.json").mkdir()
    broken = {}
    for name, change in {
        "no-dataset": lambda r: r["codecbench"].pop("dataset"),
        "null-metrics": lambda r: r["codecbench"].update(metrics=None),
        "null-benchmarks": lambda r: r.update(benchmarks=None),
    }.items():
        report = copy.deepcopy(good)
        change(report)
        broken[name] = _write(tmp_path / f"{name}.json", report)
    items = copy.deepcopy(good)
    items["benchmarks"][0]["extra_info"].pop("timing")
    items["benchmarks"][1]["extra_info"]["metrics"] = None
    items["benchmarks"][2]["extra_info"]["bpp"] = "abc"
    first = [b["name"] for b in items["benchmarks"][:3]]
    status = main(
        [
            "report",
            str(tmp_path / "folder.json"),
            *map(str, broken.values()),
            str(_write(tmp_path / "items.json", items)),
            "-o",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert status == 1
    assert f"{tmp_path / 'folder.json'}: a folder, not a JSON file" in err
    assert "no-dataset.json: codecbench.dataset has no name" in err
    assert "null-metrics.json: codecbench.metrics is not a table of metric columns" in err
    assert "null-benchmarks.json: not a pytest-benchmark JSON report" in err
    assert f"items.json: item {first[0]!r} has no encode and decode times; left out" in err
    assert f"items.json: item {first[1]!r} has metrics None; left out" in err
    assert f"items.json: item {first[2]!r} has bpp 'abc'; left out" in err
    (folder,) = groups(tmp_path / "out")
    assert len((folder / "per-image.csv").read_text().splitlines()) == 1 + len(good["benchmarks"]) - 3


def test_names_from_json_reach_no_file_path_markup_or_mathtext(run, tmp_path):
    report = json.loads(run.read_text())
    rename = {"jpeg": "bad$\\frac$", "webp": "<b>bold</b>"}
    for bench in report["benchmarks"]:
        bench["params"]["codec"] = rename.get(bench["params"]["codec"], bench["params"]["codec"])
        bench["extra_info"]["metrics"]["../../x"] = bench["extra_info"]["metrics"]["psnr"]
    report["codecbench"]["codecs"] = {rename.get(k, k): v for k, v in report["codecbench"]["codecs"].items()}
    report["codecbench"]["metrics"]["../../x"] = {"label": "$\\frac$ dB", "higher_is_better": True}
    assert build([_write(tmp_path / "odd.json", report)], tmp_path / "out", anchor="jxl") == 0
    (folder,) = groups(tmp_path / "out")
    assert (folder / "rd-x.png").is_file() and not (tmp_path / "x.png").exists()
    assert len(list(folder.glob("rd-*.png"))) == len(report["codecbench"]["metrics"])
    readme = (folder / "README.md").read_text()
    assert "&lt;b&gt;bold&lt;/b&gt;" in readme and "<b>" not in readme
    assert "bad$\\frac$" in (folder / "rd.csv").read_text()


def test_a_single_quality_point_has_no_bd_rate(run):
    report = json.loads(run.read_text())
    report["benchmarks"] = [
        b for b in report["benchmarks"] if b["params"]["codec"] != "webp" or b["params"]["quality"] == 50
    ]
    (group,), _ = merge([_write(run.parent / "single.json", report)])
    webp = next(row for row in bd_rows(group, "jpeg") if row["codec"] == "webp")
    assert webp["bd_rate_psnr"] is None and webp["note_psnr"] == "fewer than 2 points"
    assert webp["bd_rate_mean"] is None


def _write(path, data):
    path.write_text(json.dumps(data))
    return path


@pytest.mark.slow
def test_known_orderings_hold_on_photographs(tmp_path):
    run = sweep(
        tmp_path,
        "--dataset=default",
        "--max-images=3",
        "--crop=256",
        "--codecs=jpeg,jxl,avif-s10",
        "--qualities=20,40,60,80",
        "--metrics=psnr,ms-ssim",
    )
    (group,), _ = merge([run])
    bd = {row["codec"]: row for row in bd_rows(group, "jpeg")}
    for codec in ("jxl", "avif-s10"):
        assert bd[codec]["bd_rate_psnr"] < -10, bd[codec]  # fewer bits than JPEG at equal PSNR
        assert bd[codec]["bd_rate_ms_ssim_db"] < 0, bd[codec]


CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture
def browser():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(f"needs Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER})")
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


@pytest.mark.slow
def test_leaderboard_page_in_headless_chromium(run, tmp_path, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    report = json.loads(run.read_text())
    report["codecbench"]["codecs"]["jpeg"]["description"] = "<script>alert('x')</script> & co"
    report["codecbench"]["codecs"]["ghost"] = {"description": "learned, no weights here", "lossless": False}
    report["codecbench"]["skipped"] = [{"test": "test_rd", "codec": "ghost", "items": 3, "reason": "weights missing"}]
    assert build([_write(tmp_path / "run.json", report)], tmp_path / "out") == 0
    (page,) = (tmp_path / "out").glob("*/index.html")
    browser.get(page.as_uri())
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
    script = browser.execute_script
    # no network: the one script file is plotly.js from the report's folder
    assert script("return Array.from(document.scripts, s => s.src).filter(Boolean)") == [
        (tmp_path / "out" / "plotly.min.js").as_uri()
    ]
    assert script("return typeof Plotly") == "object"
    board = browser.find_element(By.CSS_SELECTOR, "table[data-anchor=jpeg]")
    assert "<script>alert('x')</script> & co" in board.text
    assert "ghost" in browser.find_element(By.ID, "unmeasured").text and "weights missing" in browser.page_source

    # the chart: one trace per lossy codec; hovering a point shows codec, quality, bpp and metric
    chart = browser.find_element(By.ID, "rd-chart")
    assert script("return document.getElementById('rd-chart').data.map(t => t.name)") == ["jpeg", "jxl", "webp"]
    x, y, bpp, value = script("""
        const gd = document.getElementById('rd-chart'), trace = gd.data[1], size = gd._fullLayout._size;
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        return [size.l + xa.l2p(xa.d2l(trace.x[2])), size.t + ya.l2p(trace.y[2]), trace.x[2], trace.y[2]];""")
    script("arguments[0].scrollIntoView()", chart)
    offset = (x - chart.size["width"] / 2, y - chart.size["height"] / 2)
    ActionChains(browser).move_to_element_with_offset(chart, *offset).perform()
    hover = browser.find_element(By.CSS_SELECTOR, ".hoverlayer .hovertext").text
    assert "jxl" in hover and "quality 50" in hover and f"{bpp:.4f} bpp" in hover and f"{value:.4f}" in hover

    # a click on a legend entry hides the codec; it stays hidden when the metric changes
    toggle = browser.find_elements(By.CSS_SELECTOR, "#rd-chart .legend .traces .legendtoggle")[1]
    ActionChains(browser).move_to_element(toggle).click().perform()
    hidden = "return document.getElementById('rd-chart').data[1].visible === 'legendonly'"
    WebDriverWait(browser, 3).until(lambda _: script(hidden))  # plotly waits out a double click first
    Select(browser.find_element(By.ID, "metric")).select_by_value("ms_ssim_db")
    assert script("return document.getElementById('rd-chart').layout.yaxis.title.text").startswith("MS-SSIM (dB")
    assert script(hidden)

    # one image's curves: the per-image values
    Select(browser.find_element(By.ID, "image")).select_by_value("img1")
    shown = script("const t = document.getElementById('rd-chart').data[0]; return [t.x, t.y]")
    per_image = sorted(
        (float(r["bpp"]), float(r["ms_ssim_db"]))
        for r in csv.DictReader((page.parent / "per-image.csv").read_text().splitlines())
        if r["codec"] == "jpeg" and r["image"] == "img1"
    )
    assert [list(pair) for pair in zip(*shown, strict=True)] == [pytest.approx(list(p), rel=1e-5) for p in per_image]

    # the BD-rate anchor switches among precomputed tables
    Select(browser.find_element(By.ID, "anchor")).select_by_value("webp")
    assert not browser.find_element(By.CSS_SELECTOR, "table[data-anchor=jpeg]").is_displayed()
    webp_board = browser.find_element(By.CSS_SELECTOR, "table[data-anchor=webp]")
    webp_row = next(r for r in webp_board.find_elements(By.CSS_SELECTOR, "tbody tr") if r.text.startswith("webp"))
    assert " 0 " in f" {webp_row.text} " and "-0" not in webp_row.text
    for cell in browser.find_elements(By.CSS_SELECTOR, "td.flag"):  # flagged cells say why on hover
        assert cell.get_attribute("title") and cell.get_attribute("textContent").endswith("†")

    # tables sort on a click
    headers = browser.find_elements(By.CSS_SELECTOR, "#complexity th")
    column = next(i for i, h in enumerate(headers) if h.text == "encode_mps")

    def values():
        rows = browser.find_elements(By.CSS_SELECTOR, "#complexity tbody tr")
        return [float(row.find_elements(By.TAG_NAME, "td")[column].text) for row in rows]

    headers[column].click()
    assert values() == sorted(values()) and len(values()) == 4
    headers[column].click()
    assert values() == sorted(values(), reverse=True)
    assert headers[column].get_attribute("aria-sort") == "descending"


def test_several_machines_get_an_index_with_their_speeds_side_by_side(run, tmp_path):
    other = json.loads(run.read_text())
    for bench in other["benchmarks"]:
        bench["extra_info"]["machine"] = "A GPU server, 64 cores"
        bench["extra_info"]["timing"]["encode"]["wall_median_s"] /= 10
    assert build([run, _write(tmp_path / "server.json", other)], tmp_path / "out") == 0
    index = (tmp_path / "out" / "index.html").read_text()
    folders = groups(tmp_path / "out")
    assert len(folders) == 2 and all(f'href="{f.name}/index.html"' in index for f in folders)
    speed_section = (tmp_path / "out" / "index.md").read_text().split("## Speed on imgs (full)")[1]
    table = [[cell.strip() for cell in line.split("|")[1:-1]] for line in speed_section.splitlines() if line[:1] == "|"]
    header, rows = table[0], {row[0]: row for row in table[2:]}
    speed = dict(zip(header, rows["jpeg"], strict=True))
    number = lambda text: float(text.replace(",", ""))  # noqa: E731  (4 significant digits, thousands grouped)
    server = number(speed["encode MP/s, A GPU server, 64 cores"])
    here = number(next(v for c, v in speed.items() if c.startswith("encode MP/s") and "GPU" not in c))
    assert server == pytest.approx(10 * here, rel=2e-3)  # the same items, timed 10× faster there


def test_no_anchor_in_the_data_picks_one_and_says_so(run, tmp_path, capsys):
    data = json.loads(run.read_text())
    data["benchmarks"] = [b for b in data["benchmarks"] if b["params"]["codec"] != "jpeg"]
    assert build([_write(tmp_path / "run.json", data)], tmp_path / "out", anchor="jpeg") == 0
    err = capsys.readouterr().err
    assert "anchor 'jpeg' has no lossy curve here; BD-rate against 'jxl' instead (choose one with --anchor NAME" in err
    (folder,) = groups(tmp_path / "out")
    assert "## BD-rate against jxl (pchip)" in (folder / "README.md").read_text()
    page = (folder / "index.html").read_text()
    assert '<option value="jxl" selected>' in page and "against jpeg" not in page


def test_only_lossless_codecs_write_no_plots_and_no_warnings(run, tmp_path):
    data = json.loads(run.read_text())
    data["benchmarks"] = [b for b in data["benchmarks"] if b["params"]["codec"] == "png"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert build([_write(tmp_path / "run.json", data)], tmp_path / "out") == 0
    (folder,) = groups(tmp_path / "out")
    assert list(folder.glob("*.png")) == [] and "No BD-rate: no lossy codec" in (folder / "README.md").read_text()


def test_flagged_values_are_marked_in_their_cells_and_explained_once(run, tmp_path):
    assert build([run], tmp_path / "out", anchor="jpeg") == 0
    (folder,) = groups(tmp_path / "out")
    readme = (folder / "README.md").read_text()
    bd = [r for r in csv.DictReader((folder / "bd-rate.csv").read_text().splitlines())]
    flagged = sum(bool(r[k] and r[f"bd_rate_{k[5:]}"]) for r in bd for k in r if k.startswith("note_"))
    section = readme.split("## BD-rate against jpeg")[1].split("## ")[0]
    assert "| note_" not in section and section.count("†") == flagged + 1  # each flagged cell, and the legend
    jpeg = next(r for r in bd if r["codec"] == "jpeg")
    assert {jpeg[k] for k in jpeg if k.startswith("bd_rate_")} == {"0"}  # the anchor itself: 0, not -0


def test_the_bpp_axis_turns_logarithmic_for_wide_ranges():
    from pytest_codecbench.report.plots import bpp_axis

    narrow = [{"codec": "a", "bpp": 0.2}, {"codec": "a", "bpp": 1.8}, {"codec": "b", "bpp": 9.0}]
    assert not bpp_axis(narrow, {"a"})["log"]  # b is lossless: not counted
    wide = bpp_axis(narrow, {"a", "b"})
    assert wide["log"] and "0.2–9 bpp (45×), more than 10×" in wide["reason"]
    assert bpp_axis(narrow, {"a", "b"}, "linear")["log"] is False and bpp_axis(narrow, {"a"}, "log")["log"]


def test_codecs_that_were_skipped_are_listed_with_the_reason(project):
    (project.path / "mine").mkdir()
    (project.path / "mine" / "absent.py").write_text(
        "from pytest_codecbench.codec import Codec\n"
        "CODECS = [Codec('absent', lambda i, q: b'', lambda d: None, qualities=(1, 2), requires=('no_such_lib',))]\n"
    )
    result = project.runpytest(
        "--codec-dir=mine", "--codecs=absent,png", "--qualities=png=6", "--benchmark-json=o.json"
    )
    result.assert_outcomes(passed=2, skipped=4)
    skipped = json.loads((project.path / "o.json").read_text())["codecbench"]["skipped"]
    assert skipped == [{"test": "test_rd", "codec": "absent", "items": 4, "reason": skipped[0]["reason"]}]
    assert "no_such_lib" in skipped[0]["reason"]
    assert build([project.path / "o.json"], project.path / "out") == 0
    (folder,) = groups(project.path / "out")
    readme = (folder / "README.md").read_text()
    assert "## Codecs without rate–distortion points" in readme
    assert f"| 1 | {escape(skipped[0]['reason'], quote=False)} | absent |" in readme


def test_only_codecs_the_sweep_collected_are_listed_without_points_one_row_per_reason(run, tmp_path):
    report = json.loads(run.read_text())
    for name in ("ghost-a", "ghost-b", "ghost-c", "not-collected"):
        report["codecbench"]["codecs"][name] = {"description": "", "lossless": False}
    report["codecbench"]["skipped"] = [
        {"test": "test_rd", "codec": c, "items": 3, "reason": "weights missing in the cache X"}
        for c in ("ghost-a", "ghost-b")
    ] + [{"test": "test_rd", "codec": "ghost-c", "items": 3, "reason": "needs the module y"}]
    assert build([_write(tmp_path / "run.json", report)], tmp_path / "out") == 0
    (folder,) = groups(tmp_path / "out")
    section = (folder / "README.md").read_text().split("## Codecs without rate–distortion points")[1].split("##")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert rows == ["| 2 | weights missing in the cache X | ghost-a, ghost-b |", "| 1 | needs the module y | ghost-c |"]
    assert "not-collected" not in (folder / "README.md").read_text()  # selected, but no item collected: no row


def test_the_readme_opens_with_a_summary_sorted_by_the_mean_bd_rate(run, tmp_path):
    assert build([run], tmp_path / "out", anchor="jpeg") == 0
    (folder,) = groups(tmp_path / "out")
    readme = (folder / "README.md").read_text()
    assert readme.index("## Summary: BD-rate against jpeg") < readme.index("## Rate–distortion")
    table = next(part for part in readme.split("## Summary")[1].split("\n\n") if part.startswith("|")).splitlines()
    header = [cell.strip() for cell in table[0].split("|")[1:-1]]
    assert header[:3] == ["codec", "bpp", "BD-rate PSNR vs jpeg (%)"] and "mean BD-rate vs jpeg (%)" in header
    codecs = [line.split("|")[1].strip() for line in table[2:]]
    bd = {row["codec"]: row for row in csv.DictReader((folder / "bd-rate.csv").read_text().splitlines())}
    lossy = sorted((float(bd[c]["bd_rate_mean"]), c) for c in bd if bd[c]["bd_rate_mean"])
    assert codecs[: len(lossy)] == [c for _, c in lossy] and codecs[-1] == "png"  # lossless last


def test_the_default_anchor_is_the_one_compared_with_most_codecs(run, tmp_path):
    """With no --anchor the codec with an unflagged BD-rate against the most others is the anchor: not
    jpeg (the first name) when its curve, moved far left, overlaps nobody's."""
    report = json.loads(run.read_text())
    for bench in report["benchmarks"]:
        if bench["params"]["codec"] == "jpeg":
            bench["extra_info"]["bpp"] /= 1000
    assert build([_write(tmp_path / "run.json", report)], tmp_path / "out") == 0
    (folder,) = groups(tmp_path / "out")
    bd = {row["codec"]: row for row in csv.DictReader((folder / "bd-rate.csv").read_text().splitlines())}
    assert bd["jxl"]["bd_rate_psnr"] == "0" and bd["jpeg"]["note_psnr"] == "curves do not overlap"
    assert "## Summary: BD-rate against jxl" in (folder / "README.md").read_text()


def test_a_bd_value_is_flagged_when_fewer_than_three_points_of_a_curve_lie_in_the_overlap():
    from pytest_codecbench.report.tables import _too_few

    assert _too_few("metric", [1, 2, 3, 4, 5], [2, 3, 4, 6]) == ""  # 4 and 3 points inside [2, 5]
    flagged = _too_few("metric", [1, 2, 3, 4, 5], [4.5, 5.5, 6.5])  # 1 and 1 inside [4.5, 5]
    assert flagged == "metric ranges overlap on 1 anchor and 1 codec points (fewer than 3)"


def test_many_codecs_plot_the_anchor_and_each_familys_best_and_each_family_apart(run, tmp_path):
    from pytest_codecbench.report.plots import plot_selection

    codecs = [f"{f}-{i}" for f in ("a", "b", "c") for i in range(5)]
    means = [3.0, -1.0, 2.0, -4.0, 0.0]  # by variant; b-3 best of all, a-3 and c-3 best of theirs
    bd = [{"codec": c, "bd_rate_mean": means[int(c[-1])] - 5 * (c == "b-3")} for c in codecs]
    best = {f: min((row["bd_rate_mean"], row["codec"]) for row in bd if row["codec"][0] == f)[1] for f in "abc"}
    main, families = plot_selection(codecs, bd, "c-0")
    assert main == sorted({*best.values(), "c-0"}) and "b-3" in main
    assert families == {f: [c for c in codecs if c[0] == f] for f in "abc"}
    assert plot_selection(codecs[:12], bd, "a-0") == (codecs[:12], {})  # a dozen fit on one plot

    report = json.loads(run.read_text())
    copies = []
    for bench in report["benchmarks"]:
        for i in range(5):
            twin = copy.deepcopy(bench)
            twin["params"]["codec"] = f"{bench['params']['codec']}-v{i}"
            twin["extra_info"]["bpp"] *= 1 + i / 10  # each variant a little worse
            copies.append(twin)
    report["benchmarks"] += copies
    for codec, meta in list(report["codecbench"]["codecs"].items()):
        report["codecbench"]["codecs"].update({f"{codec}-v{i}": meta for i in range(5)})
    assert build([_write(tmp_path / "many.json", report)], tmp_path / "out", anchor="jpeg") == 0
    (folder,) = groups(tmp_path / "out")
    readme = (folder / "README.md").read_text()
    assert "the plots show the anchor and the best of each family by mean BD-rate (jpeg, jxl, webp)" in readme
    expected = {"rd-psnr.png", "rd-psnr-jpeg.png", "rd-psnr-jxl.png", "rd-psnr-webp.png"}
    assert {p.name for p in [*folder.glob("rd-psnr.png"), *folder.glob("rd-psnr-*.png")]} == expected
    # the page's chart draws the same selection at first; the others are in its legend
    page = (folder / "index.html").read_text()
    chart = json.loads(page.split('id="rd-data">')[1].split("</script>")[0])
    assert chart["shown"] == ["jpeg", "jxl", "webp"] and len(chart["codecs"]) == 18
    assert "3 of the 18 codecs are drawn at first" in page


def test_an_anchor_measured_on_another_machine_is_borrowed_without_its_times(run, tmp_path):
    """VTM measured once, on one machine: the other machine's report takes its points for BD-rate
    and plots, and shows none of its times (they are in its own machine's report)."""
    data = json.loads(run.read_text())
    theirs = copy.deepcopy(data)
    theirs["benchmarks"] = [b for b in theirs["benchmarks"] if b["params"]["codec"] == "webp"]
    for bench in theirs["benchmarks"]:
        bench["extra_info"]["machine"] = "Another CPU, 8 cores"
    data["benchmarks"] = [b for b in data["benchmarks"] if b["params"]["codec"] != "webp"]
    paths = [_write(tmp_path / "here.json", data), _write(tmp_path / "there.json", theirs)]
    assert build(paths, tmp_path / "out", anchor="webp") == 0
    here, there = sorted(groups(tmp_path / "out"), key=lambda f: "another" in f.name)
    with open(here / "bd-rate.csv") as f:
        bd = {row["codec"]: row for row in csv.DictReader(f)}
    assert set(bd) == {"jpeg", "jxl", "webp"} and float(bd["webp"]["bd_rate_ssim"]) == 0
    whole, _ = merge([run])
    assert float(bd["jpeg"]["bd_rate_ssim"]) == pytest.approx(bd_rows(whole[0], "webp")[0]["bd_rate_ssim"], rel=1e-5)
    with open(here / "stage-times.csv") as f:
        assert "webp" not in {row["codec"] for row in csv.DictReader(f)}
    with open(here / "rd.csv") as f:
        assert all(row["encode_ms"] == "" for row in csv.DictReader(f) if row["codec"] == "webp")
    assert "webp: rate–distortion points measured on Another CPU, 8 cores" in (here / "README.md").read_text()
    with open(there / "stage-times.csv") as f:
        assert {row["codec"] for row in csv.DictReader(f)} == {"webp"}
    assert "items measured on more than one machine" not in (tmp_path / "out" / "index.md").read_text()


def test_an_anchors_qualities_measured_on_two_machines_join_in_both_reports(run, tmp_path):
    """VTM's low rates measured on one machine, its high rates on another: each group gets the whole
    curve, equal to a single run's BD-rates, and names where the rest was measured."""
    data = json.loads(run.read_text())
    theirs = copy.deepcopy(data)
    theirs["benchmarks"] = [
        b for b in theirs["benchmarks"] if b["params"]["codec"] == "webp" and b["params"]["quality"] > 50
    ]
    for bench in theirs["benchmarks"]:
        bench["extra_info"]["machine"] = "Another CPU, 8 cores"
    data["benchmarks"] = [
        b for b in data["benchmarks"] if b["params"]["codec"] != "webp" or b["params"]["quality"] <= 50
    ]
    paths = [_write(tmp_path / "here.json", data), _write(tmp_path / "there.json", theirs)]
    assert build(paths, tmp_path / "out", anchor="webp") == 0
    here, there = sorted(groups(tmp_path / "out"), key=lambda f: "another" in f.name)
    whole, _ = merge([run])
    with open(here / "bd-rate.csv") as f:
        bd = {row["codec"]: row for row in csv.DictReader(f)}
    assert float(bd["jpeg"]["bd_rate_ssim"]) == pytest.approx(bd_rows(whole[0], "webp")[0]["bd_rate_ssim"], rel=1e-5)
    assert bd["webp"]["points"] == "5"
    with open(there / "rd.csv") as f:
        assert sum(row["codec"] == "webp" for row in csv.DictReader(f)) == 5
    assert "webp: some rate–distortion points measured on Another CPU, 8 cores" in (here / "README.md").read_text()
    with open(here / "stage-times.csv") as f:
        assert "webp" not in {row["codec"] for row in csv.DictReader(f)}  # its times would mix two machines


def test_published_curves_are_drawn_and_compared_with_our_anchor_and_theirs(run, tmp_path):
    from pytest_codecbench.report import published

    curves = published.curves("compressai")
    assert {"compressai:vtm", "compressai:hm", "compressai:jpeg"} <= set(curves)
    assert curves["compressai:vtm"][4] == pytest.approx(
        {"bpp": 0.8748101128472224, "psnr": 37.419793158067485, "ms_ssim": 0.988776795566082}
        | {"ms_ssim_db": -10 * __import__("math").log10(1 - 0.988776795566082)}
    )
    data = json.loads(run.read_text())
    data["codecbench"]["dataset"]["name"] = "kodak"  # published curves go beside Kodak full images only
    # our "jpeg" curve made CompressAI's published VTM points: BD-rate against their VTM's is then ~0
    vtm = curves["compressai:vtm"]
    data["benchmarks"] = [b for b in data["benchmarks"] if b["params"]["codec"] != "jpeg"]
    for index, point in enumerate(vtm):
        bench = copy.deepcopy(data["benchmarks"][0])
        bench["params"] = {**bench["params"], "codec": "anchor", "quality": index}
        bench["extra_info"]["bpp"] = point["bpp"]
        bench["extra_info"]["metrics"] = {**bench["extra_info"]["metrics"], "psnr": point["psnr"]}
        data["benchmarks"].append(bench)
    data["codecbench"]["codecs"]["anchor"] = {**data["codecbench"]["codecs"]["jxl"], "description": "VTM's points"}
    path = _write(tmp_path / "kodak.json", data)
    assert build([path], tmp_path / "out", anchor="anchor", published="compressai") == 0
    (folder,) = groups(tmp_path / "out")
    with open(folder / "published-bd-rate.csv") as f:
        rows = {row["curve"]: row for row in csv.DictReader(f)}
    hm = rows["compressai:hm"]
    ours, theirs = float(hm["bd_rate_psnr_vs_anchor"]), float(hm["bd_rate_psnr_vs_their_vtm"])
    assert ours == pytest.approx(theirs, abs=1e-9) and theirs == pytest.approx(23.3, abs=0.1)  # DESIGN.md's figure
    assert float(rows["compressai:vtm"]["bd_rate_psnr_vs_anchor"]) == pytest.approx(0, abs=1e-9)
    readme = (folder / "README.md").read_text()
    assert "## Published curves: compressai against anchor (pchip)" in readme
    assert "compressai:hm (published)" in (folder / "rd-psnr-published.svg").read_text()
    # not beside another dataset's curves
    assert build([run], tmp_path / "other", anchor="jpeg", published="compressai") == 0
    assert not list((tmp_path / "other").glob("*/published-bd-rate.csv"))


def test_the_summary_names_each_codecs_settings_in_few_words():
    from pytest_codecbench.report.tables import short_settings

    descriptions = {
        "hevc": "x265, preset medium (tune PSNR); one frame, 4:4:4 (lossless)",
        "hevc-420": "x265, preset medium (tune PSNR); one frame, 4:2:0 (40 dB)",
        "jpeg": "libjpeg-turbo baseline, 4:2:0 (quality 1-95); more",
    }
    assert short_settings(descriptions) == {
        "hevc": "x265, preset medium; one frame, 4:4:4",
        "hevc-420": "x265, preset medium; one frame, 4:2:0",
        "jpeg": "libjpeg-turbo baseline, 4:2:0",
    }


def test_bd_rate_per_image_is_the_bjontegaard_package_on_each_image_then_the_mean(run, tmp_path):
    """As JPEG AI reports it: per image (points between 0.3 and 3 bpp here), then the mean over images."""
    report = json.loads(run.read_text())
    window = (0.3, 3.0)
    by_hand = []
    for image in sorted({b["params"]["image"] for b in report["benchmarks"]}):
        curves = {}
        for codec in ("jpeg", "jxl"):
            points = sorted(
                (b["extra_info"]["bpp"], b["extra_info"]["metrics"]["ssim"])
                for b in report["benchmarks"]
                if b["params"]["codec"] == codec
                and b["params"]["image"] == image
                and window[0] <= b["extra_info"]["bpp"] <= window[1]
            )
            curves[codec] = ([p[0] for p in points], [p[1] for p in points])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            by_hand.append(
                bjontegaard.bd_rate(*curves["jpeg"], *curves["jxl"], method="pchip", require_matching_points=False)
            )
    arguments = ["report", str(run), "-o", str(tmp_path / "out"), "--anchor", "jpeg", "--bd-per-image"]
    assert main([*arguments, "--bd-bpp-range", "0.3,3"]) == 0
    (folder,) = groups(tmp_path / "out")
    with open(folder / "bd-rate-per-image.csv") as f:
        rows = {row["codec"]: row for row in csv.DictReader(f)}
    assert float(rows["jxl"]["bd_rate_ssim"]) == pytest.approx(sum(by_hand) / len(by_hand), rel=1e-6)
    assert rows["jxl"]["images_ssim"] == "3" and float(rows["jpeg"]["bd_rate_ssim"]) == 0
    readme = (folder / "README.md").read_text()
    assert "## BD-rate per image against jpeg (pchip, points in 0.3–3 bpp)" in readme
    assert "## Summary: BD-rate against jpeg (pchip, points in 0.3–3 bpp)" in readme
    # the mean-curve BD-rate takes the same window
    (group,), _ = merge([run])
    windowed = next(r for r in bd_rows(group, "jpeg", "pchip", bpp_range=window) if r["codec"] == "jxl")
    with open(folder / "bd-rate.csv") as f:
        assert float(next(r for r in csv.DictReader(f) if r["codec"] == "jxl")["bd_rate_ssim"]) == pytest.approx(
            windowed["bd_rate_ssim"], rel=1e-5
        )


@pytest.mark.parametrize("text", ["1", "1,0.5", "a,b", "-1,2"])
def test_a_bad_bpp_range_is_refused_naming_the_option(text, capsys):
    with pytest.raises(SystemExit):
        main(["report", "x.json", "--bd-bpp-range", text])
    assert "--bd-bpp-range" in capsys.readouterr().err


def test_bd_metrics_choose_the_bd_rate_tables_columns_and_their_mean(run, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["report", str(run), "-o", str(out), "--anchor", "jpeg", "--bd-metrics", "psnr,ssim"]) == 0
    (folder,) = groups(out)
    with open(folder / "bd-rate.csv") as f:
        rows = {row["codec"]: row for row in csv.DictReader(f)}
    jxl = rows["jxl"]
    assert "bd_rate_ms_ssim_db" not in jxl and "bd_rate_lpips_alex" not in jxl
    assert float(jxl["bd_rate_mean"]) == pytest.approx((float(jxl["bd_rate_psnr"]) + float(jxl["bd_rate_ssim"])) / 2)
    readme = (folder / "README.md").read_text()
    assert re.search(r"the mean is over PSNR RGB \(dB\); SSIM [^\n]*\.\n", readme)
    assert "--bd-metrics=psnr,ssim" in readme  # the command that made it
    # a column no file has is refused, naming the option and what the files measured
    assert main(["report", str(run), "-o", str(tmp_path / "bad"), "--bd-metrics", "psnr,vmaf"]) == 2
    err = capsys.readouterr().err
    assert "--bd-metrics: vmaf measured in none of the files" in err and "ms_ssim_db" in err
    # a preset says which of its metrics were not measured, and reports the others
    assert main(["report", str(run), "-o", str(tmp_path / "preset"), "--bd-metrics", "jpeg-ai"]) == 0
    assert "--bd-metrics jpeg-ai: ms_ssim_y, vif, fsim, nlpd, iw_ssim, vmaf, psnr_hvs not measured" in (
        capsys.readouterr().err
    )
