"""Choosing the move after a search: visit-count temperature sampling, LCB for play, and KataGo's
pruning of forced playouts from the policy target. Plain numpy on one root's ``[A]`` arrays."""

from __future__ import annotations

import math

import numpy as np

ARGMAX_TEMPERATURE = 0.01  # below this tau the most visited move is played (ties: lowest action)
PRIOR_VARIANCE = 0.25  # one pseudo-observation of this variance keeps the LCB of rarely visited moves wide


def sample_by_visits(visits: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """Sample an action with probability proportional to ``visits ** (1 / temperature)``."""
    visits = np.asarray(visits, dtype=np.float64)
    if visits.sum() <= 0:
        raise ValueError("no root child was visited; run at least one simulation")
    if temperature < ARGMAX_TEMPERATURE:
        return int(np.argmax(visits))
    # Scale by the maximum first so large counts at small tau do not overflow.
    weights = np.where(visits > 0, (visits / visits.max()) ** (1.0 / temperature), 0.0)
    return int(rng.choice(visits.shape[0], p=weights / weights.sum()))


def lcb_action(visits: np.ndarray, value_sums: np.ndarray, value_sq_sums: np.ndarray, z: float, min_visit_fraction: float) -> int:
    """Leela Zero / KataGo play: among children with at least ``min_visit_fraction`` of the top
    visits (and at least 2), the max of mean - z * stderr; else the most visited child.
    ``value_sums`` are from the choosing player's view; squares are view-independent."""
    visits = np.asarray(visits, dtype=np.float64)
    most = int(np.argmax(visits))
    threshold = max(2.0, min_visit_fraction * visits[most])
    candidates = visits >= threshold
    if not candidates.any():
        return most
    n = np.maximum(visits, 1.0)
    mean = np.asarray(value_sums, np.float64) / n
    var = np.maximum(np.asarray(value_sq_sums, np.float64) - n * mean * mean, 0.0)
    var = (var + PRIOR_VARIANCE) / n
    lcb = mean - z * np.sqrt(var / n)
    return int(np.argmax(np.where(candidates, lcb, -np.inf)))


def prune_forced_playouts(visits: np.ndarray, priors: np.ndarray, q: np.ndarray, parent_visits: int, c_puct_init: float, c_puct_base: float, k: float) -> np.ndarray:
    """KataGo's policy-target pruning: every child but the most visited loses up to its
    sqrt(k * P * sum N) forced playouts, as long as its PUCT score stays below the best child's;
    children left with a single visit are removed. Returns the pruned ``[A]`` float visits."""
    visits = np.asarray(visits, dtype=np.float64).copy()
    total = visits.sum()
    if total <= 0:
        return visits
    best = int(np.argmax(visits))
    cp = c_puct_init + math.log((parent_visits + c_puct_base + 1.0) / c_puct_base)
    explore = cp * math.sqrt(max(parent_visits, 1))
    best_score = q[best] + explore * priors[best] / (1.0 + visits[best])
    for a in np.flatnonzero(visits > 0):
        if a == best:
            continue
        forced = math.sqrt(k * priors[a] * total)
        gap = best_score - q[a]
        if gap <= 0:
            continue
        # Smallest n with q + explore * P / (1 + n) <= best_score.
        needed = explore * priors[a] / gap - 1.0
        reduced = max(visits[a] - forced, math.ceil(needed), 0.0)
        reduced = min(reduced, visits[a])
        visits[a] = 0.0 if reduced <= 1.0 else reduced
    return visits
