"""Arena config for evaluation during training: how often, how many games, against whom, and gating
(the decision itself is ``alphazero.arena.gate``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from alphazero.config.base import ConfigBase, require

_ANCHOR = re.compile(r"^(random|gnugo:(\d|10))$")


@dataclass(frozen=True)
class ArenaConfig(ConfigBase):
    """Matches the training loop plays for each new generation (see ``alphazero.arena``)."""

    every_generations: int = 1
    """Evaluate every k-th generation; 0 disables evaluation during training."""
    games_vs_previous: int = 40
    """Games of the new generation against the previous one (colours alternate); with SPRT gating
    the most that are played."""
    games_vs_anchor: int = 20
    """Games of the new generation against the fixed anchor: the Elo the display, the metrics and
    arena/training_elo.png show, with its 95% interval (0: no anchored Elo)."""
    anchor: str = "random"
    """Fixed opponent that defines 0 Elo: random, or gnugo:LEVEL with LEVEL 0..10 (random is soon
    beaten in every game, which only bounds the Elo from below: a GNU Go level keeps measuring)."""
    visits: int = 0
    """Simulations per move of the networks in these matches; 0 = the self-play search budget.
    They search as self-play does (the run's search config, without root noise)."""
    opening_moves: int = 4
    """Random moves opening each pair of games (the same opening with colours swapped), so
    deterministic players do not repeat one game."""
    max_moves: int = 0
    """Moves after which a game is scored as it stands; 0 = the rules' move cap (``rules.max_moves``,
    else the engine's 4 * n * n, ``go_engine.board.default_capacity``: the one default cap)."""
    parallel_games: int = 1
    """Games played at once, each pair of players in a worker process."""
    move_timeout_s: float = 60.0
    """Seconds an external (GTP) anchor may think per move before it loses the game."""
    gating: bool = False
    """Publish a new generation for self-play only if it beats the previous one (else self-play
    keeps the previous network); off = AlphaZero's always-accept."""
    gating_method: Literal["win_rate", "sprt"] = "sprt"
    """win_rate: accept when the score over all games_vs_previous games is >= gating_win_rate
    (Leela Zero's 55% of 400); sprt: stop as soon as the SPRT below decides."""
    gating_win_rate: float = 0.55
    """Score (wins + draws / 2, per game) needed to accept under win_rate gating."""
    sprt_elo0: float = 0.0
    """SPRT null hypothesis: the new generation is this many Elo stronger (reject)."""
    sprt_elo1: float = 35.0
    """SPRT alternative: the new generation is this many Elo stronger (accept)."""
    sprt_alpha: float = 0.05
    """SPRT false-accept probability."""
    sprt_beta: float = 0.05
    """SPRT false-reject probability."""

    def validate(self) -> None:
        require(self.every_generations >= 0, f"every_generations must be >= 0, got {self.every_generations}")
        require(1 <= self.games_vs_previous <= 100_000, f"games_vs_previous must be in [1, 100000], got {self.games_vs_previous}")
        require(0 <= self.games_vs_anchor <= 100_000, f"games_vs_anchor must be in [0, 100000], got {self.games_vs_anchor}")
        require(bool(_ANCHOR.match(self.anchor)), f"anchor must be 'random' or 'gnugo:LEVEL' (LEVEL 0..10), got {self.anchor!r}")
        require(0 <= self.visits <= 1_000_000, f"visits must be in [0, 1000000], got {self.visits}")
        require(0 <= self.opening_moves <= 361, f"opening_moves must be in [0, 361], got {self.opening_moves}")
        require(self.max_moves >= 0, f"max_moves must be >= 0, got {self.max_moves}")
        require(1 <= self.parallel_games <= 256, f"parallel_games must be in [1, 256], got {self.parallel_games}")
        require(self.move_timeout_s > 0.0, f"move_timeout_s must be > 0, got {self.move_timeout_s}")
        require(0.5 <= self.gating_win_rate < 1.0, f"gating_win_rate must be in [0.5, 1), got {self.gating_win_rate}")
        require(self.sprt_elo1 > self.sprt_elo0, f"sprt_elo1 ({self.sprt_elo1}) must exceed sprt_elo0 ({self.sprt_elo0})")
        require(0.0 < self.sprt_alpha < 0.5, f"sprt_alpha must be in (0, 0.5), got {self.sprt_alpha}")
        require(0.0 < self.sprt_beta < 0.5, f"sprt_beta must be in (0, 0.5), got {self.sprt_beta}")

    def due(self, generation: int) -> bool:
        """Whether ``generation`` is evaluated."""
        return self.every_generations > 0 and generation % self.every_generations == 0
