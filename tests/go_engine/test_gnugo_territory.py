"""GNU Go's ``--japanese-rules`` count as an outside oracle for territory scoring.

Seeded random games are played to the end (no move but filling an own simple eye is left, so every
dead stone has been captured and the count is decided), the same moves are sent to GNU Go, and
its ``final_score`` (territory + prisoners + komi, seki eyes worth nothing) must equal ours. On
the same final positions the area count must differ from the territory count (both without the
seki tax) by exactly the stones black played minus the stones white played: area counts stones
and territory counts prisoners, and each colour's stones on the board plus those it lost are the
stones it played.
"""

from __future__ import annotations

import numpy as np
import pytest

from alphazero.gtp_client import GtpEngine, find_gnugo, gnugo_command
from go_engine import board as B
from go_engine import coords, scoring
from go_engine.rules import Rules, preset

pytestmark = [
    pytest.mark.gnugo,
    pytest.mark.skipif(find_gnugo() is None, reason="GNU Go (gnugo) is not installed: apt-get install gnugo"),
]

COLOR_NAMES = {B.BLACK: "black", B.WHITE: "white"}


def random_finished_game(n: int, rules: Rules, rng: np.random.Generator) -> tuple[B.BoardState, list[int]] | None:
    """A uniformly random game (own simple eyes never filled; pass only when nothing else is left)
    played to two passes; None if it hit the move cap first."""
    state = B.state_for(rules, 1, n, history=1)
    legal = np.zeros(n * n + 1, np.bool_)
    points = coords.action_points(n)
    moves: list[int] = []
    cap = B.move_cap(rules, n)
    while not state.done[0]:
        B.legal_row(state, 0, int(rules.ko), int(rules.suicide), legal)
        me = int(state.to_play[0])
        choices = [a for a in np.flatnonzero(legal[: n * n]) if not B.is_own_eye_row(state, 0, int(points[a]), me)]
        action = int(rng.choice(choices)) if choices else n * n
        assert B.play_action_row(state, 0, action, int(rules.ko), int(rules.suicide), cap)
        moves.append(action)
    return None if state.passes[0] < 2 else (state, moves)


def parse_final_score(text: str) -> float:
    """GNU Go's ``final_score`` answer (``B+3.5``, ``W+0.5``, ``0``) as black's margin."""
    text = text.strip()
    if text == "0":
        return 0.0
    sign = {"B": 1.0, "W": -1.0}[text[0]]
    return sign * float(text[2:])


def compare_with_gnugo(n: int, games: int, seed: int, komi: float = 6.5) -> dict[str, int]:
    rules = preset("japanese").with_komi(komi)
    no_tax = Rules(ko="simple", scoring="territory", tax="none", komi=komi)
    area = Rules(ko="simple", komi=komi)
    rng = np.random.default_rng(seed)
    seen = {"games": 0, "positions": 0, "moves": 0, "prisoners": 0, "disagreements": 0, "seki_points": 0, "capped": 0}
    disagreements = []
    with GtpEngine(gnugo_command(level=0, rules=rules), timeout=120, name="gnugo") as gnugo:
        gnugo.boardsize(n)
        gnugo.komi(komi)
        while seen["games"] < games:
            game = random_finished_game(n, rules, rng)
            if game is None:
                seen["capped"] += 1
                continue
            state, moves = game
            gnugo.clear_board()
            colour = B.BLACK
            placed = {B.BLACK: 0, B.WHITE: 0}
            for action in moves:
                gnugo.play(COLOR_NAMES[colour], coords.action_to_gtp(action, n))
                placed[colour] += action != n * n
                colour = 3 - colour
            captured = tuple(int(x) for x in state.captured[0])
            ours = scoring.count(state.board[0], n, rules, captured=captured)
            theirs = parse_final_score(gnugo.command("final_score", timeout=300))
            seen["games"] += 1
            seen["positions"] += 1
            seen["moves"] += len(moves)
            seen["prisoners"] += sum(captured)
            untaxed = scoring.count(state.board[0], n, no_tax, captured=captured)
            seen["seki_points"] += (untaxed.black_points + untaxed.white_points) - (ours.black_points + ours.white_points)
            if ours.margin != theirs:
                seen["disagreements"] += 1
                disagreements.append(f"game {seen['games']}: ours {ours.margin:+g}, GNU Go {theirs:+g}\n{gnugo.command('showboard')}")
            # Area - territory (no tax either) = stones black played - stones white played.
            area_count = scoring.count(state.board[0], n, area, captured=captured)
            assert area_count.margin - untaxed.margin == placed[B.BLACK] - placed[B.WHITE]
            assert area_count.margin == float(B.score(state)[0][0])  # the engine's own area count
    assert not disagreements, f"{len(disagreements)} of {seen['games']} counts differ from GNU Go:\n" + "\n".join(disagreements[:3])
    return seen


def test_territory_count_matches_gnugo_on_9x9():
    seen = compare_with_gnugo(9, games=8, seed=11)
    print(f"9x9 differential: {seen}")
    assert seen["prisoners"] > 0  # the games exercised prisoners


@pytest.mark.slow
def test_territory_count_matches_gnugo_on_19x19():
    seen = compare_with_gnugo(19, games=2, seed=12)
    print(f"19x19 differential: {seen}")
    assert seen["prisoners"] > 0


def test_final_score_parsing():
    assert parse_final_score("B+3.5") == 3.5
    assert parse_final_score("W+12.0") == -12.0
    assert parse_final_score(" 0 ") == 0.0
