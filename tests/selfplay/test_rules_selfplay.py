"""Self-play under any rules: the driver's final count and the search's terminal values are the rules'
count (``scoring.count_row``), each game draws its rules from the mix, and the planes and records
carry them. Positions are drawn with ``X`` black, ``O`` white; hand counts in the comments."""

from __future__ import annotations

import json

import numpy as np
import pytest

from alphazero.config.base import ConfigError
from alphazero.config.search import SearchConfig, SelfPlayConfig
from go_engine import board as B
from go_engine import features as F
from go_engine import scoring
from go_engine.ascii_board import from_ascii
from go_engine.rules import Rules, preset
from selfplay.evaluators import LinearEvaluator
from selfplay.game_driver import SelfPlayDriver, draw_rules
from selfplay.mcts import BatchedMCTS
from selfplay.tree import ROOT

JAPANESE = preset("japanese").with_komi(0.5)
CHINESE = preset("chinese").with_komi(0.5)

# Black owns columns 0-2 (5 stones, 10 empty points), white columns 3-4 (5 stones, 5 empty points).
# Area: 15 - 10 - 0.5 = +4.5 (black wins). Territory with 6 black stones taken off earlier (white's
# prisoners): 10 - 5 - 6 - 0.5 = -1.5 (white wins).
WALL = """
. . X O .
. . X O .
. . X O .
. . X O .
. . X O .
"""
# A seki with an eye each (go_engine/test_scoring.py's): the eyes (0,0), (0,4) and the shared liberty
# (0,2) are nobody's under Japanese rules; black's wall owns 24 points: territory 24 - 0 - 0.5.
SEKI = """
. X . O . O X
X X O O O O X
O O O X X X X
X X X X . . .
. . . . . . .
. . . . . . .
. . . . . . .
"""
HAND_COUNTS = [  # (position, rules, stones taken off (black, white), hand-counted margin)
    (WALL, JAPANESE, (6, 0), -1.5),
    (WALL, CHINESE, (6, 0), 4.5),
    (WALL, JAPANESE, (0, 2), 10 - 5 + 2 - 0.5),
    (SEKI, JAPANESE, (0, 0), 23.5),
    (SEKI, CHINESE, (0, 0), 38 - 10 - 0.5),
]


class PassEvaluator:
    """Every search plays pass: a prior no Gumbel noise overcomes, value 0."""

    def __call__(self, planes, legal):
        logits = np.where(legal, 0.0, -1e9).astype(np.float32)
        logits[:, -1] = 60.0
        return logits, np.zeros(planes.shape[0], np.float32)


def _finished_by_black_pass(text: str, rules: Rules, captured, history: int = 2) -> B.BoardState:
    """The drawn position after a white pass, black to move (its pass ends the game), with ``captured``."""
    state = from_ascii(text, rules, to_play=B.WHITE, history=history)
    assert B.play(state, [state.size ** 2], rules)[0]
    state.captured[0] = captured
    return state


@pytest.mark.parametrize("text,rules,captured,margin", HAND_COUNTS)
def test_driver_final_score_is_the_rules_count_of_hand_set_boards(text, rules, captured, margin):
    state = _finished_by_black_pass(text, rules, captured)
    n = state.size
    search = SearchConfig(simulations=4, gumbel=True, gumbel_considered=1)
    sp = SelfPlayConfig(games_in_parallel=1, full_search_probability=1.0, cheap_simulations=2, resign_enabled=False)
    driver = SelfPlayDriver(search, sp, rules, n, PassEvaluator(), history=2, rng=np.random.default_rng(0))
    B.copy_row(state, 0, driver.roots, 0)  # the game of row 0 is now the drawn one, one pass from its end
    driver.mcts.reset(0)
    driver._start_search(0, driver.logs[0])
    record = driver.play(1)[0]
    assert record.moves.tolist() == [n * n]
    expected = scoring.count(state.board[0], n, rules, captured=captured)
    assert record.final_score == expected.margin == margin
    assert record.outcome == np.sign(margin)
    assert json.loads(record.rules) == rules.to_dict()
    # Ownership target: the count's points, and every stone standing for its colour.
    stones = state.board[0][scoring.coords.action_points(n)]
    own = np.where(expected.owner != 0, expected.owner, np.where(stones == B.BLACK, 1, np.where(stones == B.WHITE, -1, 0)))
    np.testing.assert_array_equal(record.final_ownership, own)
    # count_row (the driver's and the search's kernel) equals the Python count on its own too.
    work, owner = scoring.new_work(n), np.zeros(n * n, np.int8)
    assert scoring.count_row(state, 0, int(rules.scoring), int(rules.tax), int(rules.suicide), 0.0, owner, work) == margin
    np.testing.assert_array_equal(owner, expected.owner)


@pytest.mark.parametrize("rules,black_wins", [(JAPANESE, False), (CHINESE, True)])
def test_search_terminal_value_is_the_rules_count(rules, black_wins):
    """From WALL after a white pass, black's pass ends the game: a terminal child whose exact value
    (white to move there) follows the rules' winner, not the area winner."""
    state = _finished_by_black_pass(WALL, rules, (6, 0), history=4)
    n = state.size
    mcts = BatchedMCTS(SearchConfig(simulations=8), rules, state, PassEvaluator(), track_scores=True)
    mcts.search(np.random.default_rng(0))
    t = mcts.tree
    child = int(t.children[0, ROOT, n * n])
    assert child > 0 and t.terminal[0, child]
    assert t.raw_value[0, child] == (-1.0 if black_wins else 1.0)  # white's view
    assert mcts.stats.score[0, child] == pytest.approx(-(4.5 if black_wins else -1.5))  # white's view


def test_rules_mix_draws_follow_the_weights_with_a_seeded_generator():
    sp = SelfPlayConfig(rules_mix=("japanese:3", "Chinese:1"))
    base = Rules(komi=5.5, max_moves=90)
    choices, p = sp.game_rules(base)
    assert [c.name() for c in choices] == ["japanese", "chinese"] and p.tolist() == [0.75, 0.25]
    assert all(c.komi == 5.5 and c.max_moves == 90 for c in choices)  # the run's komi and move cap
    draws = [draw_rules(choices, p, np.random.default_rng(7)) for _ in range(3)]
    assert draws[0] == draws[1] == draws[2]  # a seed fixes the draw
    rng = np.random.default_rng(2026)
    names = [draw_rules(choices, p, rng).name() for _ in range(4000)]
    share = names.count("japanese") / len(names)
    assert abs(share - 0.75) < 3 * np.sqrt(0.75 * 0.25 / 4000), share
    # No mix: the run's rules, and the generator is not touched.
    rng = np.random.default_rng(3)
    only, q = SelfPlayConfig().game_rules(base)
    assert only == [base] and draw_rules(only, q, rng) == base
    assert rng.random() == np.random.default_rng(3).random()
    assert SelfPlayConfig(rules_mix=("korean",)).rules_weights() == (("korean", 1.0),)
    for bad, problem in ((("japanese:0",), "positive"), (("klingon:1",), "unknown rules"), (("aga:x",), "not a number")):
        with pytest.raises(ConfigError, match=problem):
            SelfPlayConfig(rules_mix=bad)


def test_mixed_self_play_records_carry_their_rules_planes_and_count():
    """Games of a japanese/chinese mix: each record's rules, its planes' rules planes, and a final
    score equal to the recount of its replayed final position under its rules."""
    search = SearchConfig(simulations=8, gumbel=True, gumbel_considered=4)
    sp = SelfPlayConfig(games_in_parallel=4, full_search_probability=1.0, cheap_simulations=4, resign_enabled=False,
                        max_game_moves=50, rules_mix=("japanese:1", "chinese:1"))
    n, k = 5, 2
    driver = SelfPlayDriver(search, sp, Rules(komi=0.5), n, LinearEvaluator(F.num_planes(k), n, seed=1), history=k,
                            rng=np.random.default_rng(5))
    records = driver.play(8)
    seen = set()
    for r in records:
        rules = Rules.from_dict(json.loads(r.rules))
        seen.add(rules.name())
        assert r.feature_version == F.FEATURE_VERSION
        planes = r.planes()
        assert (planes[:, 2 * k + 9] == float(rules.is_territory)).all()
        assert (planes[:, 2 * k + 10] == float(rules.is_territory)).all()  # japanese: seki tax; chinese: none
        s = B.state_for(rules, 1, n, history=k)
        for t, a in enumerate(r.moves.tolist()):
            np.testing.assert_array_equal(F.encode(s, rules, k)[0], planes[t])
            assert B.play(s, [a], rules)[0]
        c = scoring.count(s.board[0], n, rules, captured=s.captured[0])
        assert r.final_score == c.margin and r.outcome == np.sign(c.margin)
    assert seen == {"japanese", "chinese"}
