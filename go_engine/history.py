"""The history of one game (KataGo's ``BoardHistory``): setup stones, then moves (passes
included), the position they lead to with its superko set, undo by replay, whose turn it is, and
the game's end (two passes or a move cap; a resignation is the caller's to record).

One class serves every product that follows a single game: the GTP engine, the arena's referee
and the analysis engine's query positions. It is pure over ``go_engine.board``: the position is a
batch of one ``BoardState`` that only board functions change, so its chains, hash and superko set
always agree with its stones.

Any colour may move at any time (GUIs send non-alternating moves, analysis queries may too): a
move by the player who is not to move first hands them the turn, which forgets the ko point (it
bound the other side). Play may also go on after the game ended (two passes, then a dispute).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

import numpy as np

from go_engine import board as B
from go_engine import coords
from go_engine.rules import Rules, handicap_stones, white_komi

# Why a move is illegal, by ``board.move_status_row``'s status.
_STATUS_REASONS = {
    B.OCCUPIED: "the point is occupied",
    B.SUICIDE: "it is a suicide",
    B.KO_FORBIDDEN: "the ko rule forbids it",
}


class IllegalMove(ValueError):
    """A move, setup or undo the game refuses; the message starts ``illegal move`` for moves and says why."""


def give_turn(state: B.BoardState, colour: int) -> None:
    """Give ``colour`` the move in a batch-of-one state; the ko point bound only the other side."""
    if state.to_play[0] != colour:
        state.to_play[0] = colour
        state.ko_point[0] = B.NO_POINT


Move = tuple[int, int]  # (colour, action); pass = n*n


def setup_handicap(setup: Iterable[Move], extra_black: int = 0) -> int:
    """Black's handicap stones of ``setup`` and ``extra_black`` black stones played as moves: their
    number when the setup holds no white stone, else 0 (one stone is no handicap: the bonus is 0)."""
    colours = [c for c, _ in setup]
    return handicap_stones(colours.count(B.BLACK) + extra_black, len(colours) - colours.count(B.BLACK))


def opening_black_moves(moves: list[Move], size: int) -> int:
    """Black's stones played before White's first real move, the way KataGo's
    ``assumeMultipleStartingBlackMovesAreHandicap`` counts them (GUIs that send handicap stones as
    ``play B`` commands): a white pass between them is ignored; two non-black moves in a row mean
    it was no handicap (0)."""
    pass_action = size * size
    count = 0
    for k, (colour, action) in enumerate(moves):
        if colour != B.BLACK:
            if k + 1 < len(moves) and moves[k + 1][0] != B.BLACK:
                return 0
            if action == pass_action:
                continue
            break
        if action != pass_action:
            count += 1
    return count


class BoardHistory:
    """Position = setup stones + moves; ``state`` is a batch of one kept in step with them. Its
    ``komi`` is the rules' komi plus white's handicap bonus for the setup (``rules.white_komi``,
    KataGo's self komi): what the komi input plane and the search's terminal counts read, so every
    product that searches or encodes a game's position (GTP, analysis, the arena) sees the bonus.

    ``history`` is the feature history the state keeps (``BoardState.history``); ``move_cap`` the
    moves after which the game is over (None: no cap of its own). With
    ``opening_black_moves_are_handicap`` (KataGo's ``assumeMultipleStartingBlackMovesAreHandicap``:
    on for GTP and analysis, off for the arena's referee, whose handicap is always a setup) the
    black moves that open the game count as handicap stones (``opening_black_moves``), in the bonus
    and the final count alike. Every change either completes or raises ``IllegalMove`` and leaves
    the game exactly as it was.
    """

    def __init__(self, size: int, rules: Rules, history: int = 8, setup: Iterable[Move] = (),
                 moves: Iterable[Move] = (), first_to_play: int = B.BLACK, move_cap: int | None = None,
                 opening_black_moves_are_handicap: bool = False) -> None:
        coords.check_size(size)
        if move_cap is not None and move_cap < 0:
            raise ValueError(f"move_cap must be >= 0 or None, got {move_cap}")
        self.size = size
        self.rules = rules
        self.history = history
        self.move_cap = move_cap
        self.opening_black_moves_are_handicap = opening_black_moves_are_handicap
        self.setup: list[Move] = list(setup)
        self.moves: list[Move] = list(moves)
        self.first_to_play = first_to_play
        self.state = self._replay(self.setup, self.moves, first_to_play)

    # ---- construction -----------------------------------------------------------------------
    def _fresh(self) -> B.BoardState:
        # The superko set is sized by the rules' move cap, or the board's generous default.
        return B.state_for(self.rules, 1, self.size, history=self.history)

    def _check_move(self, colour: int, action: int) -> None:
        if colour not in (B.BLACK, B.WHITE):
            raise IllegalMove(f"illegal move: colour {colour!r} is neither BLACK ({B.BLACK}) nor WHITE ({B.WHITE})")
        n = self.size
        if not isinstance(action, (int, np.integer)) or not 0 <= action <= n * n:
            raise IllegalMove(f"illegal move: action {action!r} is not a point of a {n}x{n} board or its pass ({n * n})")

    def _replay(self, setup: list[Move], moves: list[Move], first: int) -> B.BoardState:
        if first not in (B.BLACK, B.WHITE):
            raise IllegalMove(f"the first player {first!r} is neither BLACK ({B.BLACK}) nor WHITE ({B.WHITE})")
        state = self._fresh()
        if setup:
            for colour, action in setup:
                self._check_move(colour, action)
            try:
                B.setup_stones(state, 0, [a for _, a in setup], [c for c, _ in setup], first, self.rules)
            except ValueError as e:
                raise IllegalMove(str(e)) from None
        else:
            state.to_play[0] = first
        for k, (colour, action) in enumerate(moves):
            self._check_move(colour, action)
            if not self._apply(state, colour, action):
                raise IllegalMove(f"illegal move: move {k + 1} ({coords.action_to_gtp(action, self.size)}) cannot be replayed")
        self._set_komi(state, setup, moves)
        return state

    def _set_komi(self, state: B.BoardState, setup: list[Move], moves: list[Move]) -> None:
        """White's compensation as the count applies it: komi plus the handicap bonus."""
        state.komi[0] = white_komi(self.rules, self._handicap_of(setup, moves))

    def _handicap_of(self, setup: list[Move], moves: list[Move]) -> int:
        extra = opening_black_moves(moves, self.size) if self.opening_black_moves_are_handicap else 0
        return setup_handicap(setup, extra)

    def _apply(self, state: B.BoardState, colour: int, action: int) -> bool:
        give_turn(state, colour)
        # Play after the game ended (two passes, the rules' cap) goes on: the state is not done.
        state.done[0] = False
        return bool(B.play(state, [action], self.rules)[0])

    # ---- queries ------------------------------------------------------------------------------
    @property
    def to_play(self) -> int:
        return int(self.state.to_play[0])

    @property
    def komi(self) -> float:
        """The rules' komi (``state.komi`` adds the handicap bonus)."""
        return self.rules.komi

    def position_for(self, colour: int) -> B.BoardState:
        """A copy of the position with ``colour`` to move and play allowed to go on (not done)."""
        probe = B.take_rows(self.state, [0])
        give_turn(probe, colour)
        probe.done[0] = False
        return probe

    def move_status(self, colour: int, action: int) -> int:
        """``board.LEGAL`` or the reason the move is illegal, without changing the game."""
        self._check_move(colour, action)
        p = coords.action_to_point(action, self.size)
        return B.move_status_row(self.position_for(colour), 0, p, int(self.rules.ko), int(self.rules.suicide))

    def legal_actions(self, colour: int) -> np.ndarray:
        """The legal actions of ``colour`` (pass included), ascending."""
        return np.nonzero(B.legal_mask(self.position_for(colour), self.rules)[0])[0]

    def stones(self, colour: int) -> list[int]:
        points = coords.action_points(self.size)
        return [int(a) for a in np.flatnonzero(self.state.board[0, points] == colour)]

    def is_empty(self) -> bool:
        return not self.setup and not self.moves and not np.isin(self.state.board[0], (B.BLACK, B.WHITE)).any()

    def handicap(self) -> int:
        """Black's handicap stones: the setup when it is black stones only, else 0, plus the black
        moves that opened the game when ``opening_black_moves_are_handicap``."""
        return self._handicap_of(self.setup, self.moves)

    def consecutive_passes(self) -> int:
        count = 0
        for _, action in reversed(self.moves):
            if action != self.size * self.size:
                break
            count += 1
        return count

    def ending(self) -> str | None:
        """Why the game is over (``"two passes"``, ``"move cap"``), or None while it goes on."""
        if self.consecutive_passes() >= 2:
            return "two passes"
        if self.move_cap is not None and len(self.moves) >= self.move_cap:
            return "move cap"
        return None

    def snapshot(self) -> B.BoardState:
        """A copy of the current position (a batch of one)."""
        return B.take_rows(self.state, [0])

    # ---- changes (each leaves the game unchanged when it raises) ----------------------------
    def give_turn(self, colour: int) -> None:
        """Hand the move to ``colour`` in the current position (not recorded: a replay forgets it)."""
        if colour not in (B.BLACK, B.WHITE):
            raise IllegalMove(f"colour {colour!r} is neither BLACK ({B.BLACK}) nor WHITE ({B.WHITE})")
        give_turn(self.state, colour)

    def play(self, colour: int, action: int) -> None:
        status = self.move_status(colour, action)
        if status != B.LEGAL and status != B.GAME_OVER:
            raise IllegalMove(f"illegal move: {coords.action_to_gtp(action, self.size)} for "
                              f"{'black' if colour == B.BLACK else 'white'}: {_STATUS_REASONS[status]}")
        if not self._apply(self.state, colour, action):
            raise IllegalMove(f"illegal move: the board refused {coords.action_to_gtp(action, self.size)}")
        self.moves.append((colour, action))
        if self.opening_black_moves_are_handicap:  # an opening black move may change the bonus
            self._set_komi(self.state, self.setup, self.moves)

    def undo(self) -> None:
        """Take back the last move: the position, its superko set and the turn are replayed."""
        if not self.moves:
            raise IllegalMove("cannot undo: no move has been played")
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
        """Setup stones on an empty board (handicap: white moves next)."""
        if not self.is_empty():
            raise IllegalMove("illegal setup: the board is not empty")
        self.load([(colour, a) for a in actions], [], to_play)

    def load(self, setup: Iterable[Move], moves: Iterable[Move], first_to_play: int) -> None:
        """Replace the whole game (``loadsgf``, restoring a snapshot); unchanged if any move is illegal."""
        setup, moves = list(setup), list(moves)
        state = self._replay(setup, moves, first_to_play)
        self.setup, self.moves, self.first_to_play, self.state = setup, moves, first_to_play, state
