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


# A double-ko seki in the top middle, the rest settled. Black's seki group B = (0,1),(0,2),
# (1,0..3),(2,2),(2,3),(3,2),(4,2),(4,3) has the eye (0,0); white's seki group W = (0,5),(0,7),
# (1,4..7),(2,4),(2,5),(3,5),(4,4),(4,5) has the eye (0,6). Two kos join them: on the edge black
# holds ko 1 (its stone (0,4) in atari; white takes at (0,3)); inside white holds ko 2 (its stone
# (3,3) in atari; black takes at (3,4)). B's liberties are its eye and (0,3), W's its eye and
# (3,4). Whoever takes one ko puts the other group in atari, which takes the other ko back; the
# first taker then cannot go on (its retake is the ko's immediate one): both groups live, and the
# two seki eyes and the two ko points are nobody's territory. Black's wall (0,8)..(8,4) owns
# rows 3-5 of columns 7-8 and rows 6-8 of columns 5-8: 18 points; white's wall (2,0)..(8,3)
# owns (3,0),(4,0),(5,0) and rows 6-8 of columns 0-2: 12 points. No dame: 81 = 25 black stones
# + 22 white + 18 + 12 + the four seki points.
#
# By hand, with 6 white stones and 2 black ones taken during the game (captured = (2, 6)):
#   japanese (territory, seki tax; korean is the same rules): black 18 + 6 prisoners = 24, white
#     12 + 2 = 14, komi 6.5: 24 - 14 - 6.5 = +3.5. Without the tax the seki points count:
#     black 18 + (0,0) + (0,3) = 20, white 12 + (0,6) + (3,4) = 14: the same margin.
#   ancient-territory (tax all): each colour's one independent region (its wall) pays 2:
#     16 + 6 - (10 + 2) - 6.5 = +3.5.
#   chinese / tromp-taylor (area, no tax; prisoners do not count): black 25 stones + 18 + (0,0),
#     (0,3) = 45, white 22 + 12 + (0,6), (3,4) = 36, komi 7.5: +1.5. With the seki tax the seki
#     points go: 43 - 34 = 9 all the same; stone-scoring (tax all) pays 2 each: 41 - 32 - 7.5.
# The seki regions are not independent because a ko stone in atari ((0,4) and (3,3)) stands in
# each (KataGo's atari clause); without it they would be, and would count under the tax.
DOUBLE_KO_SEKI = """
. X X . X O . O X
X X X X O O O O X
O O X X O O X X X
. O X O . O X . .
. O X X O O X . .
. O O O X X X . .
. . . O X . . . .
. . . O X . . . .
. . . O X . . . .
"""
SEKI_POINTS = [(0, 0), (0, 3), (0, 6), (3, 4)]  # the two eyes and the two ko points


def test_double_ko_seki_counted_by_hand_under_territory_and_area_rules():
    captured = (2, 6)
    japanese = count(DOUBLE_KO_SEKI, preset("japanese"), captured=captured)
    assert (japanese.black_points, japanese.white_points) == (18, 12)
    assert (japanese.black_prisoners, japanese.white_prisoners, japanese.komi, japanese.margin) == (6, 2, 6.5, 3.5)
    own = japanese.owner.reshape(9, 9)
    assert [own[p] for p in SEKI_POINTS] == [0, 0, 0, 0]
    assert own[3, 7] == 1 and own[8, 0] == -1
    korean = count(DOUBLE_KO_SEKI, preset("korean"), captured=captured)
    assert korean[:-1] == japanese[:-1] and (korean.owner == japanese.owner).all()
    no_tax = count(DOUBLE_KO_SEKI, TERRITORY_NO_TAX.with_komi(6.5), captured=captured)
    assert (no_tax.black_points, no_tax.white_points, no_tax.margin) == (20, 14, 3.5)
    ancient = count(DOUBLE_KO_SEKI, preset("ancient-territory"), captured=captured)
    assert (ancient.black_points, ancient.white_points, ancient.margin) == (16, 10, 3.5)
    for name in ("chinese", "tromp-taylor"):
        area = count(DOUBLE_KO_SEKI, preset(name), captured=captured)
        assert (area.black_points, area.white_points, area.komi, area.margin) == (45, 36, 7.5, 1.5), name
        assert [area.owner.reshape(9, 9)[p] for p in SEKI_POINTS] == [1, 1, -1, -1]
    taxed = count(DOUBLE_KO_SEKI, AREA_SEKI_TAX, captured=captured)
    assert (taxed.black_points, taxed.white_points, taxed.margin) == (43, 34, 9.0)
    stones = count(DOUBLE_KO_SEKI, preset("stone-scoring"), captured=captured)
    assert (stones.black_points, stones.white_points, stones.margin) == (41, 32, 1.5)
    # The seki stones: both seki groups and both ko stones, not the walls.
    n, _, _ = ascii_board.parse(DOUBLE_KO_SEKI)
    state = ascii_board.from_ascii(DOUBLE_KO_SEKI, JAPANESE)
    seki = {divmod(int(a), n) for a in np.flatnonzero(scoring.seki_stones(state.board[0], n))}
    black_group = {(0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (1, 3), (2, 2), (2, 3), (3, 2), (4, 2), (4, 3)}
    white_group = {(0, 5), (0, 7), (1, 4), (1, 5), (1, 6), (1, 7), (2, 4), (2, 5), (3, 5), (4, 4), (4, 5)}
    assert seki == black_group | white_group | {(0, 4), (3, 3)}


def test_double_ko_seki_by_play_and_counted_whichever_ko_black_holds():
    rules = preset("japanese")  # simple ko
    n = 9
    state = ascii_board.from_ascii(DOUBLE_KO_SEKI, rules, to_play=B.WHITE)
    at = lambda r, c: r * n + c  # noqa: E731
    ko_status = lambda r, c: B.move_status_row(state, 0, coords.action_to_point(at(r, c), n), int(rules.ko), int(rules.suicide))  # noqa: E731
    stone = lambda r, c: int(state.board[0, coords.action_to_point(at(r, c), n)])  # noqa: E731
    # Neither side can fill the other's eye.
    assert ko_status(0, 0) == B.SUICIDE
    # White takes ko 1: black's seki group is left with its eye only (in atari).
    assert B.play(state, [at(0, 3)], rules)[0] and stone(0, 4) == B.EMPTY
    assert ko_status(0, 4) == B.KO_FORBIDDEN  # black may not retake at once...
    assert ko_status(3, 4) == B.LEGAL  # ...but takes the other ko
    assert ko_status(0, 6) == B.SUICIDE
    assert B.play(state, [at(3, 4)], rules)[0] and stone(3, 3) == B.EMPTY
    assert state.captured[0].tolist() == [1, 1]
    # Each side holds the other ko now (two liberties each again). White's retake of ko 2 is the
    # immediate one and ko 1 is white's already: white cannot go on locally.
    assert ko_status(3, 3) == B.KO_FORBIDDEN
    # The seki still counts for nobody (the ko stones in atari moved: (0,3) white, (3,4) black);
    # one prisoner each: 18 - 12 + 1 - 1 - 6.5.
    japanese = scoring.count(state.board[0], n, rules, captured=tuple(state.captured[0]))
    assert (japanese.black_points, japanese.white_points, japanese.margin) == (18, 12, -0.5)
    assert [japanese.owner.reshape(9, 9)[p] for p in [(0, 0), (0, 4), (0, 6), (3, 3)]] == [0, 0, 0, 0]
    owner, work = np.zeros(n * n, np.int8), scoring.new_work(n)
    assert scoring.count_row(state, 0, 1, 1, 0, 0.0, owner, work) == -0.5  # the self-play count agrees
    # After white's pass black may take ko 1 back (holding both kos puts white's group in atari),
    # and white takes ko 2 back: under simple ko the drawn position returns, with black to move (a
    # double-ko seki gives both sides endless ko threats).
    assert B.play(state, [n * n], rules)[0]
    assert B.play(state, [at(0, 4)], rules)[0] and stone(0, 3) == B.EMPTY
    assert B.play(state, [at(3, 3)], rules)[0] and stone(3, 4) == B.EMPTY
    assert ascii_board.to_ascii(state) == ascii_board.normalise(DOUBLE_KO_SEKI)
    assert state.to_play[0] == B.BLACK and state.captured[0].tolist() == [2, 2]


# ---- pass-alive (Benson) ------------------------------------------------------------------------


def pass_alive(text: str, suicide_legal: bool = False) -> np.ndarray:
    """``[n, n]`` of 'X' / 'O' / '.': each colour's pass-alive stones and territory."""
    n, _, _ = ascii_board.parse(text)
    state = ascii_board.from_ascii(text, JAPANESE)
    area = np.zeros(state.board.shape[1], np.int8)
    scoring.pass_alive_area(state.board[0], n + 2, suicide_legal, area)
    return np.array([".", "X", "O"])[area[coords.action_points(n)]].reshape(n, n)


def rows(grid: np.ndarray) -> list[str]:
    return ["".join(r) for r in grid]


# Black's chain (0,1),(0,4),(1,0..4) has two real eyes (0,0) and the region {(0,2) white, (0,3)}:
# every empty point of each is a liberty of the chain, so the chain is pass-alive, and both
# regions are its territory (each has no point off the chain's liberties); the white stone at
# (0,2) is dead. White's row 2 is not pass-alive (its big region has points next to no white).
# Japanese, by hand: black (0,0),(0,2),(0,3) = 3 + 1 prisoner = 4; white rows 3-4 = 10: -6.
TWO_EYES_WITH_A_DEAD_STONE = """
. X O . X
X X X X X
O O O O O
. . . . .
. . . . .
"""


def test_two_eyed_group_is_pass_alive_and_a_dead_stone_in_its_eye_is_a_prisoner():
    assert rows(pass_alive(TWO_EYES_WITH_A_DEAD_STONE)) == ["XXXXX", "XXXXX", ".....", ".....", "....."]
    c = count(TWO_EYES_WITH_A_DEAD_STONE, JAPANESE)
    assert (c.black_points, c.white_points, c.black_prisoners, c.white_prisoners, c.margin) == (3, 10, 1, 0, -6.0)
    assert c.owner.reshape(5, 5)[0].tolist() == [1, 0, 1, 1, 0]  # the dead stone's point is black's
    # Prisoners taken earlier add to the dead stone.
    assert count(TWO_EYES_WITH_A_DEAD_STONE, JAPANESE, captured=(2, 3)).margin == -6.0 + 3 - 2
    # Area scoring counts the board as it stands, as before: black 7 stones + (0,0), white 6 stones
    # + 10; (0,3) reaches both colours.
    a = count(TWO_EYES_WITH_A_DEAD_STONE, AREA)
    assert (a.black_points, a.white_points, a.black_prisoners, a.margin) == (8, 16, 0, -8.0)
    # The self-play kernel (count_row) gives the same territory margin.
    n = 5
    state = ascii_board.from_ascii(TWO_EYES_WITH_A_DEAD_STONE, JAPANESE)
    owner, work = np.zeros(n * n, np.int8), scoring.new_work(n)
    assert scoring.count_row(state, 0, 1, 1, 0, 0.0, owner, work) == -6.0
    assert scoring.count_row(state, 0, 0, 0, 0, 0.0, owner, work) == -8.0


# White's chain has four one-point eyes; black's three stones (0,1),(1,0),(1,1) have one eye
# (0,0). Black is not pass-alive (one vital region); its region {(0,0) + the black stones} has one
# point, (0,0), next to no white stone, so it is white's pass-alive territory and the three black
# stones are dead. Japanese, by hand: white 4 eyes + 4 points of the dead group = 8, + 3 prisoners
# = 11; black 0: -11. Area: black 3 stones + (0,0) = 4, white 17 stones + 4 eyes = 21: -17.
ONE_EYE_INSIDE_A_LIVING_GROUP = """
. X O . O
X X O O O
O O O . O
O . O O O
O O O . O
"""


def test_one_eyed_group_is_not_pass_alive_and_dies_inside_the_opponents_pass_alive_area():
    assert rows(pass_alive(ONE_EYE_INSIDE_A_LIVING_GROUP)) == ["OOOOO"] * 5
    c = count(ONE_EYE_INSIDE_A_LIVING_GROUP, JAPANESE)
    assert (c.black_points, c.white_points, c.black_prisoners, c.white_prisoners, c.margin) == (0, 8, 0, 3, -11.0)
    a = count(ONE_EYE_INSIDE_A_LIVING_GROUP, AREA)
    assert (a.black_points, a.white_points, a.margin) == (4, 21, -17.0)
    # Passing the dead stones explicitly gives the same count: they are removed only once.
    assert count(ONE_EYE_INSIDE_A_LIVING_GROUP, JAPANESE, dead=[(0, 1), (1, 0), (1, 1)]).margin == -11.0


# Black's left chain (0,0),(0,1),(1,0),(2,0),(3,0) has one real liberty region, the false eye
# (0,2) (its diagonal (1,1) is white, so the chain touching it from the left is a different one);
# the right chain's eye (1,3) is real. The left chain dies (one vital region), the false eye then
# borders a dead chain, and the right chain is left with one: nothing of black is pass-alive.
FALSE_EYE = """
X X . X X O
X O X . X O
X O X X X O
X O O O O O
O . . . . .
. . . . . .
"""


def test_false_eye_is_not_pass_alive():
    assert (pass_alive(FALSE_EYE) != "X").all()
    # With a real second eye (the cutting stones black), the same shape is pass-alive.
    real = FALSE_EYE.replace("X O X . X O\nX O X X X O\nX O O O O O", "X X X . X O\nX X X X X O\nX O O O O O")
    assert rows(pass_alive(real))[:2] == ["XXXXX.", "XXXXX."]  # white's wall is not pass-alive


def test_seki_stays_seki_without_pass_alive_area():
    # Neither side of the seki is pass-alive (the shared liberty is vital to nobody's second eye).
    grid = pass_alive(SEKI_WITH_EYES)
    assert (grid[:3, :6] == ".").all()
    c = count(SEKI_WITH_EYES, JAPANESE)
    assert c.black_prisoners == c.white_prisoners == 0
    assert c.owner.reshape(7, 7)[0, 0] == 0 and c.owner.reshape(7, 7)[0, 4] == 0  # the seki eyes: nobody's


# Black's chain (row 0, row 1's left, column 0) is pass-alive with the eyes (0,0) and (0,2), but
# the big region to the lower right has many points next to no black stone: white's stone at
# (3,3) could live there, so Benson does not make it black's territory and the stone counts as
# alive, as without the shortcut.
BIG_REGION = """
. X . X X X X
X X X X . . .
X . . . . . .
X . . O . . .
X . . . . . .
X . . . . . .
X . . . . . .
"""


def test_big_region_with_an_opponent_stone_is_not_pass_alive_territory():
    grid = pass_alive(BIG_REGION)
    assert rows(grid)[0] == "XXXXXXX" and grid[3, 3] == "." and (grid[2:, 1:] == ".").all()
    c = count(BIG_REGION, JAPANESE)
    assert c.white_prisoners == 0 and c.black_prisoners == 0
    assert c.owner.reshape(7, 7)[3, 3] == 0
    # Without the white stone the region is black's (a one-colour region), pass-alive or not.
    empty = count(BIG_REGION.replace("O", "."), JAPANESE)
    assert empty.black_points == 2 + 33 and empty.margin == 35.0  # 49 points - 14 black stones


# Black's chain has one eye (0,4) and the region {white (0,0),(0,1), empty (1,0),(0,2)}: every
# empty point of it is a liberty of the chain, but the white stone (0,0) is not (one point next to
# no black stone, so the region is small enough to be territory). With multi-stone suicide illegal
# (Japanese) the region is vital all the same (KataGo), black is pass-alive and the two white
# stones are dead: black (0,4) + 4 points = 5, + 2 prisoners = 7. With multi-stone suicide legal
# the region is not vital, black has one vital region and nothing is pass-alive. Area: black 20
# stones + (0,4) = 21, white 2 stones: 19.
SUICIDE_SUBTLETY = """
O O . X .
. X X X X
X X X X X
X X X X X
X X X X X
"""


def test_multi_stone_suicide_decides_whether_opponent_stones_must_touch_the_chain():
    assert (pass_alive(SUICIDE_SUBTLETY, suicide_legal=False) == "X").all()
    assert (pass_alive(SUICIDE_SUBTLETY, suicide_legal=True) == ".").all()
    c = count(SUICIDE_SUBTLETY, JAPANESE)
    assert (c.black_points, c.white_points, c.black_prisoners, c.margin) == (5, 0, 2, 7.0)
    # Territory with multi-stone suicide legal: the white stones stand, their region reaches both
    # colours (neither can fill it without self-atari), so black's chain is not independent: 0 - 0.
    legal = Rules(ko="simple", suicide="allowed", scoring="territory", tax="seki", komi=0)
    c = count(SUICIDE_SUBTLETY, legal)
    assert (c.black_points, c.white_points, c.black_prisoners, c.margin) == (0, 0, 0, 0.0)
    a = count(SUICIDE_SUBTLETY, AREA)
    assert (a.black_points, a.white_points, a.margin) == (21, 2, 19.0)


BOARDS = {name: text for name, text in dict(globals()).items() if isinstance(text, str) and name.isupper() and "\n" in text}


def tromp_taylor_by_hand(text: str) -> int:
    """Black's area minus white's, by a plain flood fill over the drawn board (no pass-alive)."""
    grid = [line.split() for line in text.strip().splitlines()]
    n = len(grid)
    margin, seen = 0, set()
    for r in range(n):
        for c in range(n):
            if grid[r][c] in "XO":
                margin += 1 if grid[r][c] == "X" else -1
            elif (r, c) not in seen:
                region, touches, frontier = [], set(), [(r, c)]
                seen.add((r, c))
                while frontier:
                    q = frontier.pop()
                    region.append(q)
                    for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                        rr, cc = q[0] + dr, q[1] + dc
                        if 0 <= rr < n and 0 <= cc < n:
                            if grid[rr][cc] == ".":
                                if (rr, cc) not in seen:
                                    seen.add((rr, cc))
                                    frontier.append((rr, cc))
                            else:
                                touches.add(grid[rr][cc])
                if touches == {"X"}:
                    margin += len(region)
                elif touches == {"O"}:
                    margin -= len(region)
    return margin


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_area_scoring_counts_every_board_as_it_stands(name):
    # Area scoring takes no stone off: the pass-alive shortcut is for territory scoring only.
    c = count(BOARDS[name], AREA)
    assert c.margin == tromp_taylor_by_hand(BOARDS[name])
    assert c.black_prisoners == c.white_prisoners == 0


@pytest.mark.parametrize("preset_name,suicide_legal", [("japanese", False), ("tromp-taylor", True)])
def test_pass_alive_stones_survive_any_opponent_moves_while_their_owner_passes(preset_name, suicide_legal):
    # Benson's claim, played out: from random positions (finished random games, which have many
    # two-eyed groups, and games cut at 60 moves), the opponent plays random legal moves while the
    # pass-alive colour only passes; none of its pass-alive stones is ever taken.
    rules = preset(preset_name)
    n = 7
    rng = np.random.default_rng(5)
    positions = []
    for seed, cap in ((1, None), (2, 60)):
        state = B.state_for(rules, 8, n)
        B.play_random_games(state, rules, seed=seed, max_moves=cap)
        positions += [ascii_board.to_ascii(state, b) for b in range(8)]
    points = coords.action_points(n)
    checked = 0
    for text in positions:
        for pla in (B.BLACK, B.WHITE):
            probe = ascii_board.from_ascii(text, rules, to_play=3 - pla)
            area = np.zeros(probe.board.shape[1], np.int8)
            scoring.pass_alive_area(probe.board[0], n + 2, suicide_legal, area)
            alive = points[(area[points] == pla) & (probe.board[0, points] == pla)]
            if not len(alive):
                continue
            checked += len(alive)
            for _ in range(60):
                legal = B.legal_mask(probe, rules)[0, : n * n]
                if not legal.any() or probe.done[0]:
                    break
                assert B.play(probe, [int(rng.choice(np.flatnonzero(legal)))], rules)[0]
                assert (probe.board[0, alive] == pla).all(), text
                if probe.done[0]:
                    break
                assert B.play(probe, [n * n], rules)[0]  # the owner passes
    assert checked > 100  # enough pass-alive stones were put to the test
