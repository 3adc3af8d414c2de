"""Score and ownership statistics of the search (selfplay.node_stats): the subtree means equal a
backup of every simulation's leaf values along its path (an oracle replaying each step in
Python), tree reuse keeps them, and a search without them tracks nothing."""

from __future__ import annotations

import numpy as np
import pytest

from alphazero.config.search import SearchConfig
from go_engine import board as B
from go_engine import coords
from go_engine.rules import preset
from selfplay.evaluators import AreaScoreEvaluator
from selfplay.mcts import BatchedMCTS
from selfplay.tree import NO_PARENT, ROOT

RULES = preset("chinese")


def _roots(n: int, batch: int, seed: int, moves: int, history: int = 2) -> B.BoardState:
    state = B.state_for(RULES, batch, n, history=history)
    rng = np.random.default_rng(seed)
    for _ in range(moves):
        legal = B.legal_mask(state, RULES)
        legal[:, -1] = False
        B.play(state, np.array([rng.choice(np.flatnonzero(row)) for row in legal]), RULES)
    return state


class _Recording:
    """The evaluator, remembering its last outputs (the oracle reads each slot's score/ownership)."""

    def __init__(self) -> None:
        self.inner = AreaScoreEvaluator(scale=4.0, with_aux=True)
        self.last = None

    def __call__(self, planes, legal):
        self.last = self.inner(planes, legal)
        return self.last


def _path(t, b: int, leaf: int) -> list[int]:
    nodes = [leaf]
    while t.parent[b, nodes[-1]] != NO_PARENT:
        nodes.append(int(t.parent[b, nodes[-1]]))
    return nodes  # leaf .. root


def _terminal_values(roots, b: int, t, leaf: int) -> tuple[float, np.ndarray]:
    """Replay the path on a copy of the root: the area margin and ownership, leaf's side to move."""
    s = B.take_rows(roots, [b])
    n = roots.size
    for node in reversed(_path(t, b, leaf)[:-1]):
        B.play(s, [int(t.action[b, node])], RULES)
    _, owner = B.score(s)
    sign = 1.0 if s.to_play[0] == B.BLACK else -1.0
    return sign * (float(owner[0].sum()) - float(s.komi[0])), sign * owner[0].astype(np.float64)[: n * n]


def test_subtree_means_equal_a_backup_along_every_path(rng):
    n, batch = 5, 3
    roots = _roots(n, batch, seed=3, moves=6)
    roots.passes[:] = 1  # the opponent just passed: a pass in the tree ends the game
    ev = _Recording()
    m = BatchedMCTS(SearchConfig(simulations=60, tree_reuse=False), RULES, roots, ev, history=2, track_ownership=True)
    m.start(np.arange(batch), 60, rng)
    s1 = np.zeros((batch, m.tree.capacity))
    s2 = np.zeros((batch, m.tree.capacity))
    o1 = np.zeros((batch, m.tree.capacity, n * n))
    terminals = 0
    while m.active().any():
        m.step()
        t, st = m.tree, m.rows
        for b in range(batch):
            leaf, slot = int(st.leaf[b]), int(st.slot[b])
            if leaf < 0:
                continue
            if slot >= 0:
                score, own = float(ev.last[2]["score"][slot]), ev.last[2]["ownership"][slot].astype(np.float64)
            else:
                terminals += 1
                score, own = _terminal_values(roots, b, t, leaf)
            sign = 1.0
            for node in _path(t, b, leaf):
                s1[b, node] += sign * score
                s2[b, node] += score * score
                o1[b, node] += sign * own
                sign = -sign
    assert terminals > 0, "the position should let some simulations reach a finished game"
    for b in range(batch):
        values = m.subtree_values(b)
        k = int(m.tree.num_nodes[b])
        visits = m.tree.visits[b, :k].astype(np.float64)
        np.testing.assert_allclose(values.score_mean, s1[b, :k] / visits, atol=1e-4)
        np.testing.assert_allclose(values.score_stdev, np.sqrt(np.maximum(s2[b, :k] / visits - (s1[b, :k] / visits) ** 2, 0)), atol=1e-3)
        np.testing.assert_allclose(values.ownership, o1[b, :k] / visits[:, None], atol=1e-5)
        assert values.score_stdev[ROOT] > 0.0
        assert np.all(values.ownership_stdev >= 0) and np.all(np.abs(values.ownership) <= 1 + 1e-6)


def test_tree_reuse_keeps_the_statistics(rng):
    n = 5
    roots = _roots(n, 1, seed=1, moves=4)
    m = BatchedMCTS(SearchConfig(simulations=80, tree_reuse=True), RULES, roots, AreaScoreEvaluator(4.0, with_aux=True),
                    history=2, max_simulations=80, track_ownership=True)
    m.search(rng, simulations=40)
    before = m.subtree_values(0)
    a = int(np.argmax(m.root_visits(0)))
    child = int(m.tree.children[0, ROOT, a])
    B.play(m.roots, [a], RULES)
    m.advance(0, a)
    after = m.subtree_values(0)
    assert int(m.tree.visits[0, ROOT]) > 1, "the subtree should have been kept"
    assert after.score_mean[ROOT] == pytest.approx(before.score_mean[child], abs=1e-5)
    np.testing.assert_allclose(after.ownership[ROOT], before.ownership[child], atol=1e-6)


def test_ownership_is_from_the_side_to_move_at_each_node(rng):
    # One black stone on an otherwise empty 5x5: the stand-in says stones are owned by their colour.
    state = B.state_for(RULES, 1, 5, history=2)
    B.play(state, [coords.gtp_to_action("C3", 5)], RULES)  # white to move at the root
    m = BatchedMCTS(SearchConfig(simulations=30, tree_reuse=False), RULES, state, AreaScoreEvaluator(4.0, with_aux=True), history=2, track_ownership=True)
    m.search(rng)
    values = m.subtree_values(0)
    c3 = coords.gtp_to_action("C3", 5)
    assert values.ownership[ROOT, c3] == pytest.approx(-1.0)  # white to move: black's stone is -1
    child = int(m.tree.children[0, ROOT, int(np.argmax(m.root_visits(0)))])
    assert values.ownership[child, c3] == pytest.approx(1.0)  # black to move below it


def test_off_by_default():
    roots = _roots(5, 2, seed=0, moves=2)
    m = BatchedMCTS(SearchConfig(simulations=8), RULES, roots, AreaScoreEvaluator(4.0, with_aux=True), history=2)
    assert m.stats.score.shape == (2, 0) and m.stats.ownership.size == 0
    m.search(np.random.default_rng(0))
    with pytest.raises(ValueError, match="track_scores"):
        m.subtree_values(0)
