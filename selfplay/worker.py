"""A self-play worker: a network evaluator plus the batched game driver, switching weights between
moves when a new version arrives. Plain Python: the training loop wraps it as a Ray actor."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from alphazero.config.search import SearchConfig, SelfPlayConfig
from alphazero.eval_cache import CachedEvaluator
from alphazero.game_record import GameRecord
from go_engine.rules import Rules
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
    """Plays ``selfplay.games_in_parallel`` games at once with the newest weights it was given.

    ``network``: the evaluator the search calls (the worker's own ``NetworkEvaluator``, or a shared
    inference server's client); it takes each new version through ``set_weights(version, weights)``.
    ``stages``: (board size, rules) of each curriculum stage, one entry without a curriculum;
    ``stage_ids`` puts the stage in the game ids. The games are seeded by (``seed``, ``index``, a
    fresh incarnation id)."""

    def __init__(self, network, search: SearchConfig, selfplay: SelfPlayConfig, history: int,
                 stages: Sequence[tuple[int, Rules]], index: int, seed: int, stage_ids: bool = False) -> None:
        if not stages:
            raise ValueError("a self-play worker needs at least one (board size, rules) stage")
        self.network = network
        self.search, self.selfplay, self.history = search, selfplay, history
        self.stages, self.stage_ids = tuple(stages), stage_ids
        self.index = index
        size = selfplay.eval_cache_size
        # The search calls the cache, the cache the network; new weights clear it.
        self.evaluator = CachedEvaluator(network, size) if size > 0 else network
        self.version = -1
        # A fresh random id per incarnation: a restarted actor never reuses the game ids, nor replays
        # the games, of the one that died. Its games are seeded by (seed, index, incarnation), and
        # the incarnation is in every game id (w<index>-<incarnation>-...): they can be replayed.
        incarnation = uuid.uuid4().hex[:10]
        self.incarnation = incarnation
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, index, int(incarnation, 16)]))
        self.stage = -1
        self.driver = self._driver(0)

    def _driver(self, stage: int) -> SelfPlayDriver:
        """The game driver of curriculum stage ``stage`` (its board size and komi); with
        ``stage_ids`` its game ids name the stage (w<index>-<incarnation>-s<stage>-<game>)."""
        board_size, rules = self.stages[stage]
        prefix = f"w{self.index}-{self.incarnation}" + (f"-s{stage}" if self.stage_ids else "")
        driver = SelfPlayDriver(self.search, self.selfplay, rules, board_size, self.evaluator, self.history,
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
        self.network.set_weights(version, weights)
        if isinstance(self.evaluator, CachedEvaluator):
            self.evaluator.clear()  # cached outputs are the old weights'
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
