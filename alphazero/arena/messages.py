"""The typed messages of a match: the job the runner hands a worker (one game of one plan) and the
game the worker hands back. Both cross a process boundary as JSON text (``to_json`` / ``from_json``);
a played game less its moves, plus its SGF's path, is one line of the match's ``results.jsonl``."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Literal


class _JsonMessage:
    """``to_json`` / ``from_json`` of a frozen dataclass of JSON values."""

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str):
        return cls(**cls._from_plain(json.loads(text)))

    @classmethod
    def _from_plain(cls, data: dict) -> dict:
        return data


@dataclass(frozen=True)
class GameJob(_JsonMessage):
    """Game ``game`` of plan ``plan``: who plays black and white, its seeds and its settings."""

    plan: int
    """Index of the plan (a pair of players) among those ``run_matches`` plays."""
    game: int
    """Index of the game in its plan (A plays black in even games)."""
    black: dict
    """Player spec (``PlayerSpec.to_dict()``) of black."""
    white: dict
    """Player spec of white."""
    a_is_black: bool
    """Whether the plan's player A plays black."""
    seed: int
    """Seed of the game's players."""
    opening_seed: int
    """Seed of the random opening (shared by games 2k and 2k+1)."""
    settings: dict
    """``GameSettings.to_dict()``: size, rules, move cap, opening moves, move timeout."""
    stderr: str
    """File that external engines' stderr goes to."""


@dataclass(frozen=True)
class PlayedGame(_JsonMessage):
    """One refereed game, from player A's side (``score_a``)."""

    game: int
    """Index of the game in its plan."""
    seed: int
    """The job's seed."""
    black: str
    """Name of the player that played black."""
    white: str
    """Name of the player that played white."""
    a_is_black: bool
    """Whether player A played black."""
    winner: Literal["black", "white"] | None
    """Who won; None: a draw."""
    score_a: float
    """Player A's result: 1 win, 0.5 draw, 0 loss."""
    reason: str
    """How the game ended: score, move-cap, resign, or the loser's forfeit (illegal, timeout, ...)."""
    detail: str
    """Words on the ending (who resigned, the illegal move, the engine's error)."""
    margin: float | None
    """Black's area margin after komi, when the game was scored; None otherwise."""
    moves: tuple[tuple[int, int], ...]
    """(colour, action) of every move played, the random opening included."""
    num_moves: int
    """Moves played."""
    seconds: float
    """Wall time of the game."""

    @classmethod
    def _from_plain(cls, data: dict) -> dict:
        return {**data, "moves": tuple(tuple(m) for m in data["moves"])}  # JSON made them lists

    def results_line(self, sgf: str) -> dict:
        """The game's line in ``results.jsonl``: every field but the moves (they are in ``sgf``)."""
        line = {k: v for k, v in dataclasses.asdict(self).items() if k != "moves"}
        line["sgf"] = sgf
        return line
