"""Rules on drawn positions: draw a board, play moves (GTP vertices, A1 bottom-left), compare the printed result."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from go_engine import board as B
from go_engine import coords
from go_engine.ascii_board import from_ascii, normalise, to_ascii
from go_engine.rules import KoRule, Rules, SuicideRule, fixed_handicap_actions

from reference import check_consistency

ALL_KO = list(KoRule)
ALL_SUICIDE = list(SuicideRule)
KO_IDS = [k.name.lower() for k in KoRule]
SUICIDE_IDS = [s.name.lower() for s in SuicideRule]


def _action(vertex: str, n: int) -> int:
    return coords.gtp_to_action(vertex, n)


def play(state: B.BoardState, rules: Rules, *vertices: str) -> None:
    """Play each vertex in turn (colours alternate); each must be legal."""
    for v in vertices:
        assert B.play(state, [_action(v, state.size)], rules)[0], f"{v} was refused"
        check_consistency(state)


def status(state: B.BoardState, rules: Rules, vertex: str) -> int:
    n = state.size
    a = _action(vertex, n)
    p = B.NO_POINT if a == n * n else coords.action_to_point(a, n)
    return B.move_status_row(state, 0, p, int(rules.ko), int(rules.suicide))


def refused(state: B.BoardState, rules: Rules, vertex: str, why: int) -> None:
    """``vertex`` is illegal for the reason ``why``, and playing it changes nothing."""
    assert status(state, rules, vertex) == why
    a = _action(vertex, state.size)
    assert not B.legal_mask(state, rules)[0, a]
    before = B.take_rows(state, [0])
    assert not B.play(state, [a], rules)[0]
    for name, x, y in zip(B.BoardState._fields, before, state):
        assert np.array_equal(x, y), f"refused move changed {name}"


def assert_board(state: B.BoardState, drawing: str) -> None:
    assert to_ascii(state) == normalise(drawing), f"\n{to_ascii(state)}\n!=\n{normalise(drawing)}"


# ---- captures --------------------------------------------------------------------------------------

CAPTURES = {
    "single-stone-centre": (
        """
        . . . . .
        . . X . .
        . X O . .
        . . X . .
        . . . . .
        """,
        "D3",
        """
        . . . . .
        . . X . .
        . X . X .
        . . X . .
        . . . . .
        """,
    ),
    "three-stones": (
        """
        . . . . .
        . X X . .
        X O O X .
        . . O X .
        . . X . .
        """,
        "B2",
        """
        . . . . .
        . X X . .
        X . . X .
        . X . X .
        . . X . .
        """,
    ),
    "two-chains-at-once": (
        """
        . . . . .
        X X . . .
        O . X . .
        X O X . .
        . X . . .
        """,
        "B3",
        """
        . . . . .
        X X . . .
        . X X . .
        X . X . .
        . X . . .
        """,
    ),
    "edge-two-stones": (
        """
        . X O O .
        . . X X .
        . . . . .
        . . . . .
        . . . . .
        """,
        "E5",
        """
        . X . . X
        . . X X .
        . . . . .
        . . . . .
        . . . . .
        """,
    ),
    "corner-single": (
        """
        . . . . .
        . . . . .
        . . . . .
        . . . . .
        O X . . .
        """,
        "A2",
        """
        . . . . .
        . . . . .
        . . . . .
        X . . . .
        . X . . .
        """,
    ),
    "corner-three-stones": (
        """
        . . . . .
        . . . . .
        X X . . .
        O O X . .
        O . X . .
        """,
        "B1",
        """
        . . . . .
        . . . . .
        X X . . .
        . . X . .
        . X X . .
        """,
    ),
    # The capturing stone has no empty neighbour: it lives only because it captures.
    "capture-not-suicide": (
        """
        . O X . .
        O X . . .
        X . . . .
        . . . . .
        . . . . .
        """,
        "A5",
        """
        X . X . .
        . X . . .
        X . . . .
        . . . . .
        . . . . .
        """,
    ),
}


@pytest.mark.parametrize("suicide", ALL_SUICIDE, ids=SUICIDE_IDS)
@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_captures(name, suicide):
    before, move, after = CAPTURES[name]
    rules = Rules(suicide=suicide)
    state = from_ascii(before, rules)
    play(state, rules, move)
    assert_board(state, after)
    assert state.to_play[0] == B.WHITE and state.ko_point[0] == B.NO_POINT


def test_snapback_retake_is_not_ko():
    """Black throws in, white takes one stone, black retakes three at once: not a ko under any rule."""
    for ko in ALL_KO:
        rules = Rules(ko=ko)
        state = from_ascii(
            """
            . . X . .
            O O X . .
            X X X . .
            . . . . .
            . . . . .
            """,
            rules,
        )
        play(state, rules, "A5", "B5")
        assert_board(
            state,
            """
            . O X . .
            O O X . .
            X X X . .
            . . . . .
            . . . . .
            """,
        )
        assert state.ko_point[0] == B.NO_POINT  # the capturing stone joined a chain: no ko
        play(state, rules, "A5")
        assert_board(
            state,
            """
            X . X . .
            . . X . .
            X X X . .
            . . . . .
            . . . . .
            """,
        )


# ---- suicide ---------------------------------------------------------------------------------------

MULTI_STONE_SUICIDE = """
    X . O . .
    O O O . .
    . . . . .
    . . . . .
    . . . . .
    """


def test_multi_stone_suicide_forbidden():
    rules = Rules(suicide=SuicideRule.FORBIDDEN)
    state = from_ascii(MULTI_STONE_SUICIDE, rules)
    refused(state, rules, "B5", B.SUICIDE)
    assert_board(state, MULTI_STONE_SUICIDE)


def test_multi_stone_suicide_allowed_removes_own_stones():
    rules = Rules(suicide=SuicideRule.ALLOWED)
    state = from_ascii(MULTI_STONE_SUICIDE, rules)
    play(state, rules, "B5")
    assert_board(
        state,
        """
        . . O . .
        O O O . .
        . . . . .
        . . . . .
        . . . . .
        """,
    )
    assert state.to_play[0] == B.WHITE
    # The point the suicide emptied is an ordinary empty point again.
    play(state, rules, "A5")
    assert_board(
        state,
        """
        O . O . .
        O O O . .
        . . . . .
        . . . . .
        . . . . .
        """,
    )


@pytest.mark.parametrize("suicide", ALL_SUICIDE, ids=SUICIDE_IDS)
def test_single_stone_suicide_never_legal(suicide):
    rules = Rules(suicide=suicide)
    drawing = """
        . O . . .
        O O . . .
        . . . . .
        . . . . .
        . . . . .
        """
    state = from_ascii(drawing, rules)
    refused(state, rules, "A5", B.SUICIDE)
    assert_board(state, drawing)


# ---- ko --------------------------------------------------------------------------------------------

KO_SHAPE = """
    . . . . .
    . X O . .
    X O . O .
    . X O . .
    . . . . .
    """


@pytest.mark.parametrize("ko", ALL_KO, ids=KO_IDS)
def test_simple_ko_recapture_waits_for_a_threat_exchange(ko):
    rules = Rules(ko=ko)
    state = from_ascii(KO_SHAPE, rules)
    play(state, rules, "C3")
    taken = """
        . . . . .
        . X O . .
        X . X O .
        . X O . .
        . . . . .
        """
    assert_board(state, taken)
    assert state.ko_point[0] == coords.action_to_point(_action("B3", 5), 5)
    refused(state, rules, "B3", B.KO_FORBIDDEN)
    play(state, rules, "E1", "E2")  # white's ko threat, black's answer
    play(state, rules, "B3")
    assert_board(
        state,
        """
        . . . . .
        . X O . .
        X O . O .
        . X O . X
        . . . . O
        """,
    )
    refused(state, rules, "C3", B.KO_FORBIDDEN)  # and now black must wait


# Three kos at once (columns B, E, H): black has taken two, white one; white to move. Every move
# below is a ko capture, none an immediate recapture, and six of them recreate this position.
TRIPLE_KO = """
    X . X X . X X . X
    X X X X X X X X X
    X X X X X X X X X
    X . X X . X X O X
    O X O O X O O . O
    O O O O O O O O O
    O O O O O O O O O
    O O O O O O O O O
    O . O O . O O . O
    """
TRIPLE_KO_CYCLE = ["B6", "H5", "E6", "B5", "H6", "E5"]


@pytest.mark.parametrize("ko", [KoRule.POSITIONAL, KoRule.SITUATIONAL], ids=["positional", "situational"])
def test_triple_ko_cycle_forbidden_by_superko(ko):
    rules = Rules(ko=ko)
    state = from_ascii(TRIPLE_KO, rules, to_play=B.WHITE)
    play(state, rules, *TRIPLE_KO_CYCLE[:-1])
    refused(state, rules, TRIPLE_KO_CYCLE[-1], B.KO_FORBIDDEN)


def test_triple_ko_cycle_repeats_under_simple_ko():
    rules = Rules(ko=KoRule.SIMPLE)
    state = from_ascii(TRIPLE_KO, rules, to_play=B.WHITE)
    for _ in range(3):
        play(state, rules, *TRIPLE_KO_CYCLE)
        assert_board(state, TRIPLE_KO)
        assert state.to_play[0] == B.WHITE
    assert state.num_moves[0] == 18 and not state.done[0]


# Black sacrifices two stones (A5), white takes them (C5), black takes one back (B5): the same
# stones as before, now with white to move.
SEND_TWO_RETURN_ONE = """
    . X . X .
    O O X X .
    . O X . X
    O O X X X
    . O X . X
    """


def test_send_two_return_one_positional():
    rules = Rules(ko=KoRule.POSITIONAL)
    state = from_ascii(SEND_TWO_RETURN_ONE, rules)
    play(state, rules, "A5", "C5")
    assert_board(
        state,
        """
        . . O X .
        O O X X .
        . O X . X
        O O X X X
        . O X . X
        """,
    )
    refused(state, rules, "B5", B.KO_FORBIDDEN)  # recreates the start position


def test_send_two_return_one_situational():
    rules = Rules(ko=KoRule.SITUATIONAL)
    state = from_ascii(SEND_TWO_RETURN_ONE, rules)
    play(state, rules, "A5", "C5", "B5")  # same stones, but white is to move now: allowed
    assert_board(state, SEND_TWO_RETURN_ONE)
    play(state, rules, "pass")
    refused(state, rules, "A5", B.KO_FORBIDDEN)  # black to move again: the cycle may not restart


def test_send_two_return_one_repeats_under_simple_ko():
    rules = Rules(ko=KoRule.SIMPLE)
    state = from_ascii(SEND_TWO_RETURN_ONE, rules)
    for _ in range(3):
        play(state, rules, "A5", "C5", "B5", "pass")
        assert_board(state, SEND_TWO_RETURN_ONE)
    assert state.to_play[0] == B.BLACK and not state.done[0]


# ---- life, seki, scoring -------------------------------------------------------------------------

TWO_EYES = """
    X X X X X
    X . X . X
    X X X X X
    O O O O O
    . . . . .
    """


@pytest.mark.parametrize("suicide", ALL_SUICIDE, ids=SUICIDE_IDS)
def test_two_eyed_group_cannot_be_captured(suicide):
    rules = Rules(suicide=suicide)
    state = from_ascii(TWO_EYES, rules, to_play=B.WHITE)
    refused(state, rules, "B4", B.SUICIDE)
    refused(state, rules, "D4", B.SUICIDE)
    # White fills every other point; the eyes stay illegal and black keeps its group.
    for v in ["A1", "B1", "C1", "D1"]:
        play(state, rules, v, "pass")
    refused(state, rules, "B4", B.SUICIDE)
    refused(state, rules, "D4", B.SUICIDE)
    # Only E1 is left: white's own nine-stone suicide, legal only where multi-stone suicide is.
    mask = B.legal_mask(state, rules)[0]
    assert np.nonzero(mask)[0].tolist() == ([24, 25] if suicide == SuicideRule.ALLOWED else [25])
    assert B.score(state)[1][0].reshape(5, 5)[:3].min() == 1  # black owns its group and eyes


def test_one_eyed_group_dies():
    rules = Rules()
    state = from_ascii(
        """
        X X X X X
        X . X X X
        X X X X X
        O O O O O
        O O O O .
        """,
        rules,
        to_play=B.WHITE,
    )
    play(state, rules, "B4")
    assert_board(
        state,
        """
        . . . . .
        . O . . .
        . . . . .
        O O O O O
        O O O O .
        """,
    )


# Black (13 stones + eye A5) and white (9 stones + eye E5) share C3, the last liberty of both:
# whoever fills it is captured, so neither does; C3 then belongs to nobody.
SEKI = """
    . X X O .
    X X X O O
    X X . O O
    X X X O O
    X X X O O
    """


@pytest.mark.parametrize("komi,margin,result", [(4.0, 0.0, 0), (3.5, 0.5, 1), (4.5, -0.5, -1), (0.0, 4.0, 1)])
def test_seki_area_score_and_integer_komi_draw(komi, margin, result):
    rules = Rules(komi=komi)
    state = from_ascii(SEKI, rules)
    refused(state, rules, "E5", B.SUICIDE)
    play(state, rules, "pass")
    refused(state, rules, "A5", B.SUICIDE)
    play(state, rules, "pass")
    assert state.done[0]
    assert not B.legal_mask(state, rules).any()
    refused(state, rules, "C3", B.GAME_OVER)
    refused(state, rules, "pass", B.GAME_OVER)
    score, owner = B.score(state)
    expected_owner = np.array(
        [
            [1, 1, 1, -1, -1],
            [1, 1, 1, -1, -1],
            [1, 1, 0, -1, -1],
            [1, 1, 1, -1, -1],
            [1, 1, 1, -1, -1],
        ]
    )
    assert (owner[0].reshape(5, 5) == expected_owner).all()
    assert score[0] == margin
    assert B.outcome(state)[0] == result


def test_filling_the_seki_liberty_loses_the_group():
    rules = Rules()
    state = from_ascii(SEKI, rules)
    play(state, rules, "C3", "A5")
    assert_board(
        state,
        """
        O . . O .
        . . . O O
        . . . O O
        . . . O O
        . . . O O
        """,
    )


def test_resignation_decides_outcome():
    rules = Rules(komi=0.5)
    state = from_ascii(SEKI, rules)  # black leads on the board
    B.resign(state, [0])
    assert state.done[0] and state.resigned[0] == B.BLACK
    assert B.outcome(state)[0] == -1
    assert not B.legal_mask(state, rules).any()


def test_move_cap_ends_the_game():
    rules = Rules(max_moves=3)
    state = B.state_for(rules, 1, 5)
    play(state, rules, "A1", "B1")
    assert not state.done[0]
    play(state, rules, "C1")
    assert state.done[0] and state.passes[0] == 0
    refused(state, rules, "D1", B.GAME_OVER)


# ---- setup and ASCII I/O -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "drawing",
    [
        "X O .\nO . .\n. . .",  # a black stone without liberties
        "O X .\nX . .\n. . .",  # a white stone without liberties
        "X X O\nO O O\n. . .",  # a black chain without liberties
    ],
)
def test_drawing_with_a_dead_chain_is_rejected(drawing):
    with pytest.raises(ValueError, match="without liberties"):
        from_ascii(drawing, Rules())


def test_ascii_round_trip_and_setup_state():
    drawing = """
        X . O
        . X .
        O . .
        """
    rules = Rules()
    state = from_ascii(drawing, rules, to_play=B.WHITE)
    assert to_ascii(state) == "X . O\n. X .\nO . ."
    assert state.to_play[0] == B.WHITE and state.num_moves[0] == 0 and state.last_move[0] == -1
    check_consistency(state)
    # Every history plane shows the setup position.
    assert all((state.history[0, k] == state.board[0]).all() for k in range(state.history.shape[1]))


@pytest.mark.parametrize(
    "text,match",
    [
        ("X .\n. . .", "row 1 has 3 points"),
        ("X ?\n. .", "unexpected character"),
        ("X", "board size"),
    ],
)
def test_bad_drawings_raise(text, match):
    with pytest.raises(ValueError, match=match):
        from_ascii(text, Rules())


def test_setup_stones_validates_input():
    rules = Rules()
    state = B.state_for(rules, 2, 5)
    with pytest.raises(ValueError, match="outside a batch"):
        B.setup_stones(state, 2, [0], [B.BLACK], B.BLACK, rules)
    with pytest.raises(ValueError, match="BLACK"):
        B.setup_stones(state, 0, [0], [B.EMPTY], B.BLACK, rules)
    with pytest.raises(ValueError, match="BLACK"):
        B.setup_stones(state, 0, [0], [B.BLACK], 5, rules)
    with pytest.raises(ValueError, match="repeat"):
        B.setup_stones(state, 0, [0, 0], [B.BLACK, B.WHITE], B.BLACK, rules)
    with pytest.raises(ValueError, match="off the board"):
        B.setup_stones(state, 0, [25], [B.BLACK], B.BLACK, rules)


def test_state_too_small_for_the_move_cap_is_an_error_not_a_hang():
    state = B.new_state(1, 5)
    long_rules = Rules(max_moves=10 * B.capacity(state))
    with pytest.raises(ValueError, match="state holds"):
        B.play(state, [0], long_rules)
    with pytest.raises(ValueError, match="state holds"):
        B.play_random_games(state, long_rules, seed=1)
    assert B.play(B.state_for(long_rules, 1, 5), [0], long_rules)[0]


# ---- handicap placement against GNU Go -------------------------------------------------------------

GNUGO = shutil.which("gnugo") or "/usr/games/gnugo"


def _gnugo_fixed_handicaps(n: int, counts: range) -> dict[int, str]:
    """GNU Go's reply to ``fixed_handicap k`` on an empty ``n x n`` board, for each ``k``: the
    vertices after ``= ``, or the error message after ``? ``."""
    commands = [f"boardsize {n}"]
    for k in counts:
        commands += ["clear_board", f"fixed_handicap {k}"]
    commands.append("quit")
    done = subprocess.run(
        [GNUGO, "--mode", "gtp"], input="\n".join(commands) + "\n", capture_output=True, text=True, timeout=60
    )
    replies = [r.strip() for r in done.stdout.split("\n\n") if r.strip()]
    assert len(replies) == len(commands), f"GNU Go answered {replies!r}"
    assert replies[0] == "="  # boardsize accepted
    return {k: replies[2 + 2 * i] for i, k in enumerate(counts)}


@pytest.mark.gnugo
@pytest.mark.parametrize("n", [7, 8, 9, 10, 13, 19])
def test_fixed_handicap_matches_gnugo(n):
    replies = _gnugo_fixed_handicaps(n, range(0, 11))
    checked = 0
    for k, reply in replies.items():
        if reply.startswith("= "):
            expected = {coords.gtp_to_action(v, n) for v in reply[2:].split()}
            actions = fixed_handicap_actions(n, k)
            assert len(actions) == k and set(actions) == expected, f"{n}x{n}, {k} stones: GNU Go says {reply}"
            checked += 1
        else:
            assert reply.startswith("?")
            with pytest.raises(ValueError):
                fixed_handicap_actions(n, k)
    assert checked == (8 if n % 2 and n >= 9 else 3)


def test_fixed_handicap_drawn_on_9x9():
    rules = Rules()
    state = B.state_for(rules, 1, 9)
    B.setup_stones(state, 0, fixed_handicap_actions(9, 5), B.BLACK, B.WHITE, rules)
    assert_board(
        state,
        """
        . . . . . . . . .
        . . . . . . . . .
        . . X . . . X . .
        . . . . . . . . .
        . . . . X . . . .
        . . . . . . . . .
        . . X . . . X . .
        . . . . . . . . .
        . . . . . . . . .
        """,
    )
    assert state.to_play[0] == B.WHITE
