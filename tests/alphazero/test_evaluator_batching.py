"""The batching queue of the shared inference server, without Ray: which requests share a network
call and why it flushed, each caller gets exactly its own rows, errors reach every caller."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from alphazero.evaluator_batching import BatchingQueue
from go_engine import features as F
from selfplay.evaluators import LinearEvaluator

HISTORY = 2
C = F.num_planes(HISTORY)


class Recording:
    """A batch-invariant evaluator (exact integer sums) that records the batch sizes it was called with."""

    def __init__(self, n: int) -> None:
        self.inner = LinearEvaluator(C, n, seed=3)
        self.batches: list[int] = []

    def __call__(self, planes, legal):
        self.batches.append(planes.shape[0])
        logits, value, _ = self.inner(planes, legal)
        aux = {"score": value * 10.0, "ownership": np.repeat(value[:, None], planes.shape[2] ** 2, axis=1)}
        return logits, value, aux


def leaves(b: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.random((b, C, n, n)) < 0.3).astype(np.float32), rng.random((b, n * n + 1)) < 0.8


def run(coro):
    return asyncio.run(coro)


def check_rows(evaluator: Recording, planes, legal, out) -> None:
    logits, value, aux = out
    want_logits, want_value, want_aux = evaluator(planes, legal)
    evaluator.batches.pop()  # the reference call above is not the queue's
    np.testing.assert_array_equal(logits, want_logits)
    np.testing.assert_array_equal(value, want_value)
    for key in ("score", "ownership"):
        np.testing.assert_array_equal(aux[key], want_aux[key])


def test_all_clients_waiting_share_one_call_and_get_their_own_rows():
    evaluator = Recording(5)
    inputs = [leaves(b, 5, seed) for seed, b in enumerate([3, 1, 4])]

    async def main():
        queue = BatchingQueue(evaluator, max_rows=1024, max_wait_s=30.0, clients=3)
        outs = await asyncio.gather(*(queue.evaluate(p, m) for p, m in inputs))
        return queue, outs

    queue, outs = run(main())
    assert evaluator.batches == [8]  # one call took all three requests, long before the deadline
    assert queue.stats.flushed_all_clients == 1 and queue.stats.requests == 3 and queue.stats.rows == 8
    for (planes, legal), out in zip(inputs, outs):
        check_rows(evaluator, planes, legal, out)


def test_a_lone_request_is_flushed_at_the_deadline():
    evaluator = Recording(5)
    planes, legal = leaves(2, 5, 0)

    async def main():
        queue = BatchingQueue(evaluator, max_rows=1024, max_wait_s=0.05, clients=4)
        return queue, await queue.evaluate(planes, legal)

    queue, out = run(main())
    assert queue.stats.flushed_deadline == 1 and queue.stats.flushed_all_clients == 0
    check_rows(evaluator, planes, legal, out)


def test_a_full_batch_is_flushed_without_waiting_and_never_exceeds_max_rows():
    evaluator = Recording(5)
    inputs = [leaves(b, 5, seed) for seed, b in enumerate([2, 2, 3, 1])]

    async def main():
        queue = BatchingQueue(evaluator, max_rows=4, max_wait_s=30.0, clients=10)
        outs = await asyncio.gather(*(queue.evaluate(p, m) for p, m in inputs))
        return queue, outs

    queue, outs = run(main())
    # 2 + 2 fill a batch; 3 + 1 fill the next.
    assert evaluator.batches == [4, 4] and queue.stats.flushed_full == 2
    for (planes, legal), out in zip(inputs, outs):
        check_rows(evaluator, planes, legal, out)


def test_requests_of_different_board_sizes_are_never_mixed():
    evaluators = {5: Recording(5), 7: Recording(7)}

    def by_size(planes, legal):
        return evaluators[planes.shape[2]](planes, legal)

    inputs = [leaves(2, 5, 0), leaves(3, 7, 1), leaves(1, 5, 2)]

    async def main():
        queue = BatchingQueue(by_size, max_rows=1024, max_wait_s=30.0, clients=3)
        return await asyncio.gather(*(queue.evaluate(p, m) for p, m in inputs))

    outs = run(main())
    assert evaluators[5].batches == [3] and evaluators[7].batches == [3]
    for (planes, legal), out in zip(inputs, outs):
        check_rows(evaluators[planes.shape[2]], planes, legal, out)


def test_an_evaluator_error_reaches_every_caller_of_its_batch_and_the_queue_goes_on():
    calls = []

    def flaky(planes, legal):
        calls.append(planes.shape[0])
        if len(calls) == 1:
            raise ValueError("bad batch")
        return Recording(5)(planes, legal)

    async def main():
        queue = BatchingQueue(flaky, max_rows=1024, max_wait_s=30.0, clients=2)
        first = await asyncio.gather(*(queue.evaluate(*leaves(1, 5, s)) for s in range(2)), return_exceptions=True)
        second = await asyncio.gather(*(queue.evaluate(*leaves(1, 5, s)) for s in range(2)))
        return first, second

    first, second = run(main())
    assert [str(e) for e in first] == ["bad batch", "bad batch"]
    assert len(second) == 2 and calls == [2, 2]


@pytest.mark.parametrize("kwargs, message", [
    ({"max_rows": 0}, "max_rows"), ({"max_wait_s": -1.0}, "max_wait_s"), ({"clients": 0}, "clients")])
def test_bad_arguments_are_refused(kwargs, message):
    args = {"max_rows": 8, "max_wait_s": 0.01, "clients": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        BatchingQueue(Recording(5), **args)
