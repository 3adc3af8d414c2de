"""The gate of a training run: accept or reject a new generation from its results against the
previous one so far, by SPRT (stopping early) or by the win rate over every game."""

from __future__ import annotations

from typing import Literal

from alphazero.arena.sprt import Sprt
from alphazero.config.arena import ArenaConfig

Decision = Literal["accept", "reject", "continue"]


def gating_sprt(arena: ArenaConfig) -> Sprt:
    """The SPRT that ``arena.gating_method == "sprt"`` runs."""
    return Sprt(arena.sprt_elo0, arena.sprt_elo1, arena.sprt_alpha, arena.sprt_beta)


def gate(arena: ArenaConfig, wins: int, losses: int, draws: int = 0) -> Decision:
    """Gating decision for the new generation's results against the previous one so far."""
    if arena.gating_method == "sprt":
        decision = gating_sprt(arena).decide(wins, losses, draws)
        if decision != "continue":
            return "accept" if decision == "H1" else "reject"
    played = wins + losses + draws
    if played < arena.games_vs_previous:
        return "continue"
    # All games played (win_rate gating, or an SPRT still undecided at the cap): the win rate rules.
    return "accept" if (wins + 0.5 * draws) / played >= arena.gating_win_rate else "reject"
