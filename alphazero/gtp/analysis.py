"""What a search reports to GTP (candidates, winrates, scores, ownership) and the analysis line
formats that Sabaki, Lizzie and KataGo-aware GUIs parse (``lz-analyze``, ``kata-analyze`` and
Sabaki's ``analyze``, which is kata's with a decimal point in every float)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from alphazero.analysis.query import OutputOptions
from go_engine import coords


@dataclass(frozen=True)
class Candidate:
    """One root move. Winrate, lcb, utility, score and ownership are from the root's side to move's
    point of view; scores and ownership are the search's (visit-weighted over the move's subtree)."""

    action: int
    visits: int
    winrate: float  # in [0, 1]
    prior: float  # in [0, 1]
    lcb: float  # lower confidence bound of winrate (winrate units)
    score_lead: float  # points the side to move leads by after this move
    pv: tuple[int, ...]  # principal variation starting with ``action``
    score_stdev: float = 0.0  # spread of the score over the move's subtree
    utility: float = 0.0  # mean utility: the win/loss value in [-1, 1], plus the search's score utility if it has one
    pv_visits: tuple[int, ...] = ()  # visits of each node along ``pv``
    ownership: np.ndarray | None = field(default=None, compare=False)  # [n*n] in [-1, 1] after the move
    ownership_stdev: np.ndarray | None = field(default=None, compare=False)  # [n*n] in [0, 1]
    utility_lcb: float | None = None  # utility - z * stderr; None: 2 lcb - 1 (no score utility: utility is the win/loss value)


@dataclass(frozen=True)
class SearchReport:
    """A snapshot of a search: candidates best first, and root estimates (side to move's view)."""

    candidates: tuple[Candidate, ...]
    visits: int
    winrate: float
    score_lead: float
    ownership: np.ndarray | None = field(default=None)  # [n*n] float32 in [-1, 1], side to move
    best_action: int = -1
    score_stdev: float = 0.0
    ownership_stdev: np.ndarray | None = field(default=None)  # [n*n] in [0, 1]
    utility: float | None = None  # the root's mean utility; None: 2 winrate - 1 (no score utility)


@dataclass(frozen=True)
class AnalyzeOptions:
    """What a ``kata-analyze``-style command asked for."""

    outputs: OutputOptions = OutputOptions()  # ownership, ..., pvVisits
    root_info: bool = False
    max_moves: int = 0  # 0: no limit
    showpoint: bool = False  # every float with a decimal point (Sabaki's ``analyze``)


def _move_fields(report: SearchReport, n: int, max_moves: int = 0):
    candidates = report.candidates[:max_moves] if max_moves > 0 else report.candidates
    for order, cand in enumerate(candidates):
        pv = " ".join(coords.action_to_gtp(a, n) for a in cand.pv)
        yield order, cand, coords.action_to_gtp(cand.action, n), pv


def lz_line(report: SearchReport, n: int, max_moves: int = 0) -> str:
    """Leela Zero format: integers, winrate/prior/lcb times 10000; one line for all candidates."""
    parts = []
    for order, cand, move, pv in _move_fields(report, n, max_moves):
        parts.append(
            f"info move {move} visits {cand.visits} winrate {int(round(cand.winrate * 10000))} "
            f"prior {int(round(cand.prior * 10000))} lcb {int(round(max(0.0, cand.lcb) * 10000))} "
            f"order {order} pv {pv}".rstrip()
        )
    return " ".join(parts)


def format_float(x: float, showpoint: bool = False) -> str:
    """C++ ostream default formatting (6 significant digits); ``showpoint`` keeps the point and
    trailing zeros (``1.00000``), as KataGo's ``analyze`` writes for Sabaki."""
    x = float(x)
    if x == 0.0:
        x = 0.0  # no "-0"
    return f"{x:#.6g}" if showpoint else f"{x:.6g}"


def _floats(values, showpoint: bool) -> str:
    return " ".join(format_float(v, showpoint) for v in np.asarray(values, dtype=np.float64))


def kata_line(report: SearchReport, n: int, options: AnalyzeOptions | bool = False) -> str:
    """KataGo format: per move ``info move .. visits .. utility .. winrate .. scoreMean ..
    scoreStdev .. scoreLead .. scoreSelfplay .. prior .. lcb .. utilityLcb .. order .. pv ..``
    [pvVisits] [movesOwnership], then [rootInfo ...] [ownership n*n] [ownershipStdev n*n]; arrays
    row-major from the top-left, everything from the side to move's view. ``options`` True is
    the old ``with_ownership``."""
    opts = options if isinstance(options, AnalyzeOptions) else AnalyzeOptions(OutputOptions(ownership=bool(options)))
    f = lambda x: format_float(x, opts.showpoint)  # noqa: E731
    parts = []
    for order, cand, move, pv in _move_fields(report, n, opts.max_moves):
        text = (
            f"info move {move} visits {cand.visits} utility {f(cand.utility)} winrate {f(cand.winrate)} "
            f"scoreMean {f(cand.score_lead)} scoreStdev {f(cand.score_stdev)} scoreLead {f(cand.score_lead)} "
            f"scoreSelfplay {f(cand.score_lead)} prior {f(cand.prior)} lcb {f(cand.lcb)} "
            f"utilityLcb {f(2.0 * cand.lcb - 1.0 if cand.utility_lcb is None else cand.utility_lcb)} weight {f(cand.visits)} order {order} pv {pv}".rstrip()
        )
        if opts.outputs.pv_visits and cand.pv_visits:
            text += " pvVisits " + " ".join(str(v) for v in cand.pv_visits)
        if opts.outputs.moves_ownership and cand.ownership is not None:
            text += " movesOwnership " + _floats(cand.ownership, opts.showpoint)
        if opts.outputs.moves_ownership_stdev and cand.ownership_stdev is not None:
            text += " movesOwnershipStdev " + _floats(cand.ownership_stdev, opts.showpoint)
        parts.append(text)
    line = " ".join(parts)
    if opts.root_info:
        utility = 2.0 * report.winrate - 1.0 if report.utility is None else report.utility
        line += (
            f" rootInfo visits {report.visits} utility {f(utility)} winrate {f(report.winrate)} "
            f"scoreMean {f(report.score_lead)} scoreStdev {f(report.score_stdev)} scoreLead {f(report.score_lead)} "
            f"scoreSelfplay {f(report.score_lead)} weight {f(report.visits)}"
        )
    if opts.outputs.ownership and report.ownership is not None:
        line += " ownership " + _floats(report.ownership, opts.showpoint)
    if opts.outputs.ownership_stdev and report.ownership_stdev is not None:
        line += " ownershipStdev " + _floats(report.ownership_stdev, opts.showpoint)
    return line.lstrip()
