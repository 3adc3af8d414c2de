"""``alphazero bench NAME [args...]``: runs ``scripts/bench/bench_NAME.py`` from the source checkout."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent / "scripts" / "bench"


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in BENCH_DIR.glob("bench_*.py"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help=f"which benchmark: {', '.join(available()) or '(none found)'}")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="arguments passed to the benchmark (NAME --help lists them)")


def run(args: argparse.Namespace) -> int:
    path = BENCH_DIR / f"bench_{args.name}.py"
    if not path.exists():
        raise SystemExit(
            f"alphazero bench: unknown benchmark {args.name!r} (known: {', '.join(available())}); "
            f"benchmarks live in {BENCH_DIR} and need a source checkout"
        )
    spec = importlib.util.spec_from_file_location(f"bench_{args.name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses in the script look their module up here
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return int(module.main(args.rest) or 0)
