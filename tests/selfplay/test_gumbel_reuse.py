"""Gumbel search with tree reuse: the kept subtree's statistics exactly, fresh noise at every root,
sequential halving read from visit counts (mctx's schedule on a fresh root, top-ups on a kept one),
valid targets under playout-cap randomisation, independent batch rows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alphazero.config.search import SearchConfig
from go_engine import board as B
from go_engine import features as F
from go_engine.rules import Rules, preset
from selfplay import gumbel as G
from selfplay.evaluators import LinearEvaluator
from selfplay.mcts import BatchedMCTS
from selfplay.tree import ILLEGAL, NO_PARENT, ROOT, child_visits, row_to_dict
from tests.selfplay.test_mcts import BanditEvaluator, _random_positions

REUSE = SearchConfig(simulations=16, gumbel=True, gumbel_considered=8, gumbel_tree_reuse=True)


def _mctx_sequence(max_considered: int, num_simulations: int) -> list[int]:
    """mctx's ``get_sequence_of_considered_visits``, transcribed as the oracle."""
    if max_considered <= 1:
        return list(range(num_simulations))
    log2max = int(math.ceil(math.log2(max_considered)))
    sequence: list[int] = []
    visits = [0] * max_considered
    num_considered = max_considered
    while len(sequence) < num_simulations:
        num_extra_visits = max(1, int(num_simulations / (log2max * num_considered)))
        for _ in range(num_extra_visits):
            sequence.extend(visits[:num_considered])
            for i in range(num_considered):
                visits[i] += 1
        num_considered = max(2, num_considered // 2)
    return sequence[:num_simulations]


def _subtree_stats(tree, b: int, node: int) -> dict:
    """Every node under ``node`` keyed by its action path: all per-node statistics and priors."""
    out = {}
    stack = [(node, ())]
    while stack:
        i, path = stack.pop()
        out[path] = (
            int(tree.visits[b, i]), float(tree.value_sum[b, i]), float(tree.value_sq_sum[b, i]), float(tree.raw_value[b, i]),
            bool(tree.expanded[b, i]), bool(tree.terminal[b, i]), tree.prior[b, i].tobytes(), tuple((tree.children[b, i] == ILLEGAL).tolist()),
        )  # fmt: skip
        for a in np.flatnonzero(tree.children[b, i] >= 0):
            stack.append((int(tree.children[b, i, a]), path + (int(a),)))
    return out


def _run(m: BatchedMCTS, rows, sims, rngs, full) -> None:
    """Start each row with its own generator (so a row's noise does not depend on the others) and step to the end."""
    for b, rng in zip(rows, rngs):
        m.start([b], sims, rng, full_search=full)
    while m.active().any():
        m.step()


def _play(m: BatchedMCTS, b: int, action: int, rules: Rules) -> None:
    acts = np.full(m.roots.batch_size, -1)
    acts[b] = action
    assert B.play(m.roots, acts, rules)[b]
    if not m.roots.done[b]:
        m.advance(b, action)


# ---- the schedule ------------------------------------------------------------------------------


def test_level_widths_give_mctx_sequence():
    for m in range(1, 20):
        for sims in range(1, 70):
            assert G.considered_visit_sequence(m, sims).tolist() == _mctx_sequence(m, sims), (m, sims)
            widths = G.halving_level_widths(m, sims, sims + 10)  # long enough to reach the last phase
            assert (np.diff(widths) <= 0).all() and widths[-1] == (1 if m <= 1 else 2)


@pytest.mark.parametrize("considered", [1, 4, 16])
def test_halving_level_on_a_fresh_root_is_mctx_sequence(considered):
    """Reading the level from visit counts reproduces the simulation-indexed schedule exactly."""
    rules = preset("chinese")
    roots = _random_positions(rules, 1, 5, seed=3)
    cfg = SearchConfig(simulations=30, gumbel=True, gumbel_considered=considered)
    m = BatchedMCTS(cfg, rules, roots, LinearEvaluator(F.num_planes(4), 5, seed=1))
    m.start([0], 30, np.random.default_rng(considered), full_search=True)
    m.step()  # the root's evaluation
    num_legal = int((m.tree.children[0, ROOT] != ILLEGAL).sum())
    expected = _mctx_sequence(min(considered, num_legal), 30)
    for k in range(30):
        before = child_visits(m.tree, 0)
        m.step()
        gained = np.flatnonzero(child_visits(m.tree, 0) != before)
        assert len(gained) == 1 and before[gained[0]] == expected[k], f"simulation {k}"
    assert not m.active().any()


def test_a_continued_search_tops_up_like_one_longer_search():
    """Kept visits count toward the levels: 8 + 8 simulations on one root end with the visit counts
    of one 16-simulation search (noise-free bandit, so the arms' ranking is fixed)."""
    mu = np.array([0.1, -0.3, 0.2, 0.8, -0.1])  # 2x2 board: four points and pass
    rules = Rules(komi=0.5)
    cfg = SearchConfig(simulations=16, gumbel=True, gumbel_considered=4, gumbel_tree_reuse=True)
    rng = np.random.default_rng(0)
    once = BatchedMCTS(cfg, rules, B.state_for(rules, 1, 2, history=8), BanditEvaluator(mu, 0.0, rng, 8))
    once.search(rng, simulations=16)
    twice = BatchedMCTS(cfg, rules, B.state_for(rules, 1, 2, history=8), BanditEvaluator(mu, 0.0, rng, 8))
    twice.search(rng, simulations=8)
    assert sorted(child_visits(twice.tree, 0).tolist()) == [0, 1, 1, 3, 3]  # planned for 8: halves sooner
    twice.search(rng, simulations=8)  # continues (the config reuses trees): the two eliminated arms are topped up
    assert sorted(child_visits(once.tree, 0).tolist()) == [0, 2, 2, 6, 6]
    assert child_visits(twice.tree, 0).tolist() == child_visits(once.tree, 0).tolist()
    assert twice.gumbel_action(0) == once.gumbel_action(0) == 3
    # keep_tree=False starts afresh whatever the config says.
    twice.start([0], 8, rng, keep_tree=False)
    while twice.active().any():
        twice.step()
    assert child_visits(twice.tree, 0).sum() == 8


# ---- reuse across moves -----------------------------------------------------------------------


def test_the_new_root_is_exactly_the_played_childs_subtree():
    rules = preset("chinese")
    m = BatchedMCTS(REUSE, rules, _random_positions(rules, 2, 5, seed=7), LinearEvaluator(F.num_planes(4), 5, seed=2))
    _run(m, [0, 1], 16, [np.random.default_rng(1), np.random.default_rng(2)], True)
    action = m.gumbel_action(1)
    child = int(m.tree.children[1, ROOT, action])
    before = _subtree_stats(m.tree, 1, child)
    other_row = row_to_dict(m.tree, 0)
    _play(m, 1, action, rules)
    t = m.tree
    assert _subtree_stats(t, 1, ROOT) == before and t.num_nodes[1] == len(before) > 1
    assert row_to_dict(t, 0) == other_row
    used = int(t.num_nodes[1])
    assert t.parent[1, ROOT] == NO_PARENT and (t.parent[1, 1:used] < np.arange(1, used)).all()
    # Child links were renumbered consistently: every child's parent and action point back.
    for i in range(used):
        for a in np.flatnonzero(t.children[1, i] >= 0):
            c = int(t.children[1, i, a])
            assert c < used and t.parent[1, c] == i and t.action[1, c] == a
    # The next search adds exactly its simulations on top of the kept visits.
    kept_root, kept_children = int(t.visits[1, ROOT]), int(child_visits(t, 1).sum())
    _run(m, [1], 16, [np.random.default_rng(3)], True)
    assert t.visits[1, ROOT] == kept_root + 16 and child_visits(t, 1).sum() == kept_children + 16


def test_every_reused_root_draws_fresh_gumbel_noise():
    rules = preset("chinese")
    state = _random_positions(rules, 1, 5, seed=4)
    ev = LinearEvaluator(F.num_planes(4), 5, seed=2)
    A = 26
    reference = np.random.default_rng(9)
    first, second = reference.gumbel(size=A).astype(np.float32), reference.gumbel(size=A).astype(np.float32)
    rng = np.random.default_rng(9)
    m = BatchedMCTS(REUSE, rules, B.take_rows(state, [0]), ev)
    m.search(rng, full_search=True)
    assert np.array_equal(m.rows.gumbel[0], first)
    action = m.gumbel_action(0)
    _play(m, 0, action, rules)
    assert m.tree.visits[0, ROOT] > 0  # the subtree was kept
    m.search(rng, full_search=True)
    assert np.array_equal(m.rows.gumbel[0], second) and not np.array_equal(second, first)
    # A fresh tree at the same position with the same seed draws the first sample, not this one.
    fresh = BatchedMCTS(REUSE, rules, B.take_rows(m.roots, [0]), ev)
    fresh.search(np.random.default_rng(9), full_search=True)
    assert np.array_equal(fresh.rows.gumbel[0], first)
    # A cheap search there is noise-free.
    m.search(rng, simulations=4, full_search=False)
    assert (m.rows.gumbel[0] == 0).all()


def test_reuse_with_playout_caps_gives_valid_targets():
    """Full (noised, 16) and cheap (noise-free, 8) searches alternate on kept trees; every full
    search's target is a distribution over exactly the legal moves and its move is legal."""
    rules = preset("chinese")
    m = BatchedMCTS(REUSE, rules, B.state_for(rules, 1, 5, history=4), LinearEvaluator(F.num_planes(4), 5, seed=5))
    rng = np.random.default_rng(0)
    kept_visits = []
    for move in range(24):
        full = move % 3 != 2
        sims = 16 if full else 8
        kept = int(child_visits(m.tree, 0).sum()) if m.tree.expanded[0, ROOT] else 0
        kept_visits.append(kept)
        m.search(rng, simulations=sims, full_search=full)
        assert child_visits(m.tree, 0).sum() == kept + sims
        legal = B.legal_mask(m.roots, rules)[0]
        assert np.array_equal(m.tree.children[0, ROOT] != ILLEGAL, legal)
        if full:
            target = m.policy_target(0)
            assert target.sum() == pytest.approx(1.0, abs=1e-5) and (target >= 0).all()
            assert (target[~legal] == 0).all() and (target[legal] > 0).all()
        action = m.choose_action(0, 1.0, rng)
        assert legal[action]
        _play(m, 0, action, rules)
        if m.roots.done[0]:
            break
    assert sum(k > 0 for k in kept_visits) >= len(kept_visits) // 2  # most searches started on a kept tree


def test_reuse_rows_never_interfere():
    rules = preset("chinese")
    state = _random_positions(rules, 3, 5, seed=8)
    ev = LinearEvaluator(F.num_planes(4), 5, seed=3)
    together = BatchedMCTS(REUSE, rules, B.take_rows(state, np.arange(3)), ev)
    alone = [BatchedMCTS(REUSE, rules, B.take_rows(state, [b]), ev) for b in range(3)]
    rngs_together = [np.random.default_rng(b) for b in range(3)]
    rngs_alone = [np.random.default_rng(b) for b in range(3)]
    for move in range(5):
        live = [b for b in range(3) if not together.roots.done[b]]
        sims = [16, 8, 12][move % 3]
        _run(together, live, sims, [rngs_together[b] for b in live], move % 2 == 0)
        for b in live:
            _run(alone[b], [0], sims, [rngs_alone[b]], move % 2 == 0)
            assert row_to_dict(together.tree, b) == row_to_dict(alone[b].tree, 0), f"move {move} row {b}"
            action = together.gumbel_action(b)
            assert action == alone[b].gumbel_action(0)
            _play(together, b, action, rules)
            _play(alone[b], 0, action, rules)


def test_reuse_leaves_the_first_search_and_the_fresh_search_unchanged():
    """Reuse changes nothing until a move is played, and with it off the tree resets every move."""
    rules = preset("chinese")
    state = _random_positions(rules, 2, 5, seed=11)
    ev = LinearEvaluator(F.num_planes(4), 5, seed=3)
    off_cfg = SearchConfig(simulations=12, gumbel=True, gumbel_considered=4)
    on = BatchedMCTS(SearchConfig(simulations=12, gumbel=True, gumbel_considered=4, gumbel_tree_reuse=True), rules, B.take_rows(state, [0, 1]), ev)
    off = BatchedMCTS(off_cfg, rules, B.take_rows(state, [0, 1]), ev)
    on.search(np.random.default_rng(2024), full_search=True)
    off.search(np.random.default_rng(2024), full_search=True)
    assert [row_to_dict(on.tree, b) for b in range(2)] == [row_to_dict(off.tree, b) for b in range(2)]
    assert on.tree.capacity == REUSE.tree_capacity_factor * 12 + 1 and off.tree.capacity == 13
    action = off.gumbel_action(0)
    _play(off, 0, action, rules)
    assert off.tree.num_nodes[0] == 1 and not off.tree.expanded[0, ROOT]


def test_self_play_with_reuse_and_playout_caps_records_valid_targets():
    from alphazero.config.search import SelfPlayConfig
    from selfplay.game_driver import SelfPlayDriver

    rules = Rules(komi=0.5, max_moves=30)
    search = SearchConfig(simulations=12, gumbel=True, gumbel_considered=4, gumbel_tree_reuse=True)
    sp = SelfPlayConfig(games_in_parallel=3, full_search_probability=0.5, cheap_simulations=6, resign_enabled=False)
    driver = SelfPlayDriver(search, sp, rules, 4, LinearEvaluator(F.num_planes(2), 4, seed=0), history=2, rng=np.random.default_rng(1))
    records = driver.play(3)
    m = driver.mcts
    assert m.kept_visits > 0
    # Only a game's first search evaluates its root; every other evaluation is one new simulation's leaf.
    assert m.evaluations <= m.simulations_started + driver.games_started
    for r in records:
        s = B.state_for(rules, 1, 4, history=2)
        assert r.full_search.any() and (~r.full_search).any()
        for t, a in enumerate(r.moves.tolist()):
            legal = B.legal_mask(s, rules)[0]
            if r.full_search[t]:
                assert r.policy[t].sum() == pytest.approx(1.0, abs=1e-5) and (r.policy[t][~legal] == 0).all()
            else:
                assert (r.policy[t] == 0).all()
            assert B.play(s, [a], rules)[0]
