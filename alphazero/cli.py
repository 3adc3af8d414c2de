"""The ``alphazero`` command: one entry point, subcommands registered by the modules that own them."""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help); each module exposes ``add_arguments(parser)`` and ``run(args) -> int``.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "train": ("alphazero.train_cli", "start or resume a self-play training run (local Ray, or --address a cluster)"),
    "gtp": ("alphazero.gtp_cli", "play over GTP on stdin/stdout (for Sabaki, Lizzie, GoGui, KGS, the arena)"),
    "analysis": ("alphazero.analysis_cli", "KataGo's JSON analysis engine on stdin/stdout (for KaTrain)"),
    "arena": ("alphazero.arena_cli", "matches between players, gauntlet ratings of a run, the IDA meter"),
    "config": ("alphazero.config_cli", "explain the training config: every field with its docstring and default"),
    "bench": ("alphazero.bench_cli", "run a benchmark (engine, mcts, train, infer, analysis) and print numbers"),
}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv``: every subcommand listed, but only the one named in ``argv`` (its first
    word that is a subcommand's name) imports its module and declares its arguments. A subcommand's
    module imports what it runs (torch, Ray, the compiled packages: seconds of CPU a start), so
    ``alphazero gtp`` does not pay for training and ``alphazero --help`` pays for nothing."""
    parser = argparse.ArgumentParser(
        prog="alphazero",
        description="A Go engine that teaches itself: self-play training, arena matches and a GTP engine.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((word for word in (argv or []) if word in SUBCOMMANDS), None)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            module = importlib.import_module(module_name)
            module.add_arguments(p)
            p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from alphazero.compile_cache import use_keyed_cache

    use_keyed_cache()  # before the subcommands import the compiled packages
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    return int(args._run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
