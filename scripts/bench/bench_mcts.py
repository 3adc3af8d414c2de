"""MCTS benchmark: simulations/s of the batched search with the uniform evaluator (tree, board moves
along the path and leaf encoding; single core), against a naive dict-tree search measured in the
same run, the share of time spent outside a b6c64 network evaluator when one is available, and
Gumbel tree reuse on vs off in 9x9 self-play (simulations/s, network evaluations per move, visits
kept per search)."""

from __future__ import annotations

import argparse
import math
import time

import numba
import numpy as np

from dataclasses import replace

from alphazero.config.search import SearchConfig, SelfPlayConfig
from go_engine import board as B
from go_engine import compiled
from go_engine import features as F
from go_engine.rules import preset
from selfplay.evaluators import UniformEvaluator
from selfplay.game_driver import SelfPlayDriver
from selfplay.mcts import BatchedMCTS


def midgame_positions(rules, batch: int, n: int, seed: int, history: int) -> B.BoardState:
    """``batch`` positions after n*n/4 random moves each (seeded)."""
    state = B.state_for(rules, batch, n, history=history)
    rng = np.random.default_rng(seed)
    for _ in range(n * n // 4):
        legal = B.legal_mask(state, rules)
        legal[:, -1] = False  # no passes, so the games stay alive
        acts = np.array([rng.choice(np.flatnonzero(row)) if row.any() else -1 for row in legal])
        B.play(state, acts, rules)
    return state


def time_batched(rules, n: int, batch: int, sims: int, history: int, evaluator, seed: int = 0) -> tuple[float, float]:
    """(simulations per second, seconds inside the evaluator / total) of one search of ``sims`` in every row."""
    roots = midgame_positions(rules, batch, n, seed, history)
    cfg = SearchConfig(simulations=sims, tree_reuse=False)
    inside = [0.0]

    def timed(planes, legal):
        t0 = time.perf_counter()
        out = evaluator(planes, legal)
        inside[0] += time.perf_counter() - t0
        return out

    mcts = BatchedMCTS(cfg, rules, roots, timed, history=history)
    mcts.search(np.random.default_rng(seed), simulations=min(sims, 4))  # compile / warm up
    inside[0] = 0.0
    t0 = time.perf_counter()
    mcts.search(np.random.default_rng(seed))
    elapsed = time.perf_counter() - t0
    return batch * sims / elapsed, inside[0] / elapsed


def time_selfplay(search: SearchConfig, selfplay: SelfPlayConfig, rules, n: int, history: int, evaluator, steps: int, seed: int = 0) -> dict:
    """Self-play for ``steps`` search steps (after a short warm-up): simulations/s, evaluations and
    kept root visits per move (= per search), and root visits per move at the end of its search."""
    driver = SelfPlayDriver(search, selfplay, rules, n, evaluator, history, np.random.default_rng(seed))
    driver.play(10**9, max_steps=8)  # compile / warm up
    m = driver.mcts
    moves0, evals0, kept0 = m.searches, m.evaluations, m.kept_visits
    sims0 = _simulations_started(driver)
    t0 = time.perf_counter()
    driver.play(10**9, max_steps=steps)
    elapsed = time.perf_counter() - t0
    moves = m.searches - moves0  # every row runs one search at both ends: one started per move played
    sims = _simulations_started(driver) - sims0
    return {
        "simulations_per_s": sims / elapsed,
        "evaluations_per_move": (m.evaluations - evals0) / max(moves, 1),
        "kept_visits_per_move": (m.kept_visits - kept0) / max(moves, 1),
        "simulations_per_move": sims / max(moves, 1),
        "moves": moves,
    }


def _simulations_started(driver: SelfPlayDriver) -> int:
    """New simulations of all searches started so far (the finished ones and the running ones' done part)."""
    return driver.mcts.simulations_started - int(driver.mcts.rows.sims_left.sum())


def bench_gumbel_reuse(steps: int, games: int, network: str) -> None:
    """Gumbel tree reuse on vs off with the 9x9-cpu preset's search and playout caps."""
    from alphazero.config.run import load_config

    preset = load_config("9x9-cpu")
    rules, history = preset.rules, preset.history
    selfplay = replace(preset.selfplay, games_in_parallel=games, resign_enabled=False)
    evaluators = [("uniform", UniformEvaluator())]
    if network:
        try:
            import torch

            from alphazero.evaluator import NetworkEvaluator
            from alphazero.model import PolicyValueNet

            torch.manual_seed(0)
            net = PolicyValueNet(preset.network, F.num_planes(history))
            evaluators.append(("9x9-cpu net (random weights)", NetworkEvaluator(net, "cpu")))
        except ImportError as e:
            print(f"  network evaluator not available ({e}); only the uniform one")
    s = preset.search
    print(f"  9x9 self-play, Gumbel {s.simulations} sims (m={s.gumbel_considered}), playout cap {selfplay.full_search_probability:.0%}"
          f" with {selfplay.cheap_simulations}-sim cheap searches, B={games}, {steps} steps:")
    for name, ev in evaluators:
        off = time_selfplay(replace(s, gumbel_tree_reuse=False), selfplay, rules, 9, history, ev, steps)
        on = time_selfplay(replace(s, gumbel_tree_reuse=True), selfplay, rules, 9, history, ev, steps)
        for label, r in (("reuse off", off), ("reuse on ", on)):
            print(f"    {name:32s} {label}: {r['simulations_per_s']:9,.0f} simulations/s, {r['evaluations_per_move']:5.2f} evaluations/move"
                  f" for {r['simulations_per_move']:5.2f} new simulations, {r['kept_visits_per_move']:5.2f} root visits kept/move ({r['moves']} moves)")
        saved = off["evaluations_per_move"] - on["evaluations_per_move"]
        print(f"    {name:32s} reuse saves {saved:.2f} evaluations/move ({100 * saved / off['evaluations_per_move']:.1f}%),"
              f" speed {on['simulations_per_s'] / off['simulations_per_s']:.2f}x, root visits per move"
              f" {(on['simulations_per_move'] + on['kept_visits_per_move']) / (off['simulations_per_move'] + off['kept_visits_per_move']):.2f}x")


def naive_search(rules, root: B.BoardState, sims: int, history: int, c_puct: float = 1.25) -> dict:
    """The reference: a pure-Python dict tree keyed by the action path, PUCT with uniform priors
    and zero values, board moves replayed with the engine's batched wrappers on a row copy."""
    tree: dict[tuple, dict] = {}
    A = root.size * root.size + 1

    def evaluate(path):
        s = B.take_rows(root, [0])
        for a in path:
            B.play(s, [a], rules)
        if s.done[0]:
            return None, 0.0
        F.encode(s, rules, history)
        legal = B.legal_mask(s, rules)[0]
        return legal / legal.sum(), 0.0

    prior, v = evaluate(())
    tree[()] = {"N": 1, "W": v, "P": prior}
    for _ in range(sims):
        path: tuple = ()
        while True:
            node = tree[path]
            if node["P"] is None:
                break
            best, best_score = -1, -math.inf
            for a in np.flatnonzero(node["P"] > 0):
                child = tree.get(path + (int(a),))
                n, q = (child["N"], -child["W"] / child["N"]) if child else (0, 0.0)
                score = q + c_puct * node["P"][a] * math.sqrt(node["N"]) / (1 + n)
                if score > best_score:
                    best, best_score = int(a), score
            path = path + (best,)
            if path not in tree:
                prior, v = evaluate(path)
                tree[path] = {"N": 0, "W": 0.0, "P": prior}
                break
        for i in range(len(path), -1, -1):
            tree[path[:i]]["N"] += 1
            tree[path[:i]]["W"] += v if (len(path) - i) % 2 == 0 else -v
    return tree


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alphazero bench mcts", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[9, 19], help="board sizes")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16, 256], help="games searched together (B)")
    parser.add_argument("--sims", type=int, default=64, help="simulations per search and game")
    parser.add_argument("--history", type=int, default=8, help="feature history length (C = 2k + 10 planes)")
    parser.add_argument("--threads", type=int, default=1, help="numba threads (the target is for one core)")
    parser.add_argument("--reference-sims", type=int, default=100, help="simulations of the naive reference search")
    parser.add_argument("--network", default="b6c64", help="network preset for the evaluator-share measurement ('' skips it and the network in the reuse comparison)")
    parser.add_argument("--reuse-steps", type=int, default=400, help="search steps of 9x9 self-play per Gumbel reuse setting (0 skips the comparison)")
    parser.add_argument("--reuse-games", type=int, default=32, help="games in parallel in the Gumbel reuse comparison")
    args = parser.parse_args(argv)
    compiled.set_num_threads(args.threads)
    rules = preset("chinese")
    print(f"alphazero bench mcts: uniform evaluator, {args.sims} simulations per game, history {args.history}, {numba.get_num_threads()} thread(s)")
    results = {}
    for n in args.sizes:
        for batch in args.batches:
            rate, share = time_batched(rules, n, batch, args.sims, args.history, UniformEvaluator())
            results[(n, batch)] = rate
            print(f"  {n}x{n}  B={batch:4d}  {rate:12,.0f} simulations/s  (evaluator {100 * share:4.1f}% of the time)")
    for n in args.sizes:
        root = midgame_positions(rules, 1, n, 0, args.history)
        naive_search(rules, root, 4, args.history)  # warm the engine wrappers
        t0 = time.perf_counter()
        naive_search(rules, root, args.reference_sims, args.history)
        ref = args.reference_sims / (time.perf_counter() - t0)
        print(f"  {n}x{n}  reference (pure-Python dict tree, same engine, B=1): {ref:10,.0f} simulations/s")
        for batch in args.batches:
            print(f"      B={batch:4d}: {results[(n, batch)] / ref:8.1f}x the reference")
    if 9 in args.sizes and 256 in args.batches:
        rate = results[(9, 256)]
        print(f"  target >= 250,000 simulations/s at 9x9, B=256: {'met' if rate >= 250_000 else 'NOT met'} ({rate:,.0f})")
    if args.reuse_steps > 0:
        bench_gumbel_reuse(args.reuse_steps, args.reuse_games, args.network)
    if args.network:
        try:
            import torch

            from alphazero.config.network import network_preset
            from alphazero.evaluator import NetworkEvaluator
            from alphazero.model import PolicyValueNet
        except ImportError as e:
            print(f"  network evaluator not available ({e}); skipped")
            return 0
        torch.set_num_threads(max(1, args.threads))
        net = PolicyValueNet(network_preset(args.network), F.num_planes(args.history))
        ev = NetworkEvaluator(net, "cpu")
        for batch in (16, 64):
            rate, share = time_batched(rules, 9, batch, 16, args.history, ev)
            print(f"  9x9  B={batch:3d} {args.network} on CPU: {rate:10,.0f} simulations/s, {100 * (1 - share):4.1f}% of the time outside the evaluator")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
