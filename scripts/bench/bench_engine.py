"""Engine benchmark: random-playout throughput (ours vs OpenSpiel's C++ Go) and numba compile time, cold and warm."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numba
import numpy as np

from go_engine import board, compiled
from go_engine.rules import PRESETS

# Run in a child process with a fresh NUMBA_CACHE_DIR: import the engine and call every compiled
# entry point once on a tiny input; prints JSON timings on its last line.
WARMUP_SCRIPT = r"""
import json, time
t0 = time.perf_counter()
import numpy as np
from go_engine import board, features
from go_engine.rules import PRESETS
t1 = time.perf_counter()
rules = PRESETS["chinese"]
s = board.state_for(rules, 2, 5)
board.legal_mask(s, rules)
board.play(s, [0, 1], rules)
board.copy_row(s, 0, s, 1)
features.encode(s, rules)
board.score(s)
board.outcome(s)
board.setup_stones(board.state_for(rules, 1, 5), 0, [6, 8], [board.BLACK, board.WHITE], board.WHITE, rules)
board.play_random_games(s, rules, seed=1, avoid_eyes=False)
board.play_random_games(board.state_for(rules, 1, 5), rules, seed=1, avoid_eyes=True)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_calls_s": t2 - t1, "total_s": t2 - t0}))
"""


class Throughput(NamedTuple):
    # A NamedTuple, not a dataclass: bench_cli loads this file without registering it in sys.modules,
    # which dataclasses need under postponed annotations.
    size: int
    engine: str
    threads: int
    games: int
    moves: int
    seconds: float
    estimated_moves: bool = False  # moves derived from the mean game length of another measurement

    @property
    def moves_per_s(self) -> float:
        return self.moves / self.seconds

    @property
    def games_per_s(self) -> float:
        return self.games / self.seconds


def bench_ours(n: int, threads: int, batch: int, min_seconds: float, rules_name: str, seed: int) -> Throughput:
    """Whole batches of random games (state allocation included), repeated for at least ``min_seconds``."""
    rules = PRESETS[rules_name]
    cap = 2 * n * n
    compiled.set_num_threads(threads)
    # Warm up with the measured batch: it decides between the serial and the parallel kernel, and a
    # first call compiles (or loads) the one it picks.
    board.play_random_games(board.state_for(rules, batch, n), rules, seed, avoid_eyes=False, max_moves=cap)
    games = moves = 0
    start = time.perf_counter()
    round_ = 0
    while True:
        state = board.state_for(rules, batch, n)
        lengths = board.play_random_games(state, rules, seed + round_, avoid_eyes=False, max_moves=cap)
        games += batch
        moves += int(lengths.sum())
        round_ += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return Throughput(n, f"ours ({rules_name})", threads, games, moves, elapsed)


def bench_openspiel_python(pyspiel, n: int, min_seconds: float, seed: int) -> Throughput:
    """The reference loop: legal_actions() + uniform choice + apply_action until terminal (cap 2 n^2)."""
    game = pyspiel.load_game("go", {"board_size": n, "komi": 7.5, "max_game_length": 2 * n * n})
    rng = np.random.default_rng(seed)
    games = moves = 0
    start = time.perf_counter()
    while True:
        state = game.new_initial_state()
        while not state.is_terminal():
            legal = state.legal_actions()
            state.apply_action(legal[int(rng.integers(len(legal)))])
            moves += 1
        games += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return Throughput(n, "OpenSpiel (Python loop)", 1, games, moves, elapsed)


def bench_openspiel_cpp(pyspiel, n: int, min_seconds: float, seed: int, mean_length: float) -> Throughput:
    """The same playouts entirely in C++: pyspiel exposes its random-rollout evaluator (LegalActions +
    uniform choice + ApplyAction until terminal) only through the C++ MCTS bot, so the bot's search
    step is timed with SMALL and LARGE simulation counts and the difference, (LARGE - SMALL) *
    ROLLOUTS games, is charged to rollouts (cancelling the fixed per-step cost). The rollouts start
    a move or two into the game and report no moves: moves are estimated from ``mean_length``."""
    game = pyspiel.load_game("go", {"board_size": n, "komi": 7.5, "max_game_length": 2 * n * n})
    rollouts, small, large = 16, 2, 10

    def bot(simulations: int):
        evaluator = pyspiel.RandomRolloutEvaluator(rollouts, seed)
        return pyspiel.MCTSBot(game, evaluator, 1.4, simulations, 1000, False, seed, False)

    small_bot, large_bot = bot(small), bot(large)
    initial = game.new_initial_state()
    small_bot.step(initial)
    time_small = time_large = 0.0
    steps = 0
    while time_large - time_small < min_seconds:
        t0 = time.perf_counter()
        small_bot.step(initial)
        t1 = time.perf_counter()
        large_bot.step(initial)
        t2 = time.perf_counter()
        time_small += t1 - t0
        time_large += t2 - t1
        steps += 1
    games = steps * (large - small) * rollouts
    return Throughput(n, "OpenSpiel (C++ rollouts)", 1, games, int(round(games * mean_length)), time_large - time_small, True)


def _engine_sources() -> dict[str, int]:
    """Modification times of the engine's sources: numba drops a cache entry whose source changed."""
    import go_engine  # noqa: PLC0415

    return {str(p): p.stat().st_mtime_ns for p in Path(go_engine.__file__).parent.glob("*.py")}


def _warmup_run(env: dict) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", WARMUP_SCRIPT], env=env, capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"warm-up subprocess failed:\n{proc.stderr[-2000:]}")
    timings = json.loads(proc.stdout.strip().splitlines()[-1])
    timings["process_wall_s"] = wall
    return timings


def compile_times(cache_dir: Path) -> dict:
    """Run the warm-up script twice against one fresh NUMBA_CACHE_DIR: cold, then warm. If an
    engine source changes meanwhile (others editing the tree), the warm run recompiles: it is
    repeated (three warm runs at most) and the result says so."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    compiled_for = _engine_sources()
    out = {"cold": _warmup_run(env), "sources_changed": False}
    for _ in range(3):
        current = _engine_sources()
        out["warm"] = _warmup_run(env)
        stable = _engine_sources() == current
        if stable and current == compiled_for:
            break  # a real warm run: the cache matched the sources and nothing changed meanwhile
        out["sources_changed"] = True
        compiled_for = current if stable else _engine_sources()
    return out


def load_pyspiel():
    try:
        import pyspiel  # noqa: PLC0415 (optional, benchmark only)
    except ImportError:
        return None
    return pyspiel


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="alphazero bench engine",
        description="Random-playout throughput of the numba engine (1 thread and all threads) against "
        "OpenSpiel's C++ Go (pip install open_spiel; not a project dependency), and numba compile time "
        "on a cold and a warm cache. Playouts: uniform random legal moves including pass, no eye "
        "filter, at most 2*n*n moves per game.",
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[9, 19], help="board sizes (default: 9 19)")
    parser.add_argument("--seconds", type=float, default=3.0, help="minimum seconds per measurement (default: 3)")
    parser.add_argument("--batch", type=int, default=256, help="games per play_random_games call for ours (default: 256; smaller batches leave threads idle behind the longest game)")
    parser.add_argument(
        "--rules", default="chinese", choices=sorted(PRESETS),
        help="our rules preset (default chinese: positional superko, no suicide; OpenSpiel forbids "
        "suicide, checks simple ko and ends a game on a repeated position)",
    )
    parser.add_argument("--threads", type=int, default=None, help=f"'all cores' thread count (default: {numba.config.NUMBA_NUM_THREADS})")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    parser.add_argument("--skip-compile", action="store_true", help="skip the cold/warm compile measurement")
    parser.add_argument("--skip-openspiel", action="store_true", help="skip the OpenSpiel reference")
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.batch < 1:
        parser.error("--seconds must be > 0 and --batch >= 1")
    if any(not 2 <= n <= 19 for n in args.sizes):
        parser.error("--sizes must be in [2, 19]")
    return args


def measure_throughput(args: argparse.Namespace, all_threads: int, pyspiel) -> list[Throughput]:
    """Ours at 1 and all threads, and OpenSpiel's two references where installed, per board size."""
    results: list[Throughput] = []
    for n in args.sizes:
        for threads in sorted({1, all_threads}):
            results.append(bench_ours(n, threads, args.batch, args.seconds, args.rules, args.seed))
        if pyspiel is not None:
            py_loop = bench_openspiel_python(pyspiel, n, args.seconds, args.seed)
            results.append(py_loop)
            results.append(bench_openspiel_cpp(pyspiel, n, args.seconds, args.seed, py_loop.moves / py_loop.games))
    compiled.set_num_threads(all_threads)
    return results


def print_throughput(results: list[Throughput]) -> None:
    print()
    print("Random playouts (uniform legal moves incl. pass, no eye filter, cap 2*n*n moves)")
    header = f"{'size':>5}  {'engine':<26} {'threads':>7} {'games':>8} {'moves/game':>10} {'moves/s':>12} {'games/s':>10}"
    print(header)
    print("-" * len(header))
    for r in results:
        mark = "~" if r.estimated_moves else " "
        print(f"{r.size:>3}x{r.size:<2} {r.engine:<26} {r.threads:>7} {r.games:>8} {r.moves / r.games:>9.1f}{mark} "
              f"{r.moves_per_s:>11,.0f}{mark} {r.games_per_s:>10,.1f}")
    if any(r.estimated_moves for r in results):
        print("~ moves estimated from the Python loop's mean game length (same playout distribution)")


def openspiel_ratios(results: list[Throughput], sizes: list[int], rules_name: str, all_threads: int) -> dict[str, float]:
    """Ours (1 thread) / each OpenSpiel reference in moves/s, per size; printed with ours at all threads."""
    ratios = {}
    print()
    print("Ratio ours / OpenSpiel (moves/s, single core both; ours with all threads in brackets)")
    for n in sizes:
        row = {r.engine + f"/{r.threads}": r for r in results if r.size == n}
        ours1 = row[f"ours ({rules_name})/1"].moves_per_s
        ours_all = row[f"ours ({rules_name})/{all_threads}"].moves_per_s
        for ref_name in ("OpenSpiel (Python loop)", "OpenSpiel (C++ rollouts)"):
            ref = row[f"{ref_name}/1"].moves_per_s
            ratios[f"{n}x{n} vs {ref_name}"] = ours1 / ref
            print(f"  {f'{n}x{n}':>5} vs {ref_name:<25} {ours1 / ref:6.2f}x  ({ours_all / ref:.2f}x)")
    return ratios


def print_compile_times(compile_result: dict) -> None:
    print()
    print("numba compile (child process, fresh NUMBA_CACHE_DIR; import go_engine + first call of every kernel)")
    print(f"{'cache':>6} {'import s':>9} {'first calls s':>14} {'in-process s':>13} {'process wall s':>15}")
    for label in ("cold", "warm"):
        t = compile_result[label]
        print(f"{label:>6} {t['import_s']:>9.2f} {t['first_calls_s']:>14.2f} {t['total_s']:>13.2f} {t['process_wall_s']:>15.2f}")
    if compile_result["sources_changed"]:
        print("note: go_engine sources changed during the measurement (edited meanwhile): cold is "
              "not comparable; warm was re-measured after the change")
    warm = compile_result["warm"]["total_s"]
    print(f"warm-cache target < 2 s: {'met' if warm < 2.0 else 'MISSED'} ({warm:.2f} s)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    all_threads = args.threads or numba.config.NUMBA_NUM_THREADS
    pyspiel = None if args.skip_openspiel else load_pyspiel()
    if not args.skip_openspiel and pyspiel is None:
        print("OpenSpiel reference MISSING: `import pyspiel` failed (install it with "
              "`pip install open_spiel` for this benchmark; it is not a project dependency)")
    print(f"numba {numba.__version__}, NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS}, cpu_count={os.cpu_count()}, "
          f"rules={args.rules}, batch={args.batch}, >= {args.seconds:g} s per row, "
          f"load average {os.getloadavg()[0]:.2f} (other work on the machine skews the numbers)")
    results = measure_throughput(args, all_threads, pyspiel)
    print_throughput(results)
    ratios = {}
    if pyspiel is not None:
        ratios = openspiel_ratios(results, args.sizes, args.rules, all_threads)
    elif not args.skip_openspiel:
        print("\nRatio ours / OpenSpiel: reference missing (pyspiel not installed)")
    compile_result = None
    if not args.skip_compile:
        with tempfile.TemporaryDirectory(prefix="numba-cache-bench-") as cache_dir:
            compile_result = compile_times(Path(cache_dir))
        print_compile_times(compile_result)
    if args.json is not None:
        payload = {
            "throughput": [dict(r._asdict(), moves_per_s=r.moves_per_s, games_per_s=r.games_per_s) for r in results],
            "ratios": ratios,
            "compile": compile_result,
            "openspiel_available": pyspiel is not None,
        }
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
