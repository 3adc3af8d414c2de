"""GTP scoring commands, final_score and final_status_list, and the dead-stone estimate they and
the cleanup genmove share. Everything reads the game's consistent position and counts with
``go_engine.scoring``'s pure functions (which take dead stones off a copy of the stones); no
board array of the game is edited."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from alphazero.gtp.protocol import GtpError, check_nargs
from go_engine import board as B
from go_engine import coords, scoring
from go_engine.history import BoardHistory

if TYPE_CHECKING:
    from alphazero.gtp.engine import GtpEngine

DEAD_BELOW = -0.3  # a chain is dead when its mean ownership, its own colour's view, is below this


def dead_stones(game: BoardHistory, own: np.ndarray) -> list[int]:
    """Actions of the stones whose chain the ownership estimate ``own`` ([n*n], black's view)
    gives to the opponent: the chain's mean ownership from its colour's view below ``DEAD_BELOW``."""
    n = game.size
    board = game.state.board[0]
    heads = game.state.chain_head[0]
    points = coords.action_points(n)
    stones = [a for a in range(n * n) if board[points[a]] in (B.BLACK, B.WHITE)]
    by_chain: dict[int, list[float]] = {}
    for a in stones:
        sign = 1.0 if board[points[a]] == B.BLACK else -1.0
        by_chain.setdefault(int(heads[points[a]]), []).append(sign * own[a])
    mean = {head: sum(values) / len(values) for head, values in by_chain.items()}
    return [a for a in stones if mean[int(heads[points[a]])] < DEAD_BELOW]


def cleaned_margin(game: BoardHistory, dead: list[int]) -> float:
    """The rules' count, black's view (komi, prisoners and handicap bonus included), with the
    ``dead`` stones taken off (they become prisoners)."""
    st = game.state
    count = scoring.count(st.board[0], game.size, game.rules, captured=tuple(st.captured[0]),
                          handicap=game.handicap(), dead=dead)
    return count.margin


def final_score(engine: GtpEngine, args) -> str:
    check_nargs(args, 0)
    margin = cleaned_margin(engine.game, dead_stones(engine.game, engine.player.ownership(engine.game)))
    if margin == 0:
        return "0"
    return f"B+{margin:g}" if margin > 0 else f"W+{-margin:g}"


def final_status_list(engine: GtpEngine, args) -> str:
    check_nargs(args, 1)
    status = args[0].lower()
    if status not in ("dead", "alive", "seki"):
        raise GtpError("syntax error")
    game = engine.game
    n = game.size
    dead = set(dead_stones(game, engine.player.ownership(game)))
    if status == "dead":
        chosen = sorted(dead)
    else:
        # Living stones outside every independent-life region once the dead stones are off and
        # the dame filled.
        seki = {int(a) for a in np.flatnonzero(scoring.seki_stones(game.state.board[0], n, sorted(dead)))}
        if status == "seki":
            chosen = sorted(seki)
        else:
            chosen = [a for a in game.stones(B.BLACK) + game.stones(B.WHITE) if a not in dead and a not in seki]
            chosen.sort()
    return " ".join(coords.action_to_gtp(a, n) for a in chosen)


COMMANDS = {
    "final_score": final_score,
    "final_status_list": final_status_list,
}
