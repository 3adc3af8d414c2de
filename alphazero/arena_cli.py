"""``alphazero arena``: a match between two players, or a gauntlet rating every checkpoint of a run."""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from go_engine import rules as R
from alphazero.gtp_cli import rules_name_arg

EPILOG = """players:
  random                     uniform random legal moves (never filling an own eye)
  raw:PATH                   the network alone (argmax of the policy); PATH = checkpoint or run dir
  mcts:PATH[@VISITS|@SECs][:default-puct]
                             the network with its run's self-play search (config.json: PUCT or
                             Gumbel, its simulations) without noise, e.g. mcts:runs/a@64;
                             :default-puct (or no run config): default PUCT, 200 visits
  gnugo:LEVEL                GNU Go 0..10 under the match's rules
  gtp:COMMAND                any GTP engine, e.g. 'gtp:gnugo --mode gtp --level 1' or
                             'gtp:python -m alphazero.cli gtp --checkpoint DIR --visits 32'
  NAME=SPEC                  any of these under another name

examples:
  alphazero arena mcts:runs/a@64 gnugo:1 --games 20 --parallel 2 --out runs/a/arena/vs-gnugo1
  alphazero arena raw:runs/a/models/000004 raw:runs/a/models/000003 --sprt 0,35,0.05,0.05 --games 400
  alphazero arena --gauntlet runs/a --anchor random --anchor gnugo:0 --games 10
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("players", nargs="*", metavar="PLAYER", help="two player specs (see below)")
    parser.add_argument("--gauntlet", metavar="RUN_DIR", help="rate every checkpoint of a run against anchors and its predecessor")
    parser.add_argument("--anchor", action="append", metavar="SPEC",
                        help="gauntlet anchor (repeatable; random or gnugo:LEVEL, any spec works); the first is 0 Elo (default random)")
    parser.add_argument("--visits", type=int, default=None, help="gauntlet: simulations of the mcts players (default: the run's self-play budget)")
    parser.add_argument("--generations", default=None, metavar="G,G,...", help="gauntlet: only these generations (default all)")
    parser.add_argument("--replay-files", type=int, default=400, metavar="N", help="gauntlet: newest self-play records read for the distillation gap")
    parser.add_argument("--games", type=int, default=None, help="games per match (default 10; gauntlet: per pairing, default 6)")
    parser.add_argument("--size", type=int, default=None, help="board size (default 9; gauntlet: the run's)")
    parser.add_argument("--rules", default=None, type=rules_name_arg, help=f"rules preset ({', '.join(R.PRESETS)}; counted by their rules with every stone on the board alive, as self-play counts) (default chinese; gauntlet: the run's)")
    parser.add_argument("--komi", type=float, default=None, help="komi (default: the rules')")
    parser.add_argument("--parallel", type=int, default=1, metavar="K", help="games played at once in worker processes (default 1: in this process)")
    parser.add_argument("--out", default=None, metavar="DIR", help="results, SGFs and match.json (re-running with the same DIR resumes); "
                        "default arena/<A>_vs_<B>, gauntlet: RUN_DIR/arena")
    parser.add_argument("--seed", type=int, default=0, help="match seed (game seeds and openings derive from it)")
    parser.add_argument("--max-moves", type=int, default=0, metavar="M", help="score the game as it stands after M moves (default: the rules' move cap, else 4*n*n)")
    parser.add_argument("--opening-moves", type=int, default=None, metavar="K",
                        help="random opening moves shared by each pair of games (default 0; gauntlet 4)")
    parser.add_argument("--move-timeout", type=float, default=60.0, metavar="S", help="seconds an external engine may take per move before it loses (default 60)")
    parser.add_argument("--sprt", default=None, metavar="ELO0,ELO1,ALPHA,BETA", help="stop early when the SPRT decides (e.g. 0,35,0.05,0.05)")
    parser.add_argument("--threads", type=int, default=1, help="torch/numba threads per game process (default 1)")


def _sprt(text: str | None):
    from alphazero.arena.sprt import Sprt

    if text is None:
        return None
    parts = text.split(",")
    try:
        if len(parts) != 4:
            raise ValueError("expected 4 comma-separated numbers")
        return Sprt(*(float(p) for p in parts))
    except ValueError as e:
        raise ValueError(f"--sprt {text!r}: {e} (ELO0,ELO1,ALPHA,BETA, e.g. 0,35,0.05,0.05)") from None


def _rules(args, default: R.Rules) -> R.Rules:
    rules = R.preset(args.rules) if args.rules else default
    return rules.with_komi(args.komi) if args.komi is not None else rules


def _log(text: str) -> None:
    print(text, flush=True)


def run(args: argparse.Namespace) -> int:
    from alphazero.arena.match import MatchError
    from alphazero.arena.players import SpecError
    from alphazero.checkpoint import CheckpointError

    try:
        for name in ("games", "size", "visits"):
            value = getattr(args, name)
            if value is not None and value < 1:
                raise ValueError(f"--{name} must be >= 1, got {value}")
        if args.parallel < 1 or args.threads < 1:
            raise ValueError("--parallel and --threads must be >= 1")
        if args.max_moves < 0 or (args.opening_moves or 0) < 0:
            raise ValueError("--max-moves and --opening-moves must be >= 0")
        if not args.move_timeout > 0:
            raise ValueError(f"--move-timeout must be > 0, got {args.move_timeout}")
        if args.gauntlet:
            if args.players:
                raise ValueError("--gauntlet takes no player specs (use --anchor)")
            return _gauntlet(args)
        if len(args.players) != 2:
            raise ValueError(f"a match needs exactly two players, got {len(args.players)} (or use --gauntlet RUN_DIR)")
        return _match(args)
    except (ValueError, SpecError, CheckpointError, FileNotFoundError) as e:
        print(f"alphazero arena: {e}", file=sys.stderr)
        return 2
    except MatchError as e:
        print(f"alphazero arena: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("alphazero arena: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130


def _match(args: argparse.Namespace) -> int:
    from alphazero.arena.match import GameSettings, MatchPlan, run_match
    from alphazero.arena.players import parse_spec

    a, b = parse_spec(args.players[0]), parse_spec(args.players[1])
    if a.name == b.name:
        a, b = a.with_name(a.name + "#A"), b.with_name(b.name + "#B")
    settings = GameSettings(args.size or 9, _rules(args, R.preset("chinese")), args.max_moves, args.opening_moves or 0, args.move_timeout)
    out = Path(args.out) if args.out else Path("arena") / re.sub(r"[^A-Za-z0-9_.@-]+", "_", f"{a.name}_vs_{b.name}")[:120]
    plan = MatchPlan(a, b, args.games or 10, out, settings, args.seed, _sprt(args.sprt))
    started = time.monotonic()
    summary = run_match(plan, args.parallel, _log, args.threads)
    print(summary.text())
    print(f"{len(summary.results)} of {plan.games} games in {out} ({time.monotonic() - started:.0f} s)")
    if summary.failed:
        print(f"games {summary.failed} were lost to a dead worker; re-run to play them", file=sys.stderr)
        return 1
    return 0


def _gauntlet(args: argparse.Namespace) -> int:
    from alphazero.arena.gauntlet import read_run_settings, run_gauntlet
    from alphazero.arena.ida_meter import distillation_gap, meter_rows, records_by_generation, summary_text, verdict_for
    from alphazero.arena.match import GameSettings
    from alphazero.arena.players import list_generations, parse_spec
    from alphazero.arena.plot import plot_progress
    from alphazero.atomic_io import write_bytes_atomic

    run_dir = Path(args.gauntlet)
    if not run_dir.is_dir():
        raise ValueError(f"--gauntlet {run_dir}: no such run directory")
    found = read_run_settings(run_dir)
    anchors = [parse_spec(s) for s in (args.anchor or ["random"])]
    generations = None
    if args.generations:
        try:
            generations = [int(g) for g in args.generations.split(",")]
        except ValueError:
            raise ValueError(f"--generations {args.generations!r}: expected comma-separated integers") from None
    opening = 4 if args.opening_moves is None else args.opening_moves
    settings = GameSettings(args.size or found.size, _rules(args, found.rules), args.max_moves, opening, args.move_timeout)
    out = Path(args.out) if args.out else run_dir / "arena"
    report = run_gauntlet(run_dir, anchors, args.games or 6, args.visits or found.visits, settings, out,
                          args.parallel, args.seed, _log, generations)
    print(report.table())

    from alphazero.evaluator import NetworkEvaluator

    checkpoints = dict(list_generations(run_dir))
    records = records_by_generation(run_dir / "replay", args.replay_files, heldout_dir=run_dir / "heldout")
    gaps = {}
    for g in report.generations:
        if records.get(g):
            evaluator, meta = NetworkEvaluator.from_checkpoint(checkpoints[g])
            usable = [r for r in records[g] if r.history == meta.history]
            gap = distillation_gap(evaluator, usable) if usable else None
            if gap is not None:
                gaps[g] = gap
    rows = meter_rows(report.generations, report.ratings, gaps)
    verdict = verdict_for(rows)
    text = summary_text(rows, verdict)
    print(text)
    write_bytes_atomic(out / "ida_summary.txt", (report.table() + "\n\n" + text + "\n").encode())
    png = out / "elo.png"
    plot_progress(rows, png, title=f"{run_dir.name}: Elo vs generation (anchor {report.anchor} = 0)", verdict=verdict.reason)
    print(f"plot: {png}; ratings: {out / 'ratings.json'}; summary: {out / 'ida_summary.txt'}")
    return 0
