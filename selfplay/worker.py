"""A self-play worker: a network evaluator plus the batched game driver, switching weights between
moves when a new version arrives. Plain Python: the training loop wraps it as a Ray actor."""

from __future__ import annotations

import os
import time
import uuid

import numpy as np
import torch

from alphazero.config.run import RunConfig
from alphazero.eval_cache import CachedEvaluator
from alphazero.evaluator import NetworkEvaluator
from alphazero.game_record import GameRecord
from alphazero.model import PolicyValueNet
from go_engine import features as F
from selfplay.game_driver import SelfPlayDriver


class SelfPlayWorker:
    """Plays ``config.selfplay.games_in_parallel`` games at once with the newest weights it was given."""

    def __init__(self, config: RunConfig, index: int, device: str = "cpu", threads: int = 1) -> None:
        torch.set_num_threads(max(1, threads))
        self.config = config
        self.index = index
        self.device = device
        model = PolicyValueNet(config.network, F.num_planes(config.history))
        precision = config.loop.inference_precision
        if precision == "float16" and not str(device).startswith("cuda"):
            precision = "float32"  # fp16 kernels are CUDA's; bf16 runs on CPUs too
        backend = config.loop.inference_backend
        if str(device).startswith("cuda"):
            backend = "torch"  # onnxruntime here is the CPU build
        elif backend == "onnxruntime":
            precision = "float32"
        self.network = NetworkEvaluator(model, device=device, precision=precision, compile=config.loop.inference_compile,
                                        backend=backend, threads=threads)
        size = config.selfplay.eval_cache_size
        # The search calls the cache, the cache the network; new weights clear it (load_state_dict).
        self.evaluator = CachedEvaluator(self.network, size) if size > 0 else self.network
        self.version = -1
        # A fresh id per incarnation: a restarted actor never reuses the game ids of the one that died.
        incarnation = uuid.uuid4().hex[:10]
        self.incarnation = incarnation
        seed = np.random.SeedSequence([config.loop.seed, index, int.from_bytes(os.urandom(4), "little")])
        self.driver = SelfPlayDriver(
            config.search, config.selfplay, config.rules, config.board_size, self.evaluator, config.history,
            np.random.default_rng(seed), model_version=0, game_id_prefix=f"w{index}-{incarnation}",
        )

    def set_weights(self, version: int, weights: dict[str, np.ndarray]) -> None:
        if version == self.version:
            return
        self.evaluator.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
        self.driver.set_evaluator(self.evaluator, version)
        self.version = version

    def run(self, version: int, weights: dict[str, np.ndarray], steps: int) -> tuple[list[GameRecord], dict]:
        """Switch to ``version`` if it is new, run ``steps`` search steps, return finished games and stats."""
        self.set_weights(version, weights)
        start = time.perf_counter()
        evaluations = self.driver.mcts.evaluations
        cache = self.evaluator.counters if isinstance(self.evaluator, CachedEvaluator) else None
        lookups, saved = (cache.lookups, cache.saved) if cache is not None else (0, 0)
        records = self.driver.play(num_games=1 << 30, max_steps=steps)
        elapsed = time.perf_counter() - start
        leaves = self.driver.mcts.evaluations - evaluations
        saved = cache.saved - saved if cache is not None else 0
        stats = {
            "worker": self.index,
            "incarnation": self.incarnation,
            "version": self.version,
            "seconds": elapsed,
            "evaluations": leaves,  # leaves the search asked to evaluate
            "network_evaluations": leaves - saved,
            "eval_cache_lookups": cache.lookups - lookups if cache is not None else 0,
            "eval_cache_hits": saved,  # lookups answered without the network
            "steps": steps,
        }
        return records, stats
