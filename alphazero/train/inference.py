"""Shared inference (``loop.inference = "shared"``): a server actor per GPU share that batches the
leaf evaluations of several self-play actors into one network call, and the client evaluator the
self-play actors search with.

Weights: the driver sends each newly published version to every server (``load_weights``, the
weights' object ref once per server), as it sends ``(version, weights)`` to the self-play actors.
Every request names the version its actor plays; a server that does not have that version yet
waits briefly for the driver's push, then answers "missing" and the client sends the weights it
holds itself (after a restart of the server, whose ``__init__`` starts without weights). A server
evaluates with the newest version it holds: an actor still finishing a task of the previous
version gets the new weights up to one task sooner than with its own network, never later.
"""

from __future__ import annotations

import asyncio

import numpy as np
import ray
import torch

from alphazero.config.run import LoopConfig, RunConfig
from alphazero.evaluator import inference_evaluator
from alphazero.evaluator_batching import BatchingQueue
from alphazero.model import PolicyValueNet
from go_engine import features as F

PUSH_WAIT_S = 2.0  # how long a request for a version the server lacks waits for the driver's push


def server_clients(loop: LoopConfig) -> list[list[int]]:
    """The self-play actor indices each server serves: actor i uses server i % inference_servers."""
    return [list(range(k, loop.selfplay_actors, loop.inference_servers)) for k in range(loop.inference_servers)]


@ray.remote(max_restarts=-1, max_task_retries=-1)
class InferenceServer:
    """An async actor: ``evaluate`` calls from many self-play actors share one ``BatchingQueue``
    in front of one ``NetworkEvaluator``. A restart starts without weights (see the module doc)."""

    def __init__(self, config: RunConfig, index: int, device: str, threads: int, clients: int) -> None:
        torch.set_num_threads(max(1, threads))
        loop = config.loop
        model = PolicyValueNet(config.network, F.num_planes(config.history))
        self.network = inference_evaluator(model, device, loop.inference_precision, loop.inference_backend,
                                           loop.inference_compile, threads=threads, max_batch=loop.inference_batch)
        self.queue = BatchingQueue(self.network, loop.inference_batch, loop.inference_wait_ms / 1000.0, clients)
        self.index = index
        self.version = -1
        self._loaded = asyncio.Event()  # set (and replaced) whenever a new version is in

    def placement(self) -> dict:
        from alphazero.train.actors import placement

        return placement(str(self.network.device))

    async def load_weights(self, version: int, weights: dict) -> int:
        """Use ``version`` from now on if it is newer than the one held; returns the version held."""
        if version > self.version and await self.queue.run_exclusive(self._load, version, weights):
            loaded, self._loaded = self._loaded, asyncio.Event()
            loaded.set()  # in the event loop: asyncio events are not thread-safe
        return self.version

    def _load(self, version: int, weights: dict) -> bool:
        """On the network's thread, between two batches; False if the version is not newer."""
        if version <= self.version:  # another caller's push of this version got here first
            return False
        self.network.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
        self.version = version
        return True

    async def evaluate(self, planes: np.ndarray, legal: np.ndarray, version: int):
        """``(logits, value, aux)`` for the rows, or None when the server lacks ``version``."""
        if version > self.version:
            try:
                await asyncio.wait_for(self._wait_for(version), PUSH_WAIT_S)
            except TimeoutError:
                return None
        return await self.queue.evaluate(planes, legal)

    async def _wait_for(self, version: int) -> None:
        while version > self.version:
            await self._loaded.wait()

    def stats(self) -> dict:
        return {"server": self.index, "version": self.version, **self.queue.stats.to_json()}


class RemoteEvaluator:
    """The evaluator a self-play actor searches with under shared inference: each call is one
    request to its server (``alphazero.evaluator``'s contract). Keeps the weights of its version to
    hand them to a server that lost them."""

    def __init__(self, server, name: str) -> None:
        self.server = server
        self.device = name  # where the network runs, for placement records
        self.version = -1
        self.weights: dict | None = None

    def set_weights(self, version: int, weights: dict) -> None:
        self.version, self.weights = version, weights

    def __call__(self, planes: np.ndarray, legal: np.ndarray):
        for _ in range(3):
            out = ray.get(self.server.evaluate.remote(planes, legal, self.version))
            if out is not None:
                logits, value, aux = out
                # Arrays from the object store are read-only views; the search may write into its inputs.
                return (_writable(logits), _writable(value), {k: _writable(v) for k, v in aux.items()})
            if self.weights is None:
                raise RuntimeError(f"the inference server lacks version {self.version} and this actor has no weights")
            ray.get(self.server.load_weights.remote(self.version, self.weights))
        raise RuntimeError(f"the inference server did not take version {self.version} of the weights")


def _writable(a: np.ndarray) -> np.ndarray:
    return a if a.flags.writeable else a.copy()
