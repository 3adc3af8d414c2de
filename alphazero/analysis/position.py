"""The positions an analysis query names: initial stones, then moves replayed in order, one
position per analysed turn (0 = before the first move).

The game itself is ``go_engine.history.BoardHistory``, the one the GTP engine and the arena play:
setup stones, any colour may move at any time (a move by the player not to move re-bases the
turn, as KataGo does), the superko history kept along the replay. Here: the query's colours and
locations, who moves first, and which turns are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from go_engine import board as B
from go_engine import coords
from go_engine.history import BoardHistory, IllegalMove
from go_engine.rules import Rules


class FieldError(ValueError):
    """A query field is wrong (here: its position cannot be built); ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Positions:
    """The analysed turns of one query: ``states[i]`` (a batch of one) is the position at ``turns[i]``."""

    turns: tuple[int, ...]
    states: tuple[B.BoardState, ...]


def parse_colour(value, field: str) -> int:
    """``"B"``/``"W"`` (any case, also black/white) to BLACK/WHITE."""
    text = value.lower() if isinstance(value, str) else None
    if text in ("b", "black"):
        return B.BLACK
    if text in ("w", "white"):
        return B.WHITE
    raise FieldError(field, f"Could not parse player: {value!r}")


def parse_location(value, n: int, field: str, allow_pass: bool) -> int:
    """A GTP vertex (any case), ``pass``, or KataGo's ``(x,y)`` (0-based, y from the top) to an action."""
    if not isinstance(value, str):
        raise FieldError(field, f"Could not parse location: {value!r}")
    text = value.strip()
    if text.startswith("(") and text.endswith(")"):
        try:
            x, y = (int(part) for part in text[1:-1].split(","))
        except ValueError:
            raise FieldError(field, f"Could not parse location: {value!r}") from None
        if not (0 <= x < n and 0 <= y < n):
            raise FieldError(field, f"Location off the board: {value!r}")
        return coords.rowcol_to_action(y, x, n)
    try:
        action = coords.gtp_to_action(text, n)
    except ValueError:
        raise FieldError(field, f"Could not parse location: {value!r}") from None
    if action == n * n and not allow_pass:
        raise FieldError(field, f"pass is not allowed here: {value!r}")
    return action


def parse_pairs(value, n: int, field: str, allow_pass: bool) -> list[tuple[int, int]]:
    """``[[player, location], ...]`` to (colour, action) pairs."""
    if not isinstance(value, list):
        raise FieldError(field, "Must be an array of [player, location] pairs")
    pairs = []
    for item in value:
        if not isinstance(item, list) or len(item) != 2:
            raise FieldError(field, f"Must be an array of [player, location] pairs, got {item!r}")
        pairs.append((parse_colour(item[0], field), parse_location(item[1], n, field, allow_pass)))
    return pairs


def first_player(initial_player: int | None, setup: list[tuple[int, int]], moves: list[tuple[int, int]]) -> int:
    """Who moves at turn 0: ``initialPlayer``, else the first move's colour, else White when the
    board holds only black setup stones (handicap), else Black."""
    if initial_player is not None:
        return initial_player
    if moves:
        return moves[0][0]
    colours = {c for c, _ in setup}
    return B.WHITE if colours == {B.BLACK} else B.BLACK


def build_positions(size: int, rules: Rules, history: int, setup: list[tuple[int, int]], moves: list[tuple[int, int]],
                    initial_player: int | None, turns: list[int]) -> Positions:
    """Replay ``moves`` after ``setup`` and keep the position at each of ``turns`` (sorted or not).
    An illegal move names its 0-based index in ``moves``."""
    first = first_player(initial_player, setup, moves)
    try:
        game = BoardHistory(size, rules, history=history, setup=setup, first_to_play=first,
                            opening_black_moves_are_handicap=True)  # as KataGo's analysis engine
    except ValueError as e:  # IllegalMove included
        raise FieldError("initialStones", f"Illegal initial stones: {e}") from None
    wanted = set(turns)
    snapshots: dict[int, B.BoardState] = {0: game.snapshot()} if 0 in wanted else {}
    # Moves past the last analysed turn are checked too: KataGo rejects the whole query.
    for k, (colour, action) in enumerate(moves):
        try:
            game.play(colour, action)
        except IllegalMove:
            raise FieldError("moves", f"Illegal move {k}: {coords.action_to_gtp(action, size)}") from None
        if k + 1 in wanted:
            snapshots[k + 1] = game.snapshot()
    return Positions(tuple(turns), tuple(snapshots[t] for t in turns))
