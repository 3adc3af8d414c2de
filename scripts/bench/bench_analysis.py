"""Analysis-engine benchmark: a whole 9x9 game (every turn) analysed as one query whose
``analyzeTurns`` go into one batched search, against the same turns analysed one query at a time
(each waiting for the previous result, as a client stepping through a game would), measured in
the same run with the same evaluator and visits. Target: batched >= 5x turn-by-turn."""

from __future__ import annotations

import argparse
import json
import queue
import threading
import time

import numpy as np

from alphazero.analysis.query import Defaults
from alphazero.analysis.scheduler import AnalysisEngine
from go_engine import board as B
from go_engine import compiled
from go_engine import coords
from go_engine import features as F
from go_engine.rules import preset


def random_game(n: int, moves: int, seed: int) -> list[list[str]]:
    """A seeded game of ``moves`` random legal non-pass moves (fewer if the board fills)."""
    rules = preset("chinese")
    state = B.state_for(rules, 1, n)
    rng = np.random.default_rng(seed)
    out = []
    for k in range(moves):
        legal = B.legal_mask(state, rules)[0]
        legal[-1] = False
        if not legal.any():
            break
        a = int(rng.choice(np.flatnonzero(legal)))
        B.play(state, [a], rules)
        out.append(["B" if k % 2 == 0 else "W", coords.action_to_gtp(a, n)])
    return out


class Session:
    def __init__(self, evaluator, history: int, rows: int, visits: int) -> None:
        self.out: "queue.Queue[dict]" = queue.Queue()
        defaults = Defaults(visits=visits, max_visits=visits, history=history)
        self.engine = AnalysisEngine(evaluator, history, defaults, self.out.put, rows=rows)
        self.thread = threading.Thread(target=self.engine.run, daemon=True)
        self.thread.start()

    def analyse(self, qid: str, n: int, moves, turns) -> float:
        """Seconds until every turn's final result arrived."""
        t0 = time.perf_counter()
        self.engine.submit(json.dumps({"id": qid, "moves": moves, "rules": "chinese", "komi": 7.5, "boardXSize": n,
                                       "boardYSize": n, "analyzeTurns": list(turns)}))
        left = len(turns)
        while left:
            r = self.out.get(timeout=600)
            if "error" in r:
                raise RuntimeError(f"analysis failed: {r}")
            if r.get("id") == qid and r.get("isDuringSearch") is False:
                left -= 1
        return time.perf_counter() - t0

    def close(self) -> None:
        self.engine.close_input()
        self.thread.join()


def make_evaluator(name: str, checkpoint: str | None, history: int, device: str):
    if checkpoint:
        from alphazero.evaluator import NetworkEvaluator

        ev, meta = NetworkEvaluator.from_checkpoint(checkpoint, device=device)
        return ev, meta.history, f"checkpoint {checkpoint}"
    if name == "uniform":
        from selfplay.evaluators import UniformEvaluator

        return UniformEvaluator(), history, "uniform evaluator"
    from alphazero.config.network import network_preset
    from alphazero.evaluator import NetworkEvaluator
    from alphazero.model import PolicyValueNet

    net = PolicyValueNet(network_preset(name), F.num_planes(history))
    return NetworkEvaluator(net, device), history, f"{name} network (random weights) on {device}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alphazero bench analysis", description=__doc__)
    parser.add_argument("--size", type=int, default=9, help="board size")
    parser.add_argument("--moves", type=int, default=60, help="moves in the game (turns analysed: moves + 1)")
    parser.add_argument("--visits", type=int, default=32, help="maxVisits per turn")
    parser.add_argument("--network", default="b6c64", help="network preset with random weights, or 'uniform'")
    parser.add_argument("--checkpoint", default=None, help="a checkpoint instead of --network")
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--threads", type=int, default=1, help="torch and numba threads")
    parser.add_argument("--serial-turns", type=int, default=0,
                        help="time only this many turns one by one and scale (0: all turns)")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(max(1, args.threads))
    compiled.set_num_threads(args.threads)
    evaluator, history, what = make_evaluator(args.network, args.checkpoint, 8, args.device)
    n = args.size
    moves = random_game(n, args.moves, seed=0)
    turns = list(range(len(moves) + 1))
    print(f"alphazero bench analysis: {n}x{n} game of {len(moves)} moves ({len(turns)} turns), {args.visits} visits per turn, "
          f"{what}, {args.threads} thread(s)")

    batched = Session(evaluator, history, rows=len(turns), visits=args.visits)
    batched.analyse("warm", n, moves[:4], [0, 1, 2])
    t_batched = batched.analyse("game", n, moves, turns)
    batched.close()
    serial = Session(evaluator, history, rows=1, visits=args.visits)
    serial.analyse("warm", n, moves[:2], [1])
    timed = turns if args.serial_turns <= 0 else turns[:: max(1, len(turns) // args.serial_turns)][: args.serial_turns]
    t_serial = sum(serial.analyse(f"t{t}", n, moves, [t]) for t in timed) * len(turns) / len(timed)
    serial.close()
    rate_b, rate_s = len(turns) / t_batched, len(turns) / t_serial
    print(f"  batched (one query, all analyzeTurns): {t_batched:8.2f} s  {rate_b:8.2f} positions/s")
    print(f"  turn by turn (one query per turn):     {t_serial:8.2f} s  {rate_s:8.2f} positions/s"
          + ("" if len(timed) == len(turns) else f"  ({len(timed)} turns timed, scaled)"))
    ratio = t_serial / t_batched
    print(f"  batched / turn-by-turn: {ratio:.1f}x  (target >= 5x: {'met' if ratio >= 5 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
