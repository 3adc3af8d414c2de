"""Batch rows never interfere: a game played alone equals the same game played as one row of a batch."""

from __future__ import annotations

import numpy as np
import pytest

from go_engine import board as B
from go_engine import features as F
from go_engine.rules import KoRule, Rules, SuicideRule

from reference import check_consistency

BATCH = 64
ROW = 17


def _assert_row_equal(batch: B.BoardState, row: int, alone: B.BoardState, what: str) -> None:
    """Every BoardState field of ``batch[row]`` equals the single game ``alone``."""
    for name, x, y in zip(B.BoardState._fields, batch, alone):
        assert np.array_equal(x[row], y[0]), f"{what}: field {name} differs"


def _random_game_moves(n: int, rules: Rules, rng: np.random.Generator, length: int) -> list[int]:
    """A random legal game (rarely passing) of at most ``length`` moves, played alone."""
    state = B.state_for(rules, 1, n)
    moves = []
    while not state.done[0] and len(moves) < length:
        legal = np.nonzero(B.legal_mask(state, rules)[0])[0]
        board_moves = legal[legal < n * n]
        a = n * n if board_moves.size == 0 or rng.random() < 0.02 else int(rng.choice(board_moves))
        assert B.play(state, [a], rules)[0]
        moves.append(a)
    return moves


@pytest.mark.parametrize(
    "rules",
    [Rules(ko=KoRule.POSITIONAL), Rules(ko=KoRule.SITUATIONAL, suicide=SuicideRule.ALLOWED, komi=6.0)],
    ids=["positional", "situational-suicide"],
)
def test_game_alone_equals_row_17_of_64(rules):
    """Every row plays its own random game; row 17's moves, replayed alone, give the same states."""
    n = 7
    rng = np.random.default_rng(17)
    alone = B.state_for(rules, 1, n)
    batch = B.state_for(rules, BATCH, n)
    for t in range(150):
        mask = B.legal_mask(batch, rules)
        actions = np.full(BATCH, -1)
        for b in np.nonzero(~batch.done)[0]:
            board_moves = np.nonzero(mask[b, :-1])[0]
            actions[b] = n * n if board_moves.size == 0 or rng.random() < 0.02 else rng.choice(board_moves)
        assert B.play(batch, actions, rules).all()
        if actions[ROW] >= 0:
            assert B.play(alone, [actions[ROW]], rules)[0], f"row {ROW}'s move {t} is illegal alone"
        _assert_row_equal(batch, ROW, alone, f"after move {t}")
        if t % 10 == 0:
            assert np.array_equal(B.legal_mask(alone, rules)[0], B.legal_mask(batch, rules)[ROW])
            assert np.array_equal(F.encode(batch, rules)[ROW], F.encode(alone, rules)[0])
    check_consistency(batch, ROW)
    margin, owner = B.score(batch)
    alone_margin, alone_owner = B.score(alone)
    assert margin[ROW] == alone_margin[0] and np.array_equal(owner[ROW], alone_owner[0])
    assert B.outcome(batch)[ROW] == B.outcome(alone)[0]
    assert alone.num_moves[0] > 50  # a real game, with captures on a 7x7 board by then
    # Every row is its own game: the batch is not 64 copies of one.
    assert len({batch.board[b].tobytes() for b in range(BATCH)}) > BATCH // 2


def test_random_playouts_do_not_depend_on_other_rows():
    """Row 17 of ``play_random_games`` depends on its own position and seed only."""
    rules = Rules()
    n = 9
    rng = np.random.default_rng(5)
    start = _random_game_moves(n, rules, rng, length=6)
    small = B.state_for(rules, ROW + 1, n)
    big = B.state_for(rules, BATCH, n)
    for state in (small, big):
        for b in range(state.batch_size):
            moves = start if b == ROW else _random_game_moves(n, rules, rng, length=int(rng.integers(0, 30)))
            for a in moves:
                assert B.play(state, np.where(np.arange(state.batch_size) == b, a, -1), rules).all()
    _assert_row_equal(big, ROW, B.take_rows(small, [ROW]), "before the playouts")
    B.play_random_games(small, rules, seed=99)
    B.play_random_games(big, rules, seed=99)
    _assert_row_equal(big, ROW, B.take_rows(small, [ROW]), "after the playouts")
    assert big.done.all()


def test_copy_row_and_take_rows_copy_every_field():
    rules = Rules()
    src = B.state_for(rules, 4, 9)
    rng = np.random.default_rng(3)
    for _ in range(30):  # a different random game in every row, none finished
        mask = B.legal_mask(src, rules)[:, :-1]
        assert B.play(src, [int(rng.choice(np.nonzero(m)[0])) for m in mask], rules).all()
    dst = B.state_for(rules, 3, 9)
    untouched = B.take_rows(dst, [0, 2])
    B.copy_row(src, 2, dst, 1)
    _assert_row_equal(dst, 1, B.take_rows(src, [2]), "copy_row")
    for name, x, y in zip(B.BoardState._fields, B.take_rows(dst, [0, 2]), untouched):
        assert np.array_equal(x, y), f"copy_row touched another row's {name}"
    # A copy is independent of its source.
    taken = B.take_rows(src, [2])
    B.play(taken, [taken.size * taken.size], rules)
    assert taken.num_moves[0] == src.num_moves[2] + 1
    assert all(x.flags.c_contiguous for x in taken)
