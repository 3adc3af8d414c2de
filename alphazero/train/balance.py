"""The throughput balance of a run: the learner may train only while it is owed samples
(``samples_per_position`` x new positions), self-play parks when it runs too far ahead; and, for the
generation records, how long each side waited for the other."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from alphazero.config.run import RunConfig
from alphazero.train.counters import Counters


@dataclass
class Balance:
    """Who may run now, from the run's counters; the parked self-play actors and the waiting times."""

    counters: Counters
    ratio: float  # loop.samples_per_position: training samples owed per self-play position
    task_samples: int  # training samples of one learner task
    min_positions: int  # replay.min_positions: before them, self-play runs and the learner waits
    slack_positions: int  # loop.ratio_slack_positions: how far self-play may run ahead
    parked: list[int] = field(default_factory=list)  # actors waiting because self-play is ahead
    parked_at: dict[int, float] = field(default_factory=dict)  # actor index -> when it was parked
    # Which side waits (session totals, in the generation records): actor-seconds of self-play
    # parked, and seconds the learner sat idle for want of data once the buffer was warm.
    parked_s: float = 0.0
    learner_idle_s: float = 0.0
    learner_idle_since: float | None = None

    @classmethod
    def of(cls, config: RunConfig, counters: Counters) -> Balance:
        loop = config.loop
        return cls(counters, loop.samples_per_position, loop.train_steps_per_task * config.trainer.batch_size,
                   config.replay.min_positions, loop.ratio_slack_positions)

    def owed(self) -> float:
        """Training samples owed to the data (positive: the learner is behind)."""
        return self.ratio * self.counters.positions - self.counters.samples_trained

    def learner_may_train(self) -> bool:
        return self.counters.positions >= self.min_positions and self.owed() >= self.task_samples

    def selfplay_may_run(self) -> bool:
        if self.counters.positions < self.min_positions:
            return True
        return self.owed() < self.task_samples + self.ratio * self.slack_positions

    def park(self, index: int) -> None:
        self.parked.append(index)
        self.parked_at[index] = time.monotonic()

    def unpark(self) -> list[int]:
        """Every parked actor (to be resubmitted), its waiting time added to ``parked_s``."""
        now = time.monotonic()
        parked, self.parked = self.parked, []
        for i in parked:
            self.parked_s += now - self.parked_at.pop(i, now)
        return parked

    def learner_starts(self) -> None:
        if self.learner_idle_since is not None:
            self.learner_idle_s += time.monotonic() - self.learner_idle_since
            self.learner_idle_since = None

    def learner_stops(self) -> None:
        """The learner's task is back: it idles until the next one, counted once the buffer is warm."""
        if self.counters.positions >= self.min_positions:
            self.learner_idle_since = time.monotonic()
