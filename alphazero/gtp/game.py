"""The game a GTP session is playing: size, rules, setup stones and moves, with undo by replay."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from go_engine import board as B
from go_engine import coords
from go_engine.rules import Rules


class IllegalMove(ValueError):
    """A move the rules forbid; the message says why."""


def hand_turn(state: B.BoardState, colour: int) -> None:
    """Give ``colour`` the move in a batch-of-one state; the ko point bound only the other side."""
    if state.to_play[0] != colour:
        state.to_play[0] = colour
        state.ko_point[0] = B.NO_POINT


@dataclass
class GtpGame:
    """Position = setup stones + moves; ``state`` is a batch of one kept in step with them.

    Any colour may move at any time (GUIs send non-alternating moves); a move by the player who
    is not to move first hands them the turn (and forgets the ko point, which bound the other side).
    """

    size: int
    rules: Rules
    history: int = 8
    setup: list[tuple[int, int]] = field(default_factory=list)  # (colour, action)
    moves: list[tuple[int, int]] = field(default_factory=list)  # (colour, action); pass = n*n
    first_to_play: int = B.BLACK
    state: B.BoardState = field(init=False)

    def __post_init__(self) -> None:
        coords.check_size(self.size)
        self.state = self._replay(self.setup, self.moves, self.first_to_play)

    # ---- construction -----------------------------------------------------------------------
    def _fresh(self) -> B.BoardState:
        # The superko set is sized by the move cap: a GTP game may last as long as it likes, so
        # the cap is the engine's generous default unless the rules set one.
        return B.state_for(self.rules, 1, self.size, history=self.history)

    def _replay(self, setup, moves, first) -> B.BoardState:
        state = self._fresh()
        if setup:
            B.setup_stones(state, 0, [a for _, a in setup], [c for c, _ in setup], first, self.rules)
        else:
            state.to_play[0] = first
        for colour, action in moves:
            if not self._apply(state, colour, action):
                raise IllegalMove(f"move {coords.action_to_gtp(action, self.size)} cannot be replayed")
        return state

    def _apply(self, state: B.BoardState, colour: int, action: int) -> bool:
        hand_turn(state, colour)
        return bool(B.play(state, [action], self.rules)[0])

    # ---- queries ------------------------------------------------------------------------------
    @property
    def to_play(self) -> int:
        return int(self.state.to_play[0])

    @property
    def komi(self) -> float:
        return self.rules.komi

    def move_status(self, colour: int, action: int) -> int:
        """``board.LEGAL`` or the reason the move is illegal, without changing the game."""
        probe = B.take_rows(self.state, [0])
        hand_turn(probe, colour)
        probe.done[0] = False  # GTP lets play continue after two passes
        p = coords.action_to_point(action, self.size)
        return B.move_status_row(probe, 0, p, int(self.rules.ko), int(self.rules.suicide))

    def legal_actions(self, colour: int) -> np.ndarray:
        probe = B.take_rows(self.state, [0])
        hand_turn(probe, colour)
        probe.done[0] = False
        return np.nonzero(B.legal_mask(probe, self.rules)[0])[0]

    def stones(self, colour: int) -> list[int]:
        points = coords.action_points(self.size)
        return [a for a in range(self.size * self.size) if self.state.board[0, points[a]] == colour]

    def is_empty(self) -> bool:
        return not self.setup and not self.moves and not np.any((self.state.board[0] == B.BLACK) | (self.state.board[0] == B.WHITE))

    def consecutive_passes(self) -> int:
        count = 0
        for _, action in reversed(self.moves):
            if action != self.size * self.size:
                break
            count += 1
        return count

    # ---- changes (each leaves the game unchanged when it raises) ----------------------------
    def play(self, colour: int, action: int) -> None:
        status = self.move_status(colour, action)
        if status != B.LEGAL and status != B.GAME_OVER:
            raise IllegalMove("illegal move")  # GTP's error text, whatever the reason
        if self.state.done[0]:
            # Play after the game ended (e.g. two passes, then a dispute): rebuild without the cap.
            self.state.done[0] = False
        if not self._apply(self.state, colour, action):
            raise IllegalMove("illegal move")
        self.moves.append((colour, action))

    def undo(self) -> None:
        if not self.moves:
            raise IllegalMove("cannot undo")
        moves = self.moves[:-1]
        self.state = self._replay(self.setup, moves, self.first_to_play)
        self.moves = moves

    def clear(self) -> None:
        self.setup, self.moves, self.first_to_play = [], [], B.BLACK
        self.state = self._fresh()

    def set_rules(self, rules: Rules) -> None:
        """New rules (e.g. komi): the position is replayed under them; refused if it would be illegal."""
        old = self.rules
        self.rules = rules
        try:
            self.state = self._replay(self.setup, self.moves, self.first_to_play)
        except (IllegalMove, ValueError):
            self.rules = old
            raise

    def set_komi(self, komi: float) -> None:
        self.set_rules(replace(self.rules, komi=komi))

    def place_setup(self, colour: int, actions: list[int], to_play: int) -> None:
        """Setup stones on an empty board (handicap): white moves next after handicap."""
        if not self.is_empty():
            raise IllegalMove("board not empty")
        setup = [(colour, a) for a in actions]
        state = self._replay(setup, [], to_play)
        self.setup, self.moves, self.first_to_play, self.state = setup, [], to_play, state

    def load(self, setup: list[tuple[int, int]], moves: list[tuple[int, int]], first_to_play: int) -> None:
        """Replace the whole game (``loadsgf``); unchanged if any move is illegal."""
        state = self._replay(setup, moves, first_to_play)
        self.setup, self.moves, self.first_to_play, self.state = list(setup), list(moves), first_to_play, state
