"""``alphazero train``: start or resume a self-play training run (local Ray by default)."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime
from pathlib import Path

from alphazero.config.base import ConfigError
from alphazero.config.run import PRESETS, load_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("Every config field, with its docstring and default: alphazero config explain [--preset P]. "
                     "Overrides and the --max-generations / --time-limit limits are applied before the run "
                     "directory's config.json is written: it holds the config that runs.")
    parser.add_argument("--preset", default=None, help=f"config preset: {', '.join(PRESETS)} (default 9x9-cpu)")
    parser.add_argument("--config", default=None, metavar="FILE", help="TOML file with config tables over the preset")
    parser.add_argument("--run-dir", default=None, metavar="DIR", help="where the run lives (default runs/<preset>-<time>)")
    parser.add_argument("--resume", default=None, metavar="DIR", help="continue the run in DIR after any stop")
    parser.add_argument("--max-generations", type=int, default=None, help="stop after this many generations")
    parser.add_argument("--time-limit", type=float, default=None, metavar="MIN", help="stop after this many minutes")
    parser.add_argument("--wandb", choices=["off", "offline", "online"], default=None,
                        help="Weights & Biases logging (default: offline, online when WANDB_API_KEY is set)")
    parser.add_argument("--address", default=None, help="join a Ray cluster (auto or HOST:PORT) instead of a local one")
    parser.add_argument("--quiet", action="store_true", help="no live display: one line per generation (for logs)")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. search.simulations=32")


def run(args: argparse.Namespace) -> int:
    from alphazero.train.faults import RunAborted
    from alphazero.train.loop import train
    from alphazero.train.metrics import default_wandb_mode

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.max_generations is not None and args.max_generations < 1:
            raise ConfigError(f"--max-generations must be >= 1, got {args.max_generations}")
        if args.time_limit is not None and args.time_limit < 0:
            raise ConfigError(f"--time-limit must be >= 0, got {args.time_limit}")
        if args.resume:
            if args.preset or args.config or args.overrides or args.run_dir:
                raise ConfigError("--resume continues a run with its saved config: give no --preset/--config/--run-dir/overrides")
            config, root = None, Path(args.resume)
        else:
            config = load_config(args.preset, args.config, args.overrides)
            name = f"{args.preset or '9x9-cpu'}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
            root = Path(args.run_dir) if args.run_dir else Path("runs") / name
        return train(config, root, resume=bool(args.resume), address=args.address,
                     wandb_mode=args.wandb or default_wandb_mode(), quiet=args.quiet,
                     max_generations=args.max_generations, time_limit_minutes=args.time_limit)
    except ConfigError as e:
        print(f"alphazero train: {e}", file=sys.stderr)
        return 2
    except RunAborted as e:
        print(f"alphazero train: {e}", file=sys.stderr)
        return 1
