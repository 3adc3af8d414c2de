"""``alphazero config explain [--preset P]``: every field of the training config, with its value in
the preset, its default and its docstring (what ``alphazero train KEY=VALUE`` can set)."""

from __future__ import annotations

import argparse
import sys

from alphazero.config.base import ConfigError
from alphazero.config.explain import explain
from alphazero.config.run import PRESETS, RunConfig, load_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["explain"], help="explain: list every field with its docstring and default")
    parser.add_argument("--preset", default=None, help=f"show the values of this preset: {', '.join(PRESETS)} "
                        "(default: the defaults of the dataclasses)")
    parser.add_argument("--config", default=None, metavar="FILE", help="TOML file with config tables over the preset")


def run(args: argparse.Namespace) -> int:
    try:
        if args.preset or args.config:
            config = load_config(args.preset, args.config)
            title = f"alphazero train config, preset {args.preset or '9x9-cpu'}"
        else:
            config, title = RunConfig(), "alphazero train config, the dataclasses' defaults"
    except ConfigError as e:
        print(f"alphazero config: {e}", file=sys.stderr)
        return 2
    title += ": every field as KEY=VALUE sets it (alphazero train --preset P KEY=VALUE ...)"
    sys.stdout.write(explain(config, RunConfig(), title))
    return 0
