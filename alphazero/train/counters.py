"""``Counters``: what a run has done, all sessions together; persisted in ``state/run_state.json``."""

from __future__ import annotations

from dataclasses import dataclass, fields

from alphazero.train.messages import SelfPlayResult


@dataclass
class Counters:
    """What the run has done; persisted in ``state/run_state.json``."""

    generation: int = 0
    positions: int = 0  # self-play positions stored in the replay buffer, ever
    games: int = 0
    samples_trained: int = 0
    steps_since_publish: int = 0
    elapsed_s: float = 0.0  # wall time of previous sessions of this run
    wandb_id: str | None = None
    sessions: int = 0
    stage: int = 0  # the board-size curriculum's stage reached (it never goes back)

    @classmethod
    def from_json(cls, saved: dict) -> Counters:
        """The counters of a run state file (fields it does not know are ignored)."""
        return cls(**{k: v for k, v in saved.items() if k in cls.__dataclass_fields__})

    def to_json(self) -> dict:
        return dict(self.__dict__)

    def count_stored(self, result: SelfPlayResult) -> None:
        """Positions and games stored, as the replay buffer counts them (each game once). Its running
        totals include every add before them, and tasks' results may arrive out of order (with
        several actors, a task that stored earlier can report later): the counters keep the largest
        total seen. Adding a task's own count on top of a newer total counted its games twice."""
        self.positions = max(self.positions, result.buffer_positions)
        self.games = max(self.games, result.buffer_games)

    def start_over(self) -> None:
        """A run with no checkpoint starts from zero: every counter back to its default but the
        W&B run id and the session count (in place: the session's writers hold this object)."""
        fresh = Counters(wandb_id=self.wandb_id, sessions=self.sessions)
        for f in fields(self):
            setattr(self, f.name, getattr(fresh, f.name))
