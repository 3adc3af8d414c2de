"""ASCII boards: ``X`` black, ``O`` white, ``.`` empty (row 0 at the top), for tests and GTP showboard."""

from __future__ import annotations

import numpy as np

from go_engine import board as B
from go_engine import coords
from go_engine.rules import Rules

_CHARS = {B.EMPTY: ".", B.BLACK: "X", B.WHITE: "O"}


def parse(text: str) -> tuple[int, list[int], list[int]]:
    """Rows of ``X O .`` (spaces ignored) -> (n, black actions, white actions)."""
    rows = [line.replace(" ", "") for line in text.strip().splitlines() if line.strip()]
    n = len(rows)
    coords.check_size(n)
    black, white = [], []
    for r, line in enumerate(rows):
        if len(line) != n:
            raise ValueError(f"row {r} has {len(line)} points, expected {n}: {line!r}")
        for c, ch in enumerate(line):
            if ch in "Xx":
                black.append(r * n + c)
            elif ch in "Oo":
                white.append(r * n + c)
            elif ch not in ".+":
                raise ValueError(f"unexpected character {ch!r} in row {r}")
    return n, black, white


def from_ascii(text: str, rules: Rules, to_play: int = B.BLACK, history: int = 8) -> B.BoardState:
    """A one-game state holding the drawn position (history starts there)."""
    n, black, white = parse(text)
    state = B.state_for(rules, 1, n, history=history)
    actions = black + white
    colors = [B.BLACK] * len(black) + [B.WHITE] * len(white)
    B.setup_stones(state, 0, actions, colors, to_play, rules)
    return state


def to_ascii(state: B.BoardState, row: int = 0) -> str:
    """The stones of game ``row`` as rows of ``X O .`` separated by spaces."""
    n = state.size
    W = n + 2
    lines = []
    for r in range(n):
        lines.append(" ".join(_CHARS[int(state.board[row, (r + 1) * W + c + 1])] for c in range(n)))
    return "\n".join(lines)


def normalise(text: str) -> str:
    """Canonical form of a drawn board, for comparisons in tests."""
    rows = [line.replace(" ", "") for line in text.strip().splitlines() if line.strip()]
    return "\n".join(" ".join(line.replace("x", "X").replace("o", "O").replace("+", ".")) for line in rows)


def stone_counts(state: B.BoardState, row: int = 0) -> tuple[int, int]:
    b = state.board[row]
    return int(np.sum(b == B.BLACK)), int(np.sum(b == B.WHITE))
