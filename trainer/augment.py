"""Dihedral augmentation of a training batch: one random symmetry per position, applied alike to the
input planes and to the policy and ownership targets (value and score are invariant)."""

from __future__ import annotations

import numpy as np

from go_engine import symmetry


def random_symmetries(batch_size: int, rng: np.random.Generator) -> np.ndarray:
    """``[B] int8``: a symmetry in 0..7 for each position."""
    return rng.integers(0, symmetry.NUM_SYMMETRIES, size=batch_size).astype(np.int8)


def augment(
    planes: np.ndarray, policy: np.ndarray, ownership: np.ndarray, syms: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apply ``syms[i]`` to row ``i`` of planes ``[B, C, n, n]``, policy ``[B, A]`` (pass stays
    last) and ownership ``[B, n*n]``. Rows are grouped by symmetry: at most 8 vectorised calls."""
    n = planes.shape[-1]
    out_planes = np.empty_like(planes)
    for sym in np.unique(syms):
        rows = np.flatnonzero(syms == sym)
        out_planes[rows] = symmetry.transform_planes(planes[rows], int(sym))
    return out_planes, transform_vectors(policy, syms, n), transform_vectors(ownership, syms, n)


def transform_vectors(vectors: np.ndarray, syms: np.ndarray, n: int) -> np.ndarray:
    """Apply ``syms[i]`` to row ``i`` of per-point vectors: ``[B, A]`` policies (pass stays last)
    or ``[B, n*n]`` board values. Rows are grouped by symmetry: at most 8 vectorised calls."""
    out = np.empty_like(vectors)
    for sym in np.unique(syms):
        rows = np.flatnonzero(syms == sym)
        out[rows] = symmetry.transform_policy(vectors[rows], int(sym), n)
    return out
