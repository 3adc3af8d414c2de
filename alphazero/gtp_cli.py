"""``alphazero gtp``: the GTP engine on stdin/stdout (logs on stderr), for GUIs and the arena."""

from __future__ import annotations

import argparse
import contextlib
import sys

from alphazero.gtp.resign import RESIGN_WINRATE
from alphazero.inference_args import add_inference_arguments, checkpoint_evaluator
from go_engine import rules as R


def rules_name_arg(text: str) -> str:
    """argparse type of --rules: a preset name in any spelling, or a usage error listing them."""
    try:
        return R.parse_rules_name(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", help="checkpoint directory (models/<gen>/); without it the engine "
                        "plays with a uniform prior: weak but legal, for testing rules. A run's checkpoint "
                        "(RUN/models/<gen>) searches with the score utility of the run's search config, if any")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--visits", type=int, default=200, help="simulations per move (default 200)")
    budget.add_argument("--time-per-move", type=float, default=None, metavar="S",
                        help="seconds per move when the GUI sets no clock")
    parser.add_argument("--rules", default="chinese", type=rules_name_arg,
                        help=f"rules preset: {', '.join(R.PRESETS)}; KataGo's spellings too (Japanese, jp, cn, nz, ...) (default chinese)")
    parser.add_argument("--rules-substitute", action="store_true",
                        help="let a network of feature version 1 (trained under area scoring, before rules were "
                             "inputs) play territory rules (japanese, korean) anyway, with a warning; without it "
                             "such a network refuses them")
    parser.add_argument("--komi", type=float, default=None, help="komi before the GUI sets one (default: the preset's)")
    parser.add_argument("--size", type=int, default=None,
                        help="board size before the GUI sets one (default: the largest size the checkpoint was "
                             "trained on, 19 without a checkpoint)")
    parser.add_argument("--resign-threshold", type=float, default=RESIGN_WINRATE,
                        help="resign when the win rate of the root and of the best move is below this (0 never)")
    parser.add_argument("--ponder", action="store_true",
                        help="think on the opponent's time (the tree is kept for our next move)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the search")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch and the compiled kernels")
    parser.add_argument("--eval-cache", type=int, default=10_000, metavar="POSITIONS",
                        help="network evaluations kept for positions met again (the root's score and ownership, "
                        "undo, analysis restarts); exact, 0 = none (default 10000)")
    add_inference_arguments(parser)


def run(args: argparse.Namespace) -> int:
    # Only GTP on stdout: whatever a library prints while the engine loads goes to stderr.
    try:
        with contextlib.redirect_stdout(sys.stderr):
            engine = build_engine(args)
    except (ValueError, OSError) as e:
        print(f"alphazero gtp: {e}", file=sys.stderr)
        return 2
    from alphazero.gtp.server import serve

    def log(text: str) -> None:
        # No stderr line may start with "=" or "?" (Lizzie merges the streams).
        for line in text.splitlines():
            print(f"[gtp] {line}", file=sys.stderr, flush=True)

    return serve(engine, sys.stdin, sys.stdout, log)


def build_engine(args: argparse.Namespace):
    import torch

    from alphazero.gtp.engine import GtpEngine
    from alphazero.gtp.search_player import SearchPlayer
    from go_engine import compiled, coords
    from go_engine import features as F
    from selfplay.evaluators import UniformEvaluator

    threads = max(1, args.threads)
    torch.set_num_threads(threads)
    compiled.set_num_threads(threads)
    if args.visits is not None and args.visits < 1:
        raise ValueError(f"--visits must be >= 1, got {args.visits}")
    if args.time_per_move is not None and not args.time_per_move > 0:
        raise ValueError(f"--time-per-move must be > 0, got {args.time_per_move}")
    if args.eval_cache < 0:
        raise ValueError(f"--eval-cache must be >= 0 positions, got {args.eval_cache}")
    rules = R.preset(args.rules)
    if args.komi is not None:
        rules = rules.with_komi(args.komi)
    if args.checkpoint:
        evaluator, meta = checkpoint_evaluator(args)
        history, has_ownership, version = meta.history, True, meta.feature_version
        if args.eval_cache:
            from alphazero.eval_cache import CachedEvaluator

            # Exact: the search here is a batch of one, so every row is evaluated alone either way.
            evaluator = CachedEvaluator(evaluator, args.eval_cache)
    else:
        evaluator, history, has_ownership, version, meta = UniformEvaluator(), 8, False, F.FEATURE_VERSION, None
    size = args.size if args.size is not None else (max(meta.board_sizes) if meta and meta.board_sizes else 19)
    coords.check_size(size)
    from alphazero.arena.players import engine_search_config

    player = SearchPlayer(evaluator, engine_search_config(args.checkpoint), visits=args.visits or 200, history=history,
                          seed=args.seed, has_ownership=has_ownership, feature_version=version,
                          substitute_rules=args.rules_substitute)
    warning = player.check_rules(rules)  # RulesNotSupported (a ValueError) names the problem
    if warning:
        print(f"WARNING: {warning}", file=sys.stderr, flush=True)
    return GtpEngine(player, rules, size=size, resign_threshold=args.resign_threshold,
                     time_per_move=args.time_per_move, ponder=args.ponder)
