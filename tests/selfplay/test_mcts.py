"""Batched MCTS: known-answer positions, bandits, noise/temperature statistics, batch independence,
tree reuse, golden trees, Gumbel."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from alphazero.config.base import ConfigError, field_docs
from alphazero.config.search import SearchConfig, SelfPlayConfig
from go_engine import board as B
from go_engine import coords
from go_engine import features as F
from go_engine.rules import Rules, preset
from selfplay import gumbel as G
from selfplay import move_choice
from selfplay.evaluators import ILLEGAL_LOGIT, AreaScoreEvaluator, LinearEvaluator, UniformEvaluator
from selfplay.mcts import BatchedMCTS
from selfplay.tree import ILLEGAL, NO_PARENT, ROOT, child_q, child_visits, row_to_dict
from tests.selfplay.conftest import search_on

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("ALPHAZERO_REGEN_GOLDEN") == "1"


# ---- config ----------------------------------------------------------------------------------


def test_configs_documented_and_validated():
    for cls in (SearchConfig, SelfPlayConfig):
        import dataclasses

        names = {f.name for f in dataclasses.fields(cls)}
        assert set(field_docs(cls)) == names, f"{cls.__name__}: undocumented fields"
    with pytest.raises(ConfigError, match="simulations"):
        SearchConfig(simulations=0)
    with pytest.raises(ConfigError, match="dirichlet_epsilon"):
        SearchConfig.from_dict({"dirichlet_epsilon": 1.5})
    with pytest.raises(ConfigError, match="unknown"):
        SearchConfig.from_dict({"c_puct": 1.0})
    with pytest.raises(ConfigError, match="full_search_probability"):
        SelfPlayConfig(full_search_probability=-0.1)
    cfg = SelfPlayConfig(temperature_early=1.0, temperature_moves=4, temperature_halflife=2.0, temperature_final=0.0)
    assert [cfg.temperature(m) for m in (0, 3, 4, 6, 8)] == [1.0, 1.0, 1.0, 0.5, 0.25]


# ---- known-answer positions with an exact evaluator ------------------------------------------------


def _best(m: BatchedMCTS) -> int:
    return int(np.argmax(m.root_visits(0)))


def test_finds_the_capture_that_wins(rng):
    # Black is 0.5 behind unless it captures the 8 white stones in atari at the top-left corner.
    m = search_on(
        """
        . O O X .
        O O O X .
        O O O X .
        X X X X .
        . . . . .
        """,
        AreaScoreEvaluator(scale=0.0), SearchConfig(simulations=200), Rules(komi=7.5),
    )  # fmt: skip
    m.search(rng)
    assert _best(m) == coords.rowcol_to_action(0, 0, 5)
    assert m.root_value(0) > 0.5


def test_finds_the_only_move_that_saves_a_group(rng):
    # The black stone has one liberty; extending to it is the only move that keeps it.
    m = search_on(
        """
        . . . . .
        . . O . .
        . O X O .
        . . . . .
        . . . . .
        """,
        AreaScoreEvaluator(scale=3.0), SearchConfig(simulations=1500), Rules(komi=0.5),
    )  # fmt: skip
    m.search(rng)
    assert _best(m) == coords.rowcol_to_action(3, 2, 5)


def test_passes_when_passing_wins(rng):
    rules = Rules(komi=0.5)
    m = search_on(
        """
        . . X O .
        . . X O .
        . . X O .
        . . X O .
        . . X O .
        """,
        AreaScoreEvaluator(scale=10.0), SearchConfig(simulations=300), rules, to_play=B.WHITE,
    )  # fmt: skip
    assert B.play(m.roots, [25], rules).all()  # white passes; black leads by 4.5 on the board
    m.search(rng)
    assert _best(m) == 25
    passed = int(m.tree.children[0, ROOT, 25])
    assert m.tree.terminal[0, passed]
    # Terminal value is exact and from the side to move there (white, who lost): -1.
    assert m.tree.raw_value[0, passed] == -1.0


# ---- bandits ---------------------------------------------------------------------------------------


class BanditEvaluator:
    """Value (black's view) = mu[black's first move] + noise; black's first move is read from the
    oldest history plane holding a black stone (a pass if none). Uniform priors."""

    def __init__(self, mu: np.ndarray, noise: float, rng: np.random.Generator, k: int) -> None:
        self.mu, self.noise, self.rng, self.k = mu, noise, rng, k

    def __call__(self, planes, legal):
        k = self.k
        out = np.zeros(planes.shape[0], np.float32)
        for i, x in enumerate(planes):
            black_to_move = x[2 * k, 0, 0] > 0.5
            arm = len(self.mu) - 1
            for ago in range(k - 1, -1, -1):
                stones = x[ago] if black_to_move else x[k + ago]
                if stones.any():
                    arm = int(np.flatnonzero(stones.reshape(-1))[0])
                    break
            v = self.mu[arm] + self.noise * self.rng.standard_normal()
            out[i] = np.clip(v if black_to_move else -v, -1, 1)
        return np.where(legal, 0.0, ILLEGAL_LOGIT).astype(np.float32), out, {}


def _bandit_search(config: SearchConfig, mu: np.ndarray, noise: float, seed: int) -> BatchedMCTS:
    rng = np.random.default_rng(seed)
    rules = Rules(komi=0.5)
    roots = B.state_for(rules, 1, 4, history=8)
    m = BatchedMCTS(config, rules, roots, BanditEvaluator(mu, noise, rng, 8))
    m.search(rng)
    return m


def test_puct_visits_converge_to_the_best_arm():
    mu = np.linspace(-0.3, 0.3, 17)
    mu[6] = 0.7  # best arm; pass (16) is last
    m = _bandit_search(SearchConfig(simulations=600), mu, noise=0.2, seed=1)
    visits = m.root_visits(0)
    assert int(np.argmax(visits)) == 6
    assert visits[6] > 0.4 * visits.sum()
    q = -m.tree.value_sum[0, m.tree.children[0, ROOT, 6]] / visits[6]
    assert abs(q - 0.7) < 0.15


@pytest.mark.parametrize("sims", [8, 16])
def test_gumbel_picks_the_best_arm_with_few_simulations(sims):
    # 2x2 board: five arms (four points and pass), fewer than the simulations.
    mu = np.array([0.1, -0.3, 0.2, 0.8, -0.1])
    rules = Rules(komi=0.5)
    chosen = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        roots = B.state_for(rules, 1, 2, history=8)
        m = BatchedMCTS(SearchConfig(simulations=sims, gumbel=True, gumbel_considered=16), rules, roots, BanditEvaluator(mu, 0.0, rng, 8))
        m.search(rng, full_search=seed > 0)  # seed 0: no Gumbel noise, so the choice is greedy
        assert m.root_visits(0).sum() == sims
        assert int(np.argmax(m.policy_target(0))) == 3  # the improved policy always ranks the best arm first
        chosen.append(m.gumbel_action(0))
    assert chosen[0] == 3
    # With Gumbel noise the played move is a sample that favours the best arm strongly.
    assert chosen.count(3) >= 14, chosen


def test_gumbel_improved_policy_properties(rng):
    rules = Rules(komi=0.5)
    roots = B.state_for(rules, 1, 3, history=8)
    mu = np.linspace(-0.5, 0.5, 10)
    m = BatchedMCTS(SearchConfig(simulations=16, gumbel=True), rules, roots, BanditEvaluator(mu, 0.0, rng, 8))
    m.search(rng, full_search=True)
    t = m.tree
    target = m.policy_target(0)
    assert target.sum() == pytest.approx(1.0, abs=1e-5)
    assert (target[t.children[0, ROOT] == ILLEGAL] == 0).all()
    # Uniform priors: the target orders actions by completed Q, so better arms get more mass.
    q = np.zeros(10, np.float32)
    G.sigma_completed_q(t, 0, ROOT, 50.0, 0.1, q)
    order = np.argsort(q)
    assert (np.diff(target[order]) >= -1e-6).all()
    assert q.max() == pytest.approx((50.0 + child_visits(t, 0).max()) * 0.1)  # sigma scale at the top
    assert q.min() == pytest.approx(0.0)


def test_considered_visit_sequence_is_sequential_halving():
    seq = G.considered_visit_sequence(4, 12)
    # 4 actions x 1 visit, then 2 actions x 2 visits each, ...
    assert seq[:4].tolist() == [0, 0, 0, 0]
    assert len(seq) == 12 and (seq >= 0).all()
    assert G.considered_visit_sequence(1, 5).tolist() == [0, 1, 2, 3, 4]


# ---- noise and temperature --------------------------------------------------------------------------


def test_dirichlet_noise_has_the_configured_statistics():
    rules = preset("chinese")
    rows = 64
    roots = B.state_for(rules, rows, 5)
    cfg = SearchConfig(simulations=1, dirichlet_alpha_scale=2.0, dirichlet_epsilon=0.25)
    m = BatchedMCTS(cfg, rules, roots, UniformEvaluator())
    m.start(np.arange(rows), 1, np.random.default_rng(7), full_search=True)
    m.step()  # evaluates the roots and mixes the noise in
    prior = m.tree.prior[:, ROOT, :].astype(np.float64)  # [rows, A]
    K = 26
    noise = (prior - 0.75 / K) / 0.25
    assert np.allclose(noise.sum(axis=1), 1.0, atol=1e-4)
    assert (noise > -1e-5).all()
    # Dirichlet(alpha = 2/K) per coordinate: mean 1/K, variance (K-1) / (K^2 (K alpha + 1)).
    expected_var = (K - 1) / (K * K * (2.0 + 1.0))
    assert noise.mean() == pytest.approx(1 / K, rel=1e-3)
    assert noise.var() == pytest.approx(expected_var, rel=0.2)
    # A cheap search gets no noise.
    m2 = BatchedMCTS(cfg, rules, B.state_for(rules, 2, 5), UniformEvaluator())
    m2.search(np.random.default_rng(7), simulations=1, full_search=False)
    assert np.allclose(m2.tree.prior[:, ROOT], 1.0 / K)


def test_temperature_sampling_statistics():
    rng = np.random.default_rng(3)
    visits = np.array([0, 10, 20, 30, 40])
    draws = np.bincount([move_choice.sample_by_visits(visits, 1.0, rng) for _ in range(4000)], minlength=5) / 4000
    assert np.allclose(draws, visits / visits.sum(), atol=0.03)
    draws = np.bincount([move_choice.sample_by_visits(visits, 0.5, rng) for _ in range(4000)], minlength=5) / 4000
    sq = visits**2 / (visits**2).sum()
    assert np.allclose(draws, sq, atol=0.03)
    assert draws[0] == 0
    assert {move_choice.sample_by_visits(visits, 0.0, rng) for _ in range(20)} == {4}


def test_lcb_prefers_a_reliable_value_and_falls_back_to_visits():
    visits = np.array([100, 30, 2, 0])
    means = np.array([0.50, 0.55, 0.99, 0.0])
    sums, sq = means * visits, (means**2 + 0.25) * visits  # value standard deviation 0.5
    assert move_choice.lcb_action(visits, sums, sq, 1.96, 0.1) == 0  # 30 visits at 0.55 is not enough to beat 100 at 0.5
    sq_tight = (means**2 + 0.0001) * visits  # nearly noiseless: the higher mean is reliable enough
    assert move_choice.lcb_action(visits, sums, sq_tight, 1.96, 0.1) == 1
    visits2 = np.array([100, 90, 0, 0])
    sums2 = np.array([0.3, 0.6, 0, 0]) * visits2
    assert move_choice.lcb_action(visits2, sums2, (sums2 / np.maximum(visits2, 1)) ** 2 * visits2, 1.96, 0.1) == 1
    assert move_choice.lcb_action(np.array([1, 0]), np.array([0.0, 0.0]), np.array([0.0, 0.0]), 1.96, 0.1) == 0


def test_forced_playouts_are_pruned_from_the_target():
    rules = preset("chinese")
    roots = B.state_for(rules, 1, 5)
    cfg = SearchConfig(simulations=200, forced_playouts_k=2.0, dirichlet_epsilon=0.25)
    m = BatchedMCTS(cfg, rules, roots, LinearEvaluator(F.num_planes(8), 5, seed=4))
    m.search(np.random.default_rng(0), full_search=True)
    visits = m.root_visits(0).astype(np.float64)
    prior = m.tree.prior[0, ROOT]
    # Every child with a prior got its forced playouts (up to rounding).
    forced = np.sqrt(2.0 * prior * visits.sum())
    assert (visits[prior > 0] >= np.floor(forced[prior > 0]) - 1).all()
    target = m.policy_target(0)
    assert target.sum() == pytest.approx(1.0, abs=1e-5)
    best = int(np.argmax(visits))
    assert target[best] > visits[best] / visits.sum()  # mass moved off the forced children
    pruned = move_choice.prune_forced_playouts(visits, prior.astype(np.float64), child_q(m.tree, 0).astype(np.float64), int(m.tree.visits[0, ROOT]), 1.25, 19652.0, 2.0)
    assert pruned[best] == visits[best] and (pruned <= visits).all() and pruned.sum() < visits.sum()
    assert np.allclose(target, pruned / pruned.sum(), atol=1e-6)
    assert ((pruned == 0) | (pruned > 1)).all()  # children left with one visit are pruned outright


# ---- batch rows never interfere -------------------------------------------------------------------


def _random_positions(rules: Rules, rows: int, n: int, seed: int) -> B.BoardState:
    state = B.state_for(rules, rows, n, history=4)
    rng = np.random.default_rng(seed)
    for step in range(3 * n):
        legal = B.legal_mask(state, rules)
        acts = np.array([rng.choice(np.flatnonzero(l[:-1])) if b * 3 > step - 1 and l[:-1].any() else -1 for b, l in enumerate(legal)])
        B.play(state, acts, rules)
    return state


@pytest.mark.parametrize("gumbel", [False, True])
def test_batch_rows_never_interfere(gumbel):
    rules = preset("chinese")
    state = _random_positions(rules, 4, 5, seed=5)
    ev = LinearEvaluator(F.num_planes(4), 5, seed=2)
    cfg = SearchConfig(simulations=40, gumbel=gumbel)
    together = BatchedMCTS(cfg, rules, B.take_rows(state, np.arange(4)), ev)
    together.search(np.random.default_rng(0))
    for b in range(4):
        alone = BatchedMCTS(cfg, rules, B.take_rows(state, [b]), ev)
        alone.search(np.random.default_rng(0))
        assert row_to_dict(together.tree, b) == row_to_dict(alone.tree, 0), f"row {b} differs"


def test_rows_run_searches_of_different_lengths():
    rules = preset("chinese")
    m = BatchedMCTS(SearchConfig(simulations=30), rules, B.state_for(rules, 3, 5), UniformEvaluator())
    rng = np.random.default_rng(0)
    m.start([0], 30, rng)
    m.start([1], 5, rng)
    steps = 0
    while m.active().any():
        m.step()
        steps += 1
    assert steps == 31  # root evaluation + 30 simulations; row 2 stayed idle
    assert m.root_visits(0).sum() == 30 and m.root_visits(1).sum() == 5 and m.tree.num_nodes[2] == 1



def _path_to(tree, b: int, node: int) -> list[int]:
    path = []
    while tree.parent[b, node] != NO_PARENT:
        path.append(int(tree.action[b, node]))
        node = int(tree.parent[b, node])
    return path[::-1]


@pytest.mark.parametrize("ko", ["positional", "situational"])
def test_leaf_legality_sees_the_path_and_the_roots_superko_set_is_restored(ko):
    """Scratch rows share the roots' superko set and undo the path's insertions: every expanded
    node's legal children equal the engine's legal moves after replaying its path on a full copy,
    and after the search the roots' superko set is bit-identical. On 3x3 and 4x4 boards, where
    captures and repeated positions are dense."""
    rules = preset("tromp-taylor" if ko == "positional" else "new-zealand")
    checked = 0
    for n in (3, 4):
        roots = _random_positions(rules, 6, n, seed=n)
        before = roots.seen.copy()
        m = BatchedMCTS(SearchConfig(simulations=120, tree_reuse=False), rules, roots, UniformEvaluator(), history=4)
        m.search(np.random.default_rng(n))
        assert np.array_equal(roots.seen, before), "the search left positions in the roots' superko set"
        t = m.tree
        for b in range(roots.batch_size):
            for node in range(int(t.num_nodes[b])):
                if not t.expanded[b, node]:
                    continue
                replay = B.take_rows(roots, [b])
                for a in _path_to(t, b, node):
                    assert B.play(replay, [a], rules)[0]
                expected = B.legal_mask(replay, rules)[0]
                assert np.array_equal(t.children[b, node] != ILLEGAL, expected), f"n={n} row {b} node {node}: legal children differ"
                checked += 1
    assert checked > 500



@pytest.mark.parametrize("base, other", [("chinese", "japanese"), ("japanese", "tromp-taylor")])
def test_every_evaluated_leaf_gets_the_features_of_its_position(base, other):
    """The search writes only the newest history steps of a leaf when its slot already holds a
    leaf of the same depth, and then keeps its side-to-move, rules and komi planes too (and
    compacts slots when rows idle): every input the evaluator sees equals ``features.encode`` and
    ``legal_mask`` of the leaf replayed on a full copy, through searches of different lengths per
    row, moves played between them, one row under other rules from the second move on, and komi
    that differs per row."""
    rules = preset(base)
    history = 4
    roots = _random_positions(rules, 5, 5, seed=11)
    roots.komi[:] = np.array([7.5, 6.5, 0.5, -3.0, 7.5], np.float32)
    row_rules = [rules] * 5
    seen = []

    def capture(planes, legal):
        seen.append((planes.copy(), legal.copy()))
        return UniformEvaluator()(planes, legal)

    m = BatchedMCTS(SearchConfig(simulations=40, tree_reuse=True), rules, roots, capture, history=history)
    rng = np.random.default_rng(3)
    checked = 0
    for move in range(4):
        if move == 1:
            row_rules[2] = preset(other)
            m.reset(2)
            m.set_rules(2, row_rules[2])
        live = np.flatnonzero(~roots.done)
        m.start(live, np.array([40 - move, 7, 25, 40 - 3 * move, 3 + move])[live], rng)
        while m.active().any():
            seen.clear()
            k = m.step()
            planes, legal = seen[0] if seen else (None, None)
            for b in range(roots.batch_size):
                s = int(m.rows.slot[b])
                if s < 0:
                    continue
                replay = B.take_rows(roots, [b])
                for a in _path_to(m.tree, b, int(m.rows.leaf[b])):
                    assert B.play(replay, [a], row_rules[b])[0]
                np.testing.assert_array_equal(planes[s], F.encode(replay, row_rules[b], history)[0], err_msg=f"move {move} row {b} slot {s}")
                np.testing.assert_array_equal(legal[s], B.legal_mask(replay, row_rules[b])[0])
                checked += 1
            assert checked and k == (m.rows.slot >= 0).sum()
        for b in live:
            a = m.choose_action(b, 1.0, rng)
            assert B.play(roots, np.where(np.arange(5) == b, a, -1), row_rules[b])[b]
            m.advance(b, a)
    assert checked > 300


# ---- tree reuse -------------------------------------------------------------------------------------


def _subtree_stats(tree, b: int, node: int) -> dict:
    """Statistics of every node under ``node``, keyed by the action path from it."""
    out = {}
    stack = [(node, ())]
    while stack:
        i, path = stack.pop()
        out[path] = (int(tree.visits[b, i]), float(tree.value_sum[b, i]), float(tree.raw_value[b, i]), tree.prior[b, i].tobytes(), bool(tree.terminal[b, i]))
        for a in np.flatnonzero(tree.children[b, i] >= 0):
            stack.append((int(tree.children[b, i, a]), path + (int(a),)))
    return out


def test_tree_reuse_keeps_the_subtree_statistics_exactly():
    rules = preset("chinese")
    cfg = SearchConfig(simulations=120, tree_capacity_factor=3.0)
    m = BatchedMCTS(cfg, rules, B.state_for(rules, 2, 5), LinearEvaluator(F.num_planes(8), 5, seed=1))
    rng = np.random.default_rng(0)
    m.search(rng)
    action = int(np.argmax(m.root_visits(1)))
    child = int(m.tree.children[1, ROOT, action])
    before = _subtree_stats(m.tree, 1, child)
    other_row = row_to_dict(m.tree, 0)
    B.play(m.roots, [-1, action], rules)
    m.advance(1, action)
    assert _subtree_stats(m.tree, 1, ROOT) == before
    assert m.tree.num_nodes[1] == len(before)
    assert row_to_dict(m.tree, 0) == other_row
    t = m.tree
    used = int(t.num_nodes[1])
    assert t.parent[1, ROOT] == NO_PARENT and (t.parent[1, 1:used] < np.arange(1, used)).all()
    # The next search continues on top of the kept statistics.
    kept = int(t.visits[1, ROOT])
    m.start([1], 50, rng)
    while m.active().any():
        m.step()
    assert m.tree.visits[1, ROOT] == kept + 50


@pytest.mark.parametrize("gumbel", [False, True])
def test_tree_reuse_truncates_to_leave_room(gumbel):
    rules = preset("chinese")
    cfg = SearchConfig(simulations=100, tree_capacity_factor=1.2, gumbel=gumbel, gumbel_considered=4, gumbel_tree_reuse=gumbel)
    m = BatchedMCTS(cfg, rules, B.state_for(rules, 1, 3), LinearEvaluator(F.num_planes(8), 3, seed=1))
    rng = np.random.default_rng(0)
    for _ in range(4):  # small board: subtrees are large, so truncation kicks in
        m.search(rng)
        action = int(np.argmax(m.root_visits(0)))
        assert B.play(m.roots, [action], rules).all()
        if m.roots.done[0]:
            break
        m.advance(0, action)
        t = m.tree
        used = int(t.num_nodes[0])
        assert used <= t.capacity - 100
        assert (t.parent[0, 1:used] < np.arange(1, used)).all()
        assert (t.children[0, :used][t.children[0, :used] >= 0] < used).all()


# ---- golden tree ------------------------------------------------------------------------------------


def test_golden_tree():
    """The trees of a fixed search, unchanged since they were recorded: they run on feature version 1
    (the golden evaluator's weights are per input plane), so a version-1 network searches area
    rules exactly as before the rules planes."""
    rules = preset("chinese")
    state = _random_positions(rules, 2, 5, seed=11)
    cfg = SearchConfig(simulations=24)
    m = BatchedMCTS(cfg, rules, state, LinearEvaluator(F.num_planes(4, 1), 5, seed=3), feature_version=1)
    m.search(np.random.default_rng(2024), full_search=True)
    got = {"puct_noised": [row_to_dict(m.tree, b) for b in range(2)]}
    g = BatchedMCTS(SearchConfig(simulations=12, gumbel=True, gumbel_considered=4), rules, B.take_rows(state, [0, 1]),
                    LinearEvaluator(F.num_planes(4, 1), 5, seed=3), feature_version=1)
    g.search(np.random.default_rng(2024), full_search=True)
    got["gumbel"] = [row_to_dict(g.tree, b) for b in range(2)]
    path = GOLDEN / "tree_5x5.json"
    if REGEN:  # ALPHAZERO_REGEN_GOLDEN=1 rewrites the file (atomically) instead of checking it
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(got, indent=None, separators=(",", ":")) + "\n")
        os.replace(tmp, path)
    expected = json.loads(path.read_text())
    for key in expected:
        for b in range(2):
            e, r = expected[key][b], got[key][b]
            for field in ("num_nodes", "visits", "parent", "action", "expanded", "terminal", "children"):
                assert r[field] == e[field], f"{key} row {b}: {field} differs from the golden tree"
            for field in ("value_sum", "raw_value", "prior"):
                assert np.allclose(np.asarray(r[field], float), np.asarray(e[field], float), atol=2e-4), f"{key} row {b}: {field}"


# ---- input checks -----------------------------------------------------------------------------------


def test_bad_inputs_give_clear_errors(rng):
    rules = preset("chinese")
    m = BatchedMCTS(SearchConfig(simulations=8), rules, B.state_for(rules, 1, 5), lambda p, l: (np.zeros((p.shape[0], 3)), np.zeros(p.shape[0])))
    m.start([0], 4, rng)
    with pytest.raises(ValueError, match="evaluator returned logits"):
        m.step()
    m2 = BatchedMCTS(SearchConfig(simulations=8), rules, B.state_for(rules, 1, 5), UniformEvaluator())
    with pytest.raises(ValueError, match="simulations must be in"):
        m2.start([0], 9, rng)
    nan_eval = lambda p, l: (np.zeros(l.shape, np.float32), np.full(p.shape[0], np.nan, np.float32))
    m3 = BatchedMCTS(SearchConfig(simulations=8), rules, B.state_for(rules, 1, 5), nan_eval)
    m3.start([0], 4, rng)
    with pytest.raises(ValueError, match="NaN"):
        m3.step()
