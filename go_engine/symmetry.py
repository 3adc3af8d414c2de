"""The 8 dihedral symmetries of the square board, for feature planes and policy vectors (pass last).

Symmetry ``s`` in 0..7: optionally mirror left-right (``s >= 4``), then rotate by ``s % 4`` quarter
turns counter-clockwise (``numpy.rot90`` on the last two axes). ``inverse(s)`` undoes ``s``.
"""

from __future__ import annotations

import numpy as np

NUM_SYMMETRIES = 8


def _check(sym: int) -> int:
    if not 0 <= int(sym) < NUM_SYMMETRIES:
        raise ValueError(f"symmetry must be in 0..7, got {sym}")
    return int(sym)


def inverse(sym: int) -> int:
    sym = _check(sym)
    return (4 - sym) % 4 if sym < 4 else sym  # mirror-then-rotate is its own inverse


def transform_planes(planes: np.ndarray, sym: int) -> np.ndarray:
    """Apply symmetry ``sym`` to the last two (row, col) axes of ``planes`` ([..., n, n])."""
    sym = _check(sym)
    out = planes[..., ::-1] if sym >= 4 else planes
    return np.ascontiguousarray(np.rot90(out, sym % 4, axes=(-2, -1)))


def transform_policy(policy: np.ndarray, sym: int, n: int) -> np.ndarray:
    """Apply ``sym`` to policy vectors ``[..., n*n+1]`` (or ownership ``[..., n*n]``); pass stays last."""
    if policy.shape[-1] not in (n * n, n * n + 1):
        raise ValueError(f"last axis {policy.shape[-1]} is neither n*n nor n*n+1 for n={n}")
    board = policy[..., : n * n].reshape(policy.shape[:-1] + (n, n))
    moved = transform_planes(board, sym).reshape(policy.shape[:-1] + (n * n,))
    if policy.shape[-1] == n * n:
        return moved
    return np.concatenate([moved, policy[..., n * n :]], axis=-1)


def action_permutation(sym: int, n: int) -> np.ndarray:
    """``[A] int64`` ``perm`` with ``transform_policy(x, sym, n) == x[..., perm]``."""
    return transform_policy(np.arange(n * n + 1), sym, n)


def transform_action(action: int, sym: int, n: int) -> int:
    """Where a single action lands under ``sym``."""
    perm = action_permutation(sym, n)
    return int(np.nonzero(perm == action)[0][0])
