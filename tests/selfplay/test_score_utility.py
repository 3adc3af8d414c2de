"""The search's score utility (KataGo's static and dynamic score terms): the formula against hand
computed values, factors 0 leave the search as it was, a decided position where only the score
tells moves apart, the dynamic center (root evaluation, kept subtree, fixed within a search), and
what must keep reading the win/loss value (``root_value``, resignation in self-play)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from alphazero.config.base import ConfigError
from alphazero.config.run import RunConfig
from alphazero.config.explain import explain
from alphazero.config.search import SCORE_UTILITY_FIELDS, SearchConfig, SelfPlayConfig
from go_engine import board as B
from go_engine import coords
from go_engine import features as F
from go_engine.rules import Rules, preset
from selfplay import node_stats as NS
from selfplay import utility as U
from selfplay.evaluators import AreaScoreEvaluator, FixedScoreEvaluator, LinearEvaluator, UniformEvaluator
from selfplay.game_driver import SelfPlayDriver
from selfplay.mcts import BatchedMCTS
from selfplay.search_state import kernel_params
from selfplay.tree import ROOT, child_q, child_visits, child_win_loss
from tests.selfplay.conftest import search_on

# KataGo's play defaults (setup.cpp, gtp_example.cfg): static 0.1, dynamic 0.3, zero weight 0.2, scale 0.75.
KATAGO = dict(static_score_utility_factor=0.1, dynamic_score_utility_factor=0.3)
TREE_FIELDS = ("visits", "value_sum", "value_sq_sum", "raw_value", "parent", "action", "expanded", "terminal",
               "children", "prior", "num_nodes")


# ---- the formula ---------------------------------------------------------------------------------


def test_score_value_and_utility_match_hand_computed_values():
    # atan(1) = pi / 4, so a lead one scale above the center is worth exactly 1/2.
    assert U.score_value(13.75, 10.0, 3.75) == pytest.approx(0.5, abs=1e-12)
    assert U.score_value(-10.0, 0.0, 10.0) == pytest.approx(-0.5, abs=1e-12)
    assert U.score_value(0.0, 0.0, 10.0) == 0.0
    assert U.score_value(1e9, 0.0, 10.0) == pytest.approx(1.0, abs=1e-6)  # saturates
    # (2/pi) atan(0.5) = 0.295167... and (2/pi) atan(-4) = -0.844042...
    assert U.score_value(5.0, 0.0, 10.0) == pytest.approx(0.2951672353, abs=1e-9)
    assert U.score_value(-40.0, 0.0, 10.0) == pytest.approx(-0.8440417392, abs=1e-9)
    # static 0.1 at scale 10 (2 * sqrt(25)), dynamic 0.3 at scale 3.75 (0.75 * sqrt(25)) about center 6.25
    assert U.score_utility(10.0, 6.25, 0.1, 10.0, 0.3, 3.75) == pytest.approx(0.1 * 0.5 + 0.3 * 0.5, abs=1e-12)
    # KataGo's recentScoreCenter: E (1 - zero weight), at most the cap away from E.
    assert U.dynamic_center(10.0, 0.2, 3.75) == pytest.approx(8.0)
    assert U.dynamic_center(40.0, 0.2, 3.75) == pytest.approx(36.25)
    assert U.dynamic_center(-40.0, 0.2, 3.75) == pytest.approx(-36.25)
    assert U.dynamic_center(2.0, 1.0, 3.75) == 0.0
    assert U.dynamic_center(-7.0, 0.0, 3.75) == -7.0
    prm = kernel_params(SearchConfig(**KATAGO), preset("chinese"), 5)
    assert (prm.static_score_scale, prm.dynamic_score_scale, prm.score_center_zero_weight) == (10.0, 3.75, 0.2)
    assert prm.score_utility and not kernel_params(SearchConfig(), preset("chinese"), 5).score_utility


def test_the_search_backs_up_value_plus_score_utility():
    # Black's value 0.5 and lead 10 everywhere. The root's evaluation sets the center:
    # 10 * (1 - 0.375) = 6.25 = 10 - 3.75, so both score terms are (2/pi) atan(1) = 1/2:
    # utility = 0.5 + 0.1 * 0.5 + 0.3 * 0.5 = 0.7 for black, -0.7 at white's nodes (its own view).
    cfg = SearchConfig(simulations=4, dynamic_score_center_zero_weight=0.375, **KATAGO)
    rules = preset("chinese")
    m = BatchedMCTS(cfg, rules, B.state_for(rules, 1, 5), FixedScoreEvaluator(0.5, 10.0))
    m.search(np.random.default_rng(0))
    t = m.tree
    used = int(t.num_nodes[0])
    assert m.rows.score_center[0] == pytest.approx(6.25)
    black = t.parent[0, :used] < 0  # the root; its children (white to move) are all the other nodes here
    assert used > 1 and np.all(t.parent[0, 1:used] == ROOT)
    assert np.allclose(t.raw_value[0, :used], np.where(black, 0.7, -0.7), atol=1e-6)
    assert np.allclose(t.raw_win_loss[0, :used], np.where(black, 0.5, -0.5), atol=1e-6)
    assert m.root_utility(0) == pytest.approx(0.7, abs=1e-6)
    assert m.root_value(0) == pytest.approx(0.5, abs=1e-6)
    assert t.visits[0, ROOT] == 5
    assert np.allclose(child_q(t, 0)[child_visits(t, 0) > 0], 0.7, atol=1e-6)
    assert np.allclose(child_win_loss(t, 0)[child_visits(t, 0) > 0], 0.5, atol=1e-6)


class PassFirst(FixedScoreEvaluator):
    """``FixedScoreEvaluator`` with pass as the favourite move (so the first simulation passes)."""

    def __call__(self, planes, legal):
        logits, value, aux = super().__call__(planes, legal)
        logits[:, -1] = 10.0
        return logits, value, aux


def test_a_finished_game_is_valued_by_its_count():
    # Black passes after white's pass: the game ends, empty board, komi 10: white wins by 10.
    # White's view at that node: win/loss 1, lead 10 -> static 0.1 * (2/pi) atan(10 / 10) = 0.05;
    # the center (zero weight 0): black's evaluated lead -10 at the root, +10 for white, so the
    # dynamic term is (2/pi) atan(0) = 0.
    rules = Rules(komi=10.0)
    state = B.state_for(rules, 1, 5)
    state.passes[0] = 1
    cfg = SearchConfig(simulations=1, dynamic_score_center_zero_weight=0.0, **KATAGO)
    m = BatchedMCTS(cfg, rules, state, PassFirst(0.2, -10.0))
    m.search(np.random.default_rng(0))
    t = m.tree
    child = int(t.children[0, ROOT, 25])
    assert t.terminal[0, child]
    assert t.raw_win_loss[0, child] == pytest.approx(1.0)
    assert t.raw_value[0, child] == pytest.approx(1.05, abs=1e-6)
    # The root: its evaluation 0.2 + 0.1 * (2/pi) atan(-1) = 0.15, and the terminal -1.05.
    assert m.root_utility(0) == pytest.approx((0.15 - 1.05) / 2, abs=1e-6)
    assert m.root_value(0) == pytest.approx((0.2 - 1.0) / 2, abs=1e-6)


# ---- factors 0: the search as before -------------------------------------------------------------


class ScoreNeverRead:
    """The linear evaluator with a 'score' that breaks any search reading it."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def __call__(self, planes, legal):
        logits, value, _ = self.inner(planes, legal)
        return logits, value, {"score": None}


def _searched(cfg: SearchConfig, evaluator, moves: int = 3) -> list[dict]:
    rules = preset("chinese")
    state = B.state_for(rules, 2, 5, history=4)
    m = BatchedMCTS(cfg, rules, state, evaluator, history=4)
    rng = np.random.default_rng(5)
    trees = []
    for _ in range(moves):
        rows = np.flatnonzero(~state.done)
        if rows.size == 0:
            break
        m.search(rng, full_search=True, rows=rows)
        trees.append({f: np.array(getattr(m.tree, f)) for f in TREE_FIELDS})
        for b in rows.tolist():
            a = m.choose_action(b, 1.0, rng)
            B.play_action_row(state, b, a, int(rules.ko), int(rules.suicide), 100)
            m.advance(b, a)
    assert m.tree.win_loss_sum.shape == (2, 0) and m.stats.score.shape == (2, 0)  # nothing extra kept
    return trees


@pytest.mark.parametrize("gumbel", [False, True])
def test_zero_factors_search_exactly_as_before_and_never_read_scores(gumbel):
    base = SearchConfig(simulations=16, gumbel=gumbel, gumbel_considered=4, gumbel_tree_reuse=gumbel)
    ev = LinearEvaluator(F.num_planes(4), 5, seed=3)
    plain = _searched(base, ev)
    # Other center settings with both factors 0, and an evaluator whose score cannot be read.
    other = dataclasses.replace(base, dynamic_score_center_scale=2.0, dynamic_score_center_zero_weight=0.9)
    for a, b in zip(plain, _searched(other, ScoreNeverRead(ev))):
        for f in TREE_FIELDS:
            assert np.array_equal(a[f], b[f]), f


def test_a_score_utility_needs_the_evaluators_score():
    rules = preset("chinese")
    m = BatchedMCTS(SearchConfig(simulations=4, **KATAGO), rules, B.state_for(rules, 1, 5), UniformEvaluator())
    with pytest.raises(ValueError, match="score utility .* needs the evaluator's score"):
        m.search(np.random.default_rng(0))


# ---- a decided game: equal values, different scores ------------------------------------------------

# Black wins whatever happens (every empty point is an eye of its one living group; the white
# stone can only pass); capturing the white stone in atari at C5 wins by 3 points more.
DECIDED = """
    . X . O X
    X X X X X
    X . X . X
    X X X X X
    . X . X .
    """
CAPTURE = coords.rowcol_to_action(0, 2, 5)
STRONG = dict(static_score_utility_factor=0.5, dynamic_score_utility_factor=0.5)


@pytest.mark.parametrize("gumbel", [False, True])
def test_the_score_utility_prefers_the_bigger_win_where_values_are_equal(gumbel):
    rules = Rules(komi=0.5)
    # Gumbel with 8 simulations reaches no finished game: only the evaluated leaves' scores decide.
    cfg = SearchConfig(simulations=8 if gumbel else 64, gumbel=gumbel, gumbel_considered=4)
    searches = {}
    for name, config in (("plain", cfg), ("utility", dataclasses.replace(cfg, **STRONG))):
        m = search_on(DECIDED, AreaScoreEvaluator(scale=0.0, with_aux=True), config, rules)
        m.search(np.random.default_rng(1))
        searches[name] = m
    plain, utility = searches["plain"], searches["utility"]
    visited = child_visits(plain.tree, 0) > 0
    assert visited[CAPTURE]
    # The plain search sees only wins: every move is worth exactly the same to it.
    assert np.all(child_q(plain.tree, 0)[visited] == 1.0)
    q = child_q(utility.tree, 0)
    seen = child_visits(utility.tree, 0) > 0
    assert np.nanargmax(np.where(seen, q, np.nan)) == CAPTURE
    assert np.all(child_win_loss(utility.tree, 0)[seen] == pytest.approx(1.0))  # still just wins
    if gumbel:
        assert utility.gumbel_action(0) == CAPTURE
    else:
        visits = child_visits(utility.tree, 0)
        assert visits[CAPTURE] > np.delete(visits, CAPTURE).max()
        assert utility.best_action_lcb(0) == CAPTURE
    assert utility.root_value(0) == pytest.approx(1.0) and utility.root_utility(0) > 1.0


# ---- the dynamic center --------------------------------------------------------------------------


def test_the_center_is_the_kept_roots_mean_score_and_stays_fixed_within_a_search():
    rules = preset("chinese")
    cfg = SearchConfig(simulations=24, tree_reuse=True, **KATAGO)
    state = B.state_for(rules, 1, 5, history=2)
    m = BatchedMCTS(cfg, rules, state, AreaScoreEvaluator(scale=3.0, with_aux=True), history=2)
    rng = np.random.default_rng(3)
    m.search(rng)
    root_eval = float(m.stats.score[0, ROOT])  # black's lead on the empty board: -7.5
    assert m.rows.score_center[0] == pytest.approx(U.dynamic_center(root_eval, 0.2, 3.75))
    a = int(np.argmax(m.root_visits(0)))
    B.play_action_row(state, 0, a, int(rules.ko), int(rules.suicide), 100)
    m.advance(0, a)
    kept = NS.subtree_values(m.tree, m.stats, 0).score_mean[ROOT]  # white's view
    assert NS.root_score_mean(m.tree, m.stats, 0, np.zeros(m.tree.capacity)) == pytest.approx(kept, abs=1e-9)
    m.start([0], 8, rng)
    assert m.rows.score_center[0] == pytest.approx(U.dynamic_center(kept, 0.2, 3.75), abs=1e-5)
    while m.active().any():
        m.step()
    moved = NS.subtree_values(m.tree, m.stats, 0).score_mean[ROOT]
    assert moved != pytest.approx(kept)
    m.start([0], 8, rng, keep_tree=True)  # a chunk of the same search: the center stays
    assert m.rows.score_center[0] == pytest.approx(U.dynamic_center(kept, 0.2, 3.75), abs=1e-5)


# ---- what stays win/loss -------------------------------------------------------------------------

# Black's value -0.85 (not below resignation's -0.9) and lead -40 everywhere: its utility is
# -0.85 + 0.1 (2/pi) atan(-40 / 10) + 0.3 (2/pi) atan((-40 + 36.25) / 3.75) = -1.084404 (the
# center -40 * 0.8 = -32, capped at -40 + 3.75), which a resignation reading it would take.
LOSING = (-0.85, -40.0)
LOSING_UTILITY = -0.85 - 0.1 * 0.8440417392 - 0.3 * 0.5


def test_root_value_is_the_win_loss_value():
    rules = preset("chinese")
    m = BatchedMCTS(SearchConfig(simulations=8, **KATAGO), rules, B.state_for(rules, 1, 5), FixedScoreEvaluator(*LOSING))
    m.search(np.random.default_rng(0))
    assert m.root_value(0) == pytest.approx(-0.85, abs=1e-6)
    assert m.root_utility(0) == pytest.approx(LOSING_UTILITY, abs=1e-6)


def test_self_play_resigns_on_the_win_loss_value_and_records_it():
    search = SearchConfig(simulations=8, **KATAGO)
    selfplay = SelfPlayConfig(games_in_parallel=2, full_search_probability=1.0, resign_threshold=-0.9,
                              resign_consecutive=1, no_resign_fraction=0.0, max_game_moves=4)
    driver = SelfPlayDriver(search, selfplay, preset("chinese"), 5, FixedScoreEvaluator(*LOSING), 2, np.random.default_rng(0))
    records = driver.play(2)
    assert len(records) >= 2
    for r in records:
        # Black's first search sees only -0.85 (no finished game within its reach): no resignation there.
        assert len(r.moves) > 0, "black resigned on its utility"
        assert r.search_value[0] == pytest.approx(-0.85, abs=1e-6)
        assert r.outcome in (-1.0, 0.0, 1.0)


# ---- config --------------------------------------------------------------------------------------


@pytest.mark.parametrize("field,value", [
    ("static_score_utility_factor", -0.1), ("static_score_utility_factor", 1.5), ("static_score_utility_factor", math.nan),
    ("dynamic_score_utility_factor", -0.3), ("dynamic_score_utility_factor", 2.0),
    ("dynamic_score_center_scale", 0.0), ("dynamic_score_center_scale", -1.0), ("dynamic_score_center_scale", 6.0),
    ("dynamic_score_center_zero_weight", -0.2), ("dynamic_score_center_zero_weight", 1.2),
])
def test_bad_score_utility_settings_are_refused_naming_the_field(field, value):
    with pytest.raises(ConfigError, match=field):
        SearchConfig.from_dict({field: value})


def test_score_utility_is_off_by_default_in_every_preset_and_explained():
    from alphazero.config.run import PRESETS

    assert not SearchConfig().uses_score_utility
    for name, preset_config in PRESETS.items():
        assert not preset_config.search.uses_score_utility, name
    assert SearchConfig(dynamic_score_utility_factor=0.3).uses_score_utility
    text = explain(RunConfig(), RunConfig(), "title")
    for name in SCORE_UTILITY_FIELDS:
        assert f"search.{name} = " in text
    assert "search.static_score_utility_factor = 0.0\n    Score utility (KataGo's" in text
    copied = SearchConfig(c_puct_init=2.0).with_score_utility_of(SearchConfig(**KATAGO, dynamic_score_center_scale=0.5))
    assert copied == SearchConfig(c_puct_init=2.0, **KATAGO, dynamic_score_center_scale=0.5)
