"""The ``codecbench`` command: ``codecbench codecs`` lists the codecs a sweep can use."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .codec import CodecError, load_codecs


def list_codecs(args) -> int:
    try:
        codecs = load_codecs([Path(d) for d in args.codec_dir])
    except CodecError as error:
        print(f"codecbench: {error}", file=sys.stderr)
        return 2
    for codec in codecs.values():
        missing = codec.missing_requirement()
        state = f"MISSING: {missing}" if missing else ", ".join(f"{k} {v}" for k, v in codec.versions().items())
        grid = " ".join(codec.item_id(q) for q in codec.qualities)
        kind = "lossless" if codec.lossless else "lossy"
        print(f"{codec.name:20s} {kind:8s} {codec.description}\n{'':29s}{grid}\n{'':29s}{state}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="codecbench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    codecs = commands.add_parser("codecs", help="list codecs, their default quality grid and library versions")
    codecs.add_argument("--codec-dir", action="append", default=[], help="folder of adapter files (repeatable)")
    codecs.set_defaults(run=list_codecs)
    args = parser.parse_args(argv)
    if args.command == "codecs" and not args.codec_dir and Path("codecs").is_dir():
        args.codec_dir = ["codecs"]
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
