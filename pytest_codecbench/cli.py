"""The ``codecbench`` command: ``report`` turns JSON into results; ``codecs`` lists the codecs;
``weights`` lists (and fetches) the pretrained checkpoints of learned codecs and metrics; ``datasets`` lists the
datasets ``--dataset`` takes by name."""

from __future__ import annotations

import argparse
import configparser
import math
import sys
import tomllib
from pathlib import Path

from .codec import CodecError, load_codecs, no_weights

INI_FILES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")  # pytest's order


def _ini_dirs(path: Path) -> list[str] | None:
    """``codecbench_codec_dirs`` of an ini file, or None when it is not pytest's (no pytest section)."""
    if path.suffix == ".toml":
        options = tomllib.loads(path.read_text()).get("tool", {}).get("pytest", {}).get("ini_options")
        value = None if options is None else options.get("codecbench_codec_dirs", [])
        return value.split() if isinstance(value, str) else value
    parser = configparser.ConfigParser()
    parser.read(path)
    section = "tool:pytest" if path.name == "setup.cfg" else "pytest"
    if not parser.has_section(section):
        return [] if path.name in ("pytest.ini", ".pytest.ini") else None
    return parser.get(section, "codecbench_codec_dirs", fallback="").split()


def project_codec_dirs(start: Path) -> list[Path]:
    """The adapter folders of the project around ``start``: ``codecbench_codec_dirs`` of the ini file pytest
    would use there (the first from ``start`` upward), relative to it, as a sweep started there finds them."""
    for folder in (start, *start.parents):
        for name in INI_FILES:
            found = _ini_dirs(folder / name) if (folder / name).is_file() else None
            if found is not None:
                return [folder / d for d in found]
    return []


def _codecs(args):
    """The codecs a sweep started here would find, with --codec-dir's folders added (as pytest's option does)."""
    dirs = dict.fromkeys(p.resolve() for p in [*project_codec_dirs(Path.cwd()), *map(Path, args.codec_dir)])
    try:
        codecs = load_codecs(list(dirs))
    except CodecError as error:
        print(f"codecbench: {error}", file=sys.stderr)
        return None
    if not codecs:
        print(
            "codecbench: no codecs: no ini file from here upward sets codecbench_codec_dirs, no --codec-dir was "
            "given and no installed package registers any (run it in the project folder, or give --codec-dir)",
            file=sys.stderr,
        )
        return None
    return codecs


def list_codecs(args) -> int:
    codecs = _codecs(args)
    if codecs is None:
        return 2
    width = max((len(name) for name in codecs), default=0)
    for codec in codecs.values():
        missing = codec.missing_requirement()
        state = f"MISSING: {missing}" if missing else ", ".join(f"{k} {v}" for k, v in codec.versions().items())
        grid = " ".join(codec.item_id(q) for q in codec.qualities)
        kind = "lossless" if codec.lossless else "lossy"
        indent = " " * (width + 10)
        print(f"{codec.name:{width}s} {kind:8s} {codec.description}\n{indent}{grid}\n{indent}{state}")
    return 0


def list_weights(args) -> int:
    """One line per checkpoint (with the first item that needs it, or the metric): present, missing or
    corrupt, and where; exit 1 if any is not present."""
    codecs = _codecs(args)
    if codecs is None:
        return 2
    from . import metrics
    from .kits.weights import MISSING, PRESENT, hf_cache, hub_dir

    print(f"torch.hub cache: {hub_dir()}\nHugging Face cache: {hf_cache()}")
    problems, listed = 0, set()

    def show(label: str, checkpoint) -> int:
        """Print one checkpoint's line (fetching it with --download); 1 if it is not present."""
        if checkpoint.url in listed:  # shared by qualities, codecs or metrics: listed (and fetched) once
            return 0
        listed.add(checkpoint.url)
        state, detail = checkpoint.status()
        where = detail if state != MISSING else checkpoint.download_url
        if state == MISSING and args.download:
            try:
                checkpoint.fetch()
            except Exception as error:
                where += f" (download failed: {type(error).__name__}: {error})"
            else:
                state, where = checkpoint.status()
        print(f"{label:28s} {state:8s} {where}")
        return state != PRESENT

    for codec in codecs.values():
        if codec.weights is no_weights:
            continue
        missing = codec.missing_requirement()
        if missing:
            print(f"{codec.name}: cannot list its weights: {missing}")
            problems += 1
            continue
        for quality in codec.qualities:
            problems += sum(show(codec.item_id(quality), checkpoint) for checkpoint in codec.weights(quality))
    for metric in metrics.available().values():
        problems += sum(show(f"metric {metric.name}", checkpoint) for checkpoint in metric.weights)
    return 1 if problems else 0


def list_datasets(args) -> int:
    """One block per named dataset: images, archive, checksum, licence, source, and whether it is in the cache."""
    from . import datasets, images

    print(f"cache: {images.cache_dir()}")
    kodak = images.cache_dir() / "kodak"
    state = "in the cache" if all((kodak / name).is_file() for name in images.kodak_table()) else "not downloaded"
    print(
        f"kodak: 24 images, 768×512 or 512×768, fetched one by one from {images.KODAK_URL}, each image's pixels "
        f"checked against the package's checksums; released by Kodak for unrestricted use; --kodak-dir or "
        f"$CODECBENCH_KODAK_DIR; {state}"
    )
    for archive in datasets.ARCHIVES.values():
        count = f"{archive.images} images" if archive.images else "images counted on download"
        size = f", {archive.size / 1e6:.0f} MB" if archive.size else ""
        checksum = (
            f"archive sha256 {archive.sha256} (published)"
            if archive.sha256
            else "archive checksum: none published; the first download records it"
        )
        table = datasets.pixels_table(archive)
        state = f"pixels verified against {table[1]}" if table else "not downloaded"
        print(
            f"{archive.name}: {count}{size}, {archive.url}\n    {checksum}\n    licence: {archive.licence}\n"
            f"    source: {archive.source}\n    {archive.option} or ${archive.env}; {state}"
        )
    return 0


def report(args) -> int:
    from .report import build

    axis = "log" if args.log_bpp else args.bpp_axis
    return build(
        args.files,
        args.output,
        args.anchor,
        args.bd_method,
        axis,
        args.published or "",
        args.bd_bpp_range,
        args.bd_per_image,
        args.bd_metrics,
    )


def bpp_range(text: str) -> tuple[float, float]:
    """``--bd-bpp-range LOW,HIGH``: two bpp values, LOW < HIGH."""
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        low = high = math.nan
    if not 0 <= low < high:
        raise argparse.ArgumentTypeError(f"{text!r}: expected LOW,HIGH in bpp with 0 <= LOW < HIGH, e.g. 0.06,1.0")
    return low, high


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="codecbench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    rep = commands.add_parser(
        "report",
        help="tables, RD plots, BD-rate and a leaderboard page from --benchmark-json files",
        description="Merge codecbench JSON reports (shards, -n 0 or -n N runs) and write, per dataset, crop and "
        "machine: rd.csv, per-image.csv, bd-rate.csv, stage-times.csv, macs.csv, README.md, rd-*.png/svg and "
        "index.html; and index.html/index.md linking them, with the machines' speeds side by side.",
    )
    rep.add_argument("files", nargs="+", type=Path, help="JSON files written with --benchmark-json")
    rep.add_argument("-o", "--output", type=Path, default=Path("results"), help="output folder (default: results)")
    rep.add_argument(
        "--anchor",
        default="",
        help="anchor codec for BD-rate (default: the one with an unflagged BD-rate against the most codecs); "
        "several, comma-separated, write bd-rate-NAME.csv for each but the first, which the page shows",
    )
    rep.add_argument(
        "--published",
        choices=("compressai",),
        help="draw published curves beside ours and give their BD-rate against our anchor and their own: "
        "compressai (its Kodak results, a pinned commit, in the package data)",
    )
    rep.add_argument(
        "--bd-bpp-range",
        type=bpp_range,
        metavar="LOW,HIGH",
        help="BD-rate on the points between LOW and HIGH bpp only (JPEG AI: 0.06,1.0)",
    )
    rep.add_argument(
        "--bd-per-image",
        action="store_true",
        help="BD-rate per image too, then the mean over images (JPEG AI's way): bd-rate-per-image.csv",
    )
    rep.add_argument(
        "--bd-metrics",
        default="",
        metavar="COLUMNS",
        help="the metrics of the BD-rate tables and their mean: comma-separated columns (e.g. psnr,vmaf) or "
        "jpeg-ai (JPEG AI's seven: ms_ssim_y, vif, fsim, nlpd, iw_ssim, vmaf, psnr_hvs); default: each "
        "metric's own",
    )
    rep.add_argument(
        "--bd-method", choices=("pchip", "akima"), default="pchip", help="BD interpolation (default: pchip)"
    )
    rep.add_argument(
        "--bpp-axis",
        choices=("auto", "linear", "log"),
        default="auto",
        help="the RD plots' bpp axis (default auto: log when the points span more than 10x)",
    )
    rep.add_argument("--log-bpp", action="store_true", help="the same as --bpp-axis log")
    rep.set_defaults(run=report)
    codecs = commands.add_parser("codecs", help="list codecs, their default quality grid and library versions")
    codecs.add_argument("--codec-dir", action="append", default=[], help="another folder of adapter files (repeatable)")
    codecs.set_defaults(run=list_codecs)
    weights = commands.add_parser(
        "weights", help="list learned codecs' and metrics' checkpoints: present, missing or corrupt, and where"
    )
    weights.add_argument(
        "--codec-dir", action="append", default=[], help="another folder of adapter files (repeatable)"
    )
    weights.add_argument("--download", action="store_true", help="fetch missing checkpoints (hash-checked)")
    weights.set_defaults(run=list_weights)
    sets = commands.add_parser("datasets", help="list the datasets --dataset takes by name: sources, licences, cache")
    sets.set_defaults(run=list_datasets)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
