"""The search's utility, KataGo's: the win/loss value plus a score utility, so that a search keeps
telling moves apart by how much they win (or lose) by once the game is decided.

    utility     = value + static * score_value(lead, 0, STATIC_SCORE_SCALE)
                        + dynamic * score_value(lead, center, dynamic_score_center_scale)
    score_value(lead, center, scale) = (2/pi) atan((lead - center) / (scale * sqrt(board area)))

as KataGo's ``Search::getScoreUtility`` (search.cpp) with ``ScoreValue::whiteScoreValueOfScoreSmooth``
(the static term's scale is fixed at 2, the dynamic one's is ``dynamicScoreCenterScale``). KataGo
averages ``score_value`` over the network's score distribution (its mean and stdev,
``ScoreValue::expectedWhiteScoreValue``); our score head predicts the mean only, so ``score_value``
is taken at the mean. A finished game's lead is the rules' count (``mcts.terminal_margin``).

The dynamic center is KataGo's ``recentScoreCenter``, set when the search of a move starts: the
root's expected score E (its network score, or the kept subtree's mean score), moved toward 0 by
the zero weight, E * (1 - zero_weight), and kept within E +- dynamic_score_center_scale * sqrt(area).

Point of view: ``lead``, ``center`` and the result are the side to move's at the node; the center
is kept in the root's side to move's view, so a node an odd number of plies below the root sees
``-center``. The score terms are bounded by the two factors, so a utility lies in
[-1 - static - dynamic, 1 + static + dynamic].
"""

from __future__ import annotations

import math

from go_engine.compiled import row_kernel

STATIC_SCORE_SCALE = 2.0  # the static term's width in units of sqrt(board area) (KataGo's, fixed)
TWO_OVER_PI = 2.0 / math.pi


@row_kernel
def score_value(lead: float, center: float, scale: float) -> float:
    """(2/pi) atan((lead - center) / scale), in (-1, 1); ``scale`` in points (> 0)."""
    return TWO_OVER_PI * math.atan((lead - center) / scale)


@row_kernel
def score_utility(lead: float, center: float, static_factor: float, static_scale: float, dynamic_factor: float,
                  dynamic_scale: float) -> float:
    """The score part of the utility of a position whose side to move leads by ``lead`` points;
    ``center`` is the dynamic center in that player's view, the scales are in points."""
    return static_factor * score_value(lead, 0.0, static_scale) + dynamic_factor * score_value(lead, center, dynamic_scale)


@row_kernel
def dynamic_center(expected: float, zero_weight: float, cap: float) -> float:
    """KataGo's recentScoreCenter: ``expected`` (the root's score estimate) moved ``zero_weight`` of
    the way toward 0, but at most ``cap`` points (dynamic_score_center_scale * sqrt(board area))."""
    center = expected * (1.0 - zero_weight)
    return min(max(center, expected - cap), expected + cap)
