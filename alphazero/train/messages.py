"""The typed messages the Ray actors of a run return to the driver (frozen; they cross Ray by pickle).

A self-play task's summary (its games went straight to the replay actor) and a learner task's
report; the evaluation result is ``alphazero.train.evaluation.Evaluation``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class SelfPlayResult:
    """What one ``SelfPlayActor.run`` task did: the search's work, the games it finished, and what
    the replay buffer made of them."""

    worker: int
    """Index of the self-play actor."""
    incarnation: str
    """Id of the actor's process: a new one means Ray restarted the actor."""
    version: int
    """Network generation the task searched with."""
    seconds: float
    """Wall time of the task."""
    steps: int
    """Search steps run."""
    evaluations: int
    """Leaves the search asked to evaluate."""
    network_evaluations: int
    """Of those, the ones the network computed (the rest the evaluation cache answered)."""
    eval_cache_lookups: int
    """Lookups in the evaluation cache (0 without a cache)."""
    eval_cache_hits: int
    """Lookups answered without the network."""
    games: int
    """Games finished."""
    positions: int
    """Training positions in those games."""
    lengths: tuple[int, ...]
    """Moves of each finished game."""
    resigned: int
    """Finished games that ended by resignation."""
    no_resign_checked: int
    """Finished games played out with resignation disabled (for the false-positive check)."""
    resign_false_positives: int
    """Of those, games the side that would have resigned went on to win."""
    black_wins: int
    """Finished games black won."""
    record_versions: tuple[int, ...]
    """Network generation recorded in each finished game (older than ``version`` for a game that
    started before the weights changed)."""
    added: int
    """Games the replay buffer stored (a retried task's games are not stored twice)."""
    added_positions: int
    """Positions of those games."""
    buffer_games: int
    """Games the buffer holds ever (each counted once, whoever stored it)."""
    buffer_positions: int
    """Positions the buffer has seen ever."""


@dataclass(frozen=True)
class LearnerReport:
    """What one ``LearnerActor.train`` task did."""

    steps: int
    """The learner's optimiser steps in all (not just this task's)."""
    samples_seen: int
    """Training samples the learner has consumed in all."""
    threads: int
    """Torch threads the learner computes with."""
    samples_per_s: float
    """Training samples per second over this task."""
    losses: dict[str, float] = field(default_factory=dict)
    """Mean over the task's steps of each loss term and diagnostic (``loss/total``, ``loss/policy``,
    ``policy_top1``, ...: the names ``trainer.learner.Learner.train_step`` returns)."""
    batches_by_size: dict[str, int] = field(default_factory=dict)
    """The task's batches per board side (a curriculum's sizes; one entry without one)."""

    def metric(self, name: str) -> float | None:
        return self.losses.get(name)

    def to_metrics(self) -> dict:
        """The flat record written to ``metrics.jsonl`` (loss names as keys)."""
        record = asdict(self)
        return {**record.pop("losses"), **record}
