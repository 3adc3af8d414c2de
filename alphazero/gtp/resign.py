"""The resign rule, one for ``alphazero gtp`` and the arena's network players: never resign a won
position, so both the root and the chosen move must look hopeless, and the score lead too."""

from __future__ import annotations

from typing import Callable

from alphazero.gtp.analysis import SearchReport

RESIGN_WINRATE = 0.05  # the default threshold: resign below this win rate (root and best move)


def hopeless(visits: int, root_winrate: float, best_winrate: float, score_lead: float | Callable[[], float],
             threshold: float) -> bool:
    """Resign: ``threshold`` > 0 (0 never resigns), at least two visits, the root's and the chosen
    move's win rates (side to move's view) below ``threshold`` and the score lead negative.
    ``score_lead`` may be a function, called only when the win rates are already hopeless."""
    if threshold <= 0 or visits < 2 or not (root_winrate < threshold and best_winrate < threshold):
        return False
    lead = score_lead() if callable(score_lead) else score_lead
    return lead < 0


def report_is_hopeless(report: SearchReport, threshold: float) -> bool:
    """``hopeless`` for a search report: the chosen move is its first candidate."""
    best = report.candidates[0].winrate if report.candidates else report.winrate
    return hopeless(report.visits, report.winrate, best, report.score_lead, threshold)
