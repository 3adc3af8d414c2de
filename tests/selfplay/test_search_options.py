"""Analysis options of the batched search: avoid/allowMoves below the root (KataGo's
avoidMoveUntilByLoc, per side and depth) and KataGo's wideRootNoise at the root."""

from __future__ import annotations

import numpy as np
import pytest

from alphazero.config.search import SearchConfig
from go_engine import board as B
from go_engine import coords
from go_engine.rules import preset
from selfplay.evaluators import ILLEGAL_LOGIT, AreaScoreEvaluator
from selfplay.mcts import BatchedMCTS
from selfplay.tree import NO_PARENT, ROOT

N = 4  # small, so that 600 simulations reach depth 3 often
A = N * N + 1
RULES = preset("chinese")


def _search(rows: int, evaluator, sims: int) -> BatchedMCTS:
    roots = B.state_for(RULES, rows, N, history=2)
    cfg = SearchConfig(simulations=sims, dirichlet_epsilon=0.0, forced_playouts_k=0.0, tree_reuse=False)
    return BatchedMCTS(cfg, RULES, roots, evaluator, history=2)


def _run(m: BatchedMCTS) -> None:
    while m.active().any():
        m.step()


def _depths(m: BatchedMCTS, b: int) -> np.ndarray:
    t = m.tree
    count = int(t.num_nodes[b])
    depth = np.zeros(count, np.int64)
    for i in range(1, count):  # parents have smaller ids
        depth[i] = depth[t.parent[b, i]] + 1 if t.parent[b, i] != NO_PARENT else 0
    return depth


def _entered(m: BatchedMCTS, b: int) -> list[tuple[int, int]]:
    """(depth of the parent, action) of every node of row ``b`` below the root."""
    t = m.tree
    depth = _depths(m, b)
    out = []
    for node in range(int(t.num_nodes[b])):
        for a in np.flatnonzero(t.children[b, node] >= 0):
            out.append((int(depth[node]), int(a)))
    return out


def _until() -> np.ndarray:
    until = np.zeros((2, A), np.int32)
    until[0, coords.gtp_to_action("C3", N)] = 3  # the root's side (black): banned at depths 0 and 2
    until[1, coords.gtp_to_action("B2", N)] = 2  # white: banned at depth 1
    until[1, coords.gtp_to_action("D4", N)] = 4  # white: banned at depths 1 and 3
    return until


def test_restricted_moves_are_never_entered_below_the_root_up_to_their_depth():
    m = _search(2, AreaScoreEvaluator(scale=4.0), 600)
    m.start([0, 1], 600, np.random.default_rng(0))
    until = _until()
    m.restrict(0, until)  # row 1: the same search unrestricted
    _run(m)
    for d, a in _entered(m, 0):
        assert not (d >= 1 and d < until[d % 2, a]), f"action {coords.action_to_gtp(a, N)} entered at depth {d}"
    free = set(_entered(m, 1))
    # Without the restriction the search does enter them there, so the check above can fail.
    assert (2, coords.gtp_to_action("C3", N)) in free
    assert (1, coords.gtp_to_action("B2", N)) in free and (1, coords.gtp_to_action("D4", N)) in free
    # The restricted row's search ran in full.
    assert int(m.tree.visits[0, ROOT]) == 601


def test_a_restriction_lasts_as_long_as_its_tree():
    m = _search(1, AreaScoreEvaluator(scale=4.0), 200)
    rng = np.random.default_rng(0)
    m.start([0], 100, rng)
    m.restrict(0, _until())
    _run(m)
    m.start([0], 100, rng, keep_tree=True)  # the search continued in a second chunk
    assert m.rows.avoid_depth[0] == 4
    _run(m)
    assert (1, coords.gtp_to_action("B2", N)) not in set(_entered(m, 0))
    m.start([0], 100, rng, keep_tree=False)
    assert m.rows.avoid_depth[0] == 0
    m.restrict(0, _until())
    m.reset(0)
    assert m.rows.avoid_depth[0] == 0


def test_a_node_where_every_move_is_banned_keeps_them():
    until = np.full((2, A), 5, np.int32)
    until[0] = 0  # white may play nothing down to depth 4: the search must still go on below black's moves
    m = _search(1, AreaScoreEvaluator(scale=4.0), 60)
    m.start([0], 60, np.random.default_rng(0))
    m.restrict(0, until)
    _run(m)
    assert int(m.tree.visits[0, ROOT]) == 61
    assert any(d == 1 for d, _ in _entered(m, 0))


def test_bad_restriction_and_noise_arguments_are_refused():
    m = _search(1, AreaScoreEvaluator(), 8)
    with pytest.raises(ValueError, match=rf"\[2, {A}\]"):
        m.restrict(0, np.zeros((2, A - 1), np.int32))
    with pytest.raises(ValueError, match="non-negative"):
        m.restrict(0, -np.ones((2, A), np.int32))
    with pytest.raises(ValueError, match="wide root noise"):
        m.widen_root(0, -0.1, 0)
    with pytest.raises(ValueError, match="wide root noise"):
        m.widen_root(0, float("nan"), 0)


class PeakedEvaluator:
    """Value 0 everywhere; the policy puts about half its mass on the centre point."""

    def __call__(self, planes, legal):
        logits = np.where(legal, np.float32(0.0), np.float32(ILLEGAL_LOGIT))
        centre = coords.gtp_to_action("C3", N)
        logits[:, centre] = np.where(legal[:, centre], np.float32(3.2), logits[:, centre])
        return logits, np.zeros(planes.shape[0], np.float32), {}


def _root_visits(noise: float | None, seed: int = 7, sims: int = 300) -> np.ndarray:
    m = _search(1, PeakedEvaluator(), sims)
    m.start([0], sims, np.random.default_rng(0))
    if noise is not None:
        m.widen_root(0, noise, seed)
    _run(m)
    return m.root_visits(0)


def test_wide_root_noise_spreads_the_root_visits():
    plain = _root_visits(None)
    assert np.array_equal(_root_visits(0.0), plain)  # 0 is no noise at all
    wide = _root_visits(0.5)
    centre = coords.gtp_to_action("C3", N)
    assert int(np.argmax(plain)) == centre
    # The top move's share falls and the visits spread over more moves (entropy up).
    assert wide[centre] / wide.sum() < 0.8 * plain[centre] / plain.sum()

    def entropy(v):
        p = v[v > 0] / v.sum()
        return float(-(p * np.log(p)).sum())

    assert entropy(wide) > entropy(plain) + 0.2
    assert wide.sum() == plain.sum()
    # The draws are a hash of the seed: the same seed gives the same search, another a different one.
    assert np.array_equal(_root_visits(0.5), wide)
    assert not np.array_equal(_root_visits(0.5, seed=8), wide)
