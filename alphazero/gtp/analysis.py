"""What a search reports to GTP (candidates, winrates, ownership) and the analysis line formats
that Sabaki, Lizzie and KataGo-aware GUIs parse (``lz-analyze`` and ``kata-analyze``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from go_engine import coords


@dataclass(frozen=True)
class Candidate:
    """One root move. Winrate, lcb and score are from the side to move's point of view."""

    action: int
    visits: int
    winrate: float  # in [0, 1]
    prior: float  # in [0, 1]
    lcb: float  # lower confidence bound of winrate, in [0, 1]
    score_lead: float  # points the side to move leads by after this move
    pv: tuple[int, ...]  # principal variation starting with ``action``


@dataclass(frozen=True)
class SearchReport:
    """A snapshot of a search: candidates best first, and root estimates (side to move's view)."""

    candidates: tuple[Candidate, ...]
    visits: int
    winrate: float
    score_lead: float
    ownership: np.ndarray | None = field(default=None)  # [n*n] float32 in [-1, 1], side to move
    best_action: int = -1


def _move_fields(report: SearchReport, n: int):
    for order, cand in enumerate(report.candidates):
        pv = " ".join(coords.action_to_gtp(a, n) for a in cand.pv)
        yield order, cand, coords.action_to_gtp(cand.action, n), pv


def lz_line(report: SearchReport, n: int) -> str:
    """Leela Zero format: integers, winrate/prior/lcb times 10000; one line for all candidates."""
    parts = []
    for order, cand, move, pv in _move_fields(report, n):
        parts.append(
            f"info move {move} visits {cand.visits} winrate {int(round(cand.winrate * 10000))} "
            f"prior {int(round(cand.prior * 10000))} lcb {int(round(max(0.0, cand.lcb) * 10000))} "
            f"order {order} pv {pv}".rstrip()
        )
    return " ".join(parts)


def kata_line(report: SearchReport, n: int, with_ownership: bool = False) -> str:
    """KataGo format: floats with ``.``, scores in points, optional ``ownership`` of n*n values
    (side to move's view, row-major from the top-left)."""
    parts = []
    for order, cand, move, pv in _move_fields(report, n):
        utility = 2.0 * cand.winrate - 1.0
        parts.append(
            f"info move {move} visits {cand.visits} utility {utility:.6f} winrate {cand.winrate:.6f} "
            f"scoreMean {cand.score_lead:.6f} scoreStdev 0.0 scoreLead {cand.score_lead:.6f} "
            f"scoreSelfplay {cand.score_lead:.6f} prior {cand.prior:.6f} lcb {cand.lcb:.6f} "
            f"utilityLcb {2.0 * cand.lcb - 1.0:.6f} order {order} pv {pv}".rstrip()
        )
    line = " ".join(parts)
    if with_ownership and report.ownership is not None:
        line += " ownership " + " ".join(f"{v:.6f}" for v in np.asarray(report.ownership, dtype=np.float64))
    return line
