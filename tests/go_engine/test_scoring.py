"""Area and territory counts of drawn positions, counted by hand (komi 0 unless said), side by side.

Every position is drawn with ``X`` black, ``O`` white; rows from the top, columns from the left,
points named (row, col) in the comments.
"""

from __future__ import annotations

import numpy as np
import pytest

from go_engine import ascii_board
from go_engine import board as B
from go_engine import coords, scoring
from go_engine.rules import HandicapBonus, Rules, preset

JAPANESE = preset("japanese").with_komi(0)
TERRITORY_NO_TAX = Rules(ko="simple", scoring="territory", tax="none", komi=0)
AREA = preset("tromp-taylor").with_komi(0)
AREA_SEKI_TAX = Rules(tax="seki", komi=0)
STONE_SCORING = preset("stone-scoring").with_komi(0)


def count(text: str, rules: Rules, captured=(0, 0), dead=(), handicap: int = 0) -> scoring.Count:
    n, black, white = ascii_board.parse(text)
    state = ascii_board.from_ascii(text, rules)
    dead_actions = [r * n + c for r, c in dead]
    return scoring.count(state.board[0], n, rules, captured=captured, handicap=handicap, dead=dead_actions or None)


# Two walls, black's column 0 (5 points) and white's columns 3-4 (less the stone at (0,3)): 9
# points; (0,2) is dame between them.
WALLS = """
. X . O .
. X O . .
. X O . .
. X O . .
. X O . .
"""


def test_walls_with_a_dame():
    c = count(WALLS, JAPANESE)
    assert (c.black_points, c.white_points, c.margin) == (5, 9, -4.0)
    assert c.owner.reshape(5, 5)[0, 2] == 0  # dame: nobody's
    a = count(WALLS, AREA)
    assert (a.black_points, a.white_points, a.margin) == (10, 14, -4.0)  # 5 stones each: same margin
    # Komi goes to white under both.
    assert count(WALLS, JAPANESE.with_komi(6.5)).margin == -10.5
    # The dame is filled for the seki test only; the count of the board as drawn is unchanged.
    assert count(WALLS, TERRITORY_NO_TAX).margin == -4.0


# A seki with an eye each: black (0,1),(1,0),(1,1) with the eye (0,0) and white's chain
# (0,3),(0,5),(1,2..5),(2,0..2) with the eye (0,4) share the liberty (0,2). Either side filling
# (0,2) would leave itself one liberty. Black's outer wall owns rows 3-6 but for the stones:
# (3,4),(3,5),(3,6) and 21 points below: 24.
SEKI_WITH_EYES = """
. X . O . O X
X X O O O O X
O O O X X X X
X X X X . . .
. . . . . . .
. . . . . . .
. . . . . . .
"""


def test_seki_with_eyes_scores_nothing_for_the_eyes_under_japanese_rules():
    c = count(SEKI_WITH_EYES, JAPANESE)
    assert (c.black_points, c.white_points, c.margin) == (24, 0, 24.0)
    own = c.owner.reshape(7, 7)
    assert own[0, 0] == 0 and own[0, 4] == 0 and own[0, 2] == 0  # two seki eyes and the shared liberty
    # Without the tax the eyes are territory (one each: the margin is the same here).
    t = count(SEKI_WITH_EYES, TERRITORY_NO_TAX)
    assert (t.black_points, t.white_points) == (25, 1)
    # Area: black 13 stones + 24 + the eye (0,0) = 38, white 9 stones + the eye (0,4) = 10.
    a = count(SEKI_WITH_EYES, AREA)
    assert (a.black_points, a.white_points, a.margin) == (38, 10, 28.0)
    # Area with the seki tax: the stones count, the seki eyes do not.
    s = count(SEKI_WITH_EYES, AREA_SEKI_TAX)
    assert (s.black_points, s.white_points, s.margin) == (37, 9, 28.0)


def test_stone_scoring_charges_two_points_per_living_group():
    # Black: two independent regions? No: only the outer wall lives independently (the seki
    # group does not), so black pays 2 once; white's only group is in seki and pays nothing.
    c = count(SEKI_WITH_EYES, STONE_SCORING)
    assert (c.black_points, c.white_points) == (37 - 2, 9)
    w = count(WALLS, STONE_SCORING)
    assert (w.black_points, w.white_points) == (10 - 2, 14 - 2)


# A bent-four-like corner: white's corner chain (0,2),(1,0),(1,2),(2,0..2) and black's throw-in
# (0,1) share the liberties (0,0) and (1,1); neither side can approach (each would be captured
# first), so on the board it stands like a seki. Japanese rules call white dead (black can start
# the ko at leisure): the stones are removed when agreed dead.
BENT_FOUR = """
. X O X .
O . O X .
O O O X .
X X X X .
. . . . .
"""
WHITE_CORNER = [(0, 2), (1, 0), (1, 2), (2, 0), (2, 1), (2, 2)]


def test_bent_four_like_corner_left_on_the_board_or_removed_as_dead():
    c = count(BENT_FOUR, JAPANESE)
    assert (c.black_points, c.white_points, c.margin) == (9, 0, 9.0)  # counted as seki: black's side 9
    d = count(BENT_FOUR, JAPANESE, dead=WHITE_CORNER)
    # Black: the 9 points, the 8 empty corner points, and 6 prisoners.
    assert (d.black_points, d.black_prisoners, d.margin) == (17, 6, 23.0)
    a = count(BENT_FOUR, AREA, dead=WHITE_CORNER)
    assert (a.black_points, a.white_points, a.margin) == (25, 0, 25.0)
    # Area - territory = (black stones - black's prisoners) - (white stones - white's) = (8 - 6) - 0.
    assert a.margin - d.margin == 2.0
    assert count(BENT_FOUR, AREA).margin == 17 - 6  # undecided, as drawn: the corner's 2 liberties are nobody's


def test_dead_stones_must_be_stones():
    with pytest.raises(ValueError, match="dead stones must be stones"):
        count(BENT_FOUR, JAPANESE, dead=[(0, 0)])


def test_prisoners_come_from_the_board_captures():
    rules = JAPANESE
    state = ascii_board.from_ascii(WALLS, rules)
    n = 5
    before = scoring.count(state.board[0], n, rules, captured=tuple(state.captured[0]))
    area_before = scoring.count(state.board[0], n, AREA, captured=tuple(state.captured[0]))
    passes = n * n
    for action in (2 * n + 4, 1 * n + 4, passes, 3 * n + 4, passes, 2 * n + 3):  # X (2,4); O (1,4), (3,4), (2,3)
        assert B.play(state, [action], rules)[0]
    # White spent 3 stones inside its own area to capture one: area unchanged, 3 territory points
    # fewer for white (the captured point is white's again), 1 prisoner.
    assert state.captured[0].tolist() == [1, 0]  # one black stone taken off
    after = scoring.count(state.board[0], n, rules, captured=tuple(state.captured[0]))
    assert (after.white_points, after.white_prisoners) == (before.white_points - 3, 1)
    assert after.margin == before.margin + 3 - 1
    area_after = scoring.count(state.board[0], n, AREA, captured=tuple(state.captured[0]))
    assert area_after.margin == area_before.margin


def test_captures_counter_counts_suicides_and_survives_copies():
    rules = preset("tromp-taylor")  # multi-stone suicide allowed
    state = ascii_board.from_ascii("""
        . X O . .
        X O O . .
        O O . . .
        . . . . .
        . . . . .
    """, rules, to_play=B.BLACK)
    assert B.play(state, [0], rules)[0]  # black (0,0): captures nothing, the chain (0,0),(0,1),(1,0) dies
    assert state.board[0, coords.action_to_point(0, 5)] == B.EMPTY
    assert state.captured[0].tolist() == [3, 0]
    copy = B.take_rows(state, [0])
    B.copy_row(state, 0, copy, 0)
    assert copy.captured[0].tolist() == [3, 0]
    B.reset(state)
    assert state.captured[0].tolist() == [0, 0]


def test_stones_on_the_board_plus_captured_equal_stones_played():
    rules = preset("tromp-taylor")  # suicide allowed: those stones are counted too
    rng = np.random.default_rng(3)
    state = B.state_for(rules, 8, 7)
    placed = np.zeros((8, 2), np.int64)
    for _ in range(200):
        legal = B.legal_mask(state, rules)
        actions = np.array([rng.choice(np.flatnonzero(row)) if row.any() else -1 for row in legal])
        movers = state.to_play.copy()
        assert B.play(state, actions, rules).all()
        for b, a in enumerate(actions):
            if 0 <= a < 49:
                placed[b, movers[b] - 1] += 1
    on_board = np.stack([(state.board == B.BLACK).sum(1), (state.board == B.WHITE).sum(1)], axis=1)
    assert state.captured.sum() > 0
    assert (on_board + state.captured == placed).all()


def test_handicap_bonus_in_area_scoring():
    text = WALLS
    assert count(text, preset("chinese").with_komi(0), handicap=4).margin == -4.0 - 4
    assert count(text, preset("aga").with_komi(0), handicap=4).margin == -4.0 - 3
    assert count(text, AREA, handicap=4).margin == -4.0
    assert count(text, Rules(komi=0, white_handicap_bonus=HandicapBonus.N), handicap=1).margin == -4.0  # 1 stone: no handicap


def test_bad_board_is_refused():
    with pytest.raises(ValueError, match="points"):
        scoring.count(np.zeros(10, np.int8), 5, JAPANESE)


def test_seki_stones_are_the_living_stones_outside_independent_regions():
    n, black, white = ascii_board.parse(SEKI_WITH_EYES)
    state = ascii_board.from_ascii(SEKI_WITH_EYES, JAPANESE)
    seki = scoring.seki_stones(state.board[0], n)
    expected = {(0, 1), (1, 0), (1, 1), (0, 3), (0, 5), (1, 2), (1, 3), (1, 4), (1, 5), (2, 0), (2, 1), (2, 2)}
    assert {divmod(int(a), n) for a in np.flatnonzero(seki)} == expected
    walls = ascii_board.from_ascii(WALLS, JAPANESE)
    assert not scoring.seki_stones(walls.board[0], 5).any()  # the dame is filled, not a seki


def test_moves_that_gain_nothing_under_territory_scoring():
    state = ascii_board.from_ascii(WALLS, JAPANESE)
    row = state.board[0]
    gains_nothing = lambda r, c, colour, dead=None: scoring.gains_nothing_under_territory(row, 5, r * 5 + c, colour, dead)  # noqa: E731
    assert gains_nothing(0, 2, B.BLACK) and gains_nothing(0, 2, B.WHITE)  # the dame
    assert gains_nothing(2, 0, B.BLACK)  # black's own territory
    assert not gains_nothing(2, 4, B.BLACK)  # an invasion: not black's area (the search decides)
    assert not gains_nothing(0, 1, B.BLACK)  # occupied
    # A point both colours reach that the caller does not call neutral (a contested area) is not a dame.
    not_neutral = np.zeros(25, bool)
    assert not scoring.gains_nothing_under_territory(row, 5, 2, B.BLACK, neutral=not_neutral)
    assert scoring.gains_nothing_under_territory(row, 5, 10, B.BLACK, neutral=not_neutral)  # own territory still
    # With a dead white stone inside black's area, black's moves there are not "nothing" (it may need capturing).
    invaded = ascii_board.from_ascii(WALLS.replace(". X . O .", "O X . O .", 1), JAPANESE)
    assert not scoring.gains_nothing_under_territory(invaded.board[0], 5, 2 * 5 + 0, B.BLACK, dead=[0])
    assert scoring.gains_nothing_under_territory(invaded.board[0], 5, 0 * 5 + 2, B.BLACK, dead=[0])  # the dame still is
    # A move that puts a chain in atari, or touches an own chain short of liberties, is not "nothing".
    short = ascii_board.from_ascii("""
        . X O . .
        X X O . .
        O O O . .
        . . . . .
        . . . . .
    """, JAPANESE)
    assert not scoring.gains_nothing_under_territory(short.board[0], 5, 0, B.BLACK)


# Black's (0,1),(1,0),(1,1) has one eye and no other liberty: a chain in atari, so its region is
# not independent (KataGo's atari clause, which also makes a double-ko seki count as seki).
ONE_EYE = """
. X O . .
X X O . .
O O O . .
. . . . .
. . . . .
"""


def test_a_group_in_atari_owns_nothing():
    c = count(ONE_EYE, JAPANESE)
    assert (c.black_points, c.white_points, c.margin) == (0, 16, -16.0)
    assert count(ONE_EYE, TERRITORY_NO_TAX).margin == 1 - 16  # no tax: the eye counts
    d = count(ONE_EYE, JAPANESE, dead=[(0, 1), (1, 0), (1, 1)])
    assert (d.white_points, d.white_prisoners, d.margin) == (20, 3, -23.0)
