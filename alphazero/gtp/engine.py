"""The GTP engine: a session's state (the game, the clocks, the player that thinks) and its
command table, filled by name from the command groups in ``alphazero.gtp.commands``.

Every handler either returns the response text or raises ``GtpError``; a failed command leaves
the game exactly as it was (handlers validate everything before they change anything).
"""

from __future__ import annotations

import sys
from functools import partial
from typing import Callable, Protocol

import numpy as np

from alphazero.gtp import analysis
from alphazero.gtp.commands import HANDLERS, PONDER_AFTER, STREAMING
from alphazero.gtp.resign import RESIGN_WINRATE
from alphazero.gtp.time_control import Clock
from go_engine import board as B
from go_engine.history import BoardHistory
from go_engine.rules import Rules


class Player(Protocol):
    """What the engine needs from a searcher (see ``alphazero.gtp.search_player``)."""

    def think(
        self,
        game: BoardHistory,
        seconds: float | None,
        report: Callable[[analysis.SearchReport], None] | None = None,
        report_every: float | None = None,
        should_stop: Callable[[], bool] | None = None,
        allow_pass: bool = True,
        restriction: np.ndarray | None = None,
    ) -> analysis.SearchReport:
        """Search the position for the side to move; ``seconds`` None = the configured visits;
        ``restriction`` ([2, A] untilDepth per action, for the side to move and the other side):
        kata-analyze's avoid/allow."""

    def ownership(self, game: BoardHistory) -> np.ndarray:
        """``[n*n] float32`` expected final ownership, black's view (+1 black, -1 white)."""


class GtpEngine:
    """A GTP session. ``handlers[name](args)`` answers a command; streaming commands (analysis),
    ``streaming[name](args, emit, input_pending)``, write partial output through ``emit`` and
    stop when ``input_pending()`` turns true (the GUI sent a line)."""

    def __init__(self, player: Player, rules: Rules, size: int = 19, resign_threshold: float = RESIGN_WINRATE,
                 time_per_move: float | None = None, ponder: bool = False,
                 log: Callable[[str], None] | None = None) -> None:
        self.player = player
        self.ponder_enabled = ponder
        self.ponder_due = False  # our move was just played: the opponent is thinking
        self.time_per_move = time_per_move  # seconds per move when the clock sets no limit
        self.game = self.new_game(size, rules)
        self.resign_threshold = resign_threshold
        self.clocks = {B.BLACK: Clock(), B.WHITE: Clock()}
        self.log = log or (lambda text: print(text, file=sys.stderr, flush=True))
        self.quit_requested = False
        self.handlers: dict[str, Callable[[tuple[str, ...]], str]] = {
            name: partial(handler, self) for name, handler in HANDLERS.items()}
        self.streaming: dict[str, Callable[..., None]] = {
            name: partial(handler, self) for name, handler in STREAMING.items()}

    @staticmethod
    def new_game(size: int, rules: Rules, **position) -> BoardHistory:
        """A game as GTP follows it: black moves that open it count as handicap stones, as KataGo's
        ``assumeMultipleStartingBlackMovesAreHandicap`` (Lizzie sends handicap stones as moves)."""
        return BoardHistory(size, rules, opening_black_moves_are_handicap=True, **position)

    @property
    def size(self) -> int:
        return self.game.size

    def known(self, name: str) -> bool:
        return name in self.handlers or name in self.streaming

    def command_names(self) -> list[str]:
        return [*self.handlers, *self.streaming]

    # ---- pondering -------------------------------------------------------------------------
    def command_done(self, name: str) -> None:
        """Called by the server after every command: pondering follows our own moves only."""
        self.ponder_due = self.ponder_enabled and name in PONDER_AFTER

    def ponder(self, input_pending: Callable[[], bool]) -> None:
        """Search the opponent's position until the GUI sends anything; the tree is kept, so the
        reply's subtree is reused by our next genmove."""
        self.ponder_due = False
        if self.game.consecutive_passes() >= 2:
            return
        self.player.think(self.game, float("inf"), should_stop=input_pending)
