"""Sequential probability ratio test for "is A stronger than B?" (as Leela Zero's server gates).

H0: elo = elo0, H1: elo = elo1, with the logistic win probability; draws count half a win and
half a loss. Stop when the log-likelihood ratio leaves [log(beta/(1-alpha)), log((1-beta)/alpha)].
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def _p(elo: float) -> float:
    return 1.0 / (1.0 + 10.0 ** (-elo / 400.0))


@dataclass(frozen=True)
class Sprt:
    elo0: float = 0.0
    elo1: float = 35.0
    alpha: float = 0.05
    beta: float = 0.05

    def __post_init__(self) -> None:
        if not (0 < self.alpha < 0.5 and 0 < self.beta < 0.5):
            raise ValueError("alpha and beta must be in (0, 0.5)")
        if not self.elo1 > self.elo0:
            raise ValueError("elo1 must be greater than elo0")

    @property
    def bounds(self) -> tuple[float, float]:
        return math.log(self.beta / (1 - self.alpha)), math.log((1 - self.beta) / self.alpha)

    def llr(self, wins: float, losses: float, draws: float = 0.0) -> float:
        p0, p1 = _p(self.elo0), _p(self.elo1)
        w = wins + 0.5 * draws
        l = losses + 0.5 * draws
        return w * math.log(p1 / p0) + l * math.log((1 - p1) / (1 - p0))

    def decide(self, wins: float, losses: float, draws: float = 0.0) -> str:
        """``"H1"`` (A is stronger by ~elo1: accept), ``"H0"`` (reject), or ``"continue"``."""
        lower, upper = self.bounds
        value = self.llr(wins, losses, draws)
        if value >= upper:
            return "H1"
        if value <= lower:
            return "H0"
        return "continue"
