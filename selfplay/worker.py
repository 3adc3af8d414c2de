"""A self-play worker: a network evaluator plus the batched game driver, switching weights between
moves when a new version arrives. Plain Python: the training loop wraps it as a Ray actor."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import numpy as np
import torch

from alphazero.config.run import RunConfig
from alphazero.eval_cache import CachedEvaluator
from alphazero.evaluator import NetworkEvaluator, runnable_precision
from alphazero.game_record import GameRecord
from alphazero.model import PolicyValueNet
from go_engine import features as F
from selfplay.game_driver import SelfPlayDriver


@dataclass(frozen=True)
class SearchStats:
    """The search's work in one ``SelfPlayWorker.run`` (the fields of the same names in
    ``alphazero.train.messages.SelfPlayResult``)."""

    worker: int
    incarnation: str
    version: int
    seconds: float
    evaluations: int  # leaves the search asked to evaluate
    network_evaluations: int
    eval_cache_lookups: int
    eval_cache_hits: int  # lookups answered without the network
    steps: int


class SelfPlayWorker:
    """Plays ``config.selfplay.games_in_parallel`` games at once with the newest weights it was given.

    ``remote``: an evaluator that runs elsewhere (a shared inference server's client) used instead
    of a network of the worker's own; it takes each new version through ``set_weights(version,
    weights)``, where the worker's own network would load them."""

    def __init__(self, config: RunConfig, index: int, device: str = "cpu", threads: int = 1, remote=None) -> None:
        torch.set_num_threads(max(1, threads))
        self.config = config
        self.index = index
        self.device = device
        self.remote = remote
        if remote is None:
            model = PolicyValueNet(config.network, F.num_planes(config.history))
            precision = runnable_precision(config.loop.inference_precision, device)
            backend = config.loop.inference_backend
            if str(device).startswith("cuda"):
                backend = "torch"  # onnxruntime here is the CPU build
            elif backend == "onnxruntime":
                precision = "float32"
            self.network = NetworkEvaluator(model, device=device, precision=precision, compile=config.loop.inference_compile,
                                            backend=backend, threads=threads)
        else:
            self.network = remote
        size = config.selfplay.eval_cache_size
        # The search calls the cache, the cache the network; new weights clear it (load_state_dict).
        self.evaluator = CachedEvaluator(self.network, size) if size > 0 else self.network
        self.version = -1
        # A fresh random id per incarnation: a restarted actor never reuses the game ids, nor replays
        # the games, of the one that died. Its games are seeded by (loop.seed, index, incarnation),
        # and the incarnation is in every game id (w<index>-<incarnation>-...): they can be replayed.
        incarnation = uuid.uuid4().hex[:10]
        self.incarnation = incarnation
        seed = np.random.SeedSequence([config.loop.seed, index, int(incarnation, 16)])
        self.rng = np.random.default_rng(seed)
        self.stage = -1
        self.driver = self._driver(0)

    def _driver(self, stage: int) -> SelfPlayDriver:
        """The game driver of curriculum stage ``stage`` (its board size and komi); with a
        curriculum its game ids name the stage (w<index>-<incarnation>-s<stage>-<game>)."""
        config = self.config
        board_size, rules = config.stage_rules(stage)
        prefix = f"w{self.index}-{self.incarnation}" + (f"-s{stage}" if config.curriculum.enabled else "")
        driver = SelfPlayDriver(config.search, config.selfplay, rules, board_size, self.evaluator, config.history,
                                self.rng, model_version=max(self.version, 0), game_id_prefix=prefix)
        self.stage = stage
        return driver

    def set_stage(self, stage: int) -> None:
        """Play curriculum stage ``stage`` from now on: a new stage's board size (or komi) starts new
        games, the unfinished games of the old stage are dropped."""
        if stage != self.stage:
            self.driver = self._driver(stage)

    def set_weights(self, version: int, weights: dict[str, np.ndarray]) -> None:
        if version == self.version:
            return
        if self.remote is not None:
            self.remote.set_weights(version, weights)
            if isinstance(self.evaluator, CachedEvaluator):
                self.evaluator.clear()  # cached outputs are the old weights'
        else:
            self.evaluator.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
        self.driver.set_evaluator(self.evaluator, version)
        self.version = version

    def run(self, version: int, weights: dict[str, np.ndarray], steps: int, stage: int = 0) -> tuple[list[GameRecord], SearchStats]:
        """Switch to ``version`` if it is new and to curriculum stage ``stage``, run ``steps``
        search steps, return finished games and stats."""
        self.set_weights(version, weights)
        self.set_stage(stage)
        start = time.perf_counter()
        evaluations = self.driver.mcts.evaluations
        cache = self.evaluator.counters if isinstance(self.evaluator, CachedEvaluator) else None
        lookups, saved = (cache.lookups, cache.saved) if cache is not None else (0, 0)
        records = self.driver.play(num_games=1 << 30, max_steps=steps)
        elapsed = time.perf_counter() - start
        leaves = self.driver.mcts.evaluations - evaluations
        saved = cache.saved - saved if cache is not None else 0
        stats = SearchStats(
            worker=self.index, incarnation=self.incarnation, version=self.version, seconds=elapsed,
            evaluations=leaves, network_evaluations=leaves - saved,
            eval_cache_lookups=cache.lookups - lookups if cache is not None else 0, eval_cache_hits=saved, steps=steps,
        )
        return records, stats
