"""The evaluation cache: cached searches equal uncached ones bit for bit; keys separate history, ko
state and symmetries; new weights clear it; the table stays within its size."""

from __future__ import annotations

import argparse
import dataclasses
import io
import subprocess
import sys

import numba
import numpy as np
import pytest
import torch

from alphazero import gtp_cli
from alphazero.checkpoint import CheckpointMeta, save_checkpoint
from alphazero.config.base import ConfigError
from alphazero.config.network import network_preset
from alphazero.config.run import PRESETS
from alphazero.config.search import SearchConfig, SelfPlayConfig
from alphazero.eval_cache import CachedEvaluator, digest_inputs
from alphazero.evaluator import NetworkEvaluator
from alphazero.gtp.server import serve
from alphazero.model import PolicyValueNet
from alphazero.train.loop import Window
from alphazero.train.messages import SelfPlayResult
from go_engine import ascii_board
from go_engine import board as B
from go_engine import features as F
from go_engine import symmetry
from go_engine.rules import Rules, preset
from selfplay.evaluators import LinearEvaluator
from selfplay.game_driver import SelfPlayDriver
from selfplay.mcts import BatchedMCTS
from alphazero.train.actors import self_play_worker
from tests.networks import spread_network

torch.set_num_threads(1)


def network(history: int, seed: int = 0) -> PolicyValueNet:
    """A random-init tiny net with its weights spread out, so outputs differ between positions."""
    return spread_network(F.num_planes(history), seed=seed)


def row_evaluator(history: int, seed: int = 0) -> NetworkEvaluator:
    """Rows evaluated one at a time: each row's outputs then depend on that row alone (PyTorch's
    batched CPU kernels change the last bit with the batch), so uncached runs are reproducible."""
    return NetworkEvaluator(network(history, seed), max_batch=1)


class BatchSizes:
    """Records the batch sizes reaching the evaluator behind it."""

    def __init__(self, inner) -> None:
        self.inner, self.sizes = inner, []

    def __call__(self, planes, legal):
        self.sizes.append(planes.shape[0])
        return self.inner(planes, legal)


def inputs(state: B.BoardState, rules: Rules, history: int) -> tuple[np.ndarray, np.ndarray]:
    return F.encode(state, rules, history=history), B.legal_mask(state, rules)


def assert_same_outputs(a, b) -> None:
    assert len(a) == len(b)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert a[0].dtype == b[0].dtype == np.float32 and a[1].dtype == b[1].dtype == np.float32
    assert sorted(a[2]) == sorted(b[2])
    for name in a[2]:
        assert a[2][name].shape == b[2][name].shape and np.array_equal(a[2][name], b[2][name]), name


def play_selfplay(evaluator, n: int, history: int, search: SearchConfig, steps: int):
    """Self-play for ``steps`` search steps from a fixed seed: (finished records, the driver)."""
    sp = SelfPlayConfig(games_in_parallel=3, full_search_probability=0.5, cheap_simulations=4,
                        resign_enabled=False, max_game_moves=n + 2)
    driver = SelfPlayDriver(search, sp, Rules(komi=0.5), n, evaluator, history, np.random.default_rng(7))
    return driver.play(num_games=1 << 30, max_steps=steps), driver


@pytest.mark.parametrize("n, history, search, steps", [
    (5, 2, SearchConfig(simulations=8, gumbel=True, gumbel_considered=4), 60),  # fresh tree every move
    (7, 1, SearchConfig(simulations=8, gumbel=False, tree_reuse=True), 70),  # PUCT, subtree kept, transpositions
])  # fmt: skip
def test_cached_selfplay_is_bit_identical_to_uncached(n, history, search, steps):
    plain, plain_driver = play_selfplay(row_evaluator(history), n, history, search, steps)
    cache = CachedEvaluator(row_evaluator(history), 10_000)
    cached, cached_driver = play_selfplay(cache, n, history, search, steps)
    assert len(plain) >= 2 and len(cached) == len(plain)
    for a, b in zip(plain, cached):
        for name in ("moves", "policy", "search_value", "planes_bits", "planes_scalars", "full_search"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
    for name in ("visits", "value_sum", "prior", "raw_value", "children"):
        assert np.array_equal(getattr(plain_driver.mcts.tree, name), getattr(cached_driver.mcts.tree, name)), name
    c = cache.counters
    assert c.lookups == cached_driver.mcts.evaluations == plain_driver.mcts.evaluations
    assert c.saved > 0.1 * c.lookups and c.evaluated == c.lookups - c.saved


def test_transpositions_inside_one_search_are_hits_and_exact():
    """History 1: a position reached by two move orders is one input, so within one fresh search
    every cache answer is a transposition, and the search still equals the uncached one."""
    rules, history = Rules(komi=0.5), 1
    config = SearchConfig(simulations=64, gumbel=False, dirichlet_epsilon=0.0)
    trees = []
    for evaluator in (row_evaluator(history), CachedEvaluator(row_evaluator(history), 10_000)):
        mcts = BatchedMCTS(config, rules, B.state_for(rules, 1, 4, history=history), evaluator, history=history)
        mcts.search(np.random.default_rng(0))
        trees.append(mcts.tree)
    assert evaluator.counters.hits > 0
    for name in ("visits", "value_sum", "prior", "children"):
        assert np.array_equal(getattr(trees[0], name), getattr(trees[1], name)), name


def test_every_call_returns_the_uncached_outputs_across_symmetries():
    rules, history = preset("chinese"), 2
    state = B.state_for(rules, 1, 5, history=history)
    for a in (6, 7, 12, 18, 3):
        assert B.play(state, [a], rules).all()
    planes, legal = inputs(state, rules, history)
    n = 5
    sym_planes = np.concatenate([symmetry.transform_planes(planes, s) for s in range(8)])  # [8, C, n, n]
    sym_legal = np.stack([legal[0][symmetry.action_permutation(s, n)] for s in range(8)])  # [8, A]
    keys = digest_inputs(sym_planes, sym_legal)
    assert len({tuple(k) for k in keys.tolist()}) == 8  # an asymmetric position: 8 different inputs
    inner = row_evaluator(history)
    cache = CachedEvaluator(inner, 64)
    first = cache(sym_planes, sym_legal)
    again = cache(sym_planes[::-1].copy(), sym_legal[::-1].copy())  # all hits, in another order
    assert cache.counters.hits == 8 and cache.counters.evaluated == 8
    assert_same_outputs(first, inner(sym_planes, sym_legal))
    assert_same_outputs(again, inner(sym_planes[::-1].copy(), sym_legal[::-1].copy()))


def test_batched_network_rows_agree_within_float32_noise():
    """The default evaluator (whole batches): hits return what the network gave in another batch,
    equal up to the last-bit noise batching itself causes."""
    rules, history = preset("chinese"), 2
    state = B.state_for(rules, 6, 5, history=history)
    B.play(state, np.arange(6), rules)
    planes, legal = inputs(state, rules, history)
    inner = NetworkEvaluator(network(history))
    cache = CachedEvaluator(inner, 64)
    cache(planes[:3], legal[:3])
    out, ref = cache(planes, legal), inner(planes, legal)
    assert cache.counters.hits == 3
    for a, b in zip(out[:2], ref[:2]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_key_separates_histories_with_the_same_stones():
    rules = preset("chinese")
    first, second = (B.state_for(rules, 1, 5, history=4) for _ in range(2))
    for a in (0, 24, 12, 4):
        B.play(first, [a], rules)
    for a in (12, 4, 0, 24):
        B.play(second, [a], rules)
    assert np.array_equal(first.board, second.board) and first.to_play[0] == second.to_play[0]
    for history, same in ((1, True), (2, False), (4, False)):
        k1, k2 = (digest_inputs(*inputs(s, rules, history)) for s in (first, second))
        assert np.array_equal(k1, k2) == same, history


KO = """
. X O . .
X O . O .
. X O . .
. . . . .
. . . . .
"""


@pytest.mark.parametrize("rules_name", ["simple-ko", "chinese"])
def test_key_separates_ko_state_alone(rules_name):
    """Same stones, same side to move, history 1 (so the stone planes are equal): after the ko
    capture the recapture is banned; set up directly, it is not. Only the ko plane and the legal
    mask differ, and so do the keys."""
    rules = preset(rules_name)
    after_capture = ascii_board.from_ascii(KO, rules, to_play=B.BLACK, history=1)
    assert B.play(after_capture, [7], rules).all()  # black takes the ko at (1, 2)
    set_up = ascii_board.from_ascii(ascii_board.to_ascii(after_capture), rules, to_play=B.WHITE, history=1)
    p1, l1 = inputs(after_capture, rules, 1)
    p2, l2 = inputs(set_up, rules, 1)
    ko_plane = 2 * 1 + 4
    assert np.array_equal(np.delete(p1, ko_plane, axis=1), np.delete(p2, ko_plane, axis=1))
    assert not l1[0, 6] and l2[0, 6]  # the recapture at (1, 1)
    assert p1[0, ko_plane, 1, 1] == 1.0 and p2[0, ko_plane].sum() == 0.0
    assert not np.array_equal(digest_inputs(p1, l1), digest_inputs(p2, l2))
    # Each of the two differences alone changes the key too.
    assert not np.array_equal(digest_inputs(p1, l1), digest_inputs(p1, l2))
    assert not np.array_equal(digest_inputs(p1, l1), digest_inputs(p2, l1))
    cache = CachedEvaluator(row_evaluator(1), 16)
    cache(np.concatenate([p1, p2]), np.concatenate([l1, l2]))
    assert cache.counters.evaluated == 2


def test_new_weights_clear_the_cache():
    rules, history = preset("chinese"), 2
    state = B.state_for(rules, 3, 5, history=history)
    B.play(state, [0, 1, 2], rules)
    planes, legal = inputs(state, rules, history)
    inner = row_evaluator(history, seed=0)
    cache = CachedEvaluator(inner, 64)
    old = cache(planes, legal)
    assert cache.num_entries == 3
    cache.load_state_dict(network(history, seed=1).state_dict())
    assert cache.num_entries == 0
    new = cache(planes, legal)
    assert cache.counters.hits == 0 and cache.counters.evaluated == 6
    assert not np.array_equal(new[0], old[0])
    assert_same_outputs(new, row_evaluator(history, seed=1)(planes, legal))


def distinct_inputs(count: int, n: int = 5, history: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    planes = (rng.random((count, F.num_planes(history), n, n)) < 0.4).astype(np.float32)
    legal = np.ones((count, n * n + 1), np.bool_)
    return planes, legal


def test_size_is_a_bound_and_the_least_recently_used_entry_goes_first():
    planes, legal = distinct_inputs(200)
    ev = LinearEvaluator(planes.shape[1], 5)
    cache = CachedEvaluator(ev, 10)
    for i in range(0, 200, 7):
        cache(planes[i : i + 7], legal[i : i + 7])
        assert cache.num_entries <= 10
    assert cache.num_entries == cache.capacity == 8  # whole buckets of 4
    one_bucket = CachedEvaluator(ev, 4)
    for i in range(4):
        one_bucket(planes[i : i + 1], legal[i : i + 1])
    one_bucket(planes[:1], legal[:1])  # row 0 is now the most recently used
    one_bucket(planes[4:5], legal[4:5])  # evicts row 1, the least recently used
    hits = one_bucket.counters.hits
    one_bucket(planes[[0, 2, 3, 4]], legal[[0, 2, 3, 4]])
    assert one_bucket.counters.hits == hits + 4
    one_bucket(planes[1:2], legal[1:2])
    assert one_bucket.counters.hits == hits + 4 and one_bucket.counters.evaluated == 6


def test_repeats_within_a_batch_reach_the_network_once():
    planes, legal = distinct_inputs(3)
    inner = BatchSizes(LinearEvaluator(planes.shape[1], 5))
    cache = CachedEvaluator(inner, 100)
    idx = [0, 1, 0, 2, 1, 0]
    out = cache(planes[idx], legal[idx])
    assert inner.sizes == [3]
    assert cache.counters.repeats == 3 and cache.counters.hits == 0 and cache.counters.saved == 3
    assert abs(cache.counters.hit_rate - 0.5) < 1e-12
    ref = inner.inner(planes[idx], legal[idx])
    assert np.array_equal(out[0], ref[0]) and np.array_equal(out[1], ref[1])
    cache(planes[[2, 2]], legal[[2, 2]])  # both from the table now
    assert inner.sizes == [3] and cache.counters.hits == 2


def test_repeats_stay_exact_when_a_batch_overflows_a_bucket():
    """More new inputs in one batch than a bucket holds: entries reserved earlier in the batch are
    taken back, yet every row still gets its own outputs."""
    planes, legal = distinct_inputs(12)
    ev = LinearEvaluator(planes.shape[1], 5)
    cache = CachedEvaluator(ev, 4)
    idx = list(range(12)) + list(range(12))
    out = cache(planes[idx], legal[idx])
    ref = ev(planes[idx], legal[idx])
    assert np.array_equal(out[0], ref[0]) and np.array_equal(out[1], ref[1])
    assert cache.num_entries == 4
    again = cache(planes, legal)
    assert np.array_equal(again[0], ref[0][:12]) and np.array_equal(again[1], ref[1][:12])


def test_inputs_of_another_board_size_and_evaluators_without_aux():
    p5, l5 = distinct_inputs(2, n=5)
    p7, l7 = distinct_inputs(2, n=7)
    ev5, ev7 = LinearEvaluator(p5.shape[1], 5), LinearEvaluator(p7.shape[1], 7)

    def by_size(planes, legal):
        logits, value, _ = (ev5 if planes.shape[2] == 5 else ev7)(planes, legal)
        return logits, value  # the two-output form of the contract

    cache = CachedEvaluator(by_size, 16)
    for planes, legal, ev in ((p5, l5, ev5), (p7, l7, ev7), (p5, l5, ev5)):
        out = cache(planes, legal)
        assert len(out) == 2
        ref = ev(planes, legal)
        assert np.array_equal(out[0], ref[0]) and np.array_equal(out[1], ref[1])
    empty = cache(p5[:0], l5[:0])
    assert empty[0].shape == (0, 26) and empty[1].shape == (0,)


def test_bad_input_and_a_failing_network_leave_the_cache_consistent():
    planes, legal = distinct_inputs(4)
    ev = LinearEvaluator(planes.shape[1], 5)
    with pytest.raises(ValueError, match="size >= 1"):
        CachedEvaluator(ev, 0)
    cache = CachedEvaluator(ev, 16)
    with pytest.raises(ValueError, match="float32"):
        cache(planes.astype(np.float64), legal)
    with pytest.raises(ValueError, match="legal must be bool"):
        cache(planes, legal[:, :-1])
    calls = []

    def flaky(p, l):
        calls.append(len(p))
        if len(calls) == 1:
            raise RuntimeError("device lost")
        return ev(p, l)

    failing = CachedEvaluator(flaky, 16)
    with pytest.raises(RuntimeError, match="device lost"):
        failing(planes, legal)
    assert failing.num_entries == 0  # no entry reserved for the lost batch survives
    out = failing(planes, legal)
    assert np.array_equal(out[0], ev(planes, legal)[0]) and calls == [4, 4]


def test_config_field_and_worker_stats():
    with pytest.raises(ConfigError, match="eval_cache_size"):
        SelfPlayConfig(eval_cache_size=-1)
    config = PRESETS["tiny-cpu"].with_overrides(["selfplay.eval_cache_size=5000"])
    worker = self_play_worker(config, 0)
    weights = {k: v.numpy() for k, v in network(config.history).state_dict().items()}
    _, stats = worker.run(1, weights, steps=40)
    assert stats.eval_cache_lookups == stats.evaluations > 0
    assert 0 < stats.eval_cache_hits < stats.evaluations
    assert stats.network_evaluations == stats.evaluations - stats.eval_cache_hits
    assert worker.evaluator.num_entries > 0
    worker.set_weights(2, {k: v.numpy() for k, v in network(config.history, seed=3).state_dict().items()})
    assert worker.evaluator.num_entries == 0
    window = Window()
    window.add(SelfPlayResult(**dataclasses.asdict(stats), games=0, positions=0, lengths=(), resigned=0,
                              no_resign_checked=0, resign_false_positives=0, black_wins=0, record_versions=(),
                              added=0, added_positions=0, buffer_games=0, buffer_positions=0), 1)
    assert window.summary()["eval_cache_hit_rate"] == stats.eval_cache_hits / stats.eval_cache_lookups
    plain = self_play_worker(PRESETS["tiny-cpu"], 0)
    _, stats = plain.run(1, weights, steps=5)
    assert stats.eval_cache_lookups == 0 and stats.network_evaluations == stats.evaluations
    assert Window().summary()["eval_cache_hit_rate"] is None


def test_gtp_engine_uses_the_cache_and_plays_the_same_moves(tmp_path):
    history = 2
    save_checkpoint(tmp_path / "ckpt", network(history), CheckpointMeta(
        network=network_preset("tiny"), input_planes=F.num_planes(history), feature_version=F.FEATURE_VERSION, history=history))
    commands = "boardsize 5\nclear_board\ngenmove b\ngenmove w\nundo\ngenmove w\nfinal_score\n"
    replies = {}
    threads = numba.get_num_threads(), torch.get_num_threads()  # build_engine sets both for the process
    for size in ("0", "1000"):
        parser = argparse.ArgumentParser()
        gtp_cli.add_arguments(parser)
        engine = gtp_cli.build_engine(parser.parse_args(["--checkpoint", str(tmp_path / "ckpt"), "--visits", "24", "--eval-cache", size]))
        out = io.StringIO()
        serve(engine, io.StringIO(commands), out, log=lambda text: None)
        replies[size] = out.getvalue()
        evaluator = engine.player.evaluator
    numba.set_num_threads(threads[0])
    torch.set_num_threads(threads[1])
    assert replies["0"] == replies["1000"] and replies["0"].count("=") == 7
    assert isinstance(evaluator, CachedEvaluator) and evaluator.counters.hits > 0
    parser = argparse.ArgumentParser()
    gtp_cli.add_arguments(parser)
    with pytest.raises(ValueError, match="--eval-cache"):
        gtp_cli.build_engine(parser.parse_args(["--eval-cache", "-1"]))


@pytest.mark.slow
def test_bench_eval_cache_cli_runs():
    cmd = [sys.executable, "-m", "alphazero.cli", "bench", "eval_cache", "--preset", "tiny-cpu", "--warmup-steps", "2",
           "--steps", "6", "--chunk", "3", "--cache-size", "1000"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "hit rate" in result.stdout and "ratio on/off" in result.stdout
