"""Coordinate glossary and every conversion between the systems below (the only place that knows them).

Glossary, for a square board of side ``n`` (2 <= n <= 19):

- **row, col**: 0-based, row 0 is the *top* row (as SGF and printed boards), col 0 the left column.
- **point** ``p``: flat index into the padded board used by the compiled engine. The board is
  surrounded by a one-point wall on every side, so neighbour loops need no bounds checks:
  ``W = n + 2`` (the stride), ``P = W * W`` points, ``p = (row + 1) * W + (col + 1)``.
  Neighbours of ``p`` are ``p - W, p - 1, p + 1, p + W``.
- **action** ``a``: index into policy vectors, ``a = row * n + col`` for a board point and
  ``a = n * n`` for pass (pass is always last). ``A = n * n + 1`` actions.
- **GTP vertex**: ``"D4"``; columns ``A``..``T`` skipping ``I``, row number 1 at the *bottom*;
  case-insensitive on input, upper case on output; ``"pass"``.
- **SGF point**: ``"dd"``; column letter then row letter, both from ``a`` at the top-left.
  A pass is ``""`` (written) and also ``"tt"`` on boards up to 19x19 (read).

Conversions are named ``x_to_y``; invalid input raises ``ValueError`` naming what is wrong. The
compiled kernels use the unchecked twins at the end (``neighbour``, ``action_point``, ...), which
numba inlines into them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

MIN_SIZE = 2
MAX_SIZE = 19
GTP_COLUMNS = "ABCDEFGHJKLMNOPQRST"  # no "I", by GTP convention
SGF_LETTERS = "abcdefghijklmnopqrs"


def check_size(n: int) -> int:
    """Return ``n`` if it is a supported board side, else raise ``ValueError``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not MIN_SIZE <= int(n) <= MAX_SIZE:
        raise ValueError(f"board size must be an integer in [{MIN_SIZE}, {MAX_SIZE}], got {n!r}")
    return int(n)


def stride(n: int) -> int:
    """Row stride ``W`` of the padded board."""
    return n + 2


def num_points(n: int) -> int:
    """Number of padded points ``P``."""
    return (n + 2) * (n + 2)


def num_actions(n: int) -> int:
    """Number of actions ``A`` (board points plus pass)."""
    return n * n + 1


def pass_action(n: int) -> int:
    return n * n


def rowcol_to_point(row: int, col: int, n: int) -> int:
    return (row + 1) * (n + 2) + (col + 1)


def point_to_rowcol(p: int, n: int) -> tuple[int, int]:
    w = n + 2
    return p // w - 1, p % w - 1


def action_to_rowcol(a: int, n: int) -> tuple[int, int] | None:
    """``None`` for pass."""
    if not 0 <= a <= n * n:
        raise ValueError(f"action {a} out of range for a {n}x{n} board")
    if a == n * n:
        return None
    return divmod(a, n)


def rowcol_to_action(row: int, col: int, n: int) -> int:
    if not (0 <= row < n and 0 <= col < n):
        raise ValueError(f"({row}, {col}) is off a {n}x{n} board")
    return row * n + col


def action_to_point(a: int, n: int) -> int:
    """Padded point of a board action; ``-1`` for pass."""
    rc = action_to_rowcol(a, n)
    return -1 if rc is None else rowcol_to_point(rc[0], rc[1], n)


def point_to_action(p: int, n: int) -> int:
    if p < 0:
        return n * n
    row, col = point_to_rowcol(p, n)
    return rowcol_to_action(row, col, n)


def action_points(n: int) -> np.ndarray:
    """``[n*n] int16``: padded point of every board action (the pass action has none)."""
    rows, cols = np.divmod(np.arange(n * n), n)
    return ((rows + 1) * (n + 2) + cols + 1).astype(np.int16)


def point_actions(n: int) -> np.ndarray:
    """``[P] int16``: action of every padded point, ``-1`` on the wall."""
    out = np.full(num_points(n), -1, dtype=np.int16)
    out[action_points(n)] = np.arange(n * n, dtype=np.int16)
    return out


def gtp_to_action(vertex: str, n: int) -> int:
    """``"D4"`` / ``"pass"`` (any case) to an action; raises ``ValueError`` when off the board."""
    v = vertex.strip().upper()
    if v == "PASS":
        return n * n
    if len(v) < 2 or v[0] not in GTP_COLUMNS or not v[1:].isdigit():
        raise ValueError(f"not a GTP vertex: {vertex!r}")
    col = GTP_COLUMNS.index(v[0])
    number = int(v[1:])
    if col >= n or not 1 <= number <= n:
        raise ValueError(f"vertex {vertex!r} is off a {n}x{n} board")
    return rowcol_to_action(n - number, col, n)


def action_to_gtp(a: int, n: int) -> str:
    rc = action_to_rowcol(a, n)
    if rc is None:
        return "pass"
    row, col = rc
    return f"{GTP_COLUMNS[col]}{n - row}"


def sgf_to_action(point: str, n: int) -> int:
    """SGF point to action; ``""`` and (for n <= 19) ``"tt"`` are pass."""
    if point == "" or (point == "tt" and n <= 19):
        return n * n
    if len(point) != 2 or point[0] not in SGF_LETTERS or point[1] not in SGF_LETTERS:
        raise ValueError(f"not an SGF point: {point!r}")
    col, row = SGF_LETTERS.index(point[0]), SGF_LETTERS.index(point[1])
    return rowcol_to_action(row, col, n)


def action_to_sgf(a: int, n: int) -> str:
    """Action to SGF point; pass is written ``""``."""
    rc = action_to_rowcol(a, n)
    if rc is None:
        return ""
    row, col = rc
    return SGF_LETTERS[col] + SGF_LETTERS[row]


# ---- the same arithmetic inside compiled kernels: unchecked, inlined into the caller ------------


@njit(cache=True, inline="always")
def stride_of(P: int) -> int:
    """Row stride ``W`` of a padded board of ``P`` points (what a kernel reads off an array's shape)."""
    return int(np.sqrt(P) + 0.5)


@njit(cache=True, inline="always")
def neighbour(p: int, d: int, W: int) -> int:
    """Neighbour ``d`` (0 up, 1 left, 2 right, 3 down) of point ``p`` on a board of stride ``W``."""
    return p - W if d == 0 else (p - 1 if d == 1 else (p + 1 if d == 2 else p + W))


@njit(cache=True, inline="always")
def diagonal(p: int, d: int, W: int) -> int:
    """Diagonal neighbour ``d`` (0 up-left, 1 up-right, 2 down-left, 3 down-right) of point ``p``."""
    return p - W - 1 if d == 0 else (p - W + 1 if d == 1 else (p + W - 1 if d == 2 else p + W + 1))


@njit(cache=True, inline="always")
def action_point(a: int, n: int) -> int:
    """Padded point of board action ``a`` (not pass)."""
    return (a // n + 1) * (n + 2) + a % n + 1


@njit(cache=True, inline="always")
def move_point(a: int, n: int) -> int:
    """Padded point of action ``a``, ``-1`` (the engine's NO_POINT) for pass."""
    return -1 if a == n * n else action_point(a, n)


@njit(cache=True, inline="always")
def point_action(p: int, n: int) -> int:
    """Board action of on-board point ``p``."""
    return (p // (n + 2) - 1) * n + p % (n + 2) - 1
