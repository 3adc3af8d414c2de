"""A batching queue with a deadline in front of one evaluator: leaf batches from several clients
(the self-play actors sharing an inference server) wait until one network call can take them all.

A waiting batch is flushed when the first of these holds:
  - ``max_rows`` rows are waiting (the batch is full);
  - every one of the ``clients`` callers is waiting (each has at most one request out, so no more
    rows can come before one of them is answered);
  - ``max_wait_s`` has passed since the oldest waiting request arrived (a paused or dead client
    must not hold the others up).

The evaluator runs in one worker thread while the event loop keeps taking requests, so the next
batch fills during the current call. Each caller gets back exactly its own rows, in order.

Contract: ``await queue.evaluate(planes [b, C, n, n] float32, legal [b, A] bool)`` returns
``(logits [b, A] float32, value [b] float32, aux {"ownership": [b, n*n], "score": [b]})`` as the
wrapped evaluator does (``alphazero.evaluator``). Requests of different board sizes are never
mixed in one call (they are flushed as separate groups).
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np


@dataclass
class BatchingStats:
    """What the queue has done: network calls, the rows and requests they took, why they flushed."""

    calls: int = 0
    rows: int = 0
    requests: int = 0
    flushed_full: int = 0  # max_rows rows were waiting
    flushed_all_clients: int = 0  # every client was waiting
    flushed_deadline: int = 0  # max_wait_s passed
    busy_s: float = 0.0  # seconds inside the evaluator

    def to_json(self) -> dict:
        out = dict(self.__dict__)
        out["mean_batch"] = self.rows / self.calls if self.calls else 0.0
        out["mean_requests_per_call"] = self.requests / self.calls if self.calls else 0.0
        return out


@dataclass
class _Request:
    planes: np.ndarray  # [b, C, n, n] float32
    legal: np.ndarray  # [b, A] bool
    future: asyncio.Future
    arrived: float = field(default_factory=time.monotonic)


class BatchingQueue:
    """Batches ``evaluate`` calls for ``evaluator`` (a callable with the evaluator contract). Create
    it inside the event loop that will call it (an async Ray actor's ``__init__`` runs there)."""

    def __init__(self, evaluator, max_rows: int, max_wait_s: float, clients: int) -> None:
        if max_rows < 1:
            raise ValueError(f"max_rows must be >= 1, got {max_rows}")
        if max_wait_s < 0:
            raise ValueError(f"max_wait_s must be >= 0, got {max_wait_s}")
        if clients < 1:
            raise ValueError(f"clients must be >= 1, got {clients}")
        self.evaluator = evaluator
        self.max_rows = max_rows
        self.max_wait_s = max_wait_s
        self.clients = clients
        self.stats = BatchingStats()
        self._waiting: list[_Request] = []
        self._rows = 0
        self._changed: asyncio.Event | None = None
        self._flusher: asyncio.Task | None = None
        # One thread: evaluator calls (and anything run_exclusive runs, e.g. a weight swap) never overlap.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")

    async def evaluate(self, planes: np.ndarray, legal: np.ndarray):
        if planes.ndim != 4 or legal.ndim != 2 or legal.shape[0] != planes.shape[0]:
            raise ValueError(f"planes [b, C, n, n] and legal [b, A] expected, got {planes.shape} and {legal.shape}")
        loop = asyncio.get_running_loop()
        if self._changed is None:
            self._changed = asyncio.Event()
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush_forever())
        request = _Request(planes, legal, loop.create_future())
        self._waiting.append(request)
        self._rows += planes.shape[0]
        self._changed.set()
        return await request.future

    async def run_exclusive(self, fn, *args):
        """Run ``fn(*args)`` on the evaluator's thread, between two evaluator calls."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    # ---- the flusher -------------------------------------------------------------------------
    def _reason(self, now: float) -> str | None:
        if not self._waiting:
            return None
        if self._rows >= self.max_rows:
            return "full"
        if len(self._waiting) >= self.clients:
            return "all_clients"
        if now - self._waiting[0].arrived >= self.max_wait_s:
            return "deadline"
        return None

    async def _flush_forever(self) -> None:
        assert self._changed is not None
        while True:
            reason = self._reason(time.monotonic())
            while reason is None:
                self._changed.clear()
                timeout = None
                if self._waiting:
                    timeout = max(0.0, self._waiting[0].arrived + self.max_wait_s - time.monotonic())
                try:
                    await asyncio.wait_for(self._changed.wait(), timeout)
                except TimeoutError:
                    pass
                reason = self._reason(time.monotonic())
            setattr(self.stats, f"flushed_{reason}", getattr(self.stats, f"flushed_{reason}") + 1)
            await self._flush(self._take())

    def _take(self) -> list[_Request]:
        """The oldest requests of the oldest request's shape, up to ``max_rows`` rows (at least one)."""
        shape = self._waiting[0].planes.shape[1:]
        taken, rows, kept = [], 0, []
        for request in self._waiting:
            b = request.planes.shape[0]
            if request.planes.shape[1:] == shape and (not taken or rows + b <= self.max_rows):
                taken.append(request)
                rows += b
            else:
                kept.append(request)
        self._waiting = kept
        self._rows -= rows
        return taken

    async def _flush(self, requests: list[_Request]) -> None:
        planes = np.concatenate([r.planes for r in requests]) if len(requests) > 1 else requests[0].planes
        legal = np.concatenate([r.legal for r in requests]) if len(requests) > 1 else requests[0].legal
        start = time.perf_counter()
        try:
            logits, value, aux = await self.run_exclusive(self.evaluator, planes, legal)
        except Exception as e:  # noqa: BLE001 - every caller of this batch gets the error
            for r in requests:
                if not r.future.done():
                    r.future.set_exception(e)
            return
        finally:
            self.stats.busy_s += time.perf_counter() - start
        self.stats.calls += 1
        self.stats.rows += planes.shape[0]
        self.stats.requests += len(requests)
        offset = 0
        for r in requests:
            b = r.planes.shape[0]
            rows = slice(offset, offset + b)
            offset += b
            if not r.future.done():  # a caller that went away (cancelled) is skipped
                r.future.set_result((logits[rows], value[rows], {k: v[rows] for k, v in aux.items()}))
