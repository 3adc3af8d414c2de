"""Evaluation cache benchmark: self-play of a preset (default ``9x9-cpu``: its network, search and
games in parallel) with the cache off and on, from the same seed, measured in alternating chunks
of search steps so a changing machine load hits both alike. Reports the hit rate, network
evaluations saved per move, search leaves/s, network evaluations/s and positions (moves)/s with
the ratio on/off, and the cache's own cost per lookup (digest + table) against a network row."""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from alphazero.checkpoint import load_model
from alphazero.config.run import load_config
from alphazero.eval_cache import CachedEvaluator
from alphazero.evaluator import NetworkEvaluator
from alphazero.model import PolicyValueNet
from go_engine import compiled
from go_engine import features as F
from selfplay.game_driver import SelfPlayDriver


class Timed:
    """Rows and seconds spent in the evaluator behind it."""

    def __init__(self, inner) -> None:
        self.inner, self.rows, self.seconds = inner, 0, 0.0

    def __call__(self, planes, legal):
        t0 = time.perf_counter()
        out = self.inner(planes, legal)
        self.seconds += time.perf_counter() - t0
        self.rows += planes.shape[0]
        return out


class Side:
    """One self-play driver (cache on or off) and what it has done while timed."""

    def __init__(self, config, network: NetworkEvaluator, cache_size: int, seed: int) -> None:
        self.network = Timed(network)
        self.cache = CachedEvaluator(self.network, cache_size) if cache_size else None
        self.outer = Timed(self.cache) if self.cache is not None else self.network
        self.driver = SelfPlayDriver(config.search, config.selfplay, config.rules, config.board_size, self.outer,
                                     config.history, np.random.default_rng(seed))
        self.seconds = 0.0
        self.finished_moves = 0  # moves of the games finished so far
        self.start = self.snapshot()

    def moves(self) -> int:
        return self.finished_moves + sum(len(log.moves) for log in self.driver.logs)

    def snapshot(self) -> dict:
        c = self.cache.counters if self.cache is not None else None
        return {"leaves": self.driver.mcts.evaluations, "network_rows": self.network.rows, "network_s": self.network.seconds,
                "outer_s": self.outer.seconds, "moves": self.moves(), "lookups": c.lookups if c is not None else 0,
                "hits": c.hits if c is not None else 0, "repeats": c.repeats if c is not None else 0}

    def run(self, steps: int, clear_every: int) -> None:
        for _ in range(steps):
            if self.cache is not None and clear_every and self.driver.steps % clear_every == 0:
                self.cache.clear()  # as a new model version would
            t0 = time.perf_counter()
            records = self.driver.play(num_games=1 << 30, max_steps=1)
            self.seconds += time.perf_counter() - t0
            self.finished_moves += sum(len(r.moves) for r in records)

    def reset_window(self) -> None:
        self.seconds, self.start = 0.0, self.snapshot()

    def window(self) -> dict:
        now = self.snapshot()
        return {k: now[k] - self.start[k] for k in now} | {"seconds": self.seconds}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="alphazero bench eval_cache", description=__doc__)
    parser.add_argument("--preset", default="9x9-cpu", help="training preset whose network, search and self-play are used")
    parser.add_argument("--checkpoint", default=None, help="checkpoint directory with weights (default: a random-init network)")
    parser.add_argument("--cache-size", type=int, default=100_000, help="positions in the cache")
    parser.add_argument("--warmup-steps", type=int, default=100, help="search steps before timing (compiles, and leaves the opening)")
    parser.add_argument("--steps", type=int, default=400, help="timed search steps per side")
    parser.add_argument("--chunk", type=int, default=25, help="search steps per alternation between the sides")
    parser.add_argument("--clear-every", type=int, default=0, help="clear the cache every this many search steps, "
                        "as new weights do in training (0: never)")
    parser.add_argument("--threads", type=int, default=1, help="torch and numba threads (a CPU actor uses 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("overrides", nargs="*", help="config overrides key.path=value (e.g. search.gumbel=false)")
    args = parser.parse_args(argv)
    if args.cache_size < 1 or args.steps < 1 or args.chunk < 1 or args.warmup_steps < 0:
        parser.error("--cache-size, --steps and --chunk must be >= 1, --warmup-steps >= 0")
    return args


def describe(args: argparse.Namespace, config) -> str:
    """The header line: the preset's network, search and games, the weights, threads and cache."""
    s, sp, nc = config.search, config.selfplay, config.network
    return (f"alphazero bench eval_cache: {args.preset} ({config.board_size}x{config.board_size}, history {config.history}, "
            f"{nc.blocks} blocks x {nc.channels}, {'Gumbel' if s.gumbel else 'PUCT'} {s.simulations} sims "
            f"(cheap {sp.cheap_simulations}, full {sp.full_search_probability:.0%}), tree reuse "
            f"{'on' if s.tree_reuse and not s.gumbel else 'off'}, {sp.games_in_parallel} games), "
            f"{'weights of ' + args.checkpoint if args.checkpoint else 'random-init network'}, {args.threads} thread(s), "
            f"cache {args.cache_size} positions" + (f" cleared every {args.clear_every} steps" if args.clear_every else ""))


def run_alternating(off: Side, on: Side, args: argparse.Namespace) -> None:
    """Warm both sides up, then time ``args.steps`` search steps each, in alternating chunks."""
    for side in (off, on):
        side.run(args.warmup_steps, args.clear_every)
        side.reset_window()
    done = 0
    while done < args.steps:
        k = min(args.chunk, args.steps - done)
        for side in (off, on):
            side.run(k, args.clear_every)
        done += k


def _ratio(x: float, y: float) -> str:
    return f"{x / y:.2f}x" if y > 0 else "n/a (none played: more --steps)"


def report(steps: int, a: dict, b: dict) -> None:
    """Print the timed windows of the cache off (``a``) and on (``b``)."""

    def rates(w: dict) -> tuple[float, float, float]:
        return w["leaves"] / w["seconds"], w["network_rows"] / w["seconds"], w["moves"] / w["seconds"]

    (la, na, pa), (lb, nb, pb) = rates(a), rates(b)
    saved = b["hits"] + b["repeats"]
    print(f"  timed: {steps} search steps per side, {a['moves']} / {b['moves']} moves played (off / on)")
    print(f"  cache off: {la:9.1f} leaves/s  {na:9.1f} network evaluations/s  {pa:7.2f} positions/s")
    print(f"  cache on:  {lb:9.1f} leaves/s  {nb:9.1f} network evaluations/s  {pb:7.2f} positions/s")
    print(f"  ratio on/off: leaves/s {_ratio(lb, la)}, positions/s {_ratio(pb, pa)}")
    print(f"  hit rate {saved / max(b['lookups'], 1):.1%} of {b['lookups']} lookups ({b['hits']} from the table, "
          f"{b['repeats']} repeats within a batch); network evaluations saved per move "
          + (f"{saved / b['moves']:.2f} of {b['lookups'] / b['moves']:.2f} leaves per move" if b["moves"] else "n/a (no move played)"))
    per_row = a["network_s"] / max(a["network_rows"], 1)
    overhead = (b["outer_s"] - b["network_s"]) / max(b["lookups"], 1)
    print(f"  cost: cache {1e6 * overhead:.1f} us per lookup (digest + table) vs network {1e6 * per_row:.1f} us per row "
          f"({overhead / per_row:.2%}); network {a['network_s'] / a['seconds']:.0%} of the uncached self-play time")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = load_config(args.preset, overrides=args.overrides)
    torch.set_num_threads(args.threads)
    compiled.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.checkpoint:
        model, _ = load_model(args.checkpoint, "cpu")
    else:
        model = PolicyValueNet(config.network, F.num_planes(config.history))
    net = NetworkEvaluator(model)
    print(describe(args, config))
    off, on = Side(config, net, 0, args.seed), Side(config, net, args.cache_size, args.seed)
    run_alternating(off, on, args)
    report(args.steps, off.window(), on.window())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
