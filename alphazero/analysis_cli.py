"""``alphazero analysis``: KataGo's JSON analysis engine (one query per line on stdin, one result
per line on stdout, logs on stderr), for KaTrain and other analysis clients."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time

from alphazero.analysis.query import PERSPECTIVES
from alphazero.inference_args import add_inference_arguments, checkpoint_evaluator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", help="checkpoint directory (models/<gen>/); without it the --stand-in "
                        "evaluator (for testing clients). A run's checkpoint (RUN/models/<gen>) searches with the "
                        "score utility of the run's search config, if any")
    parser.add_argument("--stand-in", choices=("uniform", "area"), default="uniform",
                        help="evaluator without a --checkpoint: uniform (equal priors, zero values) or area (the area "
                             "count as value, score and stone ownership: exact on settled tiny boards)")
    parser.add_argument("--visits", type=int, default=500, help="maxVisits of a query that gives none (default 500)")
    parser.add_argument("--max-visits", type=int, default=None,
                        help="most visits one turn may get (the tree's budget; larger maxVisits are capped "
                             "with a warning); default max(--visits, 2000)")
    parser.add_argument("--batch", type=int, default=64,
                        help="turns searched together per board size (rows of the batched search; default 64)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch and the compiled kernels")
    add_inference_arguments(parser)
    parser.add_argument("--report-winrates-as", default="BLACK", type=str.upper,
                        choices=sorted({v for v in PERSPECTIVES.values()}),
                        help="default perspective of winrates, scores and ownership (a query's "
                             "overrideSettings.reportAnalysisWinratesAs wins); default BLACK as KataGo's example config")
    parser.add_argument("--rules-substitute", action="store_true",
                        help="let a network of feature version 1 (trained under area scoring) analyse territory "
                             "rules anyway, with a warning on each such query; without it those queries are errors")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the search")


def build_engine(args: argparse.Namespace, emit, log):
    import torch

    from alphazero.analysis.query import Defaults
    from alphazero.analysis.scheduler import AnalysisEngine
    from go_engine import compiled
    from go_engine import features as F
    from selfplay.evaluators import AreaScoreEvaluator, UniformEvaluator

    if args.visits < 1:
        raise ValueError(f"--visits must be >= 1, got {args.visits}")
    max_visits = args.max_visits if args.max_visits is not None else max(args.visits, 2000)
    if max_visits < args.visits:
        raise ValueError(f"--max-visits {max_visits} is below --visits {args.visits}")
    if args.batch < 1:
        raise ValueError(f"--batch must be >= 1, got {args.batch}")
    threads = max(1, args.threads)
    torch.set_num_threads(threads)
    compiled.set_num_threads(threads)
    if args.checkpoint:
        evaluator, meta = checkpoint_evaluator(args)
        history, version = meta.history, meta.feature_version
    else:
        log(f"no --checkpoint: analysing with the {args.stand_in} stand-in evaluator")
        evaluator = AreaScoreEvaluator(scale=4.0, with_aux=True) if args.stand_in == "area" else UniformEvaluator()
        history, version = 8, F.FEATURE_VERSION
    defaults = Defaults(visits=args.visits, max_visits=max_visits, history=history, perspective=args.report_winrates_as,
                        feature_version=version, substitute_rules=args.rules_substitute)
    from alphazero.arena.players import engine_search_config

    return AnalysisEngine(evaluator, history, defaults, emit, rows=args.batch, search=engine_search_config(args.checkpoint),
                          log=log, seed=args.seed)


def run(args: argparse.Namespace) -> int:
    out = sys.stdout

    def emit(obj: dict) -> None:
        try:
            out.write(json.dumps(obj, separators=(",", ":")) + "\n")
            out.flush()
        except (BrokenPipeError, ValueError):
            pass  # the client went away; stdin EOF ends the engine

    def log(text: str) -> None:
        for line in text.splitlines():
            print(f"[analysis] {line}", file=sys.stderr, flush=True)

    # Only results on stdout: anything printed while loading goes to stderr.
    try:
        with contextlib.redirect_stdout(sys.stderr):
            engine = build_engine(args, emit, log)
    except (ValueError, OSError) as e:
        print(f"alphazero analysis: {e}", file=sys.stderr)
        return 2

    def read() -> None:
        try:
            for line in sys.stdin:
                engine.submit(line)
        finally:
            engine.close_input()

    threading.Thread(target=read, daemon=True).start()
    threading.Thread(target=_exit_with_parent, args=(os.getppid(), log), daemon=True).start()
    log("Started, ready to begin handling requests")
    engine.run()
    return 0


def _exit_with_parent(parent: int, log) -> None:
    """End when the process that started us is gone. KaTrain stops a custom engine with SIGTERM to
    the shell it started it through (``shell=True``), which leaves the engine orphaned, holding
    the pipes KaTrain's reader threads then wait on forever."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            log("the parent process is gone; exiting")
            os._exit(0)
