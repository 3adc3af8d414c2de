"""BoardHistory: undo restores the position exactly (superko set included), setup stones, the
game's end, non-alternating moves, and clear errors for bad moves that leave the game unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from go_engine import ascii_board
from go_engine import board as B
from go_engine import coords
from go_engine.history import BoardHistory, IllegalMove
from go_engine.rules import KoRule, Rules, SuicideRule, preset

# A ko on 5x5: black at C4 (row 1, col 2) takes the white stone at B4 (row 1, col 1).
KO = """
. X O . .
X O . O .
. X O . .
. . . . .
. . . . .
"""
N = 5
TAKE = coords.rowcol_to_action(1, 2, N)  # black captures
RETAKE = coords.rowcol_to_action(1, 1, N)  # white takes back
PASS = N * N


def ko_game(rules: Rules = preset("chinese"), **kwargs) -> BoardHistory:
    n, black, white = ascii_board.parse(KO)
    setup = [(B.BLACK, a) for a in black] + [(B.WHITE, a) for a in white]
    return BoardHistory(n, rules, setup=setup, first_to_play=B.BLACK, **kwargs)


def same_state(a: B.BoardState, b: B.BoardState) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def test_undo_restores_every_field_of_the_position_after_captures_and_a_ko():
    game = ko_game()
    moves = [(B.BLACK, TAKE), (B.WHITE, PASS), (B.BLACK, coords.gtp_to_action("E1", N)),
             (B.WHITE, RETAKE), (B.BLACK, coords.gtp_to_action("A1", N))]
    snapshots = [game.snapshot()]
    for colour, action in moves:
        game.play(colour, action)
        snapshots.append(game.snapshot())
    assert game.state.captured[0].tolist() == [1, 1]  # the ko was taken both ways
    for k in range(len(moves), 0, -1):
        assert same_state(game.state, snapshots[k])
        game.undo()
        assert game.moves == moves[: k - 1]
        assert same_state(game.state, snapshots[k - 1]), f"undo to move {k - 1} differs"
    with pytest.raises(IllegalMove, match="cannot undo"):
        game.undo()
    assert same_state(game.state, snapshots[0])


def test_superko_history_follows_undo():
    game = ko_game(Rules(ko=KoRule.POSITIONAL))
    game.play(B.BLACK, TAKE)
    assert game.move_status(B.WHITE, RETAKE) == B.KO_FORBIDDEN  # simple ko
    game.play(B.WHITE, PASS)
    game.play(B.BLACK, PASS)
    # The ko point is gone after the passes, but retaking repeats the position before the capture.
    assert game.move_status(B.WHITE, RETAKE) == B.KO_FORBIDDEN
    with pytest.raises(IllegalMove, match="ko rule"):
        game.play(B.WHITE, RETAKE)
    # Undo the capture: the captured stone is back and the ko positions left the superko set, so a
    # black stone off the ko (a point never played) and a pass both replay as new positions.
    for _ in range(3):
        game.undo()
    assert game.state.board[0, coords.action_to_point(RETAKE, N)] == B.WHITE
    fresh = ko_game(Rules(ko=KoRule.POSITIONAL))
    assert np.array_equal(np.sort(game.state.seen[0]), np.sort(fresh.state.seen[0]))
    assert not game.state.ever_occupied[0, coords.action_to_point(TAKE, N)]
    # Under simple ko the same retake after two passes is legal.
    simple = ko_game(Rules(ko=KoRule.SIMPLE))
    for colour, action in [(B.BLACK, TAKE), (B.WHITE, PASS), (B.BLACK, PASS)]:
        simple.play(colour, action)
    assert simple.move_status(B.WHITE, RETAKE) == B.LEGAL


def test_setup_stones_handicap_and_bad_setups():
    game = BoardHistory(9, preset("chinese"))
    game.place_setup(B.BLACK, [coords.gtp_to_action(v, 9) for v in ("C3", "G7")], B.WHITE)
    assert game.to_play == B.WHITE and game.handicap() == 2 and game.moves == []
    assert game.stones(B.BLACK) == sorted(coords.gtp_to_action(v, 9) for v in ("C3", "G7"))
    game.play(B.WHITE, coords.gtp_to_action("E5", 9))
    game.undo()  # back to the setup position, white to move
    assert game.to_play == B.WHITE and game.stones(B.WHITE) == []
    before = game.snapshot()
    with pytest.raises(IllegalMove, match="not empty"):
        game.place_setup(B.BLACK, [0], B.WHITE)
    assert same_state(game.state, before) and game.handicap() == 2
    with pytest.raises(IllegalMove, match="repeat a point"):
        BoardHistory(9, preset("chinese"), setup=[(B.BLACK, 0), (B.WHITE, 0)])
    with pytest.raises(IllegalMove, match="without liberties"):
        # A white corner stone surrounded by black setup stones.
        BoardHistory(9, preset("chinese"), setup=[(B.WHITE, 0), (B.BLACK, 1), (B.BLACK, 9)])
    with pytest.raises(IllegalMove, match="not a point"):
        BoardHistory(9, preset("chinese"), setup=[(B.BLACK, 81 + 5)])
    mixed = BoardHistory(9, preset("chinese"), setup=[(B.BLACK, 0), (B.WHITE, 80)])
    assert mixed.handicap() == 0 and mixed.to_play == B.BLACK


def test_the_end_two_passes_or_the_move_cap_and_play_goes_on():
    game = BoardHistory(5, preset("chinese"), move_cap=6)
    assert game.ending() is None
    game.play(B.BLACK, PASS)
    assert game.ending() is None
    game.play(B.WHITE, PASS)
    assert game.ending() == "two passes" and game.consecutive_passes() == 2 and bool(game.state.done[0])
    assert game.move_status(B.BLACK, 12) == B.LEGAL  # a dispute after the passes may go on
    game.play(B.BLACK, 12)
    assert game.ending() is None and game.consecutive_passes() == 0
    for colour, action in [(B.WHITE, 0), (B.BLACK, 1), (B.WHITE, 24)]:
        game.play(colour, action)
    assert len(game.moves) == 6 and game.ending() == "move cap"
    game.undo()
    assert game.ending() is None
    with pytest.raises(ValueError, match="move_cap"):
        BoardHistory(5, preset("chinese"), move_cap=-1)


def test_any_colour_may_move_and_takes_the_turn():
    game = ko_game()
    game.play(B.BLACK, TAKE)
    assert game.to_play == B.WHITE
    game.play(B.BLACK, coords.gtp_to_action("E1", N))  # black again: the ko point bound white only
    assert game.to_play == B.WHITE and game.moves[-1] == (B.BLACK, coords.gtp_to_action("E1", N))
    game.give_turn(B.BLACK)
    assert game.to_play == B.BLACK and game.moves[-1][0] == B.BLACK  # not recorded
    game.undo()
    assert game.to_play == B.WHITE and game.moves == [(B.BLACK, TAKE)]  # the position after the capture


@pytest.mark.parametrize("colour,action,message", [
    (B.WHITE, coords.rowcol_to_action(0, 1, N), "occupied"),
    (B.WHITE, RETAKE, "ko rule"),
    (B.WHITE, coords.rowcol_to_action(1, 2, N), "occupied"),
    (3, 0, "colour 3"),
    (B.BLACK, N * N + 1, "not a point"),
    (B.BLACK, -1, "not a point"),
])
def test_bad_moves_get_a_clear_error_and_change_nothing(colour, action, message):
    game = ko_game()
    game.play(B.BLACK, TAKE)
    before = game.snapshot()
    with pytest.raises(IllegalMove, match=message) as info:
        game.play(colour, action)
    assert str(info.value).startswith("illegal move")
    assert same_state(game.state, before) and len(game.moves) == 1


def test_suicide_and_rules_that_would_make_the_history_illegal():
    # White's A5 and A4 have no liberty once black holds B5, B4 and A3 (a two-stone suicide).
    allowed = Rules(ko=KoRule.SIMPLE, suicide=SuicideRule.ALLOWED)  # (superko would forbid the repetition)
    game = BoardHistory(5, allowed, moves=[(B.BLACK, 1), (B.BLACK, 6), (B.BLACK, 10), (B.WHITE, 0)])
    forbidden = BoardHistory(5, preset("chinese"), moves=list(game.moves))
    with pytest.raises(IllegalMove, match="suicide"):
        forbidden.play(B.WHITE, 5)
    game.play(B.WHITE, 5)  # a suicide the rules allow: both stones are taken off at once
    assert game.state.captured[0].tolist() == [0, 2]
    with pytest.raises(IllegalMove, match="cannot be replayed"):
        game.set_rules(preset("chinese"))
    assert game.rules == allowed and len(game.moves) == 5
    game.set_komi(0.5)
    assert game.komi == 0.5 and float(game.state.komi[0]) == 0.5


# ---- black moves that open the game as handicap stones (KataGo's assumeMultipleStartingBlackMovesAreHandicap)
def _moves(*spec: str) -> list[tuple[int, int]]:
    """``"B c3"`` / ``"W pass"`` -> (colour, action) on the 5x5 board."""
    out = []
    for item in spec:
        colour, vertex = item.split()
        out.append((B.BLACK if colour == "B" else B.WHITE, coords.gtp_to_action(vertex, N)))
    return out


@pytest.mark.parametrize("spec, handicap", [
    (("B b2", "B d4", "B d2"), 3),                    # handicap sent as moves
    (("B b2", "W pass", "B d4", "W pass", "B d2"), 3),  # with white passes between them
    (("B b2", "B d4", "W c3", "B d2"), 2),            # a white move ends the count
    (("B b2", "W c3", "B d4"), 0),                     # an even game: one stone is no handicap
    (("B b2", "W pass", "W pass", "B d4"), 0),        # two white turns in a row: no handicap
    (("B b2", "B pass", "B d4"), 2),                   # black's passes are not stones
    (("W c3", "B b2", "B d4"), 0),                     # white moved first
])
def test_opening_black_moves_count_as_handicap_as_katago_counts_them(spec, handicap):
    rules = preset("chinese").with_komi(0.5)
    moves = _moves(*spec)
    game = BoardHistory(N, rules, moves=moves, opening_black_moves_are_handicap=True)
    assert game.handicap() == handicap
    bonus = handicap if handicap >= 2 else 0
    assert float(game.state.komi[0]) == 0.5 + bonus  # what the search and the komi plane read
    # Move by move gives the same as the replay, and undo takes it back.
    stepwise = BoardHistory(N, rules, opening_black_moves_are_handicap=True)
    for colour, action in moves:
        stepwise.play(colour, action)
    assert stepwise.handicap() == handicap and float(stepwise.state.komi[0]) == 0.5 + bonus
    stepwise.undo()
    assert stepwise.handicap() == BoardHistory(N, rules, moves=moves[:-1], opening_black_moves_are_handicap=True).handicap()
    # Off (the arena's referee), only setup stones count.
    plain = BoardHistory(N, rules, moves=moves)
    assert plain.handicap() == 0 and float(plain.state.komi[0]) == 0.5


def test_opening_black_moves_add_to_black_setup_stones_and_follow_the_bonus_rule():
    setup = [(B.BLACK, coords.gtp_to_action("b2", N)), (B.BLACK, coords.gtp_to_action("d4", N))]
    moves = _moves("W pass", "B d2", "W c3")
    for name, white_gets in (("chinese", 7.5 + 3), ("aga", 7.5 + 2), ("japanese", 7.5)):
        game = BoardHistory(N, preset(name).with_komi(7.5), setup=setup, moves=moves, first_to_play=B.WHITE,
                            opening_black_moves_are_handicap=True)
        assert game.handicap() == 3 and float(game.state.komi[0]) == white_gets, name
    # A white setup stone makes it a set-up position, not a handicap game.
    white = setup + [(B.WHITE, coords.gtp_to_action("c4", N))]
    game = BoardHistory(N, preset("chinese"), setup=white, moves=_moves("B d2", "B b4"),
                        opening_black_moves_are_handicap=True)
    assert game.handicap() == 0 and float(game.state.komi[0]) == game.rules.komi
