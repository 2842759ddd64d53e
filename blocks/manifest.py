"""`manifest.json`'s `blocks` come from the registry. `python -m blocks.manifest --write` regenerates
the file (other top-level keys are kept as they are); `--check` exits 1 when it has drifted."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from blocks.registry import BLOCKS

MANIFEST_PATH = Path(__file__).resolve().parents[1] / "manifest.json"


def manifest_blocks() -> list[dict[str, Any]]:
    return [block.describe() for block in BLOCKS.values()]


def build_manifest(current: dict[str, Any]) -> dict[str, Any]:
    """`current` with its `blocks` replaced by the registry's (key order kept)."""
    return {**current, "blocks": manifest_blocks()}


def render(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m blocks.manifest", description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite manifest.json from the registry")
    parser.add_argument("--path", type=Path, default=MANIFEST_PATH)
    args = parser.parse_args(argv)
    current = json.loads(args.path.read_text())
    wanted = build_manifest(current)
    if args.write:
        args.path.write_text(render(wanted))
        print(f"wrote {args.path}")
        return 0
    if current != wanted:
        print(f"{args.path} is out of date: run python -m blocks.manifest --write", file=sys.stderr)
        return 1
    print(f"{args.path} matches the block registry")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
