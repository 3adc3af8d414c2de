"""Elo ratings from game results by maximum likelihood (Bradley-Terry, as BayesElo / KataGo's elo.py).

Model: P(i beats j) = 1 / (1 + 10^((r_j - r_i) / 400)); a draw counts half a win for each side.
A weak prior of ``prior_draws`` virtual draws between every pair that met keeps ratings finite
when a player won or lost everything. One player is the anchor with a fixed rating; the 95%
intervals come from the inverse Hessian (observed Fisher information) of the log-posterior.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ELO_PER_NAT = 400.0 / math.log(10.0)


@dataclass(frozen=True)
class Rating:
    player: str
    elo: float
    ci95: float  # half-width of the 95% interval (0 for the anchor)
    games: int
    score: float  # points scored (wins + draws/2)


def fit_ratings(
    results: list[tuple[str, str, float]],
    anchor: str,
    anchor_elo: float = 0.0,
    prior_draws: float = 1.0,
    iterations: int = 100,
) -> dict[str, Rating]:
    """``results``: (player_a, player_b, score of a in {1, 0.5, 0}) per game."""
    players = sorted({p for a, b, _ in results for p in (a, b)} | {anchor})
    index = {p: i for i, p in enumerate(players)}
    k = len(players)
    wins = np.zeros((k, k))  # wins[i, j]: points i scored against j
    games = np.zeros(k)
    points = np.zeros(k)
    for a, b, s in results:
        if s not in (0, 0.5, 1, 0.0, 1.0):
            raise ValueError(f"a game score must be 0, 0.5 or 1, got {s!r}")
        i, j = index[a], index[b]
        if i == j:
            raise ValueError(f"player {a!r} cannot play itself")
        wins[i, j] += s
        wins[j, i] += 1 - s
        games[i] += 1
        games[j] += 1
        points[i] += s
        points[j] += 1 - s
    met = (wins + wins.T) > 0
    wins = wins + 0.5 * prior_draws * met
    n_ij = wins + wins.T  # games (real + virtual) between i and j
    free = [i for i in range(k) if players[i] != anchor]
    r = np.zeros(k)  # natural-log scale strengths
    # Fit with the anchor at 0 (Newton converges from the origin), shift to anchor_elo at the end.
    hessian = np.zeros((len(free), len(free)))
    for _ in range(iterations):
        diff = r[:, None] - r[None, :]
        p = 1.0 / (1.0 + np.exp(-diff))  # P(i beats j)
        grad_full = (wins - n_ij * p).sum(axis=1)
        w = n_ij * p * (1 - p)
        h_full = -np.diag(w.sum(axis=1)) + w
        grad = grad_full[free]
        hessian = h_full[np.ix_(free, free)]
        if not free:
            break
        try:
            step = np.linalg.solve(hessian, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hessian, grad, rcond=None)[0]
        r[free] -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    cov = np.linalg.pinv(-hessian) if free else np.zeros((0, 0))
    out = {}
    for i, name in enumerate(players):
        if name == anchor:
            ci = 0.0
        else:
            fi = free.index(i)
            ci = 1.96 * math.sqrt(max(cov[fi, fi], 0.0)) * ELO_PER_NAT
        out[name] = Rating(name, float(r[i] * ELO_PER_NAT + anchor_elo), ci, int(games[i]), float(points[i]))
    return out


def elo_from_score(score: float) -> float:
    """Elo difference implied by an expected score in (0, 1)."""
    score = min(max(score, 1e-6), 1 - 1e-6)
    return -400.0 * math.log10(1.0 / score - 1.0)


def match_elo(wins: float, losses: float, draws: float = 0.0) -> tuple[float, float]:
    """Elo difference of a two-player match and its 95% half-width (normal approximation on the
    score, mapped through the logistic curve)."""
    n = wins + losses + draws
    if n <= 0:
        raise ValueError("no games")
    score = (wins + 0.5 * draws) / n
    var = (wins * (1 - score) ** 2 + losses * score**2 + draws * (0.5 - score) ** 2) / n
    se = math.sqrt(max(var, 1e-12) / n)
    lo, hi = elo_from_score(score - 1.96 * se), elo_from_score(score + 1.96 * se)
    return elo_from_score(score), (hi - lo) / 2.0
